/* Delivering the outbox: claims, outcomes, receipts, inbound messages. */
#include "store/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/sql.h"

unsigned store_channel_bit(const char *channel)
{
	if(strcmp(channel, "email") == 0)
		return OTD_CHANNEL_EMAIL;
	if(strcmp(channel, "sms") == 0)
		return OTD_CHANNEL_SMS;
	if(strcmp(channel, "webhook") == 0)
		return OTD_CHANNEL_WEBHOOK;
	return 0;
}

/* Binds the channels of mask to three parameters from idx (NULL for a
 * channel not in it). */
static void bind_channels(struct otd_stmt *st, int idx, unsigned mask)
{
	conn_bind_text(st, idx, (mask & OTD_CHANNEL_EMAIL) ? "email" : NULL);
	conn_bind_text(st, idx + 1, (mask & OTD_CHANNEL_SMS) ? "sms" : NULL);
	conn_bind_text(st, idx + 2, (mask & OTD_CHANNEL_WEBHOOK) ? "webhook" : NULL);
}

void store_outbox_msg_cleanup(struct otd_outbox_msg *m)
{
	free(m->idem_key);
	free(m->event_key);
	free(m->channel);
	free(m->template);
	free(m->payload);
	memset(m, 0, sizeof(*m));
}

enum otd_status store_outbox_recover(struct otd_conn *tx, int64_t now, int64_t sms_grace,
                                     const char *node, int64_t lease_s, int64_t *n,
                                     struct otd_error *err)
{
	/* SQLite: one process serves the file, so every 'sending' row is one
	 * the last process left. PostgreSQL: other nodes may be sending
	 * theirs; only this node's and those claimed longer than a lease ago
	 * (their node died or lost the database) are taken over. */
	bool pg = conn_is_pg(tx);
	struct otd_stmt *st = conn_prepare(
	    tx,
	    pg ? "UPDATE outbox SET state = 'uncertain', uncertain_at = ?1, claimed_at = NULL, "
	         "claimed_by = NULL, due_at = CASE channel WHEN 'sms' THEN ?1 + ?2 ELSE ?1 END "
	         "WHERE state = 'sending' AND (claimed_by = ?3 OR coalesce(claimed_at, 0) <= ?4)"
	       : "UPDATE outbox SET state = 'uncertain', uncertain_at = ?1, claimed_at = NULL, "
	         "claimed_by = NULL, due_at = CASE channel WHEN 'sms' THEN ?1 + ?2 ELSE ?1 END "
	         "WHERE state = 'sending'",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, sms_grace);
	if(pg) {
		conn_bind_text(st, 3, node);
		db_bind_int64(st, 4, now - lease_s);
	}
	enum otd_status s = conn_step_done(tx, st, "recover interrupted sends", err);
	if(s == OTD_OK)
		*n = conn_changes(tx);
	return s;
}

