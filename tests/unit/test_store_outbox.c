/* Unit tests: store/outbox.c through the store's writer and read pool on a
 * migrated temporary database: channel bits; claiming (due_at inclusive,
 * oldest due first, the channel mask, max, 'record' never claimed, one
 * more attempt); the next due time; outcomes only on a message being sent
 * (OTD_ENOTFOUND otherwise, a sent message may still fail); the link
 * secret redacted everywhere in a sent payload; sends cut off by a crash
 * (recover: uncertain, SMS after a grace; claimed again with uncertain_at
 * and the uncertain count kept; an uncertain SMS with a 'delivered' or
 * 'accepted' report settled as sent); a message's state, its provider id,
 * its event's siblings, its payload; receipts; the /metrics counts; the
 * URL key; inbound messages (one per provider id); the call list (once
 * while open); who sent an inbound text; the arrival last told; under
 * SQLite, the node ids and claim lease of PostgreSQL's several nodes
 * change nothing (recover takes every send over, any node's outcome is
 * recorded). Reference
 * rows are written with sqlite3 directly, as the schema allows. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/booking.h"
#include "store/catalog.h"
#include "store/outbox.h"
#include "store/store.h"
#include "testutil.h"

static char *db_path;
static struct otd_store *store;
static struct otd_error last_err;

static void setup(void)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/store-outbox-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	struct otd_store_options o = {.path = db_path,
	                              .read_connections = 2,
	                              .writer_queue = 16,
	                              .writer_wait_ms = 5000,
	                              .busy_timeout_ms = 5000,
	                              .group_commit_max = 4};
	ck_assert_int_eq(store_open(&o, &store, &err), OTD_OK);
}

static void teardown(void)
{
	store_close(store);
	store = NULL;
	free(db_path);
}

/* ---- direct SQL --------------------------------------------------------- */

static sqlite3 *sql_open(void)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	return db;
}

static void sql_exec(const char *sql)
{
	sqlite3 *db = sql_open();
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
	sqlite3_free(msg);
	sqlite3_close(db);
}

static long long sql_int(const char *sql)
{
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Every row of a one-column query, joined with ";" (heap; caller frees). */
static char *sql_list(const char *sql)
{
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	struct otd_buf b;
	otd_buf_init(&b, 0);
	int rows = 0;
	while(sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		otd_buf_printf(&b, "%s%s", rows++ ? ";" : "", t ? t : "NULL");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return otd_buf_steal(&b);
}

#define ASSERT_LIST(sql, want)                                                                     \
	do {                                                                                       \
		char *got_ = sql_list(sql);                                                        \
		ck_assert_str_eq(got_, want);                                                      \
		free(got_);                                                                        \
	} while(0)

/* One row's columns, as "state|attempts|due_at|claimed_at|sent_at|provider|
 * provider_id|last_error|provider_index|uncertain_at". */
#define ROW_SQL(id)                                                                                \
	"SELECT state || '|' || attempts || '|' || due_at || '|' || coalesce(claimed_at, '-') || " \
	"'|' || coalesce(sent_at, '-') || '|' || coalesce(provider, '-') || '|' || "               \
	"coalesce(provider_id, '-') || '|' || coalesce(last_error, '-') || '|' || provider_index " \
	"|| '|' || coalesce(uncertain_at, '-') FROM outbox WHERE id = " #id

/* Zoë (customer 1, +447700900001) and Cy (2); a visitor, a visit type, an
 * address; appointments 1 (Zoë, 10:00-12:00 on day 1 = 36000..43200) and
 * 2 (Zoë, later) and 3 (Cy). */
static void seed(void)
{
	sql_exec(
	    "INSERT INTO skills(code) VALUES ('gas');"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('boiler', 'Boiler repair', 1, 45, 0.25, "
	    "120, 1, 1);"
	    "INSERT INTO visitors(name, role_title, base_lat, base_lon, created_at, updated_at) "
	    "VALUES ('Ann Lee', 'Gas engineer', 52.0, -1.0, 1, 1);"
	    "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, updated_at) VALUES "
	    "('1 High St', 'AB1 2CD', 'AB12CD', '1 high st|AB12CD', 52.2, -1.5, 1, 1);"
	    "INSERT INTO customers(name, phone, email, created_at) VALUES "
	    "('Zoë', '+447700900001', 'zoe@example.org', 1), ('Cy', '+447700900002', NULL, 1);"
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, created_at, updated_at) VALUES "
	    "('OTD-AAA101', 1, 1, 1, 1, '1970-01-01', 36000, 43200, 1, 1),"
	    "('OTD-AAA102', 1, 1, 1, 1, '1970-01-02', 122400, 129600, 1, 1),"
	    "('OTD-AAA103', 2, 1, 1, 1, '1970-01-01', 36000, 43200, 1, 1);");
}

/* ---- jobs ----------------------------------------------------------------- */

enum op {
	OP_INSERT,
	OP_CLAIM,
	OP_RECOVER,
	OP_NEXT_DUE,
	OP_SENT,
	OP_RETRY,
	OP_FAILED,
	OP_STATE,
	OP_BY_PROVIDER_ID,
	OP_SIBLINGS,
	OP_PAYLOAD,
	OP_RECEIPT,
	OP_COUNTS,
	OP_KEY,
	OP_INBOUND,
	OP_CALL,
	OP_TARGET,
	OP_LAST_TOLD,
};

struct job {
	enum op op;
	int64_t id, now, due, grace, n64, appointment_id, customer_id, since;
	const char *provider, *provider_id, *redact, *error, *status, *detail, *name, *event_key,
	    *phone, *note;
	const char *node; /* claim, recover, outcomes: the instance id (NULL: none) */
	int64_t lease;    /* recover */
	unsigned mask;
	int max, n, provider_index, live, total;
	bool added;
	bool was_sent; /* OP_FAILED: fail a message already sent */
	bool *added_out;
	struct otd_outbox_msg *msgs;
	struct otd_outbox_row row;
	struct otd_outbox_state state;
	struct otd_outbox_counts counts;
	struct otd_inbound inbound;
	unsigned char key[32];
	char *payload;
};

static enum otd_status run(struct otd_conn *c, struct job *j, struct otd_error *err)
{
	switch(j->op) {
	case OP_INSERT: return store_outbox_insert(c, &j->row, j->now, err);
	case OP_CLAIM:
		return store_outbox_claim(c, j->now, j->mask, j->max, j->node, j->msgs, &j->n, err);
	case OP_RECOVER:
		return store_outbox_recover(c, j->now, j->grace, j->node, j->lease, &j->n64, err);
	case OP_NEXT_DUE: return store_outbox_next_due(c, j->mask, &j->due, err);
	case OP_SENT:
		return store_outbox_mark_sent(c, j->id, j->now, j->provider, j->provider_id,
		                              j->redact, j->node, err);
	case OP_RETRY:
		return store_outbox_mark_retry(c, j->id, j->due, j->provider_index, j->error,
		                               j->node, err);
	case OP_FAILED:
		return store_outbox_mark_failed(c, j->id, j->provider, j->error, j->was_sent,
		                                j->node, err);
	case OP_STATE: return store_outbox_state(c, j->id, &j->state, err);
	case OP_BY_PROVIDER_ID:
		return store_outbox_by_provider_id(c, j->provider, j->provider_id, &j->id, err);
	case OP_SIBLINGS:
		return store_outbox_event_siblings(c, j->event_key, j->id, &j->live, &j->total,
		                                   err);
	case OP_PAYLOAD: return store_outbox_payload(c, j->id, &j->payload, err);
	case OP_RECEIPT:
		return store_receipt_insert(c, j->id, j->now, j->provider, j->status, j->detail,
		                            err);
	case OP_COUNTS: return store_outbox_counts(c, &j->counts, err);
	case OP_KEY: return store_server_key(c, j->name, j->key, err);
	case OP_INBOUND: return store_inbound_insert(c, &j->inbound, &j->id, err);
	case OP_CALL:
		return store_call_task(c, j->appointment_id, j->note, j->now, j->added_out, err);
	case OP_TARGET:
		return store_inbound_target(c, j->phone, j->now, &j->customer_id,
		                            &j->appointment_id, err);
	case OP_LAST_TOLD: return store_last_told(c, j->appointment_id, j->since, &j->due, err);
	}
	return OTD_EINTERNAL;
}

static enum otd_status job_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	return run(c, arg, err);
}

static enum otd_status write_job(struct job *j)
{
	otd_error_clear(&last_err);
	return store_write(store, job_fn, j, &last_err);
}

static enum otd_status read_job(struct job *j)
{
	otd_error_clear(&last_err);
	return store_read(store, job_fn, j, &last_err);
}

/* ---- helpers ---------------------------------------------------------------- */

static int64_t insert_full(const char *idem, const char *channel, int64_t due, const char *event,
                           int64_t appt, int64_t cust, const char *payload, int64_t now)
{
	struct job j = {.op = OP_INSERT,
	                .now = now,
	                .row = {.idem_key = idem,
	                        .appointment_id = appt,
	                        .customer_id = cust,
	                        .channel = channel,
	                        .template = "booking_confirmation",
	                        .payload = payload,
	                        .due_at = due,
	                        .event_key = event}};
	ck_assert_msg(write_job(&j) == OTD_OK, "%s: %s", idem, last_err.message);
	return j.row.id;
}

static int64_t insert(const char *idem, const char *channel, int64_t due)
{
	return insert_full(idem, channel, due, NULL, 0, 0, "{}", 10);
}

/* Claims at now and returns the ids claimed as "1,2" (in id order); each
 * message is checked and cleaned up. */
static const char *claim(int64_t now, unsigned mask, int max)
{
	static char out[256];
	struct otd_outbox_msg msgs[16];
	ck_assert_int_le(max, 16);
	memset(msgs, 0, sizeof(msgs));
	struct job j = {.op = OP_CLAIM, .now = now, .mask = mask, .max = max, .msgs = msgs};
	ck_assert_msg(write_job(&j) == OTD_OK, "%s", last_err.message);
	ck_assert_int_le(j.n, max);
	/* Sort by id: the order RETURNING gives is not the contract. */
	for(int a = 0; a < j.n; a++)
		for(int b = a + 1; b < j.n; b++)
			if(msgs[b].id < msgs[a].id) {
				struct otd_outbox_msg t = msgs[a];
				msgs[a] = msgs[b];
				msgs[b] = t;
			}
	size_t off = 0;
	out[0] = '\0';
	for(int i = 0; i < j.n; i++) {
		ck_assert(store_channel_bit(msgs[i].channel) & mask);
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%lld", i ? "," : "",
		                        (long long)msgs[i].id);
		store_outbox_msg_cleanup(&msgs[i]);
		ck_assert_ptr_null(msgs[i].payload);
	}
	return out;
}

