/* The ticker thread. */
#include "app/ticker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "app/booking.h"
#include "app/log.h"
#include "app/rebalance.h"
#include "app/retention.h"
#include "app/tracking.h"
#include "store/shards.h"
#include "store/store.h"
#include "onthedot/mem.h"

struct otd_ticker {
	struct otd_app *app;
	int period_s;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
};

#define BACKOFF_MAX_S 300 /* longest wait after failed passes, unless the period is longer */

/* A failed step: logged, counted, and kept when it is the first. */
static void step_failed(struct otd_app *app, const char *step, const struct otd_error *e,
                        enum otd_status *first, struct otd_error *err)
{
	atomic_fetch_add(&app->ticker.errors, 1);
	otd_log(OTD_LOG_WARN, "ticker", "{s:s,s:s}", "step", step, "error", e->message);
	if(*first)
		return;
	*first = e->status ? e->status : OTD_EINTERNAL;
	if(err)
		*err = *e;
}

/* A pass whose risk step covers the routes of shards (one bit per
 * store_shard_of). */
static enum otd_status run_pass(struct otd_app *app, uint32_t shards, struct otd_error *err)
{
	enum otd_status first = OTD_OK;
	struct otd_error e;
	otd_error_clear(&e);
	if(app_holds_expire(app, &e) != OTD_OK)
		step_failed(app, "holds_expire", &e, &first, err);
	otd_error_clear(&e);
	if(shards && app_risk_pass_shards(app, shards, NULL, &e) != OTD_OK)
		step_failed(app, "risk_pass", &e, &first, err);
	otd_error_clear(&e);
	bool rebalanced;
	if(app->cfg->dispatch.auto_rebalance && app_rebalance_auto(app, &rebalanced, &e) != OTD_OK)
		step_failed(app, "auto_rebalance", &e, &first, err);
	otd_error_clear(&e);
	int sent = 0;
	if(app_reminders(app, &sent, &e) != OTD_OK)
		step_failed(app, "reminders", &e, &first, err);
	otd_error_clear(&e);
	if(app_retention_due(app, NULL, &e) != OTD_OK)
		step_failed(app, "retention", &e, &first, err);
	atomic_fetch_add(&app->ticker.passes, 1);
	if(first == OTD_OK) {
		/* Wall time: the alert compares it with the scraper's clock. */
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		atomic_store(&app->ticker.last_success, (int64_t)now.tv_sec);
	}
	return first;
}

enum otd_status ticker_pass_checked(struct otd_app *app, struct otd_error *err)
{
	return run_pass(app, UINT32_MAX, err);
}

/* ---- several nodes on one database ----------------------------------------- */

struct claim_job {
	const char *node;
	int64_t now_ms, period_ms;
	uint32_t shards;
	int rank, live;
};

/* This node's shards for this pass: its own share (shard % live == rank)
 * once half a period has gone since the last pass of each, and any other
 * shard no node has passed for two periods (its node died or stalled: one
 * period and a slow pass would not tell a live owner from a dead one),
 * so each route is evaluated once a period by one node. Wall-clock
 * milliseconds: the nodes' clocks are synchronised, virtual clocks are
 * not shared. */
static enum otd_status claim_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct claim_job *j = arg;
	j->shards = 0;
	/* Every node runs this each period on the same rows: at SERIALIZABLE
	 * they would abort each other; the upsert's condition and the shard's
	 * advisory lock are the coordination. */
	store_relax_isolation(tx);
	enum otd_status st =
	    store_node_heartbeat(tx, j->node, j->now_ms, 3 * j->period_ms, &j->rank, &j->live, err);
	for(int k = 0; st == OTD_OK && k < STORE_TICKER_SHARDS; k++) {
		bool own = k % j->live == j->rank;
		int64_t due = j->now_ms - (own ? j->period_ms / 2 : 2 * j->period_ms);
		bool mine = false;
		st = store_shard_claim(tx, k, j->node, j->now_ms, due, &mine, err);
		if(mine)
			j->shards |= UINT32_C(1) << k;
	}
	return st;
}

