/* onthedot booking use cases: the slot offer, holds, booking, the
 * customer's link (read, reschedule, cancel, calendar file, waitlist), a
 * new link on request, and the dispatcher's search, booking on behalf,
 * cancel and reschedule (DESIGN.md, "Slot offer", "Holds and booking").
 *
 * No customer is ever double booked: a hold and a booking re-build the
 * visitor's route from the database inside the writer's transaction and
 * re-time it exactly; showing slots reserves nothing. Every change writes
 * its outbox messages, an appointment event and an audit entry in the same
 * transaction. */
#ifndef OTD_APP_BOOKING_H
#define OTD_APP_BOOKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "onthedot/message.h"
#include "app/catalog.h"
#include "onthedot/model.h"
#include "onthedot/route.h"
#include "store/booking.h"

#define OTD_LINK_TOKEN_LEN 22 /* base64url of 16 random bytes (128 bits) */
#define OTD_HOLD_TOKEN_LEN 43 /* base64url of 32 random bytes */
#define OTD_SLOT_DAYS_MAX 31

/* ---- the slot offer ----------------------------------------------------- */

struct otd_slot_query {
	int64_t address_id;     /* a gazetteer address, or 0 with lat/lon */
	double lat, lon;
	int64_t visit_type_id;
	char from[11], to[11];  /* local dates, inclusive */
	int64_t for_appointment; /* rescheduling: its own place is free */
	size_t max_visitors;     /* consider only this many nearest visitors; 0 = all */
};

struct otd_slot_day {
	char date[11];
	size_t n;
	struct otd_offer_window *windows;
};

struct otd_slot_result {
	size_t n_days;
	struct otd_slot_day *days;
	int width_minutes;
};

void otd_slot_result_cleanup(struct otd_slot_result *r);

/* Every window some visitor with the skill can keep, by day, within the
 * booking rules (lead time, horizon, same-day cut-off, holidays, visits per
 * day). Days with no window are left out. */
enum otd_status app_slots(struct otd_app *app, const struct otd_slot_query *q,
                          struct otd_slot_result *out, struct otd_error *err);

/* ---- holds ---------------------------------------------------------------- */

struct otd_hold_request {
	int64_t address_id;
	int64_t visit_type_id;
	int64_t window_start;     /* must be a window of the offer */
	int64_t for_appointment;  /* rescheduling: that appointment; else 0 */
	const char *client_key;   /* whose hold, for the per-client cap */
};

struct otd_hold_result {
	struct otd_hold hold;
	char token[OTD_HOLD_TOKEN_LEN + 1];
};

/* Reserves one window for a few minutes (booking.hold_minutes) with the
 * visitor who can take it adding least travel. OTD_ECONFLICT
 * (window_taken) when none can now; OTD_ERATE (too_many_holds) when the
 * client has booking.holds_per_client live holds; OTD_EINVAL naming the
 * field when the window is not one the offer could show. */
enum otd_status app_hold_create(struct otd_app *app, const struct otd_principal *actor,
                                const struct otd_hold_request *req, struct otd_hold_result *out,
                                struct otd_error *err);

/* Up to max windows nearest to start that could be booked now, on the same
 * day and the next days (for "that window just went"). */
size_t app_nearest_windows(struct otd_app *app, int64_t address_id, int64_t visit_type_id,
                           int64_t start, struct otd_offer_window *out, size_t max);

/* ---- booking -------------------------------------------------------------- */

struct otd_booking_request {
	const char *hold_token;
	const char *name;
	const char *phone; /* as typed; "" or NULL when none */
	const char *email; /* "" or NULL when none */
	const char *access_notes;
	bool consent_sms, consent_email;
	const struct otd_idem *idem; /* NULL: no Idempotency-Key */
};

/* What a customer (or dispatcher) sees of one appointment. */
struct otd_appointment_view {
	struct otd_appointment a;
	struct otd_customer customer;
	struct otd_address address;
	char visit_type[201];
	char visit_type_code[65];
	char visitor_first_name[201];
	char visitor_role[101];
	char waitlist[16];
	char link_token[OTD_LINK_TOKEN_LEN + 1]; /* freshly minted, or "" */
	bool replayed; /* an Idempotency-Key replay */
	size_t n_offers; /* earlier windows held for this customer */
	struct otd_hold offers[3];
};

void otd_appointment_view_cleanup(struct otd_appointment_view *v);

/* Books the held window for the customer: re-checks feasibility in the
 * write transaction, records the contact (the only personal data), the
 * appointment, a link and the confirmation messages. OTD_ECONFLICT with
 * code window_taken (nothing booked), hold_expired, or already_booked
 * (the same contact has an open booking of this visit type: its reference
 * is in the message). An Idempotency-Key replay returns the first booking
 * with a freshly minted link. On window_taken, out->a holds only the
 * address, visit type and window start wanted (for alternatives). */
enum otd_status app_book(struct otd_app *app, const struct otd_principal *actor,
                         const struct otd_booking_request *req, struct otd_appointment_view *out,
                         struct otd_error *err);