static int64_t next_due(unsigned mask)
{
	struct job j = {.op = OP_NEXT_DUE, .mask = mask, .due = -5};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	return j.due;
}

static enum otd_status sent(int64_t id, int64_t now, const char *provider, const char *pid,
                            const char *redact)
{
	struct job j = {.op = OP_SENT,
	                .id = id,
	                .now = now,
	                .provider = provider,
	                .provider_id = pid,
	                .redact = redact};
	return write_job(&j);
}

static enum otd_status retry(int64_t id, int64_t due, int provider_index, const char *error)
{
	struct job j = {
	    .op = OP_RETRY, .id = id, .due = due, .provider_index = provider_index, .error = error};
	return write_job(&j);
}

static enum otd_status failed(int64_t id, const char *provider, const char *error)
{
	struct job j = {.op = OP_FAILED, .id = id, .provider = provider, .error = error};
	return write_job(&j);
}

/* A delivery report failing a message that was sent. */
static enum otd_status failed_sent(int64_t id, const char *provider, const char *error)
{
	struct job j = {
	    .op = OP_FAILED, .id = id, .provider = provider, .error = error, .was_sent = true};
	return write_job(&j);
}

static int64_t recover(int64_t now, int64_t grace)
{
	struct job j = {.op = OP_RECOVER, .now = now, .grace = grace, .n64 = -1};
	ck_assert_int_eq(write_job(&j), OTD_OK);
	return j.n64;
}

static struct otd_outbox_counts counts(void)
{
	struct job j = {.op = OP_COUNTS};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	return j.counts;
}

static void receipt(int64_t id, int64_t now, const char *provider, const char *status)
{
	struct job j = {
	    .op = OP_RECEIPT, .id = id, .now = now, .provider = provider, .status = status};
	ck_assert_msg(write_job(&j) == OTD_OK, "%s", last_err.message);
}

/* ---- tests ------------------------------------------------------------------- */

START_TEST(channel_bits)
{
	ck_assert_uint_eq(store_channel_bit("email"), OTD_CHANNEL_EMAIL);
	ck_assert_uint_eq(store_channel_bit("sms"), OTD_CHANNEL_SMS);
	ck_assert_uint_eq(store_channel_bit("webhook"), OTD_CHANNEL_WEBHOOK);
	ck_assert_uint_eq(store_channel_bit("record"), 0);
	ck_assert_uint_eq(store_channel_bit(""), 0);
	ck_assert_uint_eq(store_channel_bit("EMAIL"), 0);
	ck_assert_uint_eq(OTD_CHANNEL_EMAIL & OTD_CHANNEL_SMS, 0);
	ck_assert_uint_eq((OTD_CHANNEL_EMAIL | OTD_CHANNEL_SMS) & OTD_CHANNEL_WEBHOOK, 0);
}
END_TEST