/* The shards this node evaluates now: all of them under SQLite (one
 * node), its claim under PostgreSQL (none when the claim failed: the pass
 * is then someone else's, or waits for the database). */
static uint32_t claim_shards(struct otd_ticker *t, int *last_live)
{
	struct otd_app *app = t->app;
	if(!app->shared_store)
		return UINT32_MAX;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct claim_job j = {.node = app->node_id,
	                      .now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
	                      .period_ms = (int64_t)t->period_s * 1000};
	struct otd_error e;
	otd_error_clear(&e);
	/* The node's name, lost with its connection when the server restarted:
	 * held again, or the clash said (the node carries on). */
	if(store_renew_node_name(app->store, &e) == OTD_ECONFLICT)
		otd_log(OTD_LOG_ERROR, "node_name_taken", "{s:s}", "detail", e.message);
	otd_error_clear(&e);
	if(store_write(app->store, claim_write, &j, &e) != OTD_OK) {
		atomic_fetch_add(&app->ticker.errors, 1);
		otd_log(OTD_LOG_WARN, "ticker", "{s:s,s:s}", "step", "claim_shards", "error",
		        e.message);
		return 0;
	}
	/* Logged when the nodes sharing the work change, not every pass. */
	if(j.live != *last_live)
		otd_log(OTD_LOG_INFO, "ticker_nodes", "{s:i,s:i,s:i,s:i}", "nodes", j.live, "rank",
		        j.rank, "shards_now", __builtin_popcount(j.shards), "shards",
		        STORE_TICKER_SHARDS);
	*last_live = j.live;
	return j.shards;
}

int ticker_backoff_s(int period_s, int failures)
{
	if(failures <= 1)
		return period_s;
	int cap = period_s > BACKOFF_MAX_S ? period_s : BACKOFF_MAX_S;
	int64_t wait = (int64_t)period_s << (failures - 1 > 4 ? 4 : failures - 1);
	return wait > cap ? cap : (int)wait;
}

void ticker_pass(struct otd_app *app)
{
	ticker_pass_checked(app, NULL);
}

static void *ticker_main(void *arg)
{
	pthread_setname_np(pthread_self(), "otd-ticker"); /* as top -H shows it */
	struct otd_ticker *t = arg;
	int failures = 0;  /* passes in a row with a failed step */
	int last_live = 0; /* nodes sharing the ticker's work at the last pass */
	pthread_mutex_lock(&t->mu);
	while(!t->stopping) {
		/* A failed pass is tried again on a later round, later each time
		 * (the period, doubled per failure in a row, at most 16 periods
		 * or BACKOFF_MAX_S): the thread never ends on an error. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += ticker_backoff_s(t->period_s, failures);
		while(!t->stopping && pthread_cond_timedwait(&t->cv, &t->mu, &ts) != ETIMEDOUT)
			;
		if(t->stopping)
			break;
		pthread_mutex_unlock(&t->mu);
		enum otd_status st = run_pass(t->app, claim_shards(t, &last_live), NULL);
		if(st == OTD_EBUSY) {
			/* A saturated writer answered "busy" (counted as an error):
			 * that is load, not a fault, and the risk pass matters most
			 * then, so the next pass comes after the usual period. */
		} else if(st != OTD_OK) {
			failures++;
			otd_log(OTD_LOG_WARN, "ticker_backoff", "{s:i,s:i}", "failures", failures,
			        "next_pass_s", ticker_backoff_s(t->period_s, failures));
		} else {
			if(failures)
				otd_log(OTD_LOG_INFO, "ticker_recovered", "{s:i}", "after_failures",
				        failures);
			failures = 0;
		}
		pthread_mutex_lock(&t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

struct otd_ticker *ticker_start(struct otd_app *app, int period_s)
{
	struct otd_ticker *t = xcalloc(1, sizeof(*t));
	t->app = app;
	t->period_s = period_s < 1 ? 1 : period_s;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	if(pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
		pthread_mutex_destroy(&t->mu);
		pthread_cond_destroy(&t->cv);
		free(t);
		return NULL;
	}
	return t;
}

void ticker_stop(struct otd_ticker *t)
{
	if(!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->stopping = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
}
