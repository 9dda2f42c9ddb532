/* serve --demo-drive (drive.h). */
#include "sim/drive.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "app/audit.h"
#include "app/log.h"
#include "app/planning.h"
#include "app/simfacts.h"
#include "app/tracking.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "sim/player.h"

#define DRIVE_PERIOD_S 1
#define SICK_EVERY 12     /* one visitor in this many falls ill */
#define SICK_FROM "10:00" /* local */

/* Labels of the random streams derived from the seed. */
#define S_PLAYER 0x6472697665ull /* "drive" */
#define S_SICK 0x7369636bull     /* "sick" */

struct sim_drive {
	struct otd_app *app;
	uint64_t seed;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	/* The driver's thread only. */
	struct sim_player *player;
	char date[11]; /* the player's day; "" before the first */
};

void sim_drive_reality(struct otd_reality *r)
{
	otd_reality_default(r);
	r->duration_factor = 1.10;
	r->duration_spread = 0.35;
	r->overrun_share = 0.05;
	r->overrun_min_s = 30 * 60;
	r->overrun_max_s = 90 * 60;
	r->travel_factor = 1.15;
	r->travel_spread = 0.25;
	r->weather_factor = 1;
	r->n_traffic = 0;
	r->late_tap_share = 0.1;
	r->late_tap_max_s = 10 * 60;
	r->forgotten_tap_share = 0.03;
}

/* The day number of local date "YYYY-MM-DD" (a label for the streams). */
static int64_t day_number(const char *date)
{
	int y = 0, m = 0, d = 0;
	if(sscanf(date, "%d-%d-%d", &y, &m, &d) != 3)
		return 0;
	return otd_days_from_civil(y, m, d);
}

/* Sends visitor_id's tap kind (about reference, "" for none) at now. A
 * tap the service refuses is logged and dropped. */
static enum otd_status send_tap(struct sim_drive *d, int64_t visitor_id, enum otd_vevent_kind kind,
                                const char *reference, int64_t now, struct otd_error *err)
{
	struct otd_principal me;
	app_principal_cli(&me);
	me.visitor_id = visitor_id;
	struct otd_vevent e;
	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.at = now;
	e.accuracy = -1;
	snprintf(e.client_id, sizeof(e.client_id), "drive-%lld-%lld-%s", (long long)visitor_id,
	         (long long)now, otd_vevent_kind_name(kind));
	snprintf(e.reference, sizeof(e.reference), "%s", reference);
	enum otd_vevent_result r;
	enum otd_status st = app_visitor_events(d->app, &me, visitor_id, &e, 1, &r, err);
	if(st == OTD_ESTATE || st == OTD_EINVAL || st == OTD_ENOTFOUND || st == OTD_ECONFLICT) {
		otd_log(OTD_LOG_DEBUG, "demo_drive", "{s:s,s:I,s:s,s:s}", "event", "tap_refused",
		        "visitor", (json_int_t)visitor_id, "kind", otd_vevent_kind_name(kind),
		        "error", err->message);
		otd_error_clear(err);
		st = OTD_OK;
	}
	return st;
}

/* Where the service has visitor_id today, from an earlier run of the
 * driver (a restarted server): a visit left open is finished now and a
 * break ended, so the new player starts them free. *play false: the
 * visitor is unavailable for the rest of the day (ill, or so marked by a
 * dispatcher) and is not played. */
static enum otd_status resume(struct sim_drive *d, int64_t visitor_id, const char *date,
                              int64_t now, bool *play, struct otd_error *err)
{
	*play = true;
	struct otd_tracked_day td;
	enum otd_status st = app_tracked_day(d->app, visitor_id, date, &td, err);
	if(st == OTD_ENOTFOUND) { /* gone since the catalog was read */
		otd_error_clear(err);
		*play = false;
		return OTD_OK;
	}
	if(st)
		return st;
	if(strcmp(td.state, "unavailable") == 0)
		*play = false;
	else if(strcmp(td.state, "on_site") == 0 && td.current[0])
		st = send_tap(d, visitor_id, OTD_VEVENT_DONE, td.current, now, err);
	else if(strcmp(td.state, "on_break") == 0)
		st = send_tap(d, visitor_id, OTD_VEVENT_BREAK_END, "", now, err);
	otd_tracked_day_cleanup(&td);
	return st;
}

/* A player for date: every visitor working that day, their day beginning
 * no earlier than now. */
