/* Delivery use cases: claims, outcomes, fallback, the call list. */
#include "app/delivery.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/clock.h"
#include "app/log.h"
#include "onthedot/delivery.h"
#include "store/booking.h"
#include "store/store.h"

/* ---- recover, claim ---------------------------------------------------- */

struct recover_job {
	int64_t now, grace, lease, n;
	const char *node;
};

static enum otd_status recover_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct recover_job *j = arg;
	store_relax_isolation(tx); /* rows locked by the UPDATE itself */
	return store_outbox_recover(tx, j->now, j->grace, j->node, j->lease, &j->n, err);
}

/* Takes over the sends recover_write finds (node: this process's claims
 * too, or NULL), logging how many. */
static enum otd_status recover(struct otd_app *app, const char *node, const char *detail,
                               int64_t *n, struct otd_error *err)
{
	struct recover_job j = {.now = otd_clock_now(app->clock),
	                        .grace = app->cfg->delivery.sms_uncertain_grace_s,
	                        .lease = app->cfg->delivery.claim_lease_s,
	                        .node = node};
	enum otd_status st = store_write(app->store, recover_write, &j, err);
	if(st == OTD_OK && j.n > 0)
		otd_log(OTD_LOG_WARN, "uncertain_sends", "{s:I,s:s}", "count", (json_int_t)j.n,
		        "detail", detail);
	*n = j.n;
	return st;
}

enum otd_status app_delivery_recover(struct otd_app *app, int64_t *n, struct otd_error *err)
{
	return recover(app, app->node_id,
	               "messages were being sent when the last process stopped; email is sent "
	               "again with the same Message-ID, SMS only without a delivery report",
	               n, err);
}

enum otd_status app_delivery_takeover(struct otd_app *app, int64_t *n, struct otd_error *err)
{
	*n = 0;
	if(!app->shared_store)
		return OTD_OK;
	/* Not this node's own claims: those younger than the lease are in
	 * flight here. */
	return recover(app, NULL,
	               "messages claimed longer than delivery.claim_lease_s ago by a node that "
	               "stopped were taken over; email is sent again with the same Message-ID, "
	               "SMS only without a delivery report",
	               n, err);
}

struct claim_job {
	int64_t now;
	unsigned mask;
	int max, n;
	const char *node;
	struct otd_outbox_msg *out;
};

static enum otd_status claim_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct claim_job *j = arg;
	/* FOR UPDATE SKIP LOCKED: each node locks the rows it claims, and
	 * under SERIALIZABLE two nodes claiming at once would abort each
	 * other instead of taking different rows. */
	store_relax_isolation(tx);
	/* A job the store runs again (PostgreSQL, after a serialization
	 * failure at commit) first frees what the rolled-back try claimed. */
	for(int i = 0; i < j->n; i++)
		store_outbox_msg_cleanup(&j->out[i]);
	j->n = 0;
	return store_outbox_claim(tx, j->now, j->mask, j->max, j->node, j->out, &j->n, err);
}

enum otd_status app_delivery_claim(struct otd_app *app, unsigned mask, int max,
                                   struct otd_outbox_msg *out, int *n, struct otd_error *err)
{
	struct claim_job j = {.now = otd_clock_now(app->clock),
	                      .mask = mask,
	                      .max = max,
	                      .node = app->node_id,
	                      .out = out};
	enum otd_status st = store_write(app->store, claim_write, &j, err);
	if(st != OTD_OK) {
		/* The transaction rolled back: nothing was claimed. */
		for(int i = 0; i < j.n; i++)
			store_outbox_msg_cleanup(&out[i]);
		j.n = 0;
	}
	*n = j.n;
	return st;
}

struct due_job {
	unsigned mask;
	int64_t due;
};

static enum otd_status due_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct due_job *j = arg;
	return store_outbox_next_due(c, j->mask, &j->due, err);
}

enum otd_status app_delivery_next_due(struct otd_app *app, unsigned mask, int64_t *due,
                                      struct otd_error *err)
{
	struct due_job j = {.mask = mask, .due = INT64_MAX};
	enum otd_status st = store_read(app->store, due_read, &j, err);
	*due = j.due;
	return st;
}

