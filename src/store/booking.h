/* onthedot store: customers, appointments, holds, customer links, the
 * outbox and the waitlist. Functions taking tx must run in a write job. */
#ifndef OTD_STORE_BOOKING_H
#define OTD_STORE_BOOKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/model.h"
#include "onthedot/status.h"

struct otd_conn;

/* ---- customers ------------------------------------------------------- */

/* Finds the contact with exactly this phone and email (either may be
 * empty), updating its name and access notes; or creates it. Never changes
 * the phone or email of a stored contact. Sets c->id. */
enum otd_status store_customer_upsert(struct otd_conn *tx, struct otd_customer *c, int64_t now,
                                      struct otd_error *err);

/* Records a new contact, never touching a stored one (a request from a
 * form anyone can send must not rename someone else's contact). Sets c->id. */
enum otd_status store_customer_insert(struct otd_conn *tx, struct otd_customer *c, int64_t now,
                                      struct otd_error *err);

enum otd_status store_customer_get(struct otd_conn *c, int64_t id, struct otd_customer *out,
                                   struct otd_error *err);

/* ---- appointments ------------------------------------------------------ */

/* Inserts a (reference, customer, address, visit type, visitor, date,
 * window, consents, booked_by); sets a->id. OTD_ECONFLICT when the
 * reference is taken (the caller draws another). */
enum otd_status store_appointment_insert(struct otd_conn *tx, struct otd_appointment *a,
                                         int64_t now, struct otd_error *err);

enum otd_status store_appointment_get(struct otd_conn *c, int64_t id, struct otd_appointment *out,
                                      struct otd_error *err);

enum otd_status store_appointment_by_reference(struct otd_conn *c, const char *reference,
                                               struct otd_appointment *out, struct otd_error *err);

/* Moves appointment id to a new visitor, date and window and sets its
 * promise version. */
enum otd_status store_appointment_move(struct otd_conn *tx, int64_t id, int64_t visitor_id,
                                       const char *local_date, int64_t start, int64_t end,
                                       int promise_version, int64_t now, struct otd_error *err);

/* Cancels appointment id (by "customer" or "organisation"). */
enum otd_status store_appointment_cancel(struct otd_conn *tx, int64_t id, const char *by,
                                         const char *reason, int64_t notice_s, int64_t now,
                                         struct otd_error *err);

/* The open (not finished, not cancelled, window not over at now)
 * appointment of customer for visit type, if any (OTD_ENOTFOUND). */
enum otd_status store_appointment_open_for(struct otd_conn *c, int64_t customer_id,
                                           int64_t visit_type_id, int64_t now,
                                           struct otd_appointment *out, struct otd_error *err);

struct otd_appointment_filter {
	const char *local_date; /* NULL: any */
	int64_t visitor_id;     /* 0: any */
	const char *status;     /* NULL: any */
	const char *query;      /* reference, name, phone, email or postcode; NULL: none */
	int64_t after_id;
	int limit;
};

/* Appointment ids matching f, in id order, at most f->limit (heap). */
enum otd_status store_appointment_search(struct otd_conn *c, const struct otd_appointment_filter *f,
                                         int64_t **ids, size_t *n, struct otd_error *err);

/* ---- routes ------------------------------------------------------------ */

enum otd_route_item_kind { OTD_ITEM_VISIT, OTD_ITEM_HOLD };

/* One appointment or live hold on a visitor's day, with what timing needs. */
struct otd_route_item {
	enum otd_route_item_kind kind;
	int64_t id;
	int64_t for_appointment; /* holds */
	double lat, lon;
	int64_t window_start, window_end;
	double median_min, spread; /* the visit type's duration model (its prior) */
	int64_t visit_type_id;
	int route_position;        /* -1 when none */
	int64_t expires_at;        /* holds; 0 for appointments */
};

/* The visitor's booked appointments (booked, travelling, arrived) and live
 * holds (expires_at > now) on local_date, in route order (position, then
 * window start). *out is heap. */
enum otd_status store_route_items(struct otd_conn *c, int64_t visitor_id, const char *local_date,
                                  int64_t now, struct otd_route_item **out, size_t *n,
                                  struct otd_error *err);

/* qsort comparison in the order store_route_items returns items: those
 * with a route position first, by position, then window start, then id
 * (holds after appointments of the same id). */
int store_route_item_cmp(const void *a, const void *b);

/* Sets route_position of each of items[0..n) (appointments and holds) to
 * its route_position member. */
enum otd_status store_route_order(struct otd_conn *tx, const struct otd_route_item *items,
                                  size_t n, struct otd_error *err);

/* ---- holds --------------------------------------------------------------- */