static enum otd_status player_make(struct sim_drive *d, const char *date, int64_t now,
                                   struct sim_player **out, struct otd_error *err)
{
	*out = NULL;
	struct otd_sim_visitor_day *vs = NULL;
	struct otd_sim_type_median *types = NULL;
	size_t n_vs = 0, n_types = 0;
	enum otd_status st = app_sim_working_visitors(d->app, date, &vs, &n_vs, err);
	if(st == OTD_OK)
		st = app_sim_visit_type_medians(d->app, &types, &n_types, err);
	if(st) {
		free(vs);
		free(types);
		return st;
	}
	/* Those working, in visitor id order (app_sim_working_visitors'). */
	size_t *working = xcalloc(n_vs + 1, sizeof(*working));
	size_t n = 0;
	for(size_t i = 0; i < n_vs; i++)
		if(vs[i].n_shifts > 0)
			working[n++] = i;
	/* The sick: a partial shuffle of those working, from the day's stream. */
	size_t n_sick = n == 0 ? 0 : (n / SICK_EVERY > 1 ? n / SICK_EVERY : 1);
	uint64_t day = (uint64_t)day_number(date);
	struct otd_rng g;
	otd_rng_seed(&g, otd_rng_derive(d->seed, S_SICK, day));
	for(size_t k = 0; k < n_sick; k++) {
		size_t pick = (size_t)otd_rng_range(&g, (int64_t)k, (int64_t)n - 1);
		size_t t = working[k];
		working[k] = working[pick];
		working[pick] = t;
	}
	int64_t sick_at = sim_local_time(d->app->tz, date, SICK_FROM);

	struct otd_reality r;
	sim_drive_reality(&r);
	struct sim_player *p =
	    sim_player_new(d->app, &r, otd_rng_derive(d->seed, S_PLAYER, day), date);
	for(size_t i = 0; i < n_types; i++)
		sim_player_visit_type(p, types[i].visit_type_id, types[i].median_s);
	int64_t first_sick = n_sick ? vs[working[0]].visitor_id : 0;
	size_t played = 0;
	for(size_t k = 0; k < n && st == OTD_OK; k++) {
		const struct otd_sim_visitor_day *v = &vs[working[k]];
		bool play;
		if((st = resume(d, v->visitor_id, date, now, &play, err)) || !play)
			continue;
		played++;
		/* One span over the day's shift occurrences (a split shift is
		 * played as one: the visits are timed for their own shift). */
		int64_t start = v->shifts[0].start, end = v->shifts[0].end;
		for(size_t s = 1; s < v->n_shifts; s++)
			if(v->shifts[s].end > end)
				end = v->shifts[s].end;
		if(start < now)
			start = now; /* started mid-day: no replay of the morning */
		sim_player_add(p, v->visitor_id, v->base_lat, v->base_lon, start, end,
		               k < n_sick ? sick_at : 0);
	}
	free(working);
	free(vs);
	free(types);
	if(st) {
		sim_player_free(p);
		return st;
	}
	otd_log(OTD_LOG_INFO, "demo_drive", "{s:s,s:s,s:I,s:I,s:I,s:I}", "event", "day", "date",
	        date, "working", (json_int_t)n, "played", (json_int_t)played, "sick",
	        (json_int_t)n_sick, "first_sick", (json_int_t)first_sick);
	*out = p;
	return OTD_OK;
}

/* One second's work: the player for today, stepped to now. */
static void drive_tick(struct sim_drive *d)
{
	struct otd_error err;
	otd_error_clear(&err);
	int64_t now = otd_clock_now(d->app->clock);
	char date[11];
	planner_local_date(d->app->planner, now, date);
	if(!d->player || strcmp(date, d->date) != 0) {
		sim_player_free(d->player);
		d->player = NULL;
		d->date[0] = '\0';
		struct sim_player *p = NULL;
		if(player_make(d, date, now, &p, &err) != OTD_OK) {
			otd_log(OTD_LOG_WARN, "demo_drive", "{s:s,s:s,s:s}", "step", "day", "date",
			        date, "error", err.message);
			return; /* again next second */
		}
		d->player = p;
		memcpy(d->date, date, sizeof(d->date));
	}
	if(sim_player_step(d->player, now, &err) != OTD_OK)
		otd_log(OTD_LOG_WARN, "demo_drive", "{s:s,s:s,s:s}", "step", "play", "date",
		        d->date, "error", err.message);
}

static void *drive_main(void *arg)
{
	pthread_setname_np(pthread_self(), "otd-demo-drive"); /* as top -H shows it */
	struct sim_drive *d = arg;
	pthread_mutex_lock(&d->mu);
	while(!d->stopping) {
		pthread_mutex_unlock(&d->mu);
		drive_tick(d);
		pthread_mutex_lock(&d->mu);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += DRIVE_PERIOD_S;
		while(!d->stopping && pthread_cond_timedwait(&d->cv, &d->mu, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

struct sim_drive *sim_drive_start(struct otd_app *app, uint64_t seed)
{
	struct sim_drive *d = xcalloc(1, sizeof(*d));
	d->app = app;
	d->seed = seed;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	if(pthread_create(&d->thread, NULL, drive_main, d) != 0) {
		pthread_mutex_destroy(&d->mu);
		pthread_cond_destroy(&d->cv);
		free(d);
		return NULL;
	}
	return d;
}

void sim_drive_stop(struct sim_drive *d)
{
	if(!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	sim_player_free(d->player);
	free(d);
}