/* ---- fallback ---------------------------------------------------------- */

/* After message id failed for good: another channel, or the call list.
 * Nothing happens when another message of the same event is on its way
 * or arrived. */
static enum otd_status fall_back(struct otd_app *app, struct otd_conn *tx, int64_t id,
                                 const char *why, int64_t now, struct otd_error *err)
{
	struct otd_outbox_state s;
	enum otd_status st = store_outbox_state(tx, id, &s, err);
	if(st)
		return st;
	int live = 0, total = 0;
	st = store_outbox_event_siblings(tx, s.event_key, id, &live, &total, err);
	if(st)
		return st;
	if(live > 0)
		return OTD_OK;
	char *payload = NULL;
	st = store_outbox_payload(tx, id, &payload, err);
	if(st)
		return st;
	json_t *root = json_loads(payload, 0, NULL);
	free(payload);
	json_t *alt = root ? json_object_get(root, "alt") : NULL;
	const char *alt_channel = alt ? json_string_value(json_object_get(alt, "channel")) : NULL;
	if(alt_channel && s.fallback_of == 0) {
		json_t *copy = json_deep_copy(alt);
		json_object_del(copy, "channel");
		char *text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(copy);
		char key[160];
		snprintf(key, sizeof(key), "%s:fallback", s.idem_key);
		json_t *tpl = json_object_get(root, "template");
		struct otd_outbox_row row = {
		    .idem_key = key,
		    .appointment_id = s.appointment_id,
		    .customer_id = s.customer_id,
		    .channel = alt_channel,
		    .template = json_is_string(tpl) ? json_string_value(tpl) : "fallback",
		    .payload = text,
		    .due_at = now,
		    .event_key = s.event_key[0] ? s.event_key : NULL,
		    .fallback_of = id,
		};
		st = text ? store_outbox_insert(tx, &row, now, err) : OTD_ENOMEM;
		if(st == OTD_OK)
			otd_log(OTD_LOG_INFO, "message_fallback", "{s:I,s:I,s:s}", "outbox_id",
			        (json_int_t)id, "fallback_id", (json_int_t)row.id, "channel",
			        alt_channel);
		free(text);
		json_decref(root);
		/* A fallback made before (a receipt failing twice) is not made again. */
		return st == OTD_ECONFLICT ? OTD_OK : st;
	}
	json_decref(root);
	if(!s.appointment_id)
		return OTD_OK;
	char note[400];
	snprintf(note, sizeof(note),
	         "We could not reach the customer by any channel they agreed to (%s message, last "
	         "error: %.200s). Please call them.",
	         s.channel, why ? why : "unknown");
	bool added = false;
	st = store_call_task(tx, s.appointment_id, note, now, &added, err);
	if(st == OTD_OK && added)
		otd_log(OTD_LOG_WARN, "call_list", "{s:I,s:I}", "appointment_id",
		        (json_int_t)s.appointment_id, "outbox_id", (json_int_t)id);
	return st;
}

/* ---- outcome ----------------------------------------------------------- */

/* The secret of the customer link a payload carries ("link": ".../a/TOKEN"),
 * or "" when none. */
static void link_token(const char *payload, char *out, size_t size)
{
	out[0] = '\0';
	json_t *p = json_loads(payload, 0, NULL);
	const char *link = p ? json_string_value(json_object_get(p, "link")) : NULL;
	const char *a = link ? strstr(link, "/a/") : NULL;
	if(a && strlen(a + 3) >= 16 && strlen(a + 3) < size && !strchr(a + 3, '/'))
		snprintf(out, size, "%s", a + 3);
	json_decref(p);
}

struct outcome_job {
	struct otd_app *app;
	const struct otd_outbox_msg *m;
	const struct delivery_result *r;
	int n_providers;
	int64_t now;
	double u;         /* jitter draw in [0, 1) */
	const char *what; /* for the log: sent, retry, next_provider, failed */
	int64_t due;
};