/* ---- through the customer's link ----------------------------------------- */

/* The appointment a link reaches. OTD_ENOTFOUND for any invalid link
 * (unknown, malformed, expired, revoked): one answer for all. */
enum otd_status app_link_resolve(struct otd_app *app, const char *token, int64_t *appointment_id,
                                 struct otd_error *err);

/* The appointment with its customer, address, visit type and visitor. */
enum otd_status app_appointment_view(struct otd_app *app, int64_t appointment_id,
                                     struct otd_appointment_view *out, struct otd_error *err);

/* Moves the appointment to the window held by hold_token (a hold made for
 * it) or offer_id (an offer held for it, such as a waitlist offer):
 * promise version + 1, links keep working, messages with the new calendar
 * invite (same UID, next SEQUENCE); freed capacity goes to the waitlist.
 * by_customer false: a dispatcher, with reason. */
enum otd_status app_reschedule(struct otd_app *app, const struct otd_principal *actor,
                               int64_t appointment_id, const char *hold_token, int64_t offer_id,
                               bool by_customer, const char *reason,
                               struct otd_appointment_view *out, struct otd_error *err);

/* Cancels the appointment, recording who and the notice given; messages
 * with a calendar CANCEL; freed capacity goes to the waitlist. */
enum otd_status app_cancel(struct otd_app *app, const struct otd_principal *actor,
                           int64_t appointment_id, bool by_customer, const char *reason,
                           struct otd_appointment_view *out, struct otd_error *err);

/* The calendar file of the appointment (METHOD:PUBLISH); caller frees. */
enum otd_status app_appointment_ics(struct otd_app *app, int64_t appointment_id, char **out,
                                    struct otd_error *err);

/* Asks for (on) or withdraws from an earlier window. */
enum otd_status app_waitlist(struct otd_app *app, int64_t appointment_id, bool on,
                             struct otd_error *err);

/* "Send me a new link": when reference and the phone or email match the
 * contact on file, revokes every link and sends a new one to that contact.
 * Says nothing about whether anything matched (the caller answers the same
 * either way); errors are only for storage failures. */
enum otd_status app_resend_link(struct otd_app *app, const char *reference, const char *contact,
                                struct otd_error *err);

/* ---- dispatchers -------------------------------------------------------- */

/* Appointments matching f (see store_appointment_search), with *next the
 * last id when more remain. */
enum otd_status app_appointments_search(struct otd_app *app,
                                        const struct otd_appointment_filter *f,
                                        struct otd_appointment_view **out, size_t *n,
                                        int64_t *next, struct otd_error *err);

/* The appointment with this reference. */
enum otd_status app_appointment_by_reference(struct otd_app *app, const char *reference,
                                             int64_t *id, struct otd_error *err);

/* ---- apologies (called by tracking.c) ------------------------------------ */

struct booking_apology_facts {
	int64_t expected_early, expected_late; /* the new expected arrival; 0: unknown */
	const char *reason;                    /* why, in words for the customer, or NULL */
	bool cannot_come; /* the visitor cannot come at all (unavailable, cannot attend) */
	const char *note; /* a disruption: the dispatcher's words for customers */
	const char *compensation; /* a broken promise: "£40.00", or NULL */
	const char *pay_by;       /* ... paid by this date ("Friday 13 March") */
};

/* The apology for an appointment that just entered at_risk, written in
 * the caller's transaction tx: at most one per promise version (a later
 * episode of the same promise sends none). Holds up to two replacement
 * windows for the customer (apology_offer holds): the soonest from the
 * booking lead time on, no later than two days after the promised window,
 * each kept with P >= 0.95 by a visitor with the skill (not the visitor
 * at risk on the same day) without endangering any other promise, held
 * two hours or until an hour before it starts. Then queues the apology to
 * the channels the customer agreed to, naming the new expected arrival,
 * the offers and the link. */
enum otd_status booking_apology(struct otd_app *app, struct otd_conn *tx, int64_t appointment_id,
                                const struct booking_apology_facts *facts, int64_t now,
                                struct otd_error *err);

/* A message about the appointment's promise (an update of the expected
 * arrival, back on time, on the way...), in tx: sent once per promise
 * version and event name (event: "update1", "back_on_time"...); *queued
 * says whether it was written now (false: sent before, or no channel
 * agreed). facts may be NULL. */
enum otd_status booking_notice(struct otd_app *app, struct otd_conn *tx, int64_t appointment_id,
                               enum otd_message_kind kind, const char *event,
                               const struct booking_apology_facts *facts, int64_t now, bool *queued,
                               struct otd_error *err);

/* The ticker's reminders: each booked appointment hears the day before
 * (a day ahead of its window; one per promise version, to the channels
 * agreed; held to the end of the quiet hours). *sent counts them. */
enum otd_status app_reminders(struct otd_app *app, int *sent, struct otd_error *err);

/* ---- reassignment ---------------------------------------------------------- */

