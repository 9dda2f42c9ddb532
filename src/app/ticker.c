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

void ticker_pass(struct otd_app *app)
{
	struct otd_error err;
	otd_error_clear(&err);
	if(app_holds_expire(app, &err) != OTD_OK)
		otd_log(OTD_LOG_WARN, "ticker", "{s:s,s:s}", "step", "holds_expire", "error",
		        err.message);
	otd_error_clear(&err);
	if(app_risk_pass(app, NULL, &err) != OTD_OK)
		otd_log(OTD_LOG_WARN, "ticker", "{s:s,s:s}", "step", "risk_pass", "error", err.message);
	otd_error_clear(&err);
	bool rebalanced;
	if(app->cfg->dispatch.auto_rebalance &&
	   app_rebalance_auto(app, &rebalanced, &err) != OTD_OK)
		otd_log(OTD_LOG_WARN, "ticker", "{s:s,s:s}", "step", "auto_rebalance", "error",
		        err.message);
	otd_error_clear(&err);
	int sent = 0;
	if(app_reminders(app, &sent, &err) != OTD_OK)
		otd_log(OTD_LOG_WARN, "ticker", "{s:s,s:s}", "step", "reminders", "error",
		        err.message);
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