enum otd_status store_outbox_claim(struct otd_conn *tx, int64_t now, unsigned mask, int max,
                                   const char *node, struct otd_outbox_msg *out, int *n,
                                   struct otd_error *err)
{
	*n = 0;
	/* PostgreSQL: rows another node's claim holds are skipped, not waited
	 * for, so nodes never claim the same message nor queue behind each
	 * other. */
	bool pg = conn_is_pg(tx);
	/* An interrupted text message whose delivery report came in reached
	 * the customer: it is sent, not sent again. */
	struct otd_stmt *st = conn_prepare(
	    tx,
	    pg ? "UPDATE outbox SET state = 'sent', sent_at = ?1 WHERE id IN (SELECT o.id FROM "
	         "outbox o WHERE o.state = 'uncertain' AND o.channel = 'sms' AND EXISTS (SELECT 1 "
	         "FROM delivery_receipts r WHERE r.outbox_id = o.id AND r.status IN ('delivered', "
	         "'accepted')) FOR UPDATE SKIP LOCKED)"
	       : "UPDATE outbox SET state = 'sent', sent_at = ?1 WHERE state = 'uncertain' AND "
	         "channel = 'sms' AND EXISTS (SELECT 1 FROM delivery_receipts r WHERE r.outbox_id "
	         "= outbox.id AND r.status IN ('delivered', 'accepted'))",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, now);
	enum otd_status s = conn_step_done(tx, st, "settle interrupted sends", err);
	if(s)
		return s;
#define CLAIM_SET                                                                                  \
	"UPDATE outbox SET state = 'sending', claimed_at = ?1, claimed_by = ?6, attempts = "       \
	"attempts + 1, provider_attempts = provider_attempts + 1 "                                 \
	"WHERE id IN (SELECT id FROM outbox WHERE state IN ('pending', 'uncertain') "              \
	"AND due_at <= ?1 AND channel IN (?2, ?3, ?4) ORDER BY due_at, id LIMIT ?5"
#define CLAIM_RETURNING                                                                            \
	"RETURNING id, coalesce(appointment_id, 0), coalesce(customer_id, 0), "                    \
	"idem_key, event_key, channel, template, payload, attempts, provider_index, "              \
	"uncertain_at IS NOT NULL, created_at, provider_attempts"
	st = conn_prepare(tx,
	                  pg ? CLAIM_SET " FOR UPDATE SKIP LOCKED) " CLAIM_RETURNING
	                     : CLAIM_SET ") " CLAIM_RETURNING,
	                  err);
#undef CLAIM_SET
#undef CLAIM_RETURNING
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, now);
	bind_channels(st, 2, mask);
	db_bind_int(st, 5, max);
	conn_bind_text(st, 6, node);
	int rc;
	while((rc = db_step(st)) == DB_ROW && *n < max) {
		struct otd_outbox_msg *m = &out[(*n)++];
		m->id = db_column_int64(st, 0);
		m->appointment_id = db_column_int64(st, 1);
		m->customer_id = db_column_int64(st, 2);
		m->idem_key = conn_column_dup(st, 3);
		m->event_key = conn_column_dup(st, 4);
		m->channel = conn_column_dup(st, 5);
		m->template = conn_column_dup(st, 6);
		m->payload = conn_column_dup(st, 7);
		m->attempts = db_column_int(st, 8);
		m->provider_index = db_column_int(st, 9);
		m->uncertain = db_column_int(st, 10) != 0;
		m->created_at = db_column_int64(st, 11);
		m->provider_attempts = db_column_int(st, 12);
	}
	conn_done(st);
	if(rc != DB_DONE && rc != DB_ROW) {
		for(int i = 0; i < *n; i++)
			store_outbox_msg_cleanup(&out[i]);
		*n = 0;
		return conn_fail(tx, rc, "claim messages", err);
	}
	return OTD_OK;
}

enum otd_status store_outbox_next_due(struct otd_conn *c, unsigned mask, int64_t *due,
                                      struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT min(due_at) FROM outbox WHERE state IN ('pending', "
	                 "'uncertain') AND channel IN (?1, ?2, ?3)",
	                 err);
	if(!st)
		return OTD_EIO;
	bind_channels(st, 1, mask);
	int rc = db_step(st);
	*due = INT64_MAX;
	if(rc == DB_ROW && !db_column_is_null(st, 0))
		*due = db_column_int64(st, 0);
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "next message due", err);
	return OTD_OK;
}

static enum otd_status changed_one(struct otd_conn *tx, struct otd_stmt *st, const char *what,
                                   int64_t id, struct otd_error *err)
{
	enum otd_status s = conn_step_done(tx, st, what, err);
	if(s == OTD_OK && conn_changes(tx) == 0)
		return otd_error_set(
		    err, OTD_ENOTFOUND, NULL, NULL,
		    "Message %lld is not being sent; its outcome was already recorded.",
		    (long long)id);
	return s;
}

/* Whether an outcome must also find the row still claimed by node: under
 * PostgreSQL, where another node may have taken the claim over. */
static bool check_owner(struct otd_conn *tx, const char *node)
{
	return node && conn_is_pg(tx);
}