static enum otd_status outcome_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct outcome_job *j = arg;
	const struct otd_outbox_msg *m = j->m;
	const struct delivery_result *r = j->r;
	const struct otd_config *cfg = j->app->cfg;
	const char *node = j->app->node_id;
	if(r->kind == DELIVERY_SENT) {
		/* A report that it failed may have come back before this. */
		bool failed = false;
		enum otd_status fs = store_outbox_failed_receipt(tx, m->id, &failed, err);
		if(fs)
			return fs;
		if(failed) {
			j->what = "failed";
			fs = store_outbox_mark_failed(tx, m->id, r->provider,
			                              "the gateway reported it undelivered", false,
			                              node, err);
			return fs ? fs : fall_back(j->app, tx, m->id, "undelivered", j->now, err);
		}
		j->what = "sent";
		char token[128] = "";
		link_token(m->payload, token, sizeof(token));
		return store_outbox_mark_sent(tx, m->id, j->now, r->provider, r->provider_id, token,
		                              node, err);
	}
	if(r->kind == DELIVERY_UNCERTAIN && m->provider_attempts < cfg->delivery.max_attempts) {
		/* Like a send cut off by a crash: email again (same Message-ID)
		 * after a pause, an SMS only if no delivery report comes. */
		j->what = "uncertain";
		j->due = j->now + (strcmp(m->channel, "sms") == 0
		                       ? cfg->delivery.sms_uncertain_grace_s
		                       : otd_backoff_seconds(m->provider_attempts,
		                                             cfg->delivery.backoff_base_s,
		                                             cfg->delivery.backoff_cap_s, j->u));
		return store_outbox_mark_uncertain(tx, m->id, j->now, j->due, r->error, node, err);
	}
	/* An uncertain send past its attempts goes on like a failure, to the
	 * next provider or another channel: it may arrive twice, so it is
	 * counted as uncertain. */
	if(r->kind == DELIVERY_UNCERTAIN) {
		enum otd_status us = store_outbox_note_uncertain(tx, m->id, j->now, err);
		if(us)
			return us;
	}
	/* Each provider gets max_attempts. */
	int tries_here = m->provider_attempts;
	if(r->kind == DELIVERY_RETRY && tries_here < cfg->delivery.max_attempts) {
		j->what = "retry";
		j->due = j->now + otd_backoff_seconds(tries_here, cfg->delivery.backoff_base_s,
		                                      cfg->delivery.backoff_cap_s, j->u);
		return store_outbox_mark_retry(tx, m->id, j->due, m->provider_index, r->error, node,
		                               err);
	}
	if(m->provider_index + 1 < j->n_providers) {
		j->what = "next_provider";
		j->due = j->now;
		/* The next provider starts with a full set of attempts. */
		return store_outbox_mark_retry(tx, m->id, j->now, m->provider_index + 1, r->error,
		                               node, err);
	}
	j->what = "failed";
	enum otd_status st =
	    store_outbox_mark_failed(tx, m->id, r->provider, r->error, false, node, err);
	if(st == OTD_OK)
		st = fall_back(j->app, tx, m->id, r->error, j->now, err);
	/* A message that never left keeps no live link either. */
	char token[128] = "";
	link_token(m->payload, token, sizeof(token));
	if(st == OTD_OK)
		st = store_outbox_redact(tx, m->id, token, err);
	return st;
}

