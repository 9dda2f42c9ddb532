/* onthedot store: what the day simulator reads back at the end of a run
 * (src/sim): every appointment as it ended, the appointment events that
 * carry promises (at_risk, apology, notice, reassigned, rescheduled), the
 * messages queued (one row per event, whatever the channels) and the
 * guarantee cases. Reads only; the simulator's database is thrown away. */
#ifndef OTD_STORE_SIM_H
#define OTD_STORE_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"

struct otd_conn;

struct otd_sim_appt {
	int64_t id, customer_id, visitor_id; /* visitor 0: none (cancelled) */
	char reference[16];
	char local_date[11];
	int64_t window_start, window_end;
	int promise_version;
	char status[16];
	int64_t arrived_at, done_at, cancelled_at; /* 0: not */
};

struct otd_sim_event {
	int64_t appointment_id;
	char kind[24];
	int64_t at;   /* received */
	char *detail; /* heap: the event's JSON */
};

/* One message as the customer gets it: the rows of an event key (one per
 * channel) counted once. */
struct otd_sim_message {
	int64_t appointment_id, customer_id;
	char event_key[129]; /* "appt:<id>:v<version>:<event>" */
	char template[65];
	int64_t created_at;
	int rows; /* channels it went to */
};

struct otd_sim_case {
	int64_t appointment_id;
	int promise_version;
	char reason[24];
	char state[12];
	int64_t amount_minor;
	char currency[4];
};

/* Every appointment, by id. The caller frees *out. */
enum otd_status store_sim_appointments(struct otd_conn *c, struct otd_sim_appt **out, size_t *n,
                                       struct otd_error *err);

/* The appointment events of the kinds above, by id; free with
 * store_sim_events_free. */
enum otd_status store_sim_events(struct otd_conn *c, struct otd_sim_event **out, size_t *n,
                                 struct otd_error *err);
void store_sim_events_free(struct otd_sim_event *e, size_t n);

/* The messages about appointments, one per event key, in the order they
 * were first queued. The caller frees *out. */
enum otd_status store_sim_messages(struct otd_conn *c, struct otd_sim_message **out, size_t *n,
                                   struct otd_error *err);

/* Messages about appointments whose first row is after after_id (the
 * simulator's customers read their apologies as they come): *last gets
 * the highest outbox id seen. The caller frees *out. */
enum otd_status store_sim_messages_after(struct otd_conn *c, int64_t after_id,
                                         struct otd_sim_message **out, size_t *n, int64_t *last,
                                         struct otd_error *err);

/* Every guarantee case. The caller frees *out. */
enum otd_status store_sim_cases(struct otd_conn *c, struct otd_sim_case **out, size_t *n,
                                struct otd_error *err);

#endif
