/* The ticker thread. */
#include "app/ticker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "app/booking.h"
#include "app/log.h"
#include "app/rebalance.h"
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

/* A failed step: logged, and kept when it is the first. */
static void step_failed(const char *step, const struct otd_error *e, enum otd_status *first,
                        struct otd_error *err)
{
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
		step_failed("holds_expire", &e, &first, err);
	otd_error_clear(&e);
	if(app_risk_pass(app, NULL, &e) != OTD_OK)
		step_failed("risk_pass", &e, &first, err);
	otd_error_clear(&e);
	bool rebalanced;
	if(app->cfg->dispatch.auto_rebalance && app_rebalance_auto(app, &rebalanced, &e) != OTD_OK)
		step_failed("auto_rebalance", &e, &first, err);
	otd_error_clear(&e);
	int sent = 0;
	if(app_reminders(app, &sent, &e) != OTD_OK)
		step_failed("reminders", &e, &first, err);
	return first;
}

void ticker_pass(struct otd_app *app)
{
	ticker_pass_checked(app, NULL);
}

static void *ticker_main(void *arg)
{
	pthread_setname_np(pthread_self(), "otd-ticker"); /* as top -H shows it */
	struct otd_ticker *t = arg;
	pthread_mutex_lock(&t->mu);
	while(!t->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += t->period_s;
		while(!t->stopping && pthread_cond_timedwait(&t->cv, &t->mu, &ts) != ETIMEDOUT)
			;
		if(t->stopping)
			break;
		pthread_mutex_unlock(&t->mu);
		ticker_pass(t->app);
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