START_TEST(claim_respects_due_at_the_mask_and_max)
{
	seed();
	int64_t e1 = insert("e1", "email", 100);
	int64_t s1 = insert("s1", "sms", 50);
	int64_t w1 = insert("w1", "webhook", 200);
	int64_t e2 = insert("e2", "email", 300);
	int64_t e3 = insert("e3", "email", 90);
	int64_t r1 = insert("r1", "record", 10);
	int64_t e4 = insert("e4", "email", 100); /* the same due as e1: id order */
	ck_assert_int_eq(next_due(OTD_CHANNEL_EMAIL), 90);
	ck_assert_int_eq(next_due(OTD_CHANNEL_SMS), 50);
	ck_assert_int_eq(next_due(OTD_CHANNEL_WEBHOOK), 200);
	ck_assert_int_eq(next_due(OTD_CHANNEL_EMAIL | OTD_CHANNEL_WEBHOOK), 90);
	ck_assert_int_eq(next_due(0), INT64_MAX); /* 'record' is nobody's */

	/* Nothing is due before its due_at; at it exactly, it is. */
	ck_assert_str_eq(claim(89, OTD_CHANNEL_EMAIL, 4), "");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox WHERE state <> 'pending'"), 0);
	/* Oldest due first, max at a time. */
	char want[64];
	snprintf(want, sizeof(want), "%lld", (long long)e3);
	ck_assert_str_eq(claim(150, OTD_CHANNEL_EMAIL, 1), want);
	snprintf(want, sizeof(want), "%lld", (long long)e1);
	ck_assert_str_eq(claim(150, OTD_CHANNEL_EMAIL, 1), want);
	/* Another channel's message due earlier is left alone; e4 then none. */
	snprintf(want, sizeof(want), "%lld", (long long)e4);
	ck_assert_str_eq(claim(150, OTD_CHANNEL_EMAIL, 5), want);
	ck_assert_str_eq(claim(150, OTD_CHANNEL_EMAIL, 5), "");
	ck_assert_int_eq(next_due(OTD_CHANNEL_EMAIL), 300); /* 'sending' is not waiting */
	/* Two channels at once; w1 is not due yet. */
	snprintf(want, sizeof(want), "%lld", (long long)s1);
	ck_assert_str_eq(claim(150, OTD_CHANNEL_SMS | OTD_CHANNEL_WEBHOOK, 5), want);
	/* The empty mask claims nothing; 'record' rows are never claimed. */
	ck_assert_str_eq(claim(1000000, 0, 5), "");
	snprintf(want, sizeof(want), "%lld,%lld", (long long)w1, (long long)e2);
	ck_assert_str_eq(
	    claim(1000000, OTD_CHANNEL_EMAIL | OTD_CHANNEL_SMS | OTD_CHANNEL_WEBHOOK, 5), want);
	ck_assert_int_eq(next_due(OTD_CHANNEL_EMAIL | OTD_CHANNEL_SMS | OTD_CHANNEL_WEBHOOK),
	                 INT64_MAX);
	(void)r1;
	ASSERT_LIST("SELECT idem_key || ' ' || state || ' ' || attempts || ' ' || "
	            "coalesce(claimed_at, '-') FROM outbox ORDER BY id",
	            "e1 sending 1 150;s1 sending 1 150;w1 sending 1 1000000;e2 sending 1 1000000;"
	            "e3 sending 1 150;r1 pending 0 -;e4 sending 1 150");
}
END_TEST

START_TEST(a_claimed_message_carries_what_the_worker_needs)
{
	seed();
	int64_t id = insert_full("appt:1:v1:booked:sms", "sms", 100, "appt:1:v1:booked", 1, 1,
	                         "{\"to\":\"+447700900001\",\"text\":\"Hi\"}", 40);
	/* Not claimed yet: attempts 0. A retry later on provider 1. */
	struct otd_outbox_msg m[2];
	memset(m, 0, sizeof(m));
	struct job j = {.op = OP_CLAIM, .now = 100, .mask = OTD_CHANNEL_SMS, .max = 2, .msgs = m};
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert_int_eq(j.n, 1);
	ck_assert_int_eq(m[0].id, id);
	ck_assert_int_eq(m[0].appointment_id, 1);
	ck_assert_int_eq(m[0].customer_id, 1);
	ck_assert_str_eq(m[0].idem_key, "appt:1:v1:booked:sms");
	ck_assert_str_eq(m[0].event_key, "appt:1:v1:booked");
	ck_assert_str_eq(m[0].channel, "sms");
	ck_assert_str_eq(m[0].template, "booking_confirmation");
	ck_assert_str_eq(m[0].payload, "{\"to\":\"+447700900001\",\"text\":\"Hi\"}");
	ck_assert_int_eq(m[0].attempts, 1);
	ck_assert_int_eq(m[0].provider_index, 0);
	ck_assert(!m[0].uncertain);
	ck_assert_int_eq(m[0].created_at, 40);
	store_outbox_msg_cleanup(&m[0]);
	ck_assert_int_eq(retry(id, 200, 1, "timeout"), OTD_OK);
	j = (struct job){.op = OP_CLAIM, .now = 200, .mask = OTD_CHANNEL_SMS, .max = 2, .msgs = m};
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert_int_eq(j.n, 1);
	ck_assert_int_eq(m[0].attempts, 2);
	ck_assert_int_eq(m[0].provider_index, 1);
	store_outbox_msg_cleanup(&m[0]);

	/* No appointment, customer or event: zeros and "". */
	int64_t bare = insert("alert:1", "webhook", 5);
	j = (struct job){
	    .op = OP_CLAIM, .now = 200, .mask = OTD_CHANNEL_WEBHOOK, .max = 2, .msgs = m};
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert_int_eq(j.n, 1);
	ck_assert_int_eq(m[0].id, bare);
	ck_assert_int_eq(m[0].appointment_id, 0);
	ck_assert_int_eq(m[0].customer_id, 0);
	ck_assert_str_eq(m[0].event_key, ""); /* conn_column_dup: "" for NULL */
	store_outbox_msg_cleanup(&m[0]);
}
END_TEST

