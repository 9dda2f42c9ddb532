/* onthedot store: delivering the outbox. Claiming due messages, their
 * outcomes and receipts, sends cut off by a crash, inbound text messages
 * and the server's URL key. Functions taking tx must run in a write job;
 * c may be any connection. */
#ifndef OTD_STORE_OUTBOX_H
#define OTD_STORE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"

struct otd_conn;

/* Channels a delivery worker serves, as a bit set. */
#define OTD_CHANNEL_EMAIL 1u
#define OTD_CHANNEL_SMS 2u
#define OTD_CHANNEL_WEBHOOK 4u

/* The bit of a channel name, 0 for unknown ones ("record"). */
unsigned store_channel_bit(const char *channel);

/* A message claimed for sending (heap strings; store_outbox_msg_cleanup). */
struct otd_outbox_msg {
	int64_t id;
	int64_t appointment_id, customer_id; /* 0 when none */
	char *idem_key, *event_key, *channel, *template, *payload;
	int attempts;          /* including this one */
	int provider_index;    /* into the channel's provider list */
	int provider_attempts; /* on that provider, including this one */
	bool uncertain;        /* a send of it was cut off by a crash before */
	int64_t created_at;
};

void store_outbox_msg_cleanup(struct otd_outbox_msg *m);

/* Takes over sends cut off by a process that died: each such 'sending'
 * message becomes 'uncertain' (uncertain_at = now, unclaimed), due again
 * at now for email and at now + sms_grace for text messages (a delivery
 * report may still arrive and show it went). *n receives the count.
 * SQLite (one process serves the file; called at start, before any
 * worker): every 'sending' message; node and lease_s are not used.
 * PostgreSQL (several nodes may share the database): only those claimed
 * by node (may be NULL: none) or claimed lease_s or more seconds before
 * now, whichever node claimed them; another node's younger claims are
 * left alone. */
enum otd_status store_outbox_recover(struct otd_conn *tx, int64_t now, int64_t sms_grace,
                                     const char *node, int64_t lease_s, int64_t *n,
                                     struct otd_error *err);

/* Claims up to max messages due at now (pending, or uncertain) of the
 * channels in mask, oldest due first: each becomes 'sending' with
 * claimed_at = now, claimed_by = node (this process's instance id; may be
 * NULL) and one more attempt. An uncertain text message that already has
 * a delivery report is marked sent instead of claimed (it reached the
 * customer). Under PostgreSQL rows locked by another node's transaction
 * are skipped (FOR UPDATE SKIP LOCKED): concurrent nodes never claim the
 * same message nor wait for each other. out must hold max entries; *n
 * receives the count. */
enum otd_status store_outbox_claim(struct otd_conn *tx, int64_t now, unsigned mask, int max,
                                   const char *node, struct otd_outbox_msg *out, int *n,
                                   struct otd_error *err);

/* The earliest due_at of a message waiting for the channels in mask, or
 * INT64_MAX when none waits. */
enum otd_status store_outbox_next_due(struct otd_conn *c, unsigned mask, int64_t *due,
                                      struct otd_error *err);

/* Outcomes of a claimed ('sending') message. OTD_ENOTFOUND when the
 * message is not in 'sending' (an outcome for it was already recorded).
 * A sent message's payload has every occurrence of redact (the secret of
 * its link; NULL for none) replaced by "REDACTED": what is kept as
 * evidence opens nothing (DESIGN.md, Security model). mark_failed with
 * was_sent fails a message already 'sent' instead (a delivery report
 * saying it never arrived); without, the message must be 'sending'.
 * node: the instance id that claimed it, or NULL. Under PostgreSQL a
 * non-NULL node must also still hold the claim (claimed_by = node), else
 * OTD_ENOTFOUND: another node took the claim over and its outcome stands.
 * Under SQLite (and for mark_failed with was_sent) node is not used. */
enum otd_status store_outbox_mark_sent(struct otd_conn *tx, int64_t id, int64_t now,
                                       const char *provider, const char *provider_id,
                                       const char *redact, const char *node, struct otd_error *err);
/* mark_retry with another provider_index starts that provider's count of
 * attempts afresh. */
enum otd_status store_outbox_mark_retry(struct otd_conn *tx, int64_t id, int64_t due_at,
                                        int provider_index, const char *error, const char *node,
                                        struct otd_error *err);
enum otd_status store_outbox_mark_failed(struct otd_conn *tx, int64_t id, const char *provider,
                                         const char *error, bool was_sent, const char *node,
                                         struct otd_error *err);

/* A send that may have reached the gateway without our hearing so: the
 * message becomes 'uncertain' (uncertain_at set once, and counted), due
 * again at due_at on the same provider. node as for the outcomes above. */
enum otd_status store_outbox_mark_uncertain(struct otd_conn *tx, int64_t id, int64_t now,
                                            int64_t due_at, const char *error, const char *node,
                                            struct otd_error *err);

/* Whether a delivery report said the message failed. */
enum otd_status store_outbox_failed_receipt(struct otd_conn *c, int64_t id, bool *failed,
                                            struct otd_error *err);

/* One message's state and what the fallback logic needs to know. */
struct otd_outbox_state {
	int64_t id, appointment_id, customer_id;
	char state[16];
	char channel[16];
	char event_key[129];
	char idem_key[129];
	char provider[41];
	int64_t fallback_of;
};

enum otd_status store_outbox_state(struct otd_conn *c, int64_t id, struct otd_outbox_state *out,
                                   struct otd_error *err);

