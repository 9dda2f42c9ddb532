/* onthedot planning: the organisation's visitors as the planner sees them
 * (bases, skills, shift occurrences), visit types, and each visitor-day's
 * routes built from the store, cached for slot offers.
 *
 * The cache serves offers only. Every booking and hold re-builds the
 * route from the database inside the writer's transaction and re-times it
 * exactly (DESIGN.md: never from a cache). Cached days are dropped after
 * each commit that touches them (appointments and holds are written only
 * by this process) and when a hold in them expires. The catalog compares a
 * cheap fingerprint of visitors, shifts, visit types and holidays every few
 * seconds, so an import by another process is seen; when it changed, the
 * catalog and every cached day are rebuilt. */
#ifndef OTD_APP_PLANNING_H
#define OTD_APP_PLANNING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "onthedot/route.h"
#include "onthedot/shift.h"
#include "store/booking.h"

struct otd_conn;

#define PLAN_ROUTES_MAX 4 /* shift occurrences of one visitor on one day */

struct plan_visitor {
	int64_t id;
	double base_lat, base_lon;
	struct otd_geo_point base; /* the base as a unit vector, for ranking by distance */
	char **skills;
	size_t n_skills;
	char *name;       /* full name (staff only) */
	char *first_name; /* what customers are told */
	char *role_title;
	struct otd_interval *occ; /* shift occurrences in the catalog's range, sorted */
	size_t n_occ;
};

struct plan_visit_type {
	int64_t id;
	char code[65];
	char *name;
	char skill[65];
	double median_min, spread; /* what was learned over all visitors, else the prior */
	double prior_median_min, prior_spread; /* as stored with the type */
	int window_min;
	bool active;
};

/* A visitor's own duration model for a visit type, learned from at least
 * OTD_LEARN_FULL_N of their visits. */
struct plan_learned {
	int64_t visit_type_id, visitor_id;
	double median_min, spread;
};

/* An immutable snapshot of active visitors, visit types (their duration
 * models as learned, when anything was), the visitors' own learned models
 * and holidays. */
struct plan_catalog {
	int64_t built_at;
	int64_t checked_at;   /* when the fingerprint was last compared */
	char fingerprint[160];
	int64_t from, to; /* the range shift occurrences were expanded for */
	size_t n_visitors;
	struct plan_visitor *visitors;
	size_t n_types;
	struct plan_visit_type *types;
	size_t n_holidays;
	char (*holidays)[11]; /* sorted local dates */
	size_t n_learned;
	struct plan_learned *learned; /* sorted by (visit_type_id, visitor_id) */
	int refs;
};

/* One visitor's routes on one local day (one per shift occurrence), and the
 * store item behind each stop. */
struct plan_day {
	int64_t visitor_id;
	char local_date[11];
	size_t n_routes;
	struct otd_route routes[PLAN_ROUTES_MAX];
	/* stop j of route r came from items[item_of[r][j]], or -1 (the break) */
	long *item_of[PLAN_ROUTES_MAX];
	struct otd_route_item *items;
	size_t n_items;
	int64_t built_at;
	int64_t valid_until; /* rebuild at or after this instant */
	int refs;
};

struct otd_planner;

/* Builds the travel model and planning quantile from cfg. */
struct otd_planner *planner_new(const struct otd_config *cfg, const struct otd_tz *tz,
                                struct otd_error *err);
void planner_free(struct otd_planner *p);

/* The timing parameters every route uses. */
const struct otd_plan *planner_plan(const struct otd_planner *p);

/* The current catalog (building it on c when stale); release with
 * planner_catalog_release. Covers now - 1 day to now + horizon + 2 days. */
enum otd_status planner_catalog(struct otd_planner *p, struct otd_conn *c, int64_t now,
                                struct plan_catalog **out, struct otd_error *err);
void planner_catalog_release(struct otd_planner *p, struct plan_catalog *cat);

/* Drops the catalog (visitors, visit types or holidays changed). */
void planner_catalog_invalidate(struct otd_planner *p);

/* Looks up a visitor / visit type in a catalog; NULL when absent. */
const struct plan_visitor *plan_catalog_visitor(const struct plan_catalog *cat, int64_t id);
const struct plan_visit_type *plan_catalog_type(const struct plan_catalog *cat, int64_t id);
bool plan_catalog_holiday(const struct plan_catalog *cat, const char *local_date);
bool plan_visitor_has_skill(const struct plan_visitor *v, const char *skill);
/* Whether instant at falls within one of v's shift occurrences (start
 * included, end excluded) in the catalog's range. */
bool plan_visitor_on_shift(const struct plan_visitor *v, int64_t at);

/* Whether one of v's shift occurrences starts in [day_start, day_end)
 * (the day a route belongs to). */
bool plan_visitor_works_on(const struct plan_visitor *v, int64_t day_start, int64_t day_end);

/* The cache's invalidation counter. A read job takes it BEFORE its first
 * statement and passes it to planner_day(s): a day built from that
 * snapshot is cached only if nothing was invalidated since. */
uint64_t planner_generation(struct otd_planner *p);

/* The visitor's timed routes on local_date from the cache, building them on
 * c when missing or stale; release with planner_day_release. */
