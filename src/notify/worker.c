/* The delivery worker: one thread, one libcurl multi handle. */
#include "notify/notify.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "onthedot/clock.h"
#include "app/delivery.h"
#include "app/log.h"
#include "notify/provider.h"
#include "store/store.h"

#define MAX_PROVIDERS 4
#define IDLE_POLL_MS 1000 /* longest sleep: a virtual clock moved by a test is seen */
#define CLAIM_BACKOFF_MAX_MS 30000 /* longest pause after failed claims */

struct channel_conf {
	const char *name;
	unsigned bit;
	const struct provider *list[MAX_PROVIDERS];
	int n;
};

struct otd_notifier {
	struct otd_app *app;
	CURLM *multi;
	pthread_t thread;
	_Atomic bool stopping;
	_Atomic bool woken;
	struct channel_conf channels[3]; /* email, sms, webhook */
	unsigned mask;                   /* channels with a provider */
	struct provider_env env;
	struct transfer *inflight;
	int n_inflight;
	/* Finished transfers whose outcome the store has not taken yet: tried
	 * again on every turn, never by sleeping in the loop (a busy writer
	 * must not stall the other transfers). */
	struct transfer *unrecorded;
	int64_t claim_after_ms; /* monotonic: no claim before (after a failed one) */
	int claim_failures;     /* failed claims in a row: the pause doubles */
	int64_t next_due; /* clock seconds; INT64_MAX when nothing waits */
	int64_t takeover_after_ms; /* monotonic: next look for dead nodes' claims */
	int64_t poll_after_ms;     /* monotonic: next look for other nodes' messages */
};

static void wake(void *arg)
{
	struct otd_notifier *n = arg;
	if(!n)
		return; /* unregistered while the writer was calling */
	atomic_store(&n->woken, true);
	curl_multi_wakeup(n->multi);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static struct channel_conf *channel_of(struct otd_notifier *n, const char *name)
{
	for(int i = 0; i < 3; i++)
		if(strcmp(n->channels[i].name, name) == 0)
			return &n->channels[i];
	return NULL;
}

/* ---- transfers --------------------------------------------------------- */

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * nmemb;
	size_t room = PROVIDER_RESPONSE_MAX - t->response.len;
	if(len > room) {
		t->response_truncated = true;
		otd_buf_append(&t->response, data, room);
	} else {
		otd_buf_append(&t->response, data, len);
	}
	return len; /* the rest is dropped, not refused */
}

static void transfer_free(struct transfer *t)
{
	if(t->easy)
		curl_easy_cleanup(t->easy);
	curl_mime_free(t->mime);
	curl_slist_free_all(t->headers);
	curl_slist_free_all(t->rcpt);
	free(t->post);
	free(t->url);
	if(t->userpwd)
		memset(t->userpwd, 0, strlen(t->userpwd));
	free(t->userpwd);
	otd_buf_cleanup(&t->response);
	store_outbox_msg_cleanup(&t->m);
	free(t);
}

/* Tries once to store t's outcome; true when it is stored (or was
 * already: OTD_ENOTFOUND). Otherwise the caller keeps t and tries again
 * later; the message stays 'sending' meanwhile (and is counted uncertain
 * at the next start, should the process end first). */
static bool record(struct otd_notifier *n, struct transfer *t)
{
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = app_delivery_outcome(n->app, &t->m, t->n_providers, &t->result, &err);
	if(st == OTD_OK || st == OTD_ENOTFOUND)
		return true;
	if(!t->logged) {
		t->logged = true;
		atomic_fetch_add(&n->app->delivery.outcome_errors, 1);
		otd_log(OTD_LOG_WARN, "outcome_not_recorded", "{s:I,s:s,s:s}", "outbox_id",
		        (json_int_t)t->m.id, "error", err.message, "detail",
		        "kept in memory and tried again");
	}
	return false;
}

/* Stores t's outcome now, or keeps it for the next turn. */
static void record_or_keep(struct otd_notifier *n, struct transfer *t)
{
	if(record(n, t)) {
		transfer_free(t);
		return;
	}
	t->next = n->unrecorded;
	n->unrecorded = t;
}

/* Tries the kept outcomes again. */
static void record_kept(struct otd_notifier *n)
{
	struct transfer **pp = &n->unrecorded;
	while(*pp) {
		struct transfer *t = *pp;
		if(record(n, t)) {
			*pp = t->next;
			transfer_free(t);
		} else {
			pp = &t->next;
		}
	}
}

/* Starts the transfer of a claimed message (taking it over), or records
 * why it cannot start. */