/* The message a provider knows by provider_id (a Twilio SID). */
enum otd_status store_outbox_by_provider_id(struct otd_conn *c, const char *provider,
                                            const char *provider_id, int64_t *id,
                                            struct otd_error *err);

/* How the other messages of an event stand: *live counts those pending,
 * sending, uncertain or sent (the customer has or will have it), *total
 * all of them; the message exclude is not counted. */
enum otd_status store_outbox_event_siblings(struct otd_conn *tx, const char *event_key,
                                            int64_t exclude, int *live, int *total,
                                            struct otd_error *err);

/* The payload of a message (heap string). */
enum otd_status store_outbox_payload(struct otd_conn *c, int64_t id, char **payload,
                                     struct otd_error *err);

/* Records a delivery report. */
enum otd_status store_receipt_insert(struct otd_conn *tx, int64_t outbox_id, int64_t now,
                                     const char *provider, const char *status,
                                     const char *detail_json, struct otd_error *err);

/* Counters for /metrics: sends ever cut off by a crash, messages failed
 * for good, messages sent. */
struct otd_outbox_counts {
	int64_t uncertain_total, failed, sent;
};
enum otd_status store_outbox_counts(struct otd_conn *c, struct otd_outbox_counts *out,
                                    struct otd_error *err);

/* The 32-byte key named name (made by the migration). */
enum otd_status store_server_key(struct otd_conn *c, const char *name, unsigned char key[32],
                                 struct otd_error *err);

/* Records an inbound text message; *id receives its id. A repeated
 * (provider, provider_id) is OTD_ECONFLICT. */
struct otd_inbound {
	const char *provider, *provider_id; /* provider_id may be NULL */
	const char *sender, *body;
	int64_t customer_id, appointment_id; /* 0 when none */
	const char *outcome;                 /* kept, moved, inbox, unknown_sender, offer_gone */
	int64_t received_at;
};
enum otd_status store_inbound_insert(struct otd_conn *tx, const struct otd_inbound *m, int64_t *id,
                                     struct otd_error *err);

/* Puts the appointment on the dispatcher's call list (a 'call' task)
 * unless it is already there and open; *added (may be NULL) says which. */
enum otd_status store_call_task(struct otd_conn *tx, int64_t appointment_id, const char *note,
                                int64_t now, bool *added, struct otd_error *err);

/* Who sent an inbound text from phone (E.164): the contact and their
 * coming appointment (one with windows held for it first); 0 for what
 * is not found. */
enum otd_status store_inbound_target(struct otd_conn *c, const char *phone, int64_t now,
                                     int64_t *customer_id, int64_t *appointment_id,
                                     struct otd_error *err);

/* The expected arrival (band start) the customer was last told of in an
 * apology or notice since since; 0 when none named one. */
enum otd_status store_last_told(struct otd_conn *c, int64_t appointment_id, int64_t since,
                                int64_t *expected_early, struct otd_error *err);

/* Up to max booked appointments starting within ahead seconds of now,
 * booked at least ahead before their start, with a channel agreed and no
 * reminder for their promise yet (ids, soonest first). */
enum otd_status store_due_reminders(struct otd_conn *c, int64_t now, int64_t ahead, int64_t *ids,
                                    int max, int *n, struct otd_error *err);

/* Text messages queued since since to recipient ("+447700900123"), or
 * with prefix to every number starting with it ("+447700"). */
enum otd_status store_sms_sent_to(struct otd_conn *c, const char *recipient, bool prefix,
                                  int64_t since, int64_t *n, struct otd_error *err);

/* Whether the inbound message (provider, provider_id) was recorded. */
enum otd_status store_inbound_seen(struct otd_conn *c, const char *provider,
                                   const char *provider_id, bool *seen, struct otd_error *err);

/* Records a disruption (postcodes_json: a JSON array of postcode prefixes,
 * "[]" for the whole area); *id receives its id. */
enum otd_status store_disruption_insert(struct otd_conn *tx, const char *local_date,
                                        const char *postcodes_json, const char *note,
                                        int64_t user_id, int64_t now, int64_t *id,
                                        struct otd_error *err);

/* The visits of local_date not yet reached (booked, travelling) whose
 * address's postcode (upper case, without spaces) starts with one of
 * prefixes (given the same way; none: every visit), linked to the
 * disruption; *ids (heap) in window order. */
enum otd_status store_disruption_affected(struct otd_conn *tx, int64_t disruption_id,
                                          const char *local_date, const char *const *prefixes,
                                          size_t n_prefixes, int64_t **ids, size_t *n,
                                          struct otd_error *err);

/* The detail (JSON text, heap) of the appointment's latest event of kind,
 * or NULL when it has none. */
enum otd_status store_last_event_detail(struct otd_conn *c, int64_t appointment_id,
                                        const char *kind, char **detail, struct otd_error *err);

/* Cancels the messages of the appointment's promise version still waiting
 * (a reminder held by quiet hours, a notice not yet sent): that promise
 * just changed, and what they say is no longer true. *n (may be NULL)
 * receives how many. */
enum otd_status store_outbox_cancel_stale(struct otd_conn *tx, int64_t appointment_id,
                                          int promise_version, int64_t *n, struct otd_error *err);

/* Replaces every occurrence of secret (a link's token) in the message's
 * payload by "REDACTED". */
enum otd_status store_outbox_redact(struct otd_conn *tx, int64_t id, const char *secret,
                                    struct otd_error *err);

/* Marks the message as one that may have reached a gateway already
 * (uncertain_at, counted), whatever its state. */
enum otd_status store_outbox_note_uncertain(struct otd_conn *tx, int64_t id, int64_t now,
                                            struct otd_error *err);

#endif
