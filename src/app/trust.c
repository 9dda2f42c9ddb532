/* The public trust figures, computed at most once a minute. */
#include "app/trust.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/clock.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "store/store.h"
#include "store/trust.h"

static const int period_days[2] = {30, 90};

struct otd_trust_cache {
	pthread_mutex_t data;    /* guards everything below */
	pthread_mutex_t refresh; /* held by the one request recomputing */
	bool valid;
	uint64_t generation; /* bumped by app_trust_invalidate */
	struct otd_trust_stats stats;
};

struct otd_trust_cache *trust_cache_new(void)
{
	struct otd_trust_cache *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->data, NULL);
	pthread_mutex_init(&c->refresh, NULL);
	return c;
}

void trust_cache_free(struct otd_trust_cache *c)
{
	if(!c)
		return;
	pthread_mutex_destroy(&c->data);
	pthread_mutex_destroy(&c->refresh);
	free(c);
}

struct stats_job {
	struct otd_trust_stats *out;
};

/* Every figure from one read snapshot. */
static enum otd_status stats_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct otd_trust_stats *s = ((struct stats_job *)arg)->out;
	enum otd_status st = OTD_OK;
	for(size_t i = 0; i < 2 && st == OTD_OK; i++) {
		struct otd_trust_period *p = &s->periods[i];
		otd_trust_period_init(p, period_days[i], s->computed_at);
		st = store_trust_kept(c, p, err);
		if(st == OTD_OK)
			st = store_trust_notice(c, p, err);
		if(st == OTD_OK)
			st = store_trust_paid(c, p, err);
		if(st == OTD_OK)
			st = store_trust_feedback(c, p, err);
	}
	if(st == OTD_OK)
		st = store_trust_latest(c, s->latest, OTD_TRUST_LATEST_MAX, &s->n_latest, err);
	return st;
}

static enum otd_status compute(struct otd_app *app, int64_t now, struct otd_trust_stats *out,
                               struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	out->computed_at = now;
	struct stats_job j = {.out = out};
	enum otd_status st = store_read(app->store, stats_read, &j, err);
	for(size_t i = 0; st == OTD_OK && i < out->n_latest; i++) {
		char local[OTD_TZ_LOCAL_SIZE];
		if(otd_tz_format_local(app->tz, out->latest[i].given_at, local, sizeof(local)) >=
		   10) {
			memcpy(out->latest[i].date, local, 10);
			out->latest[i].date[10] = '\0';
		}
	}
	return st;
}

static bool fresh(const struct otd_trust_cache *c, int64_t now)
{
	return c->valid && now >= c->stats.computed_at &&
	       now - c->stats.computed_at < OTD_TRUST_CACHE_S;
}

enum otd_status app_trust_stats(struct otd_app *app, int64_t now, struct otd_trust_stats *out,
                                struct otd_error *err)
{
	struct otd_trust_cache *c = app->trust;
	if(!c)
		return compute(app, now, out, err);
	pthread_mutex_lock(&c->data);
	if(fresh(c, now)) {
		*out = c->stats;
		pthread_mutex_unlock(&c->data);
		return OTD_OK;
	}
	pthread_mutex_unlock(&c->data);

	/* One request recomputes; the others wait here and then find the
	 * figures fresh. */
	pthread_mutex_lock(&c->refresh);
	pthread_mutex_lock(&c->data);
	if(fresh(c, now)) {
		*out = c->stats;
		pthread_mutex_unlock(&c->data);
		pthread_mutex_unlock(&c->refresh);
		return OTD_OK;
	}
	uint64_t generation = c->generation;
	pthread_mutex_unlock(&c->data);
	enum otd_status st = compute(app, now, out, err);
	if(st == OTD_OK) {
		pthread_mutex_lock(&c->data);
		/* An invalidation while computing: these figures may predate it. */
		if(c->generation == generation) {
			c->stats = *out;
			c->valid = true;
		}
		pthread_mutex_unlock(&c->data);
	}
	pthread_mutex_unlock(&c->refresh);
	return st;
}

enum otd_status app_trust_kept_rate(struct otd_app *app, int width_min, int *percent, int64_t *due,
                                    struct otd_error *err)
{
	*percent = -1;
	*due = 0;
	struct otd_trust_stats *s = xmalloc(sizeof(*s));
	enum otd_status st = app_trust_stats(app, otd_clock_now(app->clock), s, err);
	if(st == OTD_OK) {
		const struct otd_trust_kept *k = otd_trust_width(&s->periods[0], width_min);
		if(k) {
			*percent = k->percent;
			*due = k->due;
		}
	}
	free(s);
	return st;
}

void app_trust_invalidate(struct otd_app *app)
{
	struct otd_trust_cache *c = app->trust;
	if(!c)
		return;
	pthread_mutex_lock(&c->data);
	c->valid = false;
	c->generation++;
	pthread_mutex_unlock(&c->data);
}