static void start(struct otd_notifier *n, struct otd_outbox_msg *m)
{
	struct transfer *t = xcalloc(1, sizeof(*t));
	t->m = *m;
	memset(m, 0, sizeof(*m));
	otd_buf_init(&t->response, 0);
	struct channel_conf *ch = channel_of(n, t->m.channel);
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = OTD_OK;
	if(!ch || ch->n == 0) {
		st = otd_error_set(&err, OTD_EINVAL, "no_provider", NULL,
		                   "No provider is configured for channel %s.", t->m.channel);
	} else {
		if(t->m.provider_index >= ch->n)
			t->m.provider_index = ch->n - 1;
		t->provider = ch->list[t->m.provider_index];
		t->n_providers = ch->n;
		t->easy = curl_easy_init();
		if(!t->easy)
			st =
			    otd_error_set(&err, OTD_ENOMEM, NULL, NULL, "libcurl could not start.");
	}
	if(st == OTD_OK) {
		const struct otd_config *cfg = n->app->cfg;
		curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
		curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)cfg->delivery.timeout_ms);
		curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS,
		                 (long)cfg->delivery.connect_timeout_ms);
		curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
		curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
		curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https,smtp,smtps");
		curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "onthedot");
		n->env.now = otd_clock_now(n->app->clock);
		st = t->provider->prepare(&n->env, t, &err);
	}
	if(st == OTD_OK && curl_multi_add_handle(n->multi, t->easy) != CURLM_OK)
		st = otd_error_set(&err, OTD_EIO, NULL, NULL, "libcurl refused the transfer.");
	if(st != OTD_OK) {
		snprintf(t->why, sizeof(t->why), "%s", err.message);
		t->result =
		    (struct delivery_result){.kind = DELIVERY_PERMANENT,
		                             .provider = t->provider ? t->provider->name : "none",
		                             .error = t->why};
		/* A message no provider of its channel can ever send: no
		 * provider will do better, so it fails and falls back. */
		t->n_providers = 0;
		record_or_keep(n, t);
		return;
	}
	t->next = n->inflight;
	n->inflight = t;
	n->n_inflight++;
	atomic_store(&n->app->delivery.in_flight, n->n_inflight);
	atomic_fetch_add(&n->app->delivery.transfers, 1);
}

static void finish(struct otd_notifier *n, CURL *easy, CURLcode rc)
{
	struct transfer *t = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
	curl_multi_remove_handle(n->multi, easy);
	for(struct transfer **pp = &n->inflight; *pp; pp = &(*pp)->next) {
		if(*pp == t) {
			*pp = t->next;
			break;
		}
	}
	n->n_inflight--;
	atomic_store(&n->app->delivery.in_flight, n->n_inflight);
	t->result = (struct delivery_result){.provider = t->provider->name};
	t->provider->finish(t, rc, &t->result, t->why, sizeof(t->why));
	record_or_keep(n, t);
	/* A retry is due later, a next provider now: look again, which also
	 * learns when the next message falls due. */
	atomic_store(&n->woken, true);
}

/* ---- the loop ---------------------------------------------------------- */

static void claim(struct otd_notifier *n)
{
	const struct otd_config *cfg = n->app->cfg;
	int room = cfg->delivery.parallel - n->n_inflight;
	if(room <= 0)
		return;
	struct otd_outbox_msg *rows = xcalloc((size_t)room, sizeof(*rows));
	int got = 0;
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = app_delivery_claim(n->app, n->mask, room, rows, &got, &err);
	if(st != OTD_OK) {
		/* Not at once (that would spin against a full writer queue or a
		 * broken disk): on a later turn, after a pause that doubles with
		 * each failure in a row (200 ms to CLAIM_BACKOFF_MAX_MS). */
		int shift = n->claim_failures < 8 ? n->claim_failures : 8;
		int64_t pause = (int64_t)200 << shift;
		if(pause > CLAIM_BACKOFF_MAX_MS)
			pause = CLAIM_BACKOFF_MAX_MS;
		n->claim_failures++;
		if(st != OTD_EBUSY) {
			/* A busy writer is load, not a fault: only the rest counts. */
			atomic_fetch_add(&n->app->delivery.errors, 1);
			otd_log(OTD_LOG_ERROR, "claim_failed", "{s:s,s:i,s:I}", "error",
			        err.message, "failures", n->claim_failures, "retry_ms",
			        (json_int_t)pause);
		}
		n->claim_after_ms = mono_ms() + pause;
		atomic_store(&n->woken, true);
		free(rows);
		return;
	}
	if(n->claim_failures)
		otd_log(OTD_LOG_INFO, "claim_recovered", "{s:i}", "after_failures",
		        n->claim_failures);
	n->claim_failures = 0;
	for(int i = 0; i < got; i++)
		start(n, &rows[i]);
	free(rows);
	if(got == room) {
		atomic_store(&n->woken, true); /* more may be waiting */
	} else if(app_delivery_next_due(n->app, n->mask, &n->next_due, &err) != OTD_OK) {
		atomic_fetch_add(&n->app->delivery.errors, 1);
		otd_log(OTD_LOG_WARN, "next_due_failed", "{s:s}", "error", err.message);
		n->next_due = otd_clock_now(n->app->clock) + 1;
	}
}

