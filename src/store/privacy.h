/* onthedot store: privacy. Erasing one contact's personal data from every
 * table that holds a copy, the subject access export, the audit log as
 * admins read it, and the retention rules' batches.
 *
 * Where personal data is (the record of processing in README.md):
 * customers (name, phone, email, access_notes); appointments.cancel_reason
 * and the address an appointment points at (the home); outbox.payload
 * (rendered bodies, links), outbox.recipient and outbox.last_error;
 * delivery_receipts.detail; inbound_messages.sender and body;
 * feedback.comment, published_comment and moderation_reason; tasks.note;
 * guarantee_cases.exempt_note; free text and positions in
 * appointment_events.detail and visitor_events.detail (a visitor's note,
 * a cancellation reason); audit_log.detail ("reason") and audit_log.ip of
 * a customer's own actions; appointment_links and holds made for an
 * appointment; idempotency_keys (a hash of the booking request). Staff IPs
 * are in sessions.ip and audit_log.ip; visitors' positions in
 * visitor_positions, visitor_days and the events' lat/lon.
 *
 * These functions prepare their statements uncached (they run rarely) and
 * functions taking tx must run in a write job. */
#ifndef OTD_STORE_PRIVACY_H
#define OTD_STORE_PRIVACY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"

struct otd_conn;

/* What the name of an erased contact becomes. */
#define OTD_ERASED_NAME "erased"

/* The contact (customer id) of the appointment with reference;
 * OTD_ENOTFOUND when there is none. */
enum otd_status store_privacy_contact_of_reference(struct otd_conn *c, const char *reference,
                                                   int64_t *customer_id, struct otd_error *err);

/* The contacts whose stored phone equals phone (E.164, may be NULL) or
 * whose email equals email (normalised, may be NULL), in id order, at most
 * max into ids; *n receives how many. */
enum otd_status store_privacy_contacts_by(struct otd_conn *c, const char *phone, const char *email,
                                          int64_t *ids, size_t max, size_t *n,
                                          struct otd_error *err);

/* Whether the contact exists (OTD_ENOTFOUND otherwise) and when it was
 * erased (*erased_at 0 when not). */
enum otd_status store_privacy_erased_at(struct otd_conn *c, int64_t customer_id, int64_t *erased_at,
                                        struct otd_error *err);

/* The reference (11 bytes) of a visit of the contact still to happen or
 * under way at now (booked, travelling or arrived, its window not over a
 * day ago); "" when none. */
enum otd_status store_privacy_pending_visit(struct otd_conn *c, int64_t customer_id, int64_t now,
                                            char reference[16], struct otd_error *err);

/* What an erasure changed (rows). */
struct otd_erase_counts {
	int64_t appointments;       /* the contact's appointments (text cleared) */
	int64_t addresses;          /* appointments re-pointed to a district placeholder */
	int64_t links_revoked;      /* live customer links revoked */
	int64_t holds_deleted;      /* offers held for their appointments */
	int64_t messages;           /* outbox rows whose payload and recipient were cleared */
	int64_t messages_cancelled; /* of which pending: cancelled, never sent */
	int64_t receipts;           /* delivery reports whose detail was cleared */
	int64_t inbound;            /* inbound text messages cleared */
	int64_t feedback;           /* feedback whose words were cleared (the mark stays) */
	int64_t events;             /* appointment and visitor events scrubbed */
	int64_t audit;              /* audit entries scrubbed (a reason, a customer's IP) */
	int64_t tasks;              /* dispatcher tasks whose note was cleared */
	int64_t idempotency;        /* idempotency records deleted */
};

/* A visitor-day whose cached routes an erasure changed (a hold deleted). */
struct otd_erase_day {
	int64_t visitor_id;
	char local_date[11];
};

