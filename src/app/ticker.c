/* The ticker thread. */
#include "app/ticker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "app/booking.h"
#include "app/log.h"
#include "app/rebalance.h"
#include "app/retention.h"
#include "app/tracking.h"
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

enum otd_status ticker_pass_checked(struct otd_app *app, struct otd_error *err)
{
	enum otd_status first = OTD_OK;
	struct otd_error e;
	otd_error_clear(&e);
	if(app_holds_expire(app, &e) != OTD_OK)
		step_failed(app, "holds_expire", &e, &first, err);
	otd_error_clear(&e);
	if(app_risk_pass(app, NULL, &e) != OTD_OK)
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
	int failures = 0; /* passes in a row with a failed step */
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
		enum otd_status st = ticker_pass_checked(t->app, NULL);
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
