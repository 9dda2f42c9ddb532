/* onthedot: travel, route timing and insertion feasibility, pure.
 *
 * DESIGN.md, "Route timing" and "Uncertainty". The planning model (the
 * "envelope" model, defined here once; tests re-implement it independently):
 *
 *   A route is one visitor's stops for one shift occurrence, leaving the
 *   base at shift_start and back at the base by shift_end. For stop j:
 *     leg      travel from the previous location, departing at the
 *              previous mean departure time D(j-1); its mean uses the
 *              SLOWEST speed of the hours in [D(j-1), latest(j-1)], where
 *              latest(j-1) is the latest departure that could still keep
 *              the previous stop's window (its b + service mean; the base
 *              departs at shift_start exactly). Variance: mean^2 *
 *              (exp(spread^2) - 1) (a log-normal leg). Instants are whole
 *              seconds here: D and latest are rounded down (floor) before
 *              their local hours are looked up.
 *     arrival  X(j): mean D(j-1) + leg mean, variance V(j-1) + leg var.
 *     start    max(a_j, mean X(j)): the visitor waits for the window.
 *     depart   D(j) = start + service mean; V(j) = var X(j) + service var.
 *   Variance is never reduced by waiting (conservative). A stop is kept at
 *   the planning quantile z (z >= 0) when mean X(j) + z * sqrt(var X(j)) <
 *   b_j (arrival strictly before the window ends; a stop whose window is
 *   empty, b <= a, is never kept); the return to base when
 *   mean + z * sqrt(var) <= shift_end + OTD_ROUTE_TOLERANCE (a millisecond,
 *   so that floating-point rounding never turns an exact fit into a miss).
 *   Breaks (lunch) are stops taken where the visitor is: no travel in,
 *   travel out from that place; like every stop, a break must START inside
 *   its window [a, b) at the quantile.
 *
 *   The insertion check is O(1) from cached forward slack and never
 *   accepts an insertion that the model above would find infeasible
 *   (variance only accumulates, so the quantile's growth z (sqrt(V + dv) -
 *   sqrt(V)) is largest at the next stop; waits absorb mean delay exactly,
 *   variance they never absorb; a departure that moves later inside
 *   [D, latest] can only make its leg faster, and the legs whose speed
 *   could then change, or that could slow down when an arrival moves
 *   earlier, are found when the route is timed and limit the slack). It
 *   keeps a margin of OTD_ROUTE_TOLERANCE before each window end, so it
 *   may refuse a fit closer than that (src/core/route.c derives it).
 *   Confirming a booking re-times the route fully.
 */
#ifndef ONTHEDOT_ROUTE_H
#define ONTHEDOT_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/tz.h"

/* Seconds of rounding slack in the model (see above). */
#define OTD_ROUTE_TOLERANCE 1e-3

/* ---- travel -------------------------------------------------------- */

struct otd_travel_model {
	double road_factor;   /* road distance / great-circle distance, >= 1 */
	double speed_kmh[24]; /* mean speed by local hour of departure, > 0 */
	double spread;        /* log-normal sigma of a leg's duration, >= 0 */
};

/* A default model: road factor 1.3, 30 km/h, 22 km/h in 07-09 and 16-18,
 * spread 0.25. */
void otd_travel_model_default(struct otd_travel_model *m);

/* Great-circle distance in kilometres on a sphere of the mean Earth radius
 * (6371.0088 km): the haversine distance, computed from the chord between
 * the two points' unit vectors. Symmetric to the bit. */
double otd_distance_km(double lat1, double lon1, double lat2, double lon2);

/* A place as its unit vector, for ranking many places by distance from one. */
struct otd_geo_point {
	double x, y, z;
};

/* The unit vector of (lat, lon), in degrees. */
void otd_geo_point_set(struct otd_geo_point *out, double lat, double lon);

/* The squared chord between a and b: it grows with their great-circle
 * distance (otd_distance_km is a function of it), so it ranks places by
 * distance without trigonometry. 0 for the same place, 4 for antipodes. */
double otd_geo_chord2(const struct otd_geo_point *a, const struct otd_geo_point *b);