START_TEST(outcomes_only_for_a_message_being_sent)
{
	seed();
	int64_t a = insert("a", "email", 100);
	int64_t b = insert("b", "email", 100);
	/* Pending, not claimed: no outcome can be recorded. */
	ck_assert_int_eq(sent(a, 150, "smtp", "<m1@x>", NULL), OTD_ENOTFOUND);
	ck_assert_str_eq(last_err.code, "not_found");
	ck_assert_ptr_nonnull(strstr(last_err.message, "is not being sent"));
	ck_assert_int_eq(retry(a, 200, 0, "x"), OTD_ENOTFOUND);
	ck_assert_int_eq(failed(a, "smtp", "x"), OTD_ENOTFOUND);
	ck_assert_int_eq(sent(999, 150, "smtp", NULL, NULL), OTD_ENOTFOUND);
	ck_assert_int_eq(retry(999, 150, 0, NULL), OTD_ENOTFOUND);
	ck_assert_int_eq(failed(999, NULL, NULL), OTD_ENOTFOUND);
	char *before = sql_list(ROW_SQL(1));
	ck_assert_str_eq(before, "pending|0|100|-|-|-|-|-|0|-");
	free(before);

	/* Claimed, then put back for later with the error. */
	claim(150, OTD_CHANNEL_EMAIL, 2);
	ASSERT_LIST(ROW_SQL(1), "sending|1|100|150|-|-|-|-|0|-");
	ck_assert_int_eq(retry(a, 400, 1, "421 try later"), OTD_OK);
	ASSERT_LIST(ROW_SQL(1), "pending|1|400|-|-|-|-|421 try later|1|-");
	ck_assert_int_eq(retry(a, 500, 1, "again"), OTD_ENOTFOUND); /* recorded already */
	ck_assert_int_eq(sent(a, 150, "smtp", NULL, NULL), OTD_ENOTFOUND);
	/* Claimed again and sent: the error cleared, the provider's id kept. */
	claim(400, OTD_CHANNEL_EMAIL, 2);
	ck_assert_int_eq(sent(a, 401, "smtp", "<m1@x>", NULL), OTD_OK);
	ASSERT_LIST(ROW_SQL(1), "sent|2|400|400|401|smtp|<m1@x>|-|1|-");
	ck_assert_int_eq(sent(a, 402, "smtp", "<m2@x>", NULL), OTD_ENOTFOUND);
	ck_assert_int_eq(retry(a, 500, 0, "x"), OTD_ENOTFOUND);
	ASSERT_LIST(ROW_SQL(1), "sent|2|400|400|401|smtp|<m1@x>|-|1|-");
	/* A sent message may still fail (a report says it never arrived):
	 * sent_at cleared, the provider kept when none is named. */
	ck_assert_int_eq(failed(a, NULL, "late outcome"), OTD_ENOTFOUND); /* not sending */
	ck_assert_int_eq(failed_sent(a, NULL, "bounced"), OTD_OK);
	ASSERT_LIST(ROW_SQL(1), "failed|2|400|400|-|smtp|<m1@x>|bounced|1|-");
	ck_assert_int_eq(failed_sent(a, NULL, "again"), OTD_ENOTFOUND);
	ck_assert_int_eq(sent(a, 500, "smtp", NULL, NULL), OTD_ENOTFOUND);
	ck_assert_int_eq(retry(a, 500, 0, NULL), OTD_ENOTFOUND);

	/* b: failed while sending, naming the provider. */
	ck_assert_int_eq(failed(b, "smtp", "550 no such user"), OTD_OK);
	ASSERT_LIST(ROW_SQL(2), "failed|1|100|150|-|smtp|-|550 no such user|0|-");
	/* A cancelled message takes no outcome either. */
	int64_t c = insert("c", "sms", 100);
	sql_exec("UPDATE outbox SET state = 'cancelled' WHERE idem_key = 'c'");
	ck_assert_int_eq(sent(c, 150, "kannel", NULL, NULL), OTD_ENOTFOUND);
	ck_assert_int_eq(failed(c, "kannel", NULL), OTD_ENOTFOUND);
	ck_assert_str_eq(claim(150, OTD_CHANNEL_SMS, 2), "");
}
END_TEST

START_TEST(a_sent_payload_has_every_copy_of_the_link_secret_redacted)
{
	seed();
	const char *token = "Qm9vayBhIHZpc2l0IQ0123456789abcd";
	char *payload = xasprintf("{\"link\":\"https://v.example.org/a/%s\",\"text\":\"Open "
	                          "https://v.example.org/a/%s\",\"html\":\"<a "
	                          "href='https://v.example.org/a/%s'>%s</a>\",\"to\":\"z@x\"}",
	                          token, token, token, token);
	int64_t id = insert_full("k1", "email", 1, NULL, 0, 0, payload, 1);
	int64_t keep = insert_full("k2", "email", 1, NULL, 0, 0, payload, 1);
	int64_t empty = insert_full("k3", "email", 1, NULL, 0, 0, payload, 1);
	claim(1, OTD_CHANNEL_EMAIL, 3);
	ck_assert_int_eq(sent(id, 2, "smtp", "<a@b>", token), OTD_OK);
	ck_assert_int_eq(sent(keep, 2, "smtp", "<a@c>", NULL), OTD_OK);
	ck_assert_int_eq(sent(empty, 2, "smtp", "<a@d>", ""), OTD_OK);

	struct job j = {.op = OP_PAYLOAD, .id = id};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_str_eq(j.payload,
	                 "{\"link\":\"https://v.example.org/a/REDACTED\",\"text\":\"Open "
	                 "https://v.example.org/a/REDACTED\",\"html\":\"<a "
	                 "href='https://v.example.org/a/REDACTED'>REDACTED</a>\",\"to\":\"z@x\"}");
	ck_assert_ptr_null(strstr(j.payload, token));
	free(j.payload);
	/* No secret named (NULL or ""): the payload is kept as it was. */
	j = (struct job){.op = OP_PAYLOAD, .id = keep};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_str_eq(j.payload, payload);
	free(j.payload);
	j = (struct job){.op = OP_PAYLOAD, .id = empty};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_str_eq(j.payload, payload);
	free(j.payload);
	/* A retry or a failure redacts nothing (the secret is still needed). */
	int64_t r = insert_full("k4", "email", 1, NULL, 0, 0, payload, 1);
	claim(1, OTD_CHANNEL_EMAIL, 3);
	ck_assert_int_eq(retry(r, 5, 0, "x"), OTD_OK);
	j = (struct job){.op = OP_PAYLOAD, .id = r};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_str_eq(j.payload, payload);
	free(j.payload);
	j = (struct job){.op = OP_PAYLOAD, .id = 99};
	ck_assert_int_eq(read_job(&j), OTD_ENOTFOUND);
	free(payload);
}
END_TEST

