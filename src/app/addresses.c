/* The address autocomplete: one immutable index at a time, swapped under
 * a mutex, each kept alive by a reference count while searches use it. */
#include "app/addresses.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/log.h"
#include "onthedot/mem.h"
#include "store/gazetteer.h"
#include "store/store.h"

/* One built index and who holds it: the app while it is current, and
 * every search that started on it. */
struct otd_address_index_ref {
	struct otd_addrindex *ix;
	int64_t generation;
	atomic_int refs;
};

struct otd_addresses {
	struct otd_app *app;
	pthread_mutex_t mu; /* guards cur and the figures */
	struct otd_address_index_ref *cur;
	uint64_t builds;
	double build_ms;
	pthread_mutex_t build; /* one build at a time */
	/* The watcher. */
	pthread_t thread;
	bool started;
	pthread_mutex_t wait_mu;
	pthread_cond_t wake;
	bool stopping;
};

static void ref_release(struct otd_address_index_ref *r)
{
	if(r && atomic_fetch_sub(&r->refs, 1) == 1) {
		otd_addrindex_free(r->ix);
		free(r);
	}
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- reading the store ------------------------------------------------------ */

struct row {
	int64_t id;
	size_t line1, line2, town, postcode; /* offsets in text */
};

struct load {
	int64_t generation;
	struct row *rows;
	size_t n, cap;
	struct otd_buf text;
};

static size_t put_text(struct otd_buf *b, const char *s)
{
	size_t at = b->len;
	if(!s)
		s = "";
	otd_buf_append(b, s, strlen(s) + 1); /* uncapped: cannot fail */
	return at;
}

static enum otd_status load_row(void *ctx, int64_t id, const char *line1, const char *line2,
                                const char *town, const char *postcode)
{
	struct load *l = ctx;
	if(l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->rows = xrealloc(l->rows, l->cap * sizeof(*l->rows));
	}
	struct row *r = &l->rows[l->n++];
	r->id = id;
	r->line1 = put_text(&l->text, line1);
	r->line2 = put_text(&l->text, line2);
	r->town = put_text(&l->text, town);
	r->postcode = put_text(&l->text, postcode);
	return OTD_OK;
}

/* The generation and the addresses from one snapshot, so that the index
 * built from them is exactly that generation's. */
static enum otd_status load_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct load *l = arg;
	l->n = 0;
	l->text.len = 0;
	enum otd_status st = store_gazetteer_generation(c, &l->generation, err);
	if(st == OTD_OK)
		st = store_address_each_active(c, load_row, l, err);
	return st;
}

static enum otd_status generation_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	return store_gazetteer_generation(c, arg, err);
}

/* Reads the addresses and builds an index of them. */
static enum otd_status build_index(struct otd_app *app, struct otd_address_index_ref **out,
                                   struct otd_error *err)
{
	struct load l = {0};
	otd_buf_init(&l.text, 0);
	*out = NULL;
	enum otd_status st = store_read(app->store, load_job, &l, err);
	if(st == OTD_OK) {
		struct otd_addr_entry *e = xcalloc(l.n ? l.n : 1, sizeof(*e));
		for(size_t i = 0; i < l.n; i++) {
			const struct row *r = &l.rows[i];
			e[i] = (struct otd_addr_entry){
			    r->id, l.text.data + r->line1, l.text.data + r->line2,
			    l.text.data + r->town, l.text.data + r->postcode};
		}
		struct otd_addrindex *ix = NULL;
		st = otd_addrindex_build(e, l.n, &ix, err);
		free(e);
		if(st == OTD_OK) {
			struct otd_address_index_ref *r = xcalloc(1, sizeof(*r));
			r->ix = ix;
			r->generation = l.generation;
			atomic_init(&r->refs, 1); /* the app's */
			*out = r;
		}
	}
	free(l.rows);
	otd_buf_cleanup(&l.text);
	return st;
}

enum otd_status app_addresses_refresh(struct otd_app *app, bool force, bool *rebuilt,
                                      struct otd_error *err)
{
	struct otd_addresses *a = app->addresses;
	*rebuilt = false;
	if(!a)
		return otd_error_set(err, OTD_ESTATE, "not_available", NULL,
		                     "Address search runs in the server only.");
	pthread_mutex_lock(&a->build);
	enum otd_status st = OTD_OK;
	if(!force) {
		int64_t generation = 0;
		st = store_read(app->store, generation_job, &generation, err);
		pthread_mutex_lock(&a->mu);
		bool same = a->cur && a->cur->generation == generation;
		pthread_mutex_unlock(&a->mu);
		if(st || same) {
			pthread_mutex_unlock(&a->build);
			return st;
		}
	}
	double t0 = now_ms();
	struct otd_address_index_ref *fresh = NULL;
	st = build_index(app, &fresh, err);
	if(st == OTD_OK) {
		double ms = now_ms() - t0;
		pthread_mutex_lock(&a->mu);
		struct otd_address_index_ref *old = a->cur;
		a->cur = fresh;
		a->builds++;
		a->build_ms = ms;
		pthread_mutex_unlock(&a->mu);
		ref_release(old); /* freed now, or by the last search using it */
		*rebuilt = true;
		otd_log(OTD_LOG_INFO, "address_index", "{s:I,s:I,s:I,s:f}", "addresses",
		        (json_int_t)otd_addrindex_count(fresh->ix), "bytes",
		        (json_int_t)otd_addrindex_bytes(fresh->ix), "generation",
		        (json_int_t)fresh->generation, "build_ms", ms);
	}
	pthread_mutex_unlock(&a->build);
	return st;
}

