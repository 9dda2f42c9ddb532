/* Health, metrics and the virtual clock. */
#include "app/system.h"

#include "app/audit.h"
#include "app/ticker.h"
#include "store/outbox.h"
#include "store/system.h"

static enum otd_status ping_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	(void)arg;
	return store_ping(c, err);
}

enum otd_status app_health(struct otd_app *app, struct otd_error *err)
{
	return store_read(app->store, ping_job, NULL, err);
}

static enum otd_status depth_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct otd_app_metrics *m = arg;
	struct otd_outbox_counts n = {0};
	enum otd_status st = store_outbox_depth(c, &m->outbox_pending, &m->outbox_uncertain, err);
	if(st == OTD_OK)
		st = store_outbox_counts(c, &n, err);
	m->outbox_uncertain_total = n.uncertain_total;
	m->outbox_failed = n.failed;
	m->outbox_sent = n.sent;
	if(st == OTD_OK)
		st = store_ops_gauges(c, m->now, &m->ops, err);
	return st;
}

enum otd_status app_metrics(struct otd_app *app, struct otd_app_metrics *out,
                            struct otd_error *err)
{
	store_stats(app->store, &out->store);
	out->now = otd_clock_now(app->clock);
	out->virtual_clock = otd_clock_is_virtual(app->clock);
	return store_read(app->store, depth_job, out, err);
}

struct clock_job {
	const struct otd_principal *actor;
	int64_t from, to;
};

static enum otd_status clock_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct clock_job *j = arg;
	return app_audit(tx, j->actor, j->to, "clock.advance", "clock", 0,
	                 json_pack("{s:I,s:I}", "from", (json_int_t)j->from, "to", (json_int_t)j->to),
	                 err);
}

enum otd_status app_clock_advance(struct otd_app *app, const struct otd_principal *actor,
                                  int64_t seconds, int64_t to, int64_t *now,
                                  struct otd_error *err)
{
	if(!otd_clock_is_virtual(app->clock))
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
		                     "There is nothing at this address.");
	int64_t from = otd_clock_now(app->clock);
	int64_t target = to > 0 ? to : from + seconds;
	if(target < from || (to <= 0 && seconds < 0))
		return otd_error_set(err, OTD_EINVAL, "clock_backwards", to > 0 ? "to" : "seconds",
		                     "The virtual clock never moves backwards.");
	/* Time moving is what makes the ticker's work due: a pass at every
	 * ticker period boundary crossed, as the real ticker would have run
	 * (over at most the last day of a longer jump). */
	int64_t period = app->cfg->tracking.ticker_seconds;
	int64_t t = (target - from > 86400 ? target - 86400 : from);
	for(t = (t / period + 1) * period; t <= target; t += period) {
		otd_clock_set(app->clock, t);
		ticker_pass(app);
	}
	otd_clock_set(app->clock, target);
	struct clock_job job = {actor, from, otd_clock_now(app->clock)};
	enum otd_status st = store_write(app->store, clock_job, &job, err);
	*now = job.to;
	return st;
}