enum otd_status store_outbox_mark_sent(struct otd_conn *tx, int64_t id, int64_t now,
                                       const char *provider, const char *provider_id,
                                       const char *redact, const char *node, struct otd_error *err)
{
#define MARK_SENT                                                                                  \
	"UPDATE outbox SET state = 'sent', sent_at = ?2, provider = "                              \
	"?3, provider_id = ?4, last_error = NULL, payload = CASE WHEN "                            \
	"CAST(?5 AS TEXT) IS NULL THEN payload ELSE replace(payload, ?5, "                         \
	"'REDACTED') END WHERE id = ?1 AND state = 'sending'"
	bool owner = check_owner(tx, node);
	struct otd_stmt *st =
	    conn_prepare(tx, owner ? MARK_SENT " AND claimed_by = ?6" : MARK_SENT, err);
#undef MARK_SENT
	if(!st)
		return OTD_EIO;
	if(owner)
		conn_bind_text(st, 6, node);
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now);
	conn_bind_text(st, 3, provider);
	conn_bind_text(st, 4, provider_id);
	conn_bind_text(st, 5, redact && redact[0] ? redact : NULL);
	return changed_one(tx, st, "mark message sent", id, err);
}

enum otd_status store_outbox_mark_retry(struct otd_conn *tx, int64_t id, int64_t due_at,
                                        int provider_index, const char *error, const char *node,
                                        struct otd_error *err)
{
#define MARK_RETRY                                                                                 \
	"UPDATE outbox SET state = CASE WHEN uncertain_at IS NULL "                                \
	"THEN 'pending' ELSE 'uncertain' END, claimed_at = NULL, claimed_by = NULL, "              \
	"due_at = ?2, provider_attempts = CASE WHEN provider_index = "                             \
	"?3 THEN provider_attempts ELSE 0 END, provider_index = ?3, "                              \
	"last_error = ?4 WHERE id = ?1 AND state = 'sending'"
	bool owner = check_owner(tx, node);
	struct otd_stmt *st =
	    conn_prepare(tx, owner ? MARK_RETRY " AND claimed_by = ?5" : MARK_RETRY, err);
#undef MARK_RETRY
	if(!st)
		return OTD_EIO;
	if(owner)
		conn_bind_text(st, 5, node);
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, due_at);
	db_bind_int(st, 3, provider_index);
	conn_bind_text(st, 4, error);
	return changed_one(tx, st, "put message back", id, err);
}

enum otd_status store_outbox_mark_failed(struct otd_conn *tx, int64_t id, const char *provider,
                                         const char *error, bool was_sent, const char *node,
                                         struct otd_error *err)
{
	/* A message already sent can still fail later (a delivery report
	 * saying it never arrived). */
#define MARK_FAILED                                                                                \
	"UPDATE outbox SET state = 'failed', sent_at = NULL, "                                     \
	"claimed_at = coalesce(claimed_at, created_at), provider = "                               \
	"coalesce(?2, provider), last_error = ?3 WHERE id = ?1 AND "                               \
	"state = CASE WHEN ?4 <> 0 THEN 'sent' ELSE 'sending' END"
	bool owner = !was_sent && check_owner(tx, node);
	struct otd_stmt *st =
	    conn_prepare(tx, owner ? MARK_FAILED " AND claimed_by = ?5" : MARK_FAILED, err);
#undef MARK_FAILED
	if(!st)
		return OTD_EIO;
	if(owner)
		conn_bind_text(st, 5, node);
	db_bind_int64(st, 1, id);
	conn_bind_text(st, 2, provider);
	conn_bind_text(st, 3, error);
	db_bind_int(st, 4, was_sent);
	return changed_one(tx, st, "mark message failed", id, err);
}

enum otd_status store_outbox_mark_uncertain(struct otd_conn *tx, int64_t id, int64_t now,
                                            int64_t due_at, const char *error, const char *node,
                                            struct otd_error *err)
{
#define MARK_UNCERTAIN                                                                             \
	"UPDATE outbox SET state = 'uncertain', uncertain_at = "                                   \
	"coalesce(uncertain_at, ?2), claimed_at = NULL, claimed_by = NULL, due_at = ?3, "          \
	"last_error = ?4 WHERE id = ?1 AND state = 'sending'"
	bool owner = check_owner(tx, node);
	struct otd_stmt *st =
	    conn_prepare(tx, owner ? MARK_UNCERTAIN " AND claimed_by = ?5" : MARK_UNCERTAIN, err);
#undef MARK_UNCERTAIN
	if(!st)
		return OTD_EIO;
	if(owner)
		conn_bind_text(st, 5, node);
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now);
	db_bind_int64(st, 3, due_at);
	conn_bind_text(st, 4, error);
	return changed_one(tx, st, "mark message uncertain", id, err);
}