/* Under a shared store, how often a worker looks for due messages that
 * other nodes queued (their commits wake only their own worker). */
#define SHARED_POLL_MS 1000

/* PostgreSQL (several nodes share the outbox): every quarter of
 * delivery.claim_lease_s, takes over the claims of nodes that stopped and
 * looks for due work again (other nodes' messages do not wake this one).
 * Under SQLite it never runs: the one process took over at start. */
static void takeover(struct otd_notifier *n)
{
	if(!n->app->shared_store)
		return;
	/* Messages other nodes queued wake nobody here: look each second. */
	if(mono_ms() >= n->poll_after_ms) {
		n->poll_after_ms = mono_ms() + SHARED_POLL_MS;
		atomic_store(&n->woken, true);
	}
	if(mono_ms() < n->takeover_after_ms)
		return;
	int64_t every = (int64_t)n->app->cfg->delivery.claim_lease_s * 1000 / 4;
	n->takeover_after_ms = mono_ms() + (every < 250 ? 250 : every);
	struct otd_error err;
	otd_error_clear(&err);
	int64_t taken = 0;
	if(app_delivery_takeover(n->app, &taken, &err) != OTD_OK) {
		atomic_fetch_add(&n->app->delivery.errors, 1);
		otd_log(OTD_LOG_WARN, "takeover_failed", "{s:s}", "error", err.message);
	}
	atomic_store(&n->woken, true);
}

#define STOP_RECORD_MS 10000 /* at SIGTERM, how long unstored outcomes are tried */

static void *worker_main(void *arg)
{
	struct otd_notifier *n = arg;
	n->next_due = 0;
	atomic_store(&n->woken, true);
	int64_t stop_by = 0;
	for(;;) {
		bool stopping = atomic_load(&n->stopping);
		if(n->unrecorded)
			record_kept(n);
		if(stopping && !stop_by)
			stop_by = mono_ms() + STOP_RECORD_MS;
		if(stopping && n->n_inflight == 0 && (!n->unrecorded || mono_ms() > stop_by))
			break;
		if(!stopping)
			takeover(n);
		int64_t now = otd_clock_now(n->app->clock);
		bool may_claim = !stopping && mono_ms() >= n->claim_after_ms;
		if(may_claim && (atomic_exchange(&n->woken, false) || now >= n->next_due))
			claim(n);
		int running = 0;
		curl_multi_perform(n->multi, &running);
		CURLMsg *msg;
		int left;
		while((msg = curl_multi_info_read(n->multi, &left)))
			if(msg->msg == CURLMSG_DONE)
				finish(n, msg->easy_handle, msg->data.result);
		if(atomic_load(&n->woken) && !stopping && mono_ms() >= n->claim_after_ms)
			continue;
		long wait_ms = IDLE_POLL_MS;
		now = otd_clock_now(n->app->clock);
		if(n->next_due != INT64_MAX && n->next_due > now &&
		   (n->next_due - now) * 1000 < wait_ms)
			wait_ms = (long)((n->next_due - now) * 1000);
		int64_t pause = n->claim_after_ms - mono_ms();
		if(pause > 0 && pause < wait_ms)
			wait_ms = (long)pause;
		if(n->unrecorded && wait_ms > 200)
			wait_ms = 200; /* the kept outcomes are tried again soon */
		long curl_ms = -1;
		curl_multi_timeout(n->multi, &curl_ms);
		if(curl_ms >= 0 && curl_ms < wait_ms)
			wait_ms = curl_ms;
		curl_multi_poll(n->multi, NULL, 0, (int)wait_ms, NULL);
	}
	/* Outcomes still unstored: their messages stay 'sending' and the next
	 * start counts them uncertain. */
	while(n->unrecorded) {
		struct transfer *t = n->unrecorded;
		n->unrecorded = t->next;
		otd_log(OTD_LOG_ERROR, "outcome_lost_at_stop", "{s:I}", "outbox_id",
		        (json_int_t)t->m.id);
		transfer_free(t);
	}
	return NULL;
}

/* ---- start, stop ------------------------------------------------------- */