/* ---- the watcher ---------------------------------------------------------------- */

static void *watcher_main(void *arg)
{
	pthread_setname_np(pthread_self(), "otd-addresses");
	struct otd_addresses *a = arg;
	bool failing = false;
	pthread_mutex_lock(&a->wait_mu);
	while(!a->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)OTD_ADDRESS_CHECK_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		while(!a->stopping &&
		      pthread_cond_timedwait(&a->wake, &a->wait_mu, &ts) != ETIMEDOUT)
			;
		if(a->stopping)
			break;
		pthread_mutex_unlock(&a->wait_mu);
		struct otd_error err;
		otd_error_clear(&err);
		bool rebuilt;
		enum otd_status st = app_addresses_refresh(a->app, false, &rebuilt, &err);
		/* A busy or broken store is said once, not every second. */
		if(st && !failing)
			otd_log(OTD_LOG_WARN, "address_index", "{s:s,s:s}", "step", "refresh",
			        "error", err.message);
		failing = st != OTD_OK;
		pthread_mutex_lock(&a->wait_mu);
	}
	pthread_mutex_unlock(&a->wait_mu);
	return NULL;
}

enum otd_status app_addresses_start(struct otd_app *app, struct otd_error *err)
{
	struct otd_addresses *a = xcalloc(1, sizeof(*a));
	a->app = app;
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->build, NULL);
	pthread_mutex_init(&a->wait_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->wake, &ca);
	pthread_condattr_destroy(&ca);
	app->addresses = a;
	bool rebuilt;
	enum otd_status st = app_addresses_refresh(app, true, &rebuilt, err);
	if(st == OTD_OK && pthread_create(&a->thread, NULL, watcher_main, a) != 0)
		st = otd_error_set(err, OTD_EIO, "thread_failed", NULL,
		                   "Could not start the address index's watcher thread.");
	if(st) {
		app_addresses_stop(app);
		return st;
	}
	a->started = true;
	return OTD_OK;
}

void app_addresses_stop(struct otd_app *app)
{
	struct otd_addresses *a = app->addresses;
	if(!a)
		return;
	if(a->started) {
		pthread_mutex_lock(&a->wait_mu);
		a->stopping = true;
		pthread_cond_signal(&a->wake);
		pthread_mutex_unlock(&a->wait_mu);
		pthread_join(a->thread, NULL);
	}
	ref_release(a->cur);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->build);
	pthread_mutex_destroy(&a->wait_mu);
	pthread_cond_destroy(&a->wake);
	free(a);
	app->addresses = NULL;
}

/* ---- searching -------------------------------------------------------------------- */

enum otd_status app_address_search(struct otd_app *app, const char *q, size_t limit,
                                   struct otd_address_hits *out, struct otd_error *err)
{
	out->n = 0;
	out->ref = NULL;
	struct otd_addresses *a = app->addresses;
	if(!a)
		return otd_error_set(err, OTD_ESTATE, "not_available", NULL,
		                     "Address search runs in the server only.");
	pthread_mutex_lock(&a->mu);
	struct otd_address_index_ref *r = a->cur;
	if(r)
		atomic_fetch_add(&r->refs, 1);
	pthread_mutex_unlock(&a->mu);
	out->ref = r;
	if(r)
		out->n = otd_addrindex_search(r->ix, q, limit, out->items);
	return OTD_OK;
}

void app_address_hits_release(struct otd_address_hits *hits)
{
	ref_release(hits->ref);
	hits->ref = NULL;
	hits->n = 0;
}

void app_addresses_stats(struct otd_app *app, struct otd_addresses_stats *out)
{
	memset(out, 0, sizeof(*out));
	struct otd_addresses *a = app->addresses;
	if(!a)
		return;
	pthread_mutex_lock(&a->mu);
	if(a->cur) {
		out->addresses = otd_addrindex_count(a->cur->ix);
		out->bytes = otd_addrindex_bytes(a->cur->ix);
		out->generation = a->cur->generation;
	}
	out->builds = a->builds;
	out->build_ms = a->build_ms;
	pthread_mutex_unlock(&a->mu);
}