enum otd_status store_outbox_failed_receipt(struct otd_conn *c, int64_t id, bool *failed,
                                            struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT status FROM delivery_receipts WHERE outbox_id = ?1 "
	                 "AND status IN ('failed', 'delivered') ORDER BY id DESC "
	                 "LIMIT 1",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	*failed = rc == DB_ROW && strcmp((const char *)db_column_text(st, 0), "failed") == 0;
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(c, rc, "read delivery reports", err);
	return OTD_OK;
}

enum otd_status store_outbox_state(struct otd_conn *c, int64_t id, struct otd_outbox_state *out,
                                   struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT coalesce(appointment_id, 0), coalesce(customer_id, "
	                 "0), state, channel, event_key, idem_key, provider, "
	                 "coalesce(fallback_of, 0) FROM outbox WHERE id = ?1",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = id;
		out->appointment_id = db_column_int64(st, 0);
		out->customer_id = db_column_int64(st, 1);
		conn_column_copy(out->state, sizeof(out->state), st, 2);
		conn_column_copy(out->channel, sizeof(out->channel), st, 3);
		conn_column_copy(out->event_key, sizeof(out->event_key), st, 4);
		conn_column_copy(out->idem_key, sizeof(out->idem_key), st, 5);
		conn_column_copy(out->provider, sizeof(out->provider), st, 6);
		out->fallback_of = db_column_int64(st, 7);
	}
	conn_done(st);
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, NULL, NULL, "No message %lld.",
		                     (long long)id);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "read message", err);
	return OTD_OK;
}

enum otd_status store_outbox_by_provider_id(struct otd_conn *c, const char *provider,
                                            const char *provider_id, int64_t *id,
                                            struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c, "SELECT id FROM outbox WHERE provider = ?1 AND provider_id = ?2 ORDER BY id LIMIT 1",
	    err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, provider);
	conn_bind_text(st, 2, provider_id);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*id = db_column_int64(st, 0);
	conn_done(st);
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, NULL, NULL, "No message with that id.");
	if(rc != DB_ROW)
		return conn_fail(c, rc, "find message", err);
	return OTD_OK;
}

enum otd_status store_outbox_event_siblings(struct otd_conn *tx, const char *event_key,
                                            int64_t exclude, int *live, int *total,
                                            struct otd_error *err)
{
	*live = *total = 0;
	if(!event_key || !event_key[0])
		return OTD_OK;
	struct otd_stmt *st = conn_prepare(tx,
	                                   "SELECT coalesce(sum(state IN ('pending', 'sending', "
	                                   "'uncertain', 'sent')), 0), count(*) FROM outbox WHERE "
	                                   "event_key = ?1 AND id <> ?2",
	                                   err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, event_key);
	db_bind_int64(st, 2, exclude);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		*live = db_column_int(st, 0);
		*total = db_column_int(st, 1);
	}
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(tx, rc, "read an event's messages", err);
	return OTD_OK;
}

enum otd_status store_outbox_payload(struct otd_conn *c, int64_t id, char **payload,
                                     struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c, "SELECT payload FROM outbox WHERE id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*payload = conn_column_dup(st, 0);
	conn_done(st);
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, NULL, NULL, "No message %lld.",
		                     (long long)id);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "read message", err);
	return OTD_OK;
}

enum otd_status store_receipt_insert(struct otd_conn *tx, int64_t outbox_id, int64_t now,
                                     const char *provider, const char *status,
                                     const char *detail_json, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(tx,
	                                   "INSERT INTO delivery_receipts(outbox_id, received_at, "
	                                   "provider, status, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
	                                   err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, outbox_id);
	db_bind_int64(st, 2, now);
	conn_bind_text(st, 3, provider);
	conn_bind_text(st, 4, status);
	conn_bind_text(st, 5, detail_json ? detail_json : "{}");
	return conn_step_done(tx, st, "record delivery report", err);
}