/* A dispatcher gives a booked appointment to visitor visitor_id, same
 * window: placed on that visitor's route exactly from the database (the
 * booking check), promise version + 1, the customer told who comes now
 * (visitor_changed, with the calendar invite's next SEQUENCE), an event
 * and an audit entry. 400 unknown_visitor; 422 cannot_reassign (not
 * booked) or lacks_skill; 409 window_cannot_be_kept. The same visitor
 * re-places it on their route. */
enum otd_status app_reassign(struct otd_app *app, const struct otd_principal *actor,
                             int64_t appointment_id, int64_t visitor_id, const char *reason,
                             struct otd_appointment_view *out, struct otd_error *err);

/* The same, recorded as done by source ("dispatcher", "auto_rebalance")
 * in the appointment's "reassigned" event. "auto_rebalance" moves a visit
 * once at most: 409 already_reassigned when it was given to someone else
 * before (by anyone). */
enum otd_status app_reassign_by(struct otd_app *app, const struct otd_principal *actor,
                                int64_t appointment_id, int64_t visitor_id, const char *source,
                                const char *reason, struct otd_appointment_view *out,
                                struct otd_error *err);

/* One visitor who could take an appointment (app_reassign_options). */
struct otd_reassign_option {
	int64_t visitor_id;
	char name[OTD_NAME_MAX * 4 + 1]; /* UTF-8 */
	double travel_added_s;    /* travel their route gains */
	int64_t expected_arrival; /* mean arrival on their route */
	int position;             /* 1-based place among their stops */
};

/* The active visitors, other than its own, who could take booked
 * appointment appointment_id in the same window: those with the skill
 * whose route that day keeps the window and every other promise when it
 * is placed exactly as app_reassign would place it (so a reassignment to
 * one of them succeeds unless the day changes in between). At most max,
 * least added travel first; *n of them in out (heap, the caller frees).
 * 404 for no such appointment; 422 cannot_reassign when it is not booked
 * (nothing to offer). */
enum otd_status app_reassign_options(struct otd_app *app, int64_t appointment_id, size_t max,
                                     struct otd_reassign_option **out, size_t *n,
                                     struct otd_error *err);

/* A dispatcher writes to the customer of appointment appointment_id in
 * their own words (note: 1 to OTD_PERSONAL_NOTE_MAX characters of text,
 * validated here): a "personal" message on each channel the customer
 * agreed to (channel "email" or "sms": that one only; NULL: both), with
 * their link; an event and an audit entry (appointment.message, without
 * the words). The same words again within 5 minutes are sent once. 400
 * bad note or channel; 404; 422 not_reachable when the customer agreed to
 * no such channel or the visit is cancelled or over. *queued counts the
 * messages. */
enum otd_status app_personal_message(struct otd_app *app, const struct otd_principal *actor,
                                     int64_t appointment_id, const char *note, const char *channel,
                                     int *queued, struct otd_error *err);

struct plan_catalog;

/* The writes of a reassignment in tx, once the caller has placed the
 * appointment on visitor_id's route (and written the route order): promise
 * version + 1, stale messages cancelled, the visitor_changed message, the
 * "reassigned" event (by: source, "dispatcher" or "rebalance") and the
 * audit entry. Nothing happens (OTD_OK) when visitor_id already has it;
 * 422 cannot_reassign when it is not booked; 409 visitor_cannot_take when
 * visitor_id is not active or lacks the visit's skill. Fills out (cleaned up on
 * failure). */
enum otd_status booking_reassigned(struct otd_app *app, struct otd_conn *tx,
                                   const struct plan_catalog *cat,
                                   const struct otd_principal *actor, int64_t appointment_id,
                                   int64_t visitor_id, const char *source, const char *reason,
                                   int64_t now, struct otd_appointment_view *out,
                                   struct otd_error *err);

/* After the COMMIT of a reassignment: tells the live streams (the
 * customer's, both visitors', the dispatchers'). */
void booking_publish_reassigned(struct otd_app *app, const struct otd_appointment *a,
                                int64_t from_visitor);

/* ---- area-wide disruptions ------------------------------------------------ */

#define OTD_DISRUPTION_POSTCODES_MAX 32

struct otd_disruption {
	const char *local_date; /* YYYY-MM-DD */
	const char *note;       /* for customers: "Flooding has closed the roads into town." */
	const char *const *postcodes; /* prefixes ("ZZ1", "ZZ2 7"); none: the whole area */
	size_t n_postcodes;
};

struct otd_disruption_result {
	int64_t id;
	int affected; /* visits of the day not yet reached, in the area */
	int told;     /* of which customers were sent the message (a channel agreed) */
};

/* A dispatcher declares force majeure for a day and area: recorded with
 * the visits it affects (the exemption reason of their promises), and one
 * disruption message to each of their customers, at once (never held by
 * quiet hours). 400 naming date, note (1 to 300 characters) or postcodes. */
enum otd_status app_disruption_declare(struct otd_app *app, const struct otd_principal *actor,
                                       const struct otd_disruption *d,
                                       struct otd_disruption_result *out, struct otd_error *err);

/* Drops expired holds (the ticker's job; also run before offers). */
enum otd_status app_holds_expire(struct otd_app *app, struct otd_error *err);

#endif