/* Erases the personal data of contact customer_id everywhere (see the
 * header comment), keeping anonymous statistics: the customers row keeps
 * its id with name OTD_ERASED_NAME, phone and email NULL, access notes ""
 * and erased_at = now; appointments keep windows, statuses and times, the
 * guarantee ledger its amounts, feedback its mark. Each appointment's home
 * address is replaced by one retired placeholder row per postcode district
 * (match key "~erased~|DISTRICT", coordinates rounded to 2 decimals, about
 * a kilometre); an old address row left retired and unused is deleted.
 * Pending messages are cancelled. Event positions are rounded to 2
 * decimals. Does not check for visits still to come (the caller does).
 * counts (may be NULL) is filled; days (may be NULL) receives up to
 * max_days visitor-days whose holds were deleted, *n_days their number. */
enum otd_status store_privacy_erase(struct otd_conn *tx, int64_t customer_id, int64_t now,
                                    struct otd_erase_counts *counts, struct otd_erase_day *days,
                                    size_t max_days, size_t *n_days, struct otd_error *err);

/* Everything held about contact customer_id, as a new JSON object (the
 * caller owns it): the contact, its appointments (windows, status, visit
 * type, address, the visitor's first name, events without the visitor's
 * positions, messages with their bodies and delivery reports, feedback,
 * guarantee cases, tasks), inbound messages and the audit entries about
 * them. Instants are RFC 3339 UTC. Message bodies are as stored: the
 * caller redacts links (app_privacy_export). */
enum otd_status store_privacy_export(struct otd_conn *c, int64_t customer_id, json_t **out,
                                     struct otd_error *err);

/* ---- the audit log ------------------------------------------------------ */

struct otd_audit_entry {
	int64_t id, at;
	char actor_kind[16];
	int64_t actor_id; /* 0 when none */
	char action[65];
	char entity[65];
	int64_t entity_id; /* 0 when none */
	char ip[64];
	char *detail; /* JSON text (heap) */
};

struct otd_audit_filter {
	int64_t since;      /* at >= since; 0: any */
	int64_t before_id;  /* id < before_id; 0: from the newest */
	const char *entity; /* NULL: any */
	int64_t entity_id;  /* 0: any */
	int limit;          /* >= 1 */
};

/* Audit entries matching f, newest first (by id), at most f->limit; *next
 * the before_id of the next page when more follow, else 0. *out is heap:
 * store_audit_entries_free(*out, *n). */
enum otd_status store_audit_list(struct otd_conn *c, const struct otd_audit_filter *f,
                                 struct otd_audit_entry **out, size_t *n, int64_t *next,
                                 struct otd_error *err);

void store_audit_entries_free(struct otd_audit_entry *v, size_t n);

/* ---- retention batches ---------------------------------------------------- */

/* Up to max contacts not erased whose every appointment ended, was
 * cancelled or had its window end before cutoff, that were created and
 * last wrote to us before cutoff, and that have no open guarantee case
 * (they are owed money): their ids into ids, *n how many. */
enum otd_status store_retention_contacts_due(struct otd_conn *c, int64_t cutoff, int64_t *ids,
                                             size_t max, size_t *n, struct otd_error *err);

/* Each clears or deletes at most max rows older than cutoff and sets *n
 * to how many it did:
 *   inbound: text messages from unknown senders (sender and body);
 *   events: appointment and visitor events (evidence) outside open cases;
 *   receipts: delivery reports outside open cases;
 *   positions: visitor positions (and each day's last position) except
 *     within 12 hours of the window of an appointment of that visitor
 *     with an open case;
 *   ips: IP addresses of sessions and audit entries. */
enum otd_status store_retention_inbound(struct otd_conn *tx, int64_t cutoff, int max, int64_t *n,
                                        struct otd_error *err);
enum otd_status store_retention_events(struct otd_conn *tx, int64_t cutoff, int max, int64_t *n,
                                       struct otd_error *err);
enum otd_status store_retention_receipts(struct otd_conn *tx, int64_t cutoff, int max, int64_t *n,
                                         struct otd_error *err);
enum otd_status store_retention_positions(struct otd_conn *tx, int64_t cutoff, int max, int64_t *n,
                                          struct otd_error *err);
enum otd_status store_retention_ips(struct otd_conn *tx, int64_t cutoff, int max, int64_t *n,
                                    struct otd_error *err);

#endif
