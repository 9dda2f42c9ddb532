/* onthedot store: live tracking. Visitors' state on a day, their taps as
 * evidence, positions, appointment status and projected risk, learning
 * observations and estimates, tasks. Functions taking tx must run in a
 * write job. */
#ifndef OTD_STORE_TRACKING_H
#define OTD_STORE_TRACKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"

struct otd_conn;

/* What a visitor is doing on a day. */
struct otd_visitor_day {
	int64_t visitor_id;
	char local_date[11];
	char state[16]; /* not_started travelling on_site idle on_break unavailable */
	int64_t appointment_id; /* travelling to / on site at; else 0 */
	int64_t since;
	bool has_from; /* where a journey started (or the visitor last was) */
	double from_lat, from_lon;
	int64_t late_s; /* "running late" minutes added to the current activity */
	int64_t last_event_at;  /* the latest event of any kind (claimed time; for
	                         * positions, as of the last projection) */
	int64_t last_status_at; /* the latest event other than a position */
	int64_t projected_at;   /* when an event last re-projected the day; 0: never */
	char unavailable_reason[16];
	bool silent;
	bool break_taken; /* the day's break is over */
	int64_t pos_at;   /* the latest position while travelling, as of the day's
	                   * last projection (positions alone do not write the
	                   * day in between); 0: none */
	double pos_lat, pos_lon;
};

/* The visitor's state on local_date; OTD_ENOTFOUND when they have not
 * started (out is then filled as not_started). */
enum otd_status store_visitor_day_get(struct otd_conn *c, int64_t visitor_id,
                                      const char *local_date, struct otd_visitor_day *out,
                                      struct otd_error *err);

/* Writes d (insert or update). */
enum otd_status store_visitor_day_put(struct otd_conn *tx, const struct otd_visitor_day *d,
                                      int64_t now, struct otd_error *err);

/* Visitor-days with appointments still to visit on local_date: their
 * visitor ids (heap). */
enum otd_status store_active_visitors(struct otd_conn *c, const char *local_date, int64_t **ids,
                                      size_t *n, struct otd_error *err);

/* Whether the visitor already sent the event with this client id. */
enum otd_status store_client_event_seen(struct otd_conn *c, int64_t visitor_id,
                                        const char *client_id, bool *seen,
                                        struct otd_error *err);

struct otd_visitor_event_row {
	int64_t visitor_id;
	const char *local_date;
	const char *kind;
	int64_t appointment_id; /* 0: none */
	int64_t received_at, claimed_at;
	const char *actor_kind;
	int64_t actor_id;
	const char *client_id; /* NULL: none */
	bool has_position;
	double lat, lon, accuracy;
	const char *detail; /* JSON object text or NULL */
};

/* Keeps one tap as evidence. */
enum otd_status store_visitor_event_insert(struct otd_conn *tx,
                                           const struct otd_visitor_event_row *e,
                                           struct otd_error *err);

/* A position while travelling (at: the phone's time; received_at: ours).
 * *inserted is false when the visitor already sent one with client_id
 * (nothing is written then). */
enum otd_status store_position_insert(struct otd_conn *tx, int64_t visitor_id, int64_t at,
                                      int64_t received_at, double lat, double lon, double accuracy,
                                      const char *client_id, bool *inserted, struct otd_error *err);

/* Sets an appointment's status; arrived_at / done_at when given (> 0). */
enum otd_status store_appointment_status(struct otd_conn *tx, int64_t id, const char *status,
                                         int64_t arrived_at, int64_t done_at, int64_t now,
                                         struct otd_error *err);

/* The projected arrival and risk of an appointment. */
struct otd_appointment_risk {
	char risk[16];
	double p_late;
	int64_t expected_arrival, band_early, band_late;
	char reason[201];
	bool forced;
	int64_t changed_at;
};

enum otd_status store_appointment_risk_get(struct otd_conn *c, int64_t id,
                                           struct otd_appointment_risk *out,
                                           struct otd_error *err);
enum otd_status store_appointment_risk_put(struct otd_conn *tx, int64_t id,
                                           const struct otd_appointment_risk *r, int64_t now,
                                           struct otd_error *err);

/* One stop of a visitor's day for projection. */
struct otd_day_stop {
	int64_t appointment_id;
	char reference[11];
	char status[16];
	double lat, lon;
	int64_t window_start, window_end;
	int64_t visit_type_id;
	double median_min, spread; /* the visit type's model */
	int64_t arrived_at, done_at;
	struct otd_appointment_risk risk;
};

/* The visitor's appointments on local_date that are not cancelled, in
 * route order (heap). */
enum otd_status store_day_stops(struct otd_conn *c, int64_t visitor_id, const char *local_date,
                                struct otd_day_stop **out, size_t *n, struct otd_error *err);

/* Learning: an observation, and the latest ones of a kind. */
enum otd_status store_observation_insert(struct otd_conn *tx, const char *kind,
                                         int64_t visitor_id, int64_t visit_type_id, int hour,
                                         double value, int64_t appointment_id, int64_t at,
                                         struct otd_error *err);

/* The last at most max values of kind for visit type (0: any), visitor
 * (0: any) and hour (-1: any), newest first. out has room for max. */
enum otd_status store_observations(struct otd_conn *c, const char *kind, int64_t visit_type_id,
                                   int64_t visitor_id, int hour, double *out, size_t max, size_t *n,
                                   struct otd_error *err);

enum otd_status store_learned_duration_put(struct otd_conn *tx, int64_t visit_type_id,
                                           int64_t visitor_id, size_t n, double median_s,
                                           double sigma, int64_t now, struct otd_error *err);
/* OTD_ENOTFOUND when nothing was learned yet. */
enum otd_status store_learned_duration_get(struct otd_conn *c, int64_t visit_type_id,
                                           int64_t visitor_id, size_t *n, double *median_s,
                                           double *sigma, struct otd_error *err);
/* A visitor's base; OTD_ENOTFOUND for no such visitor. */
enum otd_status store_visitor_base(struct otd_conn *c, int64_t visitor_id, double *lat,
                                   double *lon, struct otd_error *err);

struct otd_learned_duration {
	int64_t visit_type_id, visitor_id; /* visitor 0: over all visitors */
	size_t n;
	double median_s, sigma;
};

/* Every learned duration model (heap). */
enum otd_status store_learned_durations(struct otd_conn *c, struct otd_learned_duration **out,
                                        size_t *n, struct otd_error *err);

/* Journeys: [24] is the visitor over all hours, [0..23] by local hour of
 * departure; has[] says which were learned. */
struct otd_learned_travel {
	bool has[25];
	size_t n[25];
	double factor[25], spread[25];
};

/* hour -1: over all hours. */
enum otd_status store_learned_travel_put(struct otd_conn *tx, int64_t visitor_id, int hour,
                                         size_t n, double factor, double spread, int64_t now,
                                         struct otd_error *err);
enum otd_status store_learned_travel_get(struct otd_conn *c, int64_t visitor_id,
                                         struct otd_learned_travel *out, struct otd_error *err);

/* A task for a dispatcher. */
enum otd_status store_task_insert(struct otd_conn *tx, const char *kind, int64_t appointment_id,
                                  const char *note, int64_t now, struct otd_error *err);

#endif