START_TEST(recover_then_claim_keeps_uncertain_at_and_the_count)
{
	seed();
	int64_t e = insert("e", "email", 100);
	int64_t s = insert("s", "sms", 100);
	int64_t w = insert("w", "webhook", 100);
	int64_t p = insert("p", "email", 5000); /* pending, not due: untouched */
	int64_t d = insert("d", "email", 100);  /* sent: untouched */
	ck_assert_int_eq(recover(900, 60), 0);  /* nothing in flight */
	claim(100, OTD_CHANNEL_EMAIL | OTD_CHANNEL_SMS | OTD_CHANNEL_WEBHOOK, 10);
	ck_assert_int_eq(sent(d, 101, "smtp", "<d@x>", NULL), OTD_OK);
	struct otd_outbox_counts c0 = counts();
	ck_assert_int_eq(c0.uncertain_total, 0);
	ck_assert_int_eq(c0.sent, 1);
	ck_assert_int_eq(c0.failed, 0);

	/* The process dies with e, s and w in flight; at the restart: */
	ck_assert_int_eq(recover(1000, 60), 3);
	ASSERT_LIST(ROW_SQL(1), "uncertain|1|1000|-|-|-|-|-|0|1000");
	ASSERT_LIST(ROW_SQL(2), "uncertain|1|1060|-|-|-|-|-|0|1000"); /* SMS after the grace */
	ASSERT_LIST(ROW_SQL(3), "uncertain|1|1000|-|-|-|-|-|0|1000");
	ASSERT_LIST(ROW_SQL(4), "pending|0|5000|-|-|-|-|-|0|-");
	ASSERT_LIST(ROW_SQL(5), "sent|1|100|100|101|smtp|<d@x>|-|0|-");
	ck_assert_int_eq(counts().uncertain_total, 3);
	ck_assert_int_eq(next_due(OTD_CHANNEL_SMS), 1060);
	ck_assert_int_eq(next_due(OTD_CHANNEL_EMAIL), 1000);

	/* Email and webhook are due again at once, the text message not yet. */
	struct otd_outbox_msg m[4];
	memset(m, 0, sizeof(m));
	struct job j = {.op = OP_CLAIM,
	                .now = 1000,
	                .mask = OTD_CHANNEL_EMAIL | OTD_CHANNEL_SMS | OTD_CHANNEL_WEBHOOK,
	                .max = 4,
	                .msgs = m};
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert_int_eq(j.n, 2);
	for(int i = 0; i < j.n; i++) {
		ck_assert(m[i].id == e || m[i].id == w);
		ck_assert(m[i].uncertain);
		ck_assert_int_eq(m[i].attempts, 2);
		store_outbox_msg_cleanup(&m[i]);
	}
	ASSERT_LIST(ROW_SQL(1), "sending|2|1000|1000|-|-|-|-|0|1000");
	ck_assert_int_eq(counts().uncertain_total, 3);
	/* A retry of an uncertain message keeps it uncertain (and counted). */
	ck_assert_int_eq(retry(w, 1100, 0, "503"), OTD_OK);
	ASSERT_LIST(ROW_SQL(3), "uncertain|2|1100|-|-|-|-|503|0|1000");
	ck_assert_int_eq(sent(e, 1001, "smtp", "<e@x>", NULL), OTD_OK);
	ASSERT_LIST(ROW_SQL(1), "sent|2|1000|1000|1001|smtp|<e@x>|-|0|1000");
	struct otd_outbox_counts c1 = counts();
	ck_assert_int_eq(c1.uncertain_total, 3);
	ck_assert_int_eq(c1.sent, 2);

	/* The SMS at the end of its grace, without a delivery report. */
	j = (struct job){.op = OP_CLAIM, .now = 1060, .mask = OTD_CHANNEL_SMS, .max = 4, .msgs = m};
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert_int_eq(j.n, 1);
	ck_assert_int_eq(m[0].id, s);
	ck_assert(m[0].uncertain);
	store_outbox_msg_cleanup(&m[0]);
	/* A second crash: counted once more only for a message not counted. */
	ck_assert_int_eq(recover(2000, 60), 1);
	ASSERT_LIST(ROW_SQL(2), "uncertain|2|2060|-|-|-|-|-|0|2000");
	ck_assert_int_eq(counts().uncertain_total, 3);
	(void)p;
}
END_TEST

/* SQLite is served by one process: the instance ids of PostgreSQL's
 * several nodes change nothing. A claim records its node; recover at start
 * takes over every message being sent, however young its claim and
 * whichever node made it; an outcome is recorded whichever node reports
 * it. */
/* Every message as "id:state:claimed_by". */
#define CLAIMS_SQL                                                                                 \
	"SELECT id || ':' || state || ':' || coalesce(claimed_by, '-') FROM outbox "               \
	"ORDER BY id"

START_TEST(under_sqlite_node_ids_and_the_lease_change_nothing)
{
	seed();
	int64_t a = insert("a", "email", 100);
	int64_t b = insert("b", "sms", 100);
	int64_t c = insert("c", "email", 100);
	int64_t d = insert("d", "email", 100);
	int64_t e = insert("e", "email", 100);
	struct otd_outbox_msg m[4];
	memset(m, 0, sizeof(m));
	struct job j = {.op = OP_CLAIM,
	                .now = 1000,
	                .mask = OTD_CHANNEL_EMAIL | OTD_CHANNEL_SMS,
	                .max = 4,
	                .node = "node-a",
	                .msgs = m};
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert_int_eq(j.n, 4);
	for(int i = 0; i < j.n; i++)
		store_outbox_msg_cleanup(&m[i]);
	ASSERT_LIST(CLAIMS_SQL, "1:sending:node-a;2:sending:node-a;3:sending:node-a;"
	                        "4:sending:node-a;5:pending:-");
	/* Another node's outcomes are recorded: no owner check under SQLite. */
	struct job o = {.op = OP_RETRY, .id = c, .due = 1100, .error = "503", .node = "node-b"};
	ck_assert_int_eq(write_job(&o), OTD_OK);
	o = (struct job){.op = OP_SENT, .id = d, .now = 1001, .provider = "smtp", .node = "node-b"};
	ck_assert_int_eq(write_job(&o), OTD_OK);
	ASSERT_LIST(ROW_SQL(3), "pending|1|1100|-|-|-|-|503|0|-");
	ASSERT_LIST(CLAIMS_SQL, "1:sending:node-a;2:sending:node-a;3:pending:-;"
	                        "4:sent:node-a;5:pending:-");
	/* At a start one second later, by a process with another id and a long
	 * lease: every message being sent is taken over, as before. */
	j = (struct job){.op = OP_RECOVER,
	                 .now = 1001,
	                 .grace = 60,
	                 .node = "node-b",
	                 .lease = 86400,
	                 .n64 = -1};
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert_int_eq(j.n64, 2);
	ASSERT_LIST(ROW_SQL(1), "uncertain|1|1001|-|-|-|-|-|0|1001");
	ASSERT_LIST(ROW_SQL(2), "uncertain|1|1061|-|-|-|-|-|0|1001");
	ASSERT_LIST(CLAIMS_SQL, "1:uncertain:-;2:uncertain:-;3:pending:-;4:sent:node-a;"
	                        "5:pending:-");
	/* A claim without a node, taken over the same way. */
	j = (struct job){
	    .op = OP_CLAIM, .now = 1001, .mask = OTD_CHANNEL_EMAIL, .max = 1, .msgs = m};
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert_int_eq(j.n, 1);
	ck_assert_int_eq(m[0].id, e); /* due first */
	store_outbox_msg_cleanup(&m[0]);
	ASSERT_LIST("SELECT state || ':' || coalesce(claimed_by, '-') FROM outbox WHERE id = 5",
	            "sending:-");
	ck_assert_int_eq(recover(1002, 60), 1);
	ck_assert_int_eq(failed(e, "smtp", "x"), OTD_ENOTFOUND);
	(void)a;
	(void)b;
}
END_TEST