/* Mean (s) and variance (s^2) of a leg of km great-circle kilometres at the
 * slowest speed of the local hours touched by [depart, latest] (latest <
 * depart is treated as depart; tz NULL means UTC). km == 0 gives 0 and 0.
 * Local hours are found from tz's offsets at each hour boundary, which is
 * exact for zones whose clocks change on a local hour boundary. */
void otd_travel_leg(const struct otd_travel_model *m, const struct otd_tz *tz, double km,
                    int64_t depart, int64_t latest, double *mean, double *var);

/* Mean and variance (s, s^2) of a log-normal duration with the given
 * median (s) and sigma. */
void otd_lognormal_moments(double median, double sigma, double *mean, double *var);

/* The standard normal deviate z with P(Z <= z) = q, 0 < q < 1 (Acklam's
 * rational approximation, refined; |error| < 1e-9). */
double otd_normal_quantile(double q);

/* ---- routes -------------------------------------------------------- */

enum otd_stop_kind {
	OTD_STOP_VISIT,  /* a booked appointment */
	OTD_STOP_HOLD,   /* a live hold: capacity reserved */
	OTD_STOP_BREAK,  /* a break (lunch): taken where the visitor is */
	OTD_STOP_VACANT, /* a cancelled visit kept in place because removing it
	                  * would make a later promise late (otd_route_release);
	                  * timed like a visit, counted as none */
};

struct otd_stop {
	enum otd_stop_kind kind;
	int64_t id;          /* appointment or hold id; 0 for a break */
	double lat, lon;     /* ignored for breaks */
	int64_t a, b;        /* window [a, b), UTC seconds */
	double service_mean; /* seconds */
	double service_var;  /* seconds^2 */
};

struct otd_plan {
	const struct otd_travel_model *travel;
	const struct otd_tz *tz; /* for the hour of a departure; NULL: UTC */
	double z;                /* otd_normal_quantile(planning quantile), >= 0 */
};

/* Cached data for the O(1) check and the offer (places as unit vectors,
 * leg paces, the variance slack, how far arrivals may move earlier),
 * allocated with the arrays below in one block: private to route.c. */
struct otd_route_cache;

struct otd_route {
	/* First what a slot offer reads of every route (one cache line). */
	int64_t shift_start, shift_end;
	size_t n, cap;
	bool timed;
	bool feasible;
	struct otd_route_cache *cache; /* private to route.c */
	double free_until;             /* private: the latest a new stop could leave */
	size_t visits_timed;           /* private: otd_route_visits when timed */
	double base_lat, base_lon;
	struct otd_stop *stops; /* in visiting order */
	/* Filled by otd_route_time; index n is the return to base. Instants
	 * are UTC seconds as doubles. */
	double *arr_mean, *arr_var; /* arrival, before waiting */
	double *dep_mean, *dep_var; /* departure; [n] unused */
	double *lat, *lon;          /* where each stop happens (breaks: the previous
	                             * place); [n] the base */
	double *slack;              /* forward slack from each stop to the end: a
	                             * later mean arrival here by m >= 0 with dv more
	                             * variance keeps every promise from here on when
	                             * m + z * sqrt(dv) <= slack (waits folded in; the
	                             * check uses the tighter z (sqrt(V + dv) -
	                             * sqrt(V))) and dv is within the cache's variance
	                             * slack (waits absorb no variance) */
	double travel_mean;         /* sum of leg means, s */
};

/* Starts an empty route. */
void otd_route_init(struct otd_route *r, double base_lat, double base_lon, int64_t shift_start,
                    int64_t shift_end);

/* Frees the route's arrays (and leaves r empty; cleaning up twice is
 * fine). */
void otd_route_cleanup(struct otd_route *r);

/* Copies src into dst (dst is initialised here; clean it up later). */
void otd_route_copy(struct otd_route *dst, const struct otd_route *src);

/* Inserts s before position pos (0..n; n appends). Marks the route untimed. */
void otd_route_insert(struct otd_route *r, size_t pos, const struct otd_stop *s);

/* Removes the stop at pos. Marks the route untimed. */
void otd_route_remove(struct otd_route *r, size_t pos);

/* Index of the stop of kind with id, or -1. */
long otd_route_find(const struct otd_route *r, enum otd_stop_kind kind, int64_t id);

