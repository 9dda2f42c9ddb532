/* onthedot tracking use cases: visitors' events from their phones, the
 * projected arrival and risk of every remaining appointment, learning, and
 * the ticker's risk pass (DESIGN.md, "Risk", "Uncertainty", "Durations").
 *
 * Every event is kept as evidence (time received, time claimed, position)
 * in the same transaction that applies it; a batch is applied in the order
 * of its claimed times and is all or nothing: an impossible sequence
 * changes nothing. After the events the visitor's day is re-projected and
 * the risk of each remaining appointment moves with hysteresis; each change
 * of risk is an appointment event with its reason and numbers, and
 * entering at_risk goes through one function (tracking.c, enter_at_risk)
 * that records everything an apology needs. */
#ifndef OTD_APP_TRACKING_H
#define OTD_APP_TRACKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"

struct otd_conn;

enum otd_vevent_kind {
	OTD_VEVENT_START_TRAVEL,
	OTD_VEVENT_ARRIVED,
	OTD_VEVENT_DONE,
	OTD_VEVENT_NO_ACCESS,
	OTD_VEVENT_NEEDS_ANOTHER_VISIT,
	OTD_VEVENT_LATE,
	OTD_VEVENT_CANNOT_ATTEND,
	OTD_VEVENT_UNAVAILABLE,
	OTD_VEVENT_BREAK_START,
	OTD_VEVENT_BREAK_END,
	OTD_VEVENT_POSITION,
};

#define OTD_VEVENT_NOTE_MAX 2000
#define OTD_CLIENT_EVENT_ID_MAX 64

/* One event as the phone sent it (decoded and checked for form by the
 * HTTP layer). */
struct otd_vevent {
	size_t index; /* its place in the request, for errors */
	enum otd_vevent_kind kind;
	char client_id[OTD_CLIENT_EVENT_ID_MAX + 1];
	int64_t at;          /* the time on the phone */
	char reference[16];  /* the appointment ("OTD-XXXXXX"); "" when the kind takes none */
	bool has_position;
	double lat, lon, accuracy; /* accuracy < 0: not given */
	int late_minutes;          /* late */
	char reason[16];           /* unavailable: sick, breakdown, other */
	const char *note;          /* no_access, needs_another_visit, cannot_attend (its
	                            * reason, required), unavailable; NULL: none */
};

/* What became of each event. */
enum otd_vevent_result {
	OTD_VEVENT_APPLIED,
	OTD_VEVENT_DUPLICATE, /* its client id was seen before: accepted once */
	OTD_VEVENT_IGNORED,   /* a position while not travelling: not kept */
};

/* The kind's name ("start_travel", ...) and back. */
const char *otd_vevent_kind_name(enum otd_vevent_kind k);
bool otd_vevent_kind_parse(const char *s, enum otd_vevent_kind *out);

/* Applies events[0..n) of visitor_id (the signed-in visitor, or a
 * dispatcher acting for them) in claimed-time order, in one transaction,
 * then re-projects the days they touched. out[i] (room for n) tells what
 * became of events[i]. Fails with OTD_ESTATE naming the event (its index
 * in the field) when the sequence is impossible (done before arrived, an
 * appointment not on the visitor's route that day, a status event older
 * than one already applied...); nothing is changed then. OTD_EINVAL for a
 * time too far in the future or too old. */
enum otd_status app_visitor_events(struct otd_app *app, const struct otd_principal *actor,
                                   int64_t visitor_id, struct otd_vevent *events, size_t n,
                                   enum otd_vevent_result *out, struct otd_error *err);

/* A dispatcher marks visitor_id unavailable from now for the rest of the
 * day (reason sick, breakdown or other; note may be NULL): the same path
 * as the visitor's own "unavailable". OTD_ENOTFOUND for no such visitor. */
enum otd_status app_visitor_unavailable(struct otd_app *app, const struct otd_principal *actor,
                                        int64_t visitor_id, const char *reason,
                                        const char *note, struct otd_error *err);

/* Re-projects visitor_id's day local_date inside a write job (tx) at now;
 * cause names why (an event kind, "ticker", "visitor_change"). Appointments
 * the visitor can no longer keep (a shift cut short, deactivated) are
 * forced at_risk. The foundation's admin changes call this. */
enum otd_status tracking_reproject(struct otd_app *app, struct otd_conn *tx, int64_t visitor_id,
                                   const char *local_date, int64_t now, const char *cause,
                                   struct otd_error *err);

/* Forces appointment_id at_risk with reason (a visitor's change made by
 * an admin: a shift cut short, deactivated) inside a write job; the next
 * tracking_reproject of its day records the change of risk. */
enum otd_status tracking_force_at_risk(struct otd_conn *tx, int64_t appointment_id,
                                       const char *reason, int64_t now, struct otd_error *err);

/* Publishes the current status and risk of appointments a[0..n) of
 * visitor_id to the live streams, after a commit that changed them (an
 * admin change). Failures are logged. */
void tracking_publish(struct otd_app *app, int64_t visitor_id,
                      const struct otd_appointment_brief *a, size_t n);

/* The ticker's pass: every visitor with appointments still to visit today
 * (and yesterday, for shifts past midnight) is re-projected; a silent
 * visitor is flagged; windows that ended with no arrival are broken.
 * *n_routes (may be NULL) receives how many days were projected. */
enum otd_status app_risk_pass(struct otd_app *app, size_t *n_routes, struct otd_error *err);

/* The same pass over the visitors whose shard (store_shard_of, one bit of
 * shards each) is in shards only: the part of the routes this node
 * claimed when several share the database (ticker.c). */
enum otd_status app_risk_pass_shards(struct otd_app *app, uint32_t shards, size_t *n_routes,
                                     struct otd_error *err);

/* ---- reading ---------------------------------------------------------- */

struct otd_tracked_stop {
	int64_t appointment_id;
	char reference[16];
	char status[16];
	int64_t window_start, window_end;
	char risk[16];
	double p_late;           /* < 0: not projected */
	int64_t expected_arrival; /* 0: not projected */
	int64_t band_early, band_late;
	char risk_reason[201];
	bool forced;
	int64_t arrived_at, done_at;
};

struct otd_tracked_day {
	int64_t visitor_id;
	char local_date[11];
	char state[16];
	char current[16]; /* reference travelled to / on site at; "" */
	int64_t since;
	int late_minutes;
	bool silent;
	char unavailable_reason[16];
	int64_t last_event_at;
	size_t n;
	struct otd_tracked_stop *stops; /* heap, route order */
};

void otd_tracked_day_cleanup(struct otd_tracked_day *d);

/* Visitor visitor_id's day local_date ("" or NULL: today) as the service
 * sees it. OTD_ENOTFOUND for no such visitor; OTD_EINVAL for a bad date. */
enum otd_status app_tracked_day(struct otd_app *app, int64_t visitor_id, const char *local_date,
                                struct otd_tracked_day *out, struct otd_error *err);

#endif