enum otd_status store_outbox_counts(struct otd_conn *c, struct otd_outbox_counts *out,
                                    struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT coalesce(sum(uncertain_at IS NOT NULL), 0), "
	                 "coalesce(sum(state = 'failed'), 0), coalesce(sum(state = "
	                 "'sent'), 0) FROM outbox",
	                 err);
	if(!st)
		return OTD_EIO;
	int rc = db_step(st);
	if(rc == DB_ROW) {
		out->uncertain_total = db_column_int64(st, 0);
		out->failed = db_column_int64(st, 1);
		out->sent = db_column_int64(st, 2);
	}
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "count messages", err);
	return OTD_OK;
}

enum otd_status store_server_key(struct otd_conn *c, const char *name, unsigned char key[32],
                                 struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c, "SELECT key FROM server_keys WHERE name = ?1", err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, name);
	int rc = db_step(st);
	bool ok = rc == DB_ROW && db_column_bytes(st, 0) == 32;
	if(ok)
		memcpy(key, db_column_blob(st, 0), 32);
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(c, rc, "read server key", err);
	if(!ok)
		return otd_error_set(err, OTD_EIO, NULL, NULL,
		                     "The database has no '%s' key; run onthedot migrate.", name);
	return OTD_OK;
}

enum otd_status store_inbound_insert(struct otd_conn *tx, const struct otd_inbound *m, int64_t *id,
                                     struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO inbound_messages(provider, provider_id, sender, "
	                 "body, customer_id, appointment_id, outcome, state, "
	                 "received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	                 err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, m->provider);
	conn_bind_text(st, 2, m->provider_id);
	conn_bind_text(st, 3, m->sender);
	conn_bind_text(st, 4, m->body);
	if(m->customer_id)
		db_bind_int64(st, 5, m->customer_id);
	if(m->appointment_id)
		db_bind_int64(st, 6, m->appointment_id);
	conn_bind_text(st, 7, m->outcome);
	/* What needs a person waits in the dispatcher's inbox. */
	bool handled = strcmp(m->outcome, "kept") == 0 || strcmp(m->outcome, "moved") == 0;
	conn_bind_text(st, 8, handled ? "done" : "open");
	db_bind_int64(st, 9, m->received_at);
	enum otd_status s = conn_step_done(tx, st, "record inbound message", err);
	if(s == OTD_OK && id)
		*id = conn_last_id(tx);
	return s;
}

enum otd_status store_call_task(struct otd_conn *tx, int64_t appointment_id, const char *note,
                                int64_t now, bool *added, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO tasks(kind, appointment_id, note, created_at) "
	                 "SELECT 'call', ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM "
	                 "tasks WHERE kind = 'call' AND appointment_id = ?1 AND state "
	                 "= 'open')",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	conn_bind_text(st, 2, note);
	db_bind_int64(st, 3, now);
	enum otd_status s = conn_step_done(tx, st, "add to the call list", err);
	if(s == OTD_OK && added)
		*added = conn_changes(tx) > 0;
	return s;
}

enum otd_status store_inbound_target(struct otd_conn *c, const char *phone, int64_t now,
                                     int64_t *customer_id, int64_t *appointment_id,
                                     struct otd_error *err)
{
	*customer_id = *appointment_id = 0;
	/* The contact's coming visit, one with windows held for it first. */
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT cu.id, a.id FROM customers cu LEFT JOIN appointments a ON a.customer_id = "
	    "cu.id "
	    "AND a.status IN ('booked', 'travelling') AND a.window_end > ?2 - 43200 WHERE cu.phone "
	    "= "
	    "?1 AND cu.erased_at IS NULL ORDER BY a.id IS NULL, EXISTS (SELECT 1 FROM holds h "
	    "WHERE "
	    "h.for_appointment = a.id AND h.expires_at > ?2) DESC, a.window_start, cu.id LIMIT 1",
	    err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, phone);
	db_bind_int64(st, 2, now);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		*customer_id = db_column_int64(st, 0);
		*appointment_id = db_column_int64(st, 1);
	}
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(c, rc, "find the sender", err);
	return OTD_OK;
}