/* Inserts h with the hash of its token; sets h->id. */
enum otd_status store_hold_insert(struct otd_conn *tx, struct otd_hold *h,
                                  const unsigned char hash[32], struct otd_error *err);

/* The live hold with the token hash (OTD_ENOTFOUND when unknown or
 * expired at now). */
enum otd_status store_hold_by_hash(struct otd_conn *c, const unsigned char hash[32], int64_t now,
                                   struct otd_hold *out, struct otd_error *err);

enum otd_status store_hold_delete(struct otd_conn *tx, int64_t id, struct otd_error *err);

/* Deletes the holds of purpose ("apology_offer") made for the appointment. */
enum otd_status store_holds_drop_offers(struct otd_conn *tx, int64_t appointment_id,
                                        const char *purpose, struct otd_error *err);

/* Live holds made by client_key. */
enum otd_status store_holds_live(struct otd_conn *c, const char *client_key, int64_t now,
                                 int64_t *n, struct otd_error *err);

/* Live offers (waitlist, apology) held for the appointment, earliest
 * first, at most max. */
enum otd_status store_hold_offers(struct otd_conn *c, int64_t appointment_id, int64_t now,
                                  struct otd_hold *out, size_t max, size_t *n,
                                  struct otd_error *err);

/* The live hold with id (OTD_ENOTFOUND when gone). */
enum otd_status store_hold_get(struct otd_conn *c, int64_t id, int64_t now, struct otd_hold *out,
                               struct otd_error *err);

/* Returns lapsed waitlist offers (their hold expired at or before now) to
 * the queue, and deletes holds that expired at or before now - keep (kept
 * that long so a customer who comes back late hears "expired" with
 * alternatives, not "no such hold"); *n receives how many were deleted. */
enum otd_status store_holds_expire(struct otd_conn *tx, int64_t now, int64_t keep, int64_t *n,
                                   struct otd_error *err);

/* ---- customer links ------------------------------------------------------ */

enum otd_status store_link_insert(struct otd_conn *tx, int64_t appointment_id,
                                  const unsigned char hash[32], int64_t now, int64_t expires_at,
                                  struct otd_error *err);

/* The appointment a live link reaches (not revoked, not expired).
 * OTD_ENOTFOUND otherwise. */
enum otd_status store_link_lookup(struct otd_conn *c, const unsigned char hash[32], int64_t now,
                                  int64_t *appointment_id, struct otd_error *err);

/* Revokes every live link of the appointment. */
enum otd_status store_links_revoke(struct otd_conn *tx, int64_t appointment_id, int64_t now,
                                   struct otd_error *err);

/* Moves the expiry of the appointment's live links (the visit moved). */
enum otd_status store_links_expire_at(struct otd_conn *tx, int64_t appointment_id,
                                      int64_t expires_at, struct otd_error *err);

/* ---- outbox -------------------------------------------------------------- */

struct otd_outbox_row {
	int64_t id;
	const char *idem_key;
	int64_t appointment_id, customer_id;
	const char *channel;  /* email, sms, webhook, record */
	const char *template; /* booking_confirmation, ... */
	const char *payload;  /* JSON */
	int64_t due_at;
	const char *event_key; /* the messages of one event share it; may be NULL */
	int64_t fallback_of;   /* the message this one replaces, or 0 */
	const char *recipient; /* phone number or email address; may be NULL */
};

/* Queues a message (row->id receives its id); a duplicate idem_key is
 * OTD_ECONFLICT. The delivery worker is woken after the COMMIT. */
enum otd_status store_outbox_insert(struct otd_conn *tx, struct otd_outbox_row *row, int64_t now,
                                    struct otd_error *err);

/* ---- waitlist ------------------------------------------------------------ */

/* Puts the appointment on the waitlist (or takes it off when on is false). */
enum otd_status store_waitlist_set(struct otd_conn *tx, int64_t appointment_id, bool on,
                                   int64_t now, struct otd_error *err);

/* The appointment took the earlier window offered to it: its wait is over. */
enum otd_status store_waitlist_done(struct otd_conn *tx, int64_t appointment_id, int64_t now,
                                    struct otd_error *err);

/* Waiting entries, oldest first: their appointment ids (heap). */
enum otd_status store_waitlist_waiting(struct otd_conn *c, int64_t **ids, size_t *n,
                                       struct otd_error *err);

/* Marks an entry offered with hold_id. */
enum otd_status store_waitlist_offered(struct otd_conn *tx, int64_t appointment_id,
                                       int64_t hold_id, int64_t now, struct otd_error *err);

/* Whether the appointment is waiting for an earlier window. */
enum otd_status store_waitlist_state(struct otd_conn *c, int64_t appointment_id, char *state,
                                     size_t size, struct otd_error *err);

#endif