enum otd_status notifier_start(struct otd_app *app, struct otd_notifier **out,
                               struct otd_error *err)
{
	*out = NULL;
	const struct otd_config *cfg = app->cfg;
	struct otd_notifier *n = xcalloc(1, sizeof(*n));
	n->app = app;
	n->channels[0] = (struct channel_conf){.name = "email", .bit = OTD_CHANNEL_EMAIL};
	n->channels[1] = (struct channel_conf){.name = "sms", .bit = OTD_CHANNEL_SMS};
	n->channels[2] = (struct channel_conf){.name = "webhook", .bit = OTD_CHANNEL_WEBHOOK};
	char **lists[2] = {cfg->delivery.email_providers, cfg->delivery.sms_providers};
	enum otd_status st = OTD_OK;
	for(int c = 0; c < 2 && st == OTD_OK; c++) {
		for(char **p = lists[c]; p && *p && st == OTD_OK; p++) {
			st = provider_check(cfg, *p, err);
			if(st == OTD_OK && n->channels[c].n < MAX_PROVIDERS)
				n->channels[c].list[n->channels[c].n++] = provider_find(*p);
		}
	}
	/* Messages addressed to the webhook channel itself go to the webhook. */
	if(st == OTD_OK && cfg->delivery.webhook_url[0] && cfg->delivery.webhook_secret[0])
		n->channels[2].list[n->channels[2].n++] = provider_find("webhook");
	for(int c = 0; c < 3; c++)
		if(n->channels[c].n)
			n->mask |= n->channels[c].bit;
	if(st == OTD_OK)
		st = app_url_key(app, n->env.url_key, err);
	int64_t uncertain = 0;
	if(st == OTD_OK)
		st = app_delivery_recover(app, &uncertain, err);
	if(st != OTD_OK || n->mask == 0) {
		if(st == OTD_OK)
			otd_log(OTD_LOG_WARN, "delivery_off", "{s:s}", "detail",
			        "no email or SMS provider is configured (delivery.email_providers, "
			        "delivery.sms_providers): messages wait in the outbox");
		sodium_memzero(n->env.url_key, sizeof(n->env.url_key));
		free(n);
		return st;
	}
	if(app->shared_store &&
	   (int64_t)cfg->delivery.claim_lease_s * 1000 <= 2 * (int64_t)cfg->delivery.timeout_ms)
		otd_log(OTD_LOG_WARN, "claim_lease_short", "{s:i,s:i,s:s}", "claim_lease_s",
		        cfg->delivery.claim_lease_s, "timeout_ms", cfg->delivery.timeout_ms,
		        "detail",
		        "delivery.claim_lease_s should be well above delivery.timeout_ms: another "
		        "node may take over a send still in flight and send it twice");
	/* The takeover at start (app_delivery_recover) just ran. */
	int64_t every = (int64_t)cfg->delivery.claim_lease_s * 1000 / 4;
	n->takeover_after_ms = mono_ms() + (every < 250 ? 250 : every);
	n->env.cfg = cfg;
	n->env.base_url = app->base_url;
	n->multi = curl_multi_init();
	if(!n->multi) {
		free(n);
		return otd_error_set(err, OTD_ENOMEM, NULL, NULL, "libcurl could not start.");
	}
	curl_multi_setopt(n->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)cfg->delivery.parallel);
	if(pthread_create(&n->thread, NULL, worker_main, n) != 0) {
		curl_multi_cleanup(n->multi);
		free(n);
		return otd_error_set(err, OTD_EIO, NULL, NULL,
		                     "Could not start the delivery worker.");
	}
	store_on_outbox_commit(app->store, wake, n);
	atomic_store(&app->delivery.running, true);
	otd_log(OTD_LOG_INFO, "delivery_started", "{s:i,s:i,s:i,s:s}", "email_providers",
	        n->channels[0].n, "sms_providers", n->channels[1].n, "parallel",
	        cfg->delivery.parallel, "node", app->node_id);
	*out = n;
	return OTD_OK;
}

static enum otd_status noop_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	return OTD_OK;
}

void notifier_stop(struct otd_notifier *n)
{
	if(!n)
		return;
	store_on_outbox_commit(n->app->store, NULL, NULL);
	/* A commit the writer finished before this one called the hook it
	 * read before the line above: once this write is answered, no call
	 * into n can still be running. */
	struct otd_error err;
	for(int i = 0; i < 100 && store_write(n->app->store, noop_write, NULL, &err) != OTD_OK; i++)
		sleep_ms(100);
	atomic_store(&n->stopping, true);
	curl_multi_wakeup(n->multi);
	pthread_join(n->thread, NULL);
	atomic_store(&n->app->delivery.running, false);
	curl_multi_cleanup(n->multi);
	sodium_memzero(n->env.url_key, sizeof(n->env.url_key));
	free(n);
}