enum otd_status store_last_told(struct otd_conn *c, int64_t appointment_id, int64_t since,
                                int64_t *expected_early, struct otd_error *err)
{
	*expected_early = 0;
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT coalesce(json_extract(detail, '$.expected_early'), 0) FROM appointment_events "
	    "WHERE appointment_id = ?1 AND kind IN ('apology', 'notice') AND received_at >= ?2 "
	    "ORDER BY id "
	    "DESC LIMIT 1",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	db_bind_int64(st, 2, since);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*expected_early = db_column_int64(st, 0);
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(c, rc, "read the last message's arrival", err);
	return OTD_OK;
}

enum otd_status store_due_reminders(struct otd_conn *c, int64_t now, int64_t ahead, int64_t *ids,
                                    int max, int *n, struct otd_error *err)
{
	*n = 0;
	struct otd_stmt *st = conn_prepare(
	    c,
	    "SELECT a.id FROM appointments a WHERE a.status = 'booked' AND a.window_start > ?1 AND "
	    "a.window_start <= ?1 + ?2 AND a.created_at <= a.window_start - ?2 AND (a.consent_sms "
	    "= "
	    "1 OR a.consent_email = 1) AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.event_key = "
	    "'appt:' || a.id || ':v' || a.promise_version || ':reminder') ORDER BY a.window_start "
	    "LIMIT ?3",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, ahead);
	db_bind_int(st, 3, max);
	int rc;
	while((rc = db_step(st)) == DB_ROW && *n < max)
		ids[(*n)++] = db_column_int64(st, 0);
	conn_done(st);
	if(rc != DB_DONE && rc != DB_ROW)
		return conn_fail(c, rc, "find reminders due", err);
	return OTD_OK;
}

enum otd_status store_sms_sent_to(struct otd_conn *c, const char *recipient, bool prefix,
                                  int64_t since, int64_t *n, struct otd_error *err)
{
	*n = 0;
	/* A prefix as a range of the index (recipient, created_at): [p, p
	 * with its last byte raised). Numbers are "+" and digits. */
	char hi[40];
	snprintf(hi, sizeof(hi), "%s", recipient);
	size_t len = strlen(hi);
	if(prefix && len)
		hi[len - 1]++;
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT count(*) FROM outbox WHERE recipient >= ?1 AND "
	                 "recipient < ?2 AND created_at >= ?3 AND channel IN ('sms', "
	                 "'record') AND state <> 'cancelled'",
	                 err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, recipient);
	if(prefix) {
		conn_bind_text(st, 2, hi);
	} else {
		/* Exactly the number: everything below the number and a NUL. */
		char exact[42];
		snprintf(exact, sizeof(exact), "%s0", recipient);
		exact[strlen(exact) - 1] = '\x01';
		conn_bind_text(st, 2, exact);
	}
	db_bind_int64(st, 3, since);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*n = db_column_int64(st, 0);
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "count text messages", err);
	return OTD_OK;
}

enum otd_status store_inbound_seen(struct otd_conn *c, const char *provider,
                                   const char *provider_id, bool *seen, struct otd_error *err)
{
	*seen = false;
	struct otd_stmt *st = conn_prepare(
	    c, "SELECT 1 FROM inbound_messages WHERE provider = ?1 AND provider_id = ?2", err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, provider);
	conn_bind_text(st, 2, provider_id);
	int rc = db_step(st);
	*seen = rc == DB_ROW;
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(c, rc, "look for the inbound message", err);
	return OTD_OK;
}