START_TEST(an_uncertain_sms_with_a_delivery_report_is_settled_as_sent)
{
	seed();
	int64_t delivered = insert("s1", "sms", 100);
	int64_t accepted = insert("s2", "sms", 100);
	int64_t failed_r = insert("s3", "sms", 100);
	int64_t none = insert("s4", "sms", 100);
	int64_t mail = insert("e1", "email", 100);
	int64_t pending = insert("s5", "sms", 100);
	claim(100, OTD_CHANNEL_SMS | OTD_CHANNEL_EMAIL, 5); /* all but s5 */
	ck_assert_int_eq(recover(200, 60), 5);
	receipt(delivered, 210, "kannel", "delivered");
	receipt(accepted, 210, "twilio", "accepted");
	receipt(failed_r, 210, "kannel", "failed");
	receipt(mail, 210, "smtp", "delivered");
	receipt(pending, 210, "kannel", "delivered");
	/* The grace over: the two reported ones are sent (not claimed), the
	 * rest go again. */
	char want[64];
	snprintf(want, sizeof(want), "%lld,%lld,%lld,%lld", (long long)failed_r, (long long)none,
	         (long long)mail, (long long)pending);
	ck_assert_str_eq(claim(260, OTD_CHANNEL_SMS | OTD_CHANNEL_EMAIL, 10), want);
	ASSERT_LIST(ROW_SQL(1), "sent|1|260|-|260|-|-|-|0|200");
	ASSERT_LIST(ROW_SQL(2), "sent|1|260|-|260|-|-|-|0|200");
	ASSERT_LIST("SELECT state || ' ' || attempts FROM outbox WHERE id IN (3, 4, 5, 6) ORDER "
	            "BY id",
	            "sending 2;sending 2;sending 2;sending 1");
	struct otd_outbox_counts c = counts();
	ck_assert_int_eq(c.sent, 2);
	ck_assert_int_eq(c.uncertain_total, 5);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM delivery_receipts"), 5);
}
END_TEST