enum otd_status planner_day(struct otd_planner *p, struct otd_conn *c,
                            const struct plan_catalog *cat, const struct plan_visitor *v,
                            const char *local_date, int64_t now, uint64_t snapshot_gen,
                            struct plan_day **out, struct otd_error *err);
void planner_day_release(struct otd_planner *p, struct plan_day *day);

/* planner_day for n visitors on one date at once (one lock for the hits);
 * out[i] is visitor vs[i]'s day. On failure nothing is held. */
enum otd_status planner_days(struct otd_planner *p, struct otd_conn *c,
                             const struct plan_catalog *cat, const struct plan_visitor *const *vs,
                             size_t n, const char *local_date, int64_t now, uint64_t snapshot_gen,
                             struct plan_day **out, struct otd_error *err);

/* Builds a visitor's routes on local_date directly from c (uncached), as a
 * booking does inside the writer. Appointment exclude_appointment and hold
 * exclude_hold (0 for none) are left out. The caller frees with
 * plan_day_cleanup. */
enum otd_status planner_build_day(const struct otd_planner *p, struct otd_conn *c,
                                  const struct plan_catalog *cat, const struct plan_visitor *v,
                                  const char *local_date, int64_t now, int64_t exclude_appointment,
                                  int64_t exclude_hold, struct plan_day *out,
                                  struct otd_error *err);
void plan_day_cleanup(struct plan_day *d);

/* What planner_build_day does once it has read the day: builds the routes
 * of visitor v on local_date from items, in the order store_route_items
 * gives them (store_route_item_cmp), with the exclusions already made.
 * off: the visitor is unavailable that day (no routes). Takes items over,
 * also on failure (OTD_EINVAL: local_date is not a date). A pure function
 * of its arguments: the writer uses it to build the day it has just
 * changed without reading it back (planner_day_put). */
enum otd_status planner_build_day_from(const struct otd_planner *p, const struct plan_catalog *cat,
                                       const struct plan_visitor *v, const char *local_date,
                                       int64_t now, bool off, struct otd_route_item *items,
                                       size_t n, struct plan_day *out, struct otd_error *err);

/* Frees a day from the heap that is in no cache (plan_day_cleanup, then
 * free). NULL is fine. */
void plan_day_free(struct plan_day *d);

/* Drops the cached day of visitor on local_date (after a commit). */
void planner_day_invalidate(struct otd_planner *p, int64_t visitor_id, const char *local_date);

/* Puts day (on the heap, refs 0), the day of day->visitor_id on
 * day->local_date exactly as a transaction has just committed it, in the
 * cache in place of any copy, and takes it over. It counts as an
 * invalidation: a reader whose snapshot began before never caches over it.
 * Called on the writer's thread in commit order (store_after_commit), so a
 * later commit's change is never hidden behind it. Built against a catalog
 * that is no longer the cache's (cat), or with no cell for it, the day is
 * freed and the cached copy dropped, as planner_day_invalidate does. */
void planner_day_put(struct otd_planner *p, const struct plan_catalog *cat, struct plan_day *day);

/* The route of day d whose shift occurrence contains [start, end), or -1. */
long plan_day_route_for(const struct plan_day *d, int64_t start, int64_t end);

/* Inserts s into route r of day d at the best position, trying the O(1)
 * check first and an exact re-time of every position when it finds none.
 * Returns the position or -1 when the stop cannot be kept; the route is
 * left timed with the stop in it on success, unchanged otherwise. */
long plan_route_place(const struct otd_planner *p, struct otd_route *r, const struct otd_stop *s);

/* The same, and the new stop's own arrival must also be kept at quantile
 * (0.95: a replacement window offered in an apology is kept with
 * probability 0.95 at least; the others keep theirs at planning.quantile
 * as for any booking). -1, the route unchanged, when it cannot. */
long plan_route_place_at(const struct otd_planner *p, struct otd_route *r, const struct otd_stop *s,
                         double quantile);

/* The duration model (median minutes, spread) of a visit of type t by
 * visitor_id: the visitor's own when learned (cat may be NULL: none), else
 * the type's. */
void plan_visit_model(const struct plan_catalog *cat, const struct plan_visit_type *t,
                      int64_t visitor_id, double *median_min, double *spread);

/* The stop for a visit of type t by visitor_id (plan_visit_model) at (lat,
 * lon) in [start, end). */
void plan_visit_stop(const struct plan_catalog *cat, const struct plan_visit_type *t,
                     int64_t visitor_id, double lat, double lon, int64_t start, int64_t end,
                     enum otd_stop_kind kind, int64_t id, struct otd_stop *out);

/* The local date ("YYYY-MM-DD") of instant t in the organisation's zone. */
void planner_local_date(const struct otd_planner *p, int64_t t, char out[11]);

/* UTC bounds of a local date: [*start, *end). */
bool planner_day_bounds(const struct otd_planner *p, const char *local_date, int64_t *start,
                        int64_t *end);

/* Cache counters for /metrics. */
void planner_stats(struct otd_planner *p, uint64_t *hits, uint64_t *builds, size_t *days);

#endif