enum otd_status store_disruption_insert(struct otd_conn *tx, const char *local_date,
                                        const char *postcodes_json, const char *note,
                                        int64_t user_id, int64_t now, int64_t *id,
                                        struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(tx,
	                                   "INSERT INTO disruptions(local_date, postcodes, note, "
	                                   "created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	                                   err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, local_date);
	conn_bind_text(st, 2, postcodes_json);
	conn_bind_text(st, 3, note);
	if(user_id)
		db_bind_int64(st, 4, user_id);
	db_bind_int64(st, 5, now);
	enum otd_status s = conn_step_done(tx, st, "record the disruption", err);
	if(s == OTD_OK)
		*id = conn_last_id(tx);
	return s;
}

enum otd_status store_disruption_affected(struct otd_conn *tx, int64_t disruption_id,
                                          const char *local_date, const char *const *prefixes,
                                          size_t n_prefixes, int64_t **ids, size_t *n,
                                          struct otd_error *err)
{
	*ids = NULL;
	*n = 0;
	/* Visits of the day not yet reached; the address's postcode without
	 * spaces, upper case, against each prefix the same way. */
	struct otd_stmt *st = conn_prepare(
	    tx,
	    "SELECT a.id, replace(upper(ad.postcode), ' ', '') FROM appointments a JOIN addresses "
	    "ad "
	    "ON ad.id = a.address_id WHERE a.local_date = ?1 AND a.status IN ('booked', "
	    "'travelling') ORDER BY a.window_start, a.id",
	    err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, local_date);
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		const char *pc = (const char *)db_column_text(st, 1);
		bool in = n_prefixes == 0;
		for(size_t i = 0; !in && i < n_prefixes; i++)
			in = pc && strncmp(pc, prefixes[i], strlen(prefixes[i])) == 0;
		if(!in)
			continue;
		if(*n == cap) {
			cap = cap ? 2 * cap : 64;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
		}
		(*ids)[(*n)++] = db_column_int64(st, 0);
	}
	conn_done(st);
	if(rc != DB_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return conn_fail(tx, rc, "find the visits a disruption affects", err);
	}
	struct otd_stmt *ins =
	    conn_prepare(tx,
	                 "INSERT INTO disruption_appointments(disruption_id, "
	                 "appointment_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
	                 err);
	if(!ins)
		return OTD_EIO;
	for(size_t i = 0; i < *n; i++) {
		conn_done(ins);
		db_bind_int64(ins, 1, disruption_id);
		db_bind_int64(ins, 2, (*ids)[i]);
		rc = db_step(ins);
		if(rc != DB_DONE) {
			conn_done(ins);
			return conn_fail(tx, rc, "link the disruption", err);
		}
	}
	conn_done(ins);
	return OTD_OK;
}

enum otd_status store_last_event_detail(struct otd_conn *c, int64_t appointment_id,
                                        const char *kind, char **detail, struct otd_error *err)
{
	*detail = NULL;
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT detail FROM appointment_events WHERE appointment_id "
	                 "= ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	conn_bind_text(st, 2, kind);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*detail = conn_column_dup(st, 0);
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(c, rc, "read the appointment's last event", err);
	return OTD_OK;
}

enum otd_status store_outbox_cancel_stale(struct otd_conn *tx, int64_t appointment_id,
                                          int promise_version, int64_t *n, struct otd_error *err)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "appt:%lld:v%d:", (long long)appointment_id,
	         promise_version);
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "UPDATE outbox SET state = 'cancelled' WHERE appointment_id "
	                 "= ?1 AND state = 'pending' AND substr(event_key, 1, "
	                 "length(?2)) = ?2",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	conn_bind_text(st, 2, prefix);
	enum otd_status s = conn_step_done(tx, st, "cancel stale messages", err);
	if(s == OTD_OK && n)
		*n = conn_changes(tx);
	return s;
}

enum otd_status store_outbox_redact(struct otd_conn *tx, int64_t id, const char *secret,
                                    struct otd_error *err)
{
	if(!secret || !secret[0])
		return OTD_OK;
	struct otd_stmt *st = conn_prepare(
	    tx, "UPDATE outbox SET payload = replace(payload, ?2, 'REDACTED') WHERE id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	conn_bind_text(st, 2, secret);
	return conn_step_done(tx, st, "redact a message", err);
}

enum otd_status store_outbox_note_uncertain(struct otd_conn *tx, int64_t id, int64_t now,
                                            struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx, "UPDATE outbox SET uncertain_at = coalesce(uncertain_at, ?2) WHERE id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now);
	return conn_step_done(tx, st, "note an uncertain send", err);
}