START_TEST(state_provider_id_siblings_and_receipts)
{
	seed();
	int64_t a =
	    insert_full("appt:1:v2:moved:email", "email", 10, "appt:1:v2:moved", 1, 1, "{}", 5);
	int64_t b = insert_full("appt:1:v2:moved:sms", "sms", 10, "appt:1:v2:moved", 1, 1, "{}", 5);
	int64_t other =
	    insert_full("appt:3:v1:booked:sms", "sms", 10, "appt:3:v1:booked", 3, 2, "{}", 5);
	struct job j = {.op = OP_STATE, .id = a};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_int_eq(j.state.id, a);
	ck_assert_int_eq(j.state.appointment_id, 1);
	ck_assert_int_eq(j.state.customer_id, 1);
	ck_assert_str_eq(j.state.state, "pending");
	ck_assert_str_eq(j.state.channel, "email");
	ck_assert_str_eq(j.state.event_key, "appt:1:v2:moved");
	ck_assert_str_eq(j.state.idem_key, "appt:1:v2:moved:email");
	ck_assert_str_eq(j.state.provider, "");
	ck_assert_int_eq(j.state.fallback_of, 0);
	j = (struct job){.op = OP_STATE, .id = 77};
	ck_assert_int_eq(read_job(&j), OTD_ENOTFOUND);
	ck_assert_str_eq(last_err.code, "not_found");

	/* A fallback row: fallback_of read back; no appointment or event. */
	struct job ins = {.op = OP_INSERT,
	                  .now = 6,
	                  .row = {.idem_key = "appt:1:v2:moved:email:fallback",
	                          .channel = "sms",
	                          .template = "fallback",
	                          .payload = "{}",
	                          .due_at = 6,
	                          .fallback_of = a}};
	ck_assert_int_eq(write_job(&ins), OTD_OK);
	j = (struct job){.op = OP_STATE, .id = ins.row.id};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_int_eq(j.state.fallback_of, a);
	ck_assert_int_eq(j.state.appointment_id, 0);
	ck_assert_str_eq(j.state.event_key, "");

	/* Siblings of an event, the message itself not counted. */
	j = (struct job){.op = OP_SIBLINGS, .event_key = "appt:1:v2:moved", .id = a};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_int_eq(j.live, 1);
	ck_assert_int_eq(j.total, 1);
	j = (struct job){.op = OP_SIBLINGS, .event_key = "appt:1:v2:moved", .id = 0};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_int_eq(j.live, 2);
	ck_assert_int_eq(j.total, 2);
	/* Every state: pending, sending, uncertain and sent are live; failed
	 * and cancelled are not. */
	const char *states[] = {"sending", "uncertain", "sent", "failed", "cancelled"};
	for(int i = 0; i < 5; i++) {
		char *idem = xasprintf("appt:1:v2:moved:x%d", i);
		int64_t id = insert_full(idem, "webhook", 10, "appt:1:v2:moved", 1, 1, "{}", 5);
		char *sql =
		    xasprintf("UPDATE outbox SET state = '%s', claimed_at = 1, sent_at = CASE "
		              "'%s' WHEN 'sent' THEN 2 END WHERE id = %lld",
		              states[i], states[i], (long long)id);
		sql_exec(sql);
		free(sql);
		free(idem);
	}
	j = (struct job){.op = OP_SIBLINGS, .event_key = "appt:1:v2:moved", .id = a};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_int_eq(j.live, 4); /* b, sending, uncertain, sent */
	ck_assert_int_eq(j.total, 6);
	/* Without an event key, no siblings. */
	j = (struct job){.op = OP_SIBLINGS, .event_key = NULL, .id = a, .live = 9, .total = 9};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_int_eq(j.live + j.total, 0);
	j = (struct job){.op = OP_SIBLINGS, .event_key = "", .id = a, .live = 9, .total = 9};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_int_eq(j.live + j.total, 0);
	j = (struct job){.op = OP_SIBLINGS, .event_key = "appt:9:none", .id = 0};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_int_eq(j.live + j.total, 0);

	/* The message a provider knows by its id; the same id from another
	 * provider is another message; the first row wins. */
	claim(10, OTD_CHANNEL_SMS | OTD_CHANNEL_EMAIL, 5);
	ck_assert_int_eq(sent(b, 11, "twilio", "SM0001", NULL), OTD_OK);
	ck_assert_int_eq(sent(other, 11, "twilio", "SM0001", NULL), OTD_OK);
	ck_assert_int_eq(sent(a, 11, "smtp", "SM0002", NULL), OTD_OK);
	j = (struct job){.op = OP_BY_PROVIDER_ID, .provider = "twilio", .provider_id = "SM0001"};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_int_eq(j.id, b);
	j = (struct job){.op = OP_BY_PROVIDER_ID, .provider = "smtp", .provider_id = "SM0002"};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_int_eq(j.id, a);
	j = (struct job){.op = OP_BY_PROVIDER_ID, .provider = "kannel", .provider_id = "SM0001"};
	ck_assert_int_eq(read_job(&j), OTD_ENOTFOUND);
	j = (struct job){.op = OP_BY_PROVIDER_ID, .provider = "twilio", .provider_id = "SM9"};
	ck_assert_int_eq(read_job(&j), OTD_ENOTFOUND);
	j = (struct job){.op = OP_STATE, .id = b};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_str_eq(j.state.provider, "twilio");
	ck_assert_str_eq(j.state.state, "sent");

	/* Receipts: the detail defaults to {}; an unknown message is refused
	 * by the foreign key. */
	receipt(b, 20, "twilio", "delivered");
	struct job r = {.op = OP_RECEIPT,
	                .id = b,
	                .now = 21,
	                .provider = "twilio",
	                .status = "failed",
	                .detail = "{\"ErrorCode\":\"30003\"}"};
	ck_assert_int_eq(write_job(&r), OTD_OK);
	ASSERT_LIST("SELECT outbox_id || ' ' || received_at || ' ' || provider || ' ' || status "
	            "|| ' ' || detail FROM delivery_receipts ORDER BY id",
	            "2 20 twilio delivered {};2 21 twilio failed {\"ErrorCode\":\"30003\"}");
	r = (struct job){
	    .op = OP_RECEIPT, .id = 999, .now = 21, .provider = "twilio", .status = "failed"};
	ck_assert_int_ne(write_job(&r), OTD_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM delivery_receipts"), 2);
	/* A receipt changes no message state by itself. */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox WHERE state = 'sent' AND id = 2"), 1);
}
END_TEST

START_TEST(counts_for_metrics)
{
	seed();
	struct otd_outbox_counts c = counts();
	ck_assert_int_eq(c.uncertain_total + c.failed + c.sent, 0);
	for(int i = 0; i < 6; i++) {
		char idem[16];
		snprintf(idem, sizeof(idem), "m%d", i);
		insert(idem, "email", 10);
	}
	claim(10, OTD_CHANNEL_EMAIL, 6);
	ck_assert_int_eq(sent(1, 11, "smtp", NULL, NULL), OTD_OK);
	ck_assert_int_eq(sent(2, 11, "smtp", NULL, NULL), OTD_OK);
	ck_assert_int_eq(failed(3, "smtp", "550"), OTD_OK);
	ck_assert_int_eq(retry(4, 50, 0, "421"), OTD_OK);
	ck_assert_int_eq(recover(20, 60), 2); /* 5 and 6 */
	c = counts();
	ck_assert_int_eq(c.sent, 2);
	ck_assert_int_eq(c.failed, 1);
	ck_assert_int_eq(c.uncertain_total, 2);
	/* A sent message failing later moves from one count to the other. */
	ck_assert_int_eq(failed_sent(1, NULL, "bounced"), OTD_OK);
	c = counts();
	ck_assert_int_eq(c.sent, 1);
	ck_assert_int_eq(c.failed, 2);
}
END_TEST

START_TEST(the_url_key)
{
	struct job j = {.op = OP_KEY, .name = "url"};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	ck_assert_int_eq(sql_int("SELECT length(key) FROM server_keys WHERE name = 'url'"), 32);
	char *hex = sql_list("SELECT lower(hex(key)) FROM server_keys WHERE name = 'url'");
	char mine[65];
	for(int i = 0; i < 32; i++)
		snprintf(mine + 2 * i, 3, "%02x", j.key[i]);
	ck_assert_str_eq(mine, hex);
	free(hex);
	/* Random, not a constant: not all one byte. */
	int same = 0;
	for(int i = 1; i < 32; i++)
		same += j.key[i] == j.key[0];
	ck_assert_int_lt(same, 31);
	/* The same on another read. */
	struct job again = {.op = OP_KEY, .name = "url"};
	ck_assert_int_eq(read_job(&again), OTD_OK);
	ck_assert_mem_eq(again.key, j.key, 32);
	/* A missing key names itself and says what to run. */
	struct job none = {.op = OP_KEY, .name = "nope"};
	ck_assert_int_eq(read_job(&none), OTD_EIO);
	ck_assert_ptr_nonnull(strstr(last_err.message, "'nope'"));
	ck_assert_ptr_nonnull(strstr(last_err.message, "onthedot migrate"));
}
END_TEST

START_TEST(inbound_messages_are_kept_once_per_provider_id)
{
	seed();
	struct job j = {.op = OP_INBOUND,
	                .inbound = {.provider = "kannel",
	                            .provider_id = "mo-1",
	                            .sender = "+447700900001",
	                            .body = "1",
	                            .customer_id = 1,
	                            .appointment_id = 1,
	                            .outcome = "kept",
	                            .received_at = 500}};
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert_int_eq(j.id, 1);
	/* The inbox is 'open' work; every other outcome is done. */
	j.inbound.provider_id = "mo-2";
	j.inbound.body = "Can you come after 3?";
	j.inbound.outcome = "inbox";
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert_int_eq(j.id, 2);
	/* No contact, no appointment, no provider id (twice is fine). */
	struct job u = {.op = OP_INBOUND,
	                .inbound = {.provider = "twilio",
	                            .sender = "+447700900999",
	                            .body = "",
	                            .outcome = "unknown_sender",
	                            .received_at = 501}};
	ck_assert_int_eq(write_job(&u), OTD_OK);
	ck_assert_int_eq(write_job(&u), OTD_OK);
	ck_assert_int_eq(u.id, 4);
	ASSERT_LIST(
	    "SELECT provider || ' ' || coalesce(provider_id, '-') || ' ' || sender || ' ' "
	    "|| body || ' ' || coalesce(customer_id, '-') || ' ' || coalesce(appointment_id, "
	    "'-') || ' ' || outcome || ' ' || state || ' ' || received_at FROM "
	    "inbound_messages ORDER BY id",
	    "kannel mo-1 +447700900001 1 1 1 kept done 500;"
	    "kannel mo-2 +447700900001 Can you come after 3? 1 1 inbox open 500;"
	    "twilio - +447700900999  - - unknown_sender open 501;"
	    "twilio - +447700900999  - - unknown_sender open 501");
	/* The same provider id again: a conflict, nothing added; another
	 * provider may use the same id. */
	j.inbound.provider_id = "mo-1";
	j.inbound.outcome = "inbox";
	j.id = 0;
	ck_assert_int_eq(write_job(&j), OTD_ECONFLICT);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM inbound_messages"), 4);
	j.inbound.provider = "twilio";
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM inbound_messages"), 5);
	/* An outcome outside the five is refused by the schema. */
	j.inbound.provider_id = "mo-3";
	j.inbound.outcome = "maybe";
	ck_assert_int_eq(write_job(&j), OTD_ECONFLICT);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM inbound_messages"), 5);
}
END_TEST

START_TEST(the_call_task_is_added_once_while_open)
{
	seed();
	bool added = false;
	struct job j = {.op = OP_CALL,
	                .appointment_id = 1,
	                .note = "Could not reach Zoë.",
	                .now = 700,
	                .added_out = &added};
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert(added);
	j.now = 800;
	j.note = "Again.";
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert(!added);
	ASSERT_LIST("SELECT kind || ' ' || appointment_id || ' ' || state || ' ' || note || ' ' || "
	            "created_at FROM tasks",
	            "call 1 open Could not reach Zoë. 700");
	/* A rebook task for the appointment is another kind: no matter. */
	sql_exec("UPDATE tasks SET kind = 'rebook' WHERE id = 1");
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert(added);
	/* Done: a new call may be needed again. */
	sql_exec("UPDATE tasks SET state = 'done', done_at = 900");
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert(added);
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert(!added);
	/* Another appointment has its own; added may be NULL. */
	j = (struct job){.op = OP_CALL, .appointment_id = 3, .note = "", .now = 900};
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ck_assert_int_eq(write_job(&j), OTD_OK);
	ASSERT_LIST("SELECT appointment_id || ' ' || kind || ' ' || state FROM tasks ORDER BY id",
	            "1 rebook done;1 call done;1 call open;3 call open");
}
END_TEST

static void target(const char *phone, int64_t now, int64_t *cu, int64_t *appt)
{
	struct job j = {
	    .op = OP_TARGET, .phone = phone, .now = now, .customer_id = -1, .appointment_id = -1};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	*cu = j.customer_id;
	*appt = j.appointment_id;
}

START_TEST(who_sent_an_inbound_text)
{
	seed();
	int64_t cu, appt;
	/* Zoë's coming visits: the earliest window first. */
	target("+447700900001", 1000, &cu, &appt);
	ck_assert_int_eq(cu, 1);
	ck_assert_int_eq(appt, 1);
	/* A visit with windows held for it (an apology's offers) first. */
	sql_exec("INSERT INTO holds(visitor_id, visit_type_id, address_id, local_date, "
	         "window_start, window_end, client_key, token_hash, for_appointment, created_at, "
	         "expires_at, purpose) VALUES (1, 1, 1, '1970-01-03', 208800, 216000, 'apology', "
	         "randomblob(32), 2, 1000, 5000, 'apology_offer')");
	target("+447700900001", 1000, &cu, &appt);
	ck_assert_int_eq(appt, 2);
	/* ... while the hold lives. */
	target("+447700900001", 5000, &cu, &appt);
	ck_assert_int_eq(appt, 1);
	/* A window that ended more than 12 hours ago is not coming. */
	target("+447700900001", 43200 + 43200 - 1, &cu, &appt);
	ck_assert_int_eq(appt, 1);
	target("+447700900001", 43200 + 43200, &cu, &appt);
	ck_assert_int_eq(appt, 2);
	/* Travelling counts; arrived, done and cancelled do not. */
	sql_exec("UPDATE appointments SET status = 'travelling' WHERE id = 1");
	target("+447700900001", 6000, &cu, &appt);
	ck_assert_int_eq(appt, 1);
	sql_exec("UPDATE appointments SET status = 'arrived', arrived_at = 36100 WHERE id = 1");
	target("+447700900001", 6000, &cu, &appt);
	ck_assert_int_eq(appt, 2);
	sql_exec("UPDATE appointments SET status = 'cancelled', cancelled_at = 1, cancelled_by = "
	         "'customer' WHERE id = 2");
	target("+447700900001", 6000, &cu, &appt);
	ck_assert_int_eq(cu, 1);
	ck_assert_int_eq(appt, 0); /* the contact, with nothing coming */
	/* Cy's; a number nobody has; a national number is not matched (the
	 * caller normalises to E.164 first). */
	target("+447700900002", 6000, &cu, &appt);
	ck_assert_int_eq(cu, 2);
	ck_assert_int_eq(appt, 3);
	target("+447700900099", 6000, &cu, &appt);
	ck_assert_int_eq(cu + appt, 0);
	target("07700900002", 6000, &cu, &appt);
	ck_assert_int_eq(cu + appt, 0);
	/* An erased contact is nobody. */
	sql_exec("UPDATE customers SET erased_at = 7, phone = NULL, email = NULL WHERE id = 2");
	target("+447700900002", 6000, &cu, &appt);
	ck_assert_int_eq(cu + appt, 0);
}
END_TEST

static int64_t last_told(int64_t appt, int64_t since)
{
	struct job j = {.op = OP_LAST_TOLD, .appointment_id = appt, .since = since, .due = -1};
	ck_assert_int_eq(read_job(&j), OTD_OK);
	return j.due;
}

START_TEST(the_arrival_last_told)
{
	seed();
	ck_assert_int_eq(last_told(1, 0), 0);
	sql_exec("INSERT INTO appointment_events(appointment_id, kind, received_at, actor_kind, "
	         "detail) VALUES "
	         "(1, 'apology', 100, 'system', '{\"expected_early\":40000}'),"
	         "(1, 'risk_changed', 150, 'system', '{\"expected_early\":1}'),"
	         "(1, 'notice', 200, 'system', '{\"expected_early\":41000}'),"
	         "(3, 'apology', 300, 'system', '{\"expected_early\":50000}'),"
	         "(1, 'rescheduled', 400, 'system', '{\"expected_early\":2}')");
	/* The latest apology or notice; other kinds are not what was told. */
	ck_assert_int_eq(last_told(1, 0), 41000);
	ck_assert_int_eq(last_told(1, 200), 41000);
	ck_assert_int_eq(last_told(1, 201), 0);
	ck_assert_int_eq(last_told(3, 0), 50000);
	ck_assert_int_eq(last_told(2, 0), 0);
	/* The latest names no arrival: 0, not an older one. */
	sql_exec("INSERT INTO appointment_events(appointment_id, kind, received_at, actor_kind, "
	         "detail) VALUES (1, 'apology', 500, 'system', '{}')");
	ck_assert_int_eq(last_told(1, 0), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_outbox");
	TCase *tc = tcase_create("store_outbox");
	/* Fork mode: SQLite is opened in the child by the checked fixture. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, channel_bits);
	tcase_add_test(tc, claim_respects_due_at_the_mask_and_max);
	tcase_add_test(tc, a_claimed_message_carries_what_the_worker_needs);
	tcase_add_test(tc, outcomes_only_for_a_message_being_sent);
	tcase_add_test(tc, a_sent_payload_has_every_copy_of_the_link_secret_redacted);
	tcase_add_test(tc, recover_then_claim_keeps_uncertain_at_and_the_count);
	tcase_add_test(tc, under_sqlite_node_ids_and_the_lease_change_nothing);
	tcase_add_test(tc, an_uncertain_sms_with_a_delivery_report_is_settled_as_sent);
	tcase_add_test(tc, state_provider_id_siblings_and_receipts);
	tcase_add_test(tc, counts_for_metrics);
	tcase_add_test(tc, the_url_key);
	tcase_add_test(tc, inbound_messages_are_kept_once_per_provider_id);
	tcase_add_test(tc, the_call_task_is_added_once_while_open);
	tcase_add_test(tc, who_sent_an_inbound_text);
	tcase_add_test(tc, the_arrival_last_told);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