/* Times the route under plan (the model above) and fills the computed
 * arrays, slack and cache; later checks must use the same plan. Returns
 * r->feasible: every stop and the return kept at the quantile. */
bool otd_route_time(struct otd_route *r, const struct otd_plan *plan);

/* Number of stops of kind VISIT or HOLD. */
size_t otd_route_visits(const struct otd_route *r);

/* Frees the capacity of the stop at pos (a cancel, an expired hold) without
 * endangering another promise: removes it when the route, re-timed under
 * plan, is then feasible or was not feasible before; otherwise (removing a
 * stop can make a later one late: a break then happens at the previous
 * place, a departure moved earlier can meet a slower hour) keeps it in
 * place as OTD_STOP_VACANT (keeping its id). The route is timed on return.
 * Returns true when the stop was removed. */
bool otd_route_release(struct otd_route *r, const struct otd_plan *plan, size_t pos);

/* O(1) (a break directly after pos adds a step): true only when inserting
 * s (a VISIT or HOLD; a < b) before pos (0..n) of a route TIMED under plan
 * and feasible keeps every stop feasible under the model; false for an
 * untimed or infeasible route or pos > n. It may refuse a few feasible
 * insertions (see the model). *travel_added (may be NULL) receives the
 * mean travel the insertion adds to the legs it replaces, in seconds (legs
 * further on may also get faster when their departures move later). */
bool otd_route_can_insert(const struct otd_route *r, const struct otd_plan *plan, size_t pos,
                          const struct otd_stop *s, double *travel_added);

/* The position otd_route_can_insert accepts that adds least travel (the
 * first of equals), or -1 when there is none. */
long otd_route_best_insertion(const struct otd_route *r, const struct otd_plan *plan,
                              const struct otd_stop *s, double *travel_added);

/* ---- the slot offer for one day ------------------------------------- */

struct otd_offer_request {
	double lat, lon;                  /* where the visit is */
	double service_mean, service_var; /* the visit type's duration model */
	/* Per route (NULL: service_mean/var for every route): the visit's
	 * duration on that route, the visitor's own learned model. */
	const double *route_service_mean, *route_service_var;
	int64_t width;                    /* window width, s */
	int64_t step;                     /* grid step, s */
	int64_t day_start, day_end;       /* the local day [00:00, 24:00) in UTC */
	int64_t earliest;                 /* no window starts before (lead time) */
	int64_t latest;                   /* no window starts after (horizon) */
	size_t max_visits;                /* per route; 0 = no limit */
	double green_travel;              /* s: at most this added next to a visit is green */
};

struct otd_offer_window {
	int64_t start, end;
	int visitors;        /* distinct visitors who could take it, at most 3 */
	double travel_added; /* least mean travel added among them, s */
	bool green;          /* the route adding least travel takes it next to a
	                      * VISIT or HOLD adding at most green_travel */
};

#define OTD_OFFER_VISITORS_MAX 3

/* Every window of the grid inside the local day (windows never cross
 * midnight: start >= day_start, end <= day_end; the grid starts at
 * day_start; earliest <= start <= latest) that at least one route can take,
 * in time order, into out (room for (day_end - day_start) / step + 1
 * windows). A route can take a window that lies inside its shift
 * [shift_start, shift_end] when otd_route_best_insertion finds a position
 * for the stop {VISIT, lat, lon, [start, end), service}, so a window
 * offered here is one that route will accept. routes[] are routes
 * TIMED under plan for this day (a visitor with two shift occurrences
 * passes both with the same owner index in owner[]; owner NULL: every
 * route its own visitor); untimed and infeasible routes and routes holding
 * max_visits visits are skipped. For each window the routes are walked in
 * the given order until OTD_OFFER_VISITORS_MAX distinct owners can take
 * it; the caller orders them nearest first. travel_added and green come
 * from the routes walked. Distances to the location are computed once per
 * call and route, and only for routes a window reaches; one allocation
 * per call. Returns the number of windows written (0 for width or step <=
 * 0). */
size_t otd_offer_day(const struct otd_route *const *routes, const size_t *owner, size_t n_routes,
                     const struct otd_plan *plan, const struct otd_offer_request *req,
                     struct otd_offer_window *out);

#endif