enum otd_status app_delivery_outcome(struct otd_app *app, const struct otd_outbox_msg *m,
                                     int n_providers, const struct delivery_result *r,
                                     struct otd_error *err)
{
	struct outcome_job j = {.app = app,
	                        .m = m,
	                        .r = r,
	                        .n_providers = n_providers,
	                        .now = otd_clock_now(app->clock),
	                        .u = randombytes_uniform(1u << 30) / (double)(1u << 30)};
	enum otd_status st = store_write(app->store, outcome_write, &j, err);
	if(st == OTD_ENOTFOUND)
		/* Nothing of this outcome was written: the message is no longer
		 * this process's to settle (another node took its claim over
		 * after delivery.claim_lease_s, or its outcome was recorded). */
		otd_log(OTD_LOG_WARN, "outcome_superseded", "{s:I,s:s,s:s,s:s}", "outbox_id",
		        (json_int_t)m->id, "channel", m->channel, "provider", r->provider, "detail",
		        "the message was no longer claimed by this node; this outcome was dropped "
		        "and the newer one stands");
	if(st != OTD_OK)
		return st;
	if(r->kind == DELIVERY_SENT)
		otd_log(OTD_LOG_INFO, "message_sent", "{s:I,s:s,s:s,s:s,s:i,s:b}", "outbox_id",
		        (json_int_t)m->id, "channel", m->channel, "template", m->template,
		        "provider", r->provider, "attempt", m->attempts, "uncertain_before",
		        m->uncertain);
	else
		otd_log(strcmp(j.what, "failed") == 0 ? OTD_LOG_WARN : OTD_LOG_INFO,
		        "message_not_sent", "{s:I,s:s,s:s,s:s,s:i,s:s,s:I}", "outbox_id",
		        (json_int_t)m->id, "channel", m->channel, "provider", r->provider, "next",
		        j.what, "attempt", m->attempts, "error", r->error ? r->error : "",
		        "retry_in", (json_int_t)(j.due ? j.due - j.now : 0));
	return OTD_OK;
}

/* ---- receipts ---------------------------------------------------------- */

struct receipt_job {
	struct otd_app *app;
	int64_t id;
	const char *provider, *provider_id, *status, *detail;
	int64_t now;
	bool fell_back;
};

static enum otd_status receipt_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct receipt_job *j = arg;
	enum otd_status st;
	if(j->provider_id) {
		st = store_outbox_by_provider_id(tx, j->provider, j->provider_id, &j->id, err);
		if(st)
			return st;
	}
	struct otd_outbox_state s;
	st = store_outbox_state(tx, j->id, &s, err);
	if(st)
		return st;
	st = store_receipt_insert(tx, j->id, j->now, j->provider, j->status, j->detail, err);
	if(st)
		return st;
	if(strcmp(j->status, "failed") == 0 && strcmp(s.state, "sent") == 0) {
		char why[120];
		snprintf(why, sizeof(why), "%s reported the message undelivered", j->provider);
		st = store_outbox_mark_failed(tx, j->id, NULL, why, true, NULL, err);
		if(st == OTD_OK)
			st = fall_back(j->app, tx, j->id, why, j->now, err);
		j->fell_back = true;
	}
	return st;
}

static enum otd_status receipt(struct otd_app *app, struct receipt_job *j, struct otd_error *err)
{
	j->app = app;
	j->now = otd_clock_now(app->clock);
	enum otd_status st = store_write(app->store, receipt_write, j, err);
	if(st == OTD_OK)
		otd_log(OTD_LOG_INFO, "delivery_report", "{s:I,s:s,s:s,s:b}", "outbox_id",
		        (json_int_t)j->id, "provider", j->provider, "status", j->status,
		        "failed_over", j->fell_back);
	return st;
}

enum otd_status app_delivery_receipt(struct otd_app *app, int64_t outbox_id, const char *provider,
                                     const char *status, const char *detail_json,
                                     struct otd_error *err)
{
	struct receipt_job j = {
	    .id = outbox_id, .provider = provider, .status = status, .detail = detail_json};
	return receipt(app, &j, err);
}

enum otd_status app_delivery_receipt_by_provider_id(struct otd_app *app, const char *provider,
                                                    const char *provider_id, const char *status,
                                                    const char *detail_json, struct otd_error *err)
{
	struct receipt_job j = {.provider = provider,
	                        .provider_id = provider_id,
	                        .status = status,
	                        .detail = detail_json};
	return receipt(app, &j, err);
}

/* ---- the URL key ------------------------------------------------------- */

struct key_job {
	unsigned char *key;
};

static enum otd_status key_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct key_job *j = arg;
	return store_server_key(c, "url", j->key, err);
}

enum otd_status app_url_key(struct otd_app *app, unsigned char key[32], struct otd_error *err)
{
	struct key_job j = {.key = key};
	return store_read(app->store, key_read, &j, err);
}
