/* The simulator's reads (simfacts.h). */
#include "app/simfacts.h"

#include <stdlib.h>
#include <string.h>

#include "app/planning.h"
#include "onthedot/mem.h"
#include "store/catalog.h"
#include "store/store.h"

void otd_sim_facts_cleanup(struct otd_sim_facts *f)
{
	free(f->appts);
	store_sim_events_free(f->events, f->n_events);
	free(f->messages);
	free(f->cases);
	memset(f, 0, sizeof(*f));
}

static enum otd_status facts_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct otd_sim_facts *f = arg;
	enum otd_status st = store_sim_appointments(c, &f->appts, &f->n_appts, err);
	if(st == OTD_OK)
		st = store_sim_events(c, &f->events, &f->n_events, err);
	if(st == OTD_OK)
		st = store_sim_messages(c, &f->messages, &f->n_messages, err);
	if(st == OTD_OK)
		st = store_sim_cases(c, &f->cases, &f->n_cases, err);
	return st;
}

enum otd_status app_sim_facts(struct otd_app *app, struct otd_sim_facts *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	enum otd_status st = store_read(app->store, facts_read, out, err);
	if(st)
		otd_sim_facts_cleanup(out);
	return st;
}

struct after_job {
	int64_t after, last;
	struct otd_sim_message *out;
	size_t n;
};

static enum otd_status after_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct after_job *j = arg;
	return store_sim_messages_after(c, j->after, &j->out, &j->n, &j->last, err);
}

enum otd_status app_sim_messages_after(struct otd_app *app, int64_t *last,
                                       struct otd_sim_message **out, size_t *n,
                                       struct otd_error *err)
{
	struct after_job j = {.after = *last};
	enum otd_status st = store_read(app->store, after_read, &j, err);
	if(st == OTD_OK)
		*last = j.last;
	*out = j.out;
	*n = j.n;
	return st;
}

/* ---- serve --demo-drive ------------------------------------------------- */

struct working_job {
	struct otd_app *app;
	int64_t now, day_start, day_end;
	struct otd_sim_visitor_day *out;
	size_t n;
};

static enum otd_status working_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct working_job *j = arg;
	struct plan_catalog *cat = NULL;
	enum otd_status st = planner_catalog(j->app->planner, c, j->now, &cat, err);
	if(st)
		return st;
	j->out = xcalloc(cat->n_visitors + 1, sizeof(*j->out));
	for(size_t i = 0; i < cat->n_visitors; i++) {
		const struct plan_visitor *v = &cat->visitors[i];
		struct otd_sim_visitor_day *d = &j->out[j->n++];
		d->visitor_id = v->id;
		d->base_lat = v->base_lat;
		d->base_lon = v->base_lon;
		/* A route belongs to the day its shift occurrence starts on (as
		 * plan_visitor_works_on has it); occ[] is sorted. */
		for(size_t k = 0; k < v->n_occ && d->n_shifts < OTD_SIM_SHIFTS_MAX; k++) {
			if(v->occ[k].start < j->day_start || v->occ[k].start >= j->day_end)
				continue;
			d->shifts[d->n_shifts].start = v->occ[k].start;
			d->shifts[d->n_shifts].end = v->occ[k].end;
			d->n_shifts++;
		}
	}
	planner_catalog_release(j->app->planner, cat);
	return OTD_OK;
}

static int visitor_day_cmp(const void *a, const void *b)
{
	const struct otd_sim_visitor_day *x = a, *y = b;
	return (x->visitor_id > y->visitor_id) - (x->visitor_id < y->visitor_id);
}

enum otd_status app_sim_working_visitors(struct otd_app *app, const char *local_date,
                                         struct otd_sim_visitor_day **out, size_t *n,
                                         struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	struct working_job j = {.app = app, .now = otd_clock_now(app->clock)};
	if(!local_date || !planner_day_bounds(app->planner, local_date, &j.day_start, &j.day_end))
		return otd_error_set(err, OTD_EINVAL, "bad_date", "date",
		                     "The date must be YYYY-MM-DD.");
	enum otd_status st = store_read(app->store, working_read, &j, err);
	if(st) {
		free(j.out);
		return st;
	}
	if(j.n)
		qsort(j.out, j.n, sizeof(*j.out), visitor_day_cmp);
	*out = j.out;
	*n = j.n;
	return OTD_OK;
}

struct medians_job {
	struct otd_sim_type_median *out;
	size_t n;
};

static enum otd_status medians_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct medians_job *j = arg;
	int64_t ids[256], after = 0;
	size_t got;
	enum otd_status st;
	do {
		st = store_visit_type_ids(c, after, 256, -1, ids, &got, err);
		for(size_t i = 0; st == OTD_OK && i < got; i++) {
			struct otd_visit_type t;
			st = store_visit_type_get(c, ids[i], &t, err);
			if(st)
				break;
			j->out = xrealloc(j->out, (j->n + 1) * sizeof(*j->out));
			j->out[j->n++] =
			    (struct otd_sim_type_median){t.id, t.duration_median_min * 60.0};
			otd_visit_type_cleanup(&t);
		}
		if(got)
			after = ids[got - 1];
	} while(st == OTD_OK && got == 256);
	return st;
}

enum otd_status app_sim_visit_type_medians(struct otd_app *app, struct otd_sim_type_median **out,
                                           size_t *n, struct otd_error *err)
{
	struct medians_job j = {0};
	enum otd_status st = store_read(app->store, medians_read, &j, err);
	if(st) {
		free(j.out);
		j.out = NULL;
		j.n = 0;
	}
	*out = j.out;
	*n = j.n;
	return st;
}
