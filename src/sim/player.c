/* The visitors, played (player.h). */
#include "sim/player.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app/audit.h"
#include "app/booking.h"
#include "app/log.h"
#include "app/planning.h"
#include "app/tracking.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/route.h"
#include "onthedot/tz.h"

#define IDLE_RECHECK_S 300 /* a free visitor looks at their route again this often */
#define TAPS_QUEUED_MAX 32

enum pstate { P_OFF, P_FREE, P_TRAVEL, P_WAIT, P_SITE, P_BREAK, P_HOME };

struct tap {
	int64_t at; /* the phone's time of the tap, when it is sent */
	enum otd_vevent_kind kind;
	char reference[16];
};

struct pvisitor {
	int64_t id;
	double base_lat, base_lon, lat, lon;
	int64_t shift_start, shift_end, sick_from;
	enum pstate state;
	int64_t next; /* when state next changes */
	struct otd_rng rng;
	bool break_taken, sick_reported, aborted, had_long;
	/* the visit under way */
	int64_t appt, window_start, depart, reached, arrived;
	char reference[16];
	double dest_lat, dest_lon, km;
	double median_s;
	/* taps not yet sent, in order */
	struct tap taps[TAPS_QUEUED_MAX];
	int n_taps;
	int64_t last_tap;
	uint64_t tap_seq;
};

struct vtype {
	int64_t id;
	double median_s;
};

struct sim_player {
	struct otd_app *app;
	struct otd_reality reality;
	uint64_t seed;
	char date[11];
	int64_t break_from, break_latest, break_s; /* break_s 0: none */
	struct pvisitor *v;
	size_t n, cap;
	struct vtype *types;
	size_t n_types;
	struct sim_truth *truth; /* by appointment id */
	size_t n_truth;
	struct sim_player_totals tot;
};

int64_t sim_local_time(const struct otd_tz *tz, const char *date, const char *hhmm)
{
	int y, m, d, hh, mm;
	if(sscanf(date, "%d-%d-%d", &y, &m, &d) != 3 || sscanf(hhmm, "%d:%d", &hh, &mm) != 2)
		return 0;
	struct otd_civil c = {y, m, d, hh, mm, 0};
	int64_t t;
	otd_tz_from_local(tz, &c, &t, NULL);
	return t;
}

struct sim_player *sim_player_new(struct otd_app *app, const struct otd_reality *r, uint64_t seed,
                                  const char *local_date)
{
	struct sim_player *p = xcalloc(1, sizeof(*p));
	p->app = app;
	p->reality = *r;
	p->seed = seed;
	snprintf(p->date, sizeof(p->date), "%s", local_date);
	const struct otd_config *cfg = app->cfg;
	if(cfg->planning.break_minutes > 0 && cfg->planning.break_start[0] &&
	   cfg->planning.break_end[0]) {
		p->break_s = (int64_t)cfg->planning.break_minutes * 60;
		p->break_from = sim_local_time(app->tz, local_date, cfg->planning.break_start);
		p->break_latest =
		    sim_local_time(app->tz, local_date, cfg->planning.break_end) - p->break_s;
	}
	return p;
}

void sim_player_free(struct sim_player *p)
{
	if(!p)
		return;
	free(p->v);
	free(p->types);
	free(p->truth);
	free(p);
}

void sim_player_visit_type(struct sim_player *p, int64_t type_id, double median_s)
{
	p->types = xrealloc(p->types, (p->n_types + 1) * sizeof(*p->types));
	p->types[p->n_types++] = (struct vtype){type_id, median_s};
}

static double type_median(const struct sim_player *p, int64_t type_id)
{
	for(size_t i = 0; i < p->n_types; i++)
		if(p->types[i].id == type_id)
			return p->types[i].median_s;
	return 45 * 60;
}

void sim_player_add(struct sim_player *p, int64_t visitor_id, double base_lat, double base_lon,
                    int64_t shift_start, int64_t shift_end, int64_t sick_from)
{
	if(p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	struct pvisitor *v = &p->v[p->n++];
	memset(v, 0, sizeof(*v));
	v->id = visitor_id;
	v->base_lat = v->lat = base_lat;
	v->base_lon = v->lon = base_lon;
	v->shift_start = shift_start;
	v->shift_end = shift_end;
	v->sick_from = sick_from;
	v->state = P_OFF;
	v->next = shift_start;
	otd_rng_seed(&v->rng, otd_rng_derive(p->seed, 0x706c61796572ull /* "player" */,
	                                     (uint64_t)visitor_id));
	p->tot.shift_s += (double)(shift_end - shift_start);
}

static struct sim_truth *truth_slot(struct sim_player *p, int64_t appointment_id)
{
	if(appointment_id <= 0)
		return NULL;
	if((size_t)appointment_id >= p->n_truth) {
		size_t n = (size_t)appointment_id * 2 + 64;
		p->truth = xrealloc(p->truth, n * sizeof(*p->truth));
		memset(p->truth + p->n_truth, 0, (n - p->n_truth) * sizeof(*p->truth));
		p->n_truth = n;
	}
	return &p->truth[appointment_id];
}

bool sim_player_truth(const struct sim_player *p, int64_t appointment_id, struct sim_truth *out)
{
	if(appointment_id <= 0 || (size_t)appointment_id >= p->n_truth ||
	   !p->truth[appointment_id].visitor_id)
		return false;
	*out = p->truth[appointment_id];
	return true;
}

void sim_player_totals(const struct sim_player *p, struct sim_player_totals *out)
{
	*out = p->tot;
}

size_t sim_player_visitors(const struct sim_player *p, int64_t *ids, size_t max)
{
	for(size_t i = 0; i < p->n && i < max; i++)
		ids[i] = p->v[i].id;
	return p->n;
}

/* Queues a tap made at actual time t: sent late sometimes, never before
 * the visitor's previous tap. */
static void tap(struct sim_player *p, struct pvisitor *v, enum otd_vevent_kind kind,
                const char *reference, int64_t t, bool may_be_late)
{
	int delay = otd_reality_tap_delay_s(&p->reality, &v->rng);
	if(!may_be_late)
		delay = 0;
	if(delay > 0)
		p->tot.taps_late++;
	int64_t at = t + delay;
	if(at <= v->last_tap)
		at = v->last_tap + 1;
	v->last_tap = at;
	if(v->n_taps == TAPS_QUEUED_MAX) {
		/* Only with taps hours late: the phone's queue is full. */
		p->tot.taps_refused++;
		return;
	}
	struct tap *q = &v->taps[v->n_taps++];
	q->at = at;
	q->kind = kind;
	snprintf(q->reference, sizeof(q->reference), "%s", reference ? reference : "");
}

static enum otd_status send_tap(struct sim_player *p, struct pvisitor *v, struct otd_error *err)
{
	struct tap t = v->taps[0];
	memmove(v->taps, v->taps + 1, (size_t)(v->n_taps - 1) * sizeof(*v->taps));
	v->n_taps--;
	struct otd_principal me;
	app_principal_cli(&me);
	me.visitor_id = v->id;
	struct otd_vevent e;
	memset(&e, 0, sizeof(e));
	e.kind = t.kind;
	e.at = t.at;
	e.accuracy = -1;
	/* Unique for the visitor for ever (the service drops a client id it
	 * has seen as a duplicate): the day's players and a restarted one
	 * count taps from 1 again, so the date and the tap's time go in. */
	snprintf(e.client_id, sizeof(e.client_id), "sim-%s-%lld-%llu-%lld", p->date,
	         (long long)v->id, (unsigned long long)++v->tap_seq, (long long)t.at);
	snprintf(e.reference, sizeof(e.reference), "%s", t.reference);
	enum otd_vevent_result r;
	p->tot.taps++;
	enum otd_status st = app_visitor_events(p->app, &me, v->id, &e, 1, &r, err);
	if(st == OTD_ESTATE || st == OTD_EINVAL || st == OTD_ENOTFOUND || st == OTD_ECONFLICT) {
		/* The service would not take it (the visit went to someone else
		 * while the tap waited): the visitor is told and moves on. */
		otd_log(OTD_LOG_DEBUG, "sim_tap_refused", "{s:I,s:s,s:s}", "visitor",
		        (json_int_t)v->id, "kind", otd_vevent_kind_name(t.kind), "error",
		        err->message);
		p->tot.taps_refused++;
		if(t.kind == OTD_VEVENT_START_TRAVEL && strcmp(t.reference, v->reference) == 0)
			v->aborted = true;
		/* The rest of that visit's taps would be refused too. */
		for(int i = 0; i < v->n_taps;)
			if(strcmp(v->taps[i].reference, t.reference) == 0 && t.reference[0]) {
				memmove(v->taps + i, v->taps + i + 1,
				        (size_t)(v->n_taps - i - 1) * sizeof(*v->taps));
				v->n_taps--;
			} else {
				i++;
			}
		otd_error_clear(err);
		return OTD_OK;
	}
	return st;
}

/* The first visit still to do on the visitor's route, as the service has
 * it now. *found false: none. */
static enum otd_status next_stop(struct sim_player *p, struct pvisitor *v, bool *found,
                                 struct otd_error *err)
{
	*found = false;
	struct otd_tracked_day d;
	enum otd_status st = app_tracked_day(p->app, v->id, p->date, &d, err);
	if(st)
		return st;
	for(size_t i = 0; i < d.n && !*found; i++) {
		const struct otd_tracked_stop *s = &d.stops[i];
		if(strcmp(s->status, "booked") != 0)
			continue;
		/* Done already (its taps still waiting to be sent, late), or its
		 * journey's tap not yet sent: the service does not know yet. */
		struct sim_truth t;
		bool waiting = false;
		for(int k = 0; k < v->n_taps && !waiting; k++)
			waiting = strcmp(v->taps[k].reference, s->reference) == 0;
		if(waiting || sim_player_truth(p, s->appointment_id, &t))
			continue;
		struct otd_appointment_view view;
		st = app_appointment_view(p->app, s->appointment_id, &view, err);
		if(st)
			break;
		v->appt = s->appointment_id;
		snprintf(v->reference, sizeof(v->reference), "%s", s->reference);
		v->window_start = s->window_start;
		v->dest_lat = view.address.lat;
		v->dest_lon = view.address.lon;
		v->median_s = type_median(p, view.a.visit_type_id);
		otd_appointment_view_cleanup(&view);
		*found = true;
	}
	otd_tracked_day_cleanup(&d);
	return st;
}

static int minute_of_day(const struct otd_tz *tz, int64_t t)
{
	struct otd_local l;
	otd_tz_to_local(tz, t, &l);
	return l.c.hour * 60 + l.c.minute;
}

/* A free visitor decides what to do next at now. */
static enum otd_status decide(struct sim_player *p, struct pvisitor *v, int64_t now,
                              struct otd_error *err)
{
	if(v->sick_from && now >= v->sick_from && !v->sick_reported) {
		/* The taps of the visit just finished go first: the report is
		 * stamped now, and a tap older than it would be refused. */
		if(v->n_taps) {
			v->state = P_FREE;
			v->next = v->taps[v->n_taps - 1].at;
			return OTD_OK;
		}
		v->sick_reported = true;
		v->state = P_HOME;
		v->next = INT64_MAX;
		struct otd_principal cli;
		app_principal_cli(&cli);
		enum otd_status st = app_visitor_unavailable(p->app, &cli, v->id, "sick",
		                                             "Off sick (simulated).", err);
		if(st == OTD_ESTATE || st == OTD_ECONFLICT) {
			p->tot.taps_refused++;
			otd_error_clear(err);
			st = OTD_OK;
		}
		return st;
	}
	if(now > v->shift_end + SIM_OVERTIME_S) {
		v->state = P_HOME;
		v->next = INT64_MAX;
		return OTD_OK;
	}
	bool found;
	enum otd_status st = next_stop(p, v, &found, err);
	if(st)
		return st;
	/* The break: in its span, when the time before the next visit allows
	 * it (or there is none), and at the latest when the span runs out. */
	bool break_due = p->break_s && !v->break_taken && now >= p->break_from &&
	                 now <= p->break_latest + 2 * 3600;
	const struct otd_plan *plan = planner_plan(p->app->planner);
	double km = 0, mean = 0, var = 0;
	if(found) {
		km = otd_distance_km(v->lat, v->lon, v->dest_lat, v->dest_lon);
		otd_travel_leg(plan->travel, p->app->tz, km, now, now, &mean, &var);
	}
	int64_t leave = found ? v->window_start - (int64_t)mean : INT64_MAX;
	if(break_due && (!found || now >= p->break_latest || leave - now >= p->break_s)) {
		v->break_taken = true;
		tap(p, v, OTD_VEVENT_BREAK_START, NULL, now, false);
		v->state = P_BREAK;
		v->next = now + p->break_s;
		return OTD_OK;
	}
	if(!found) {
		v->state = P_FREE;
		v->next = now >= v->shift_end ? INT64_MAX : now + IDLE_RECHECK_S;
		if(v->next == INT64_MAX)
			v->state = P_HOME;
		return OTD_OK;
	}
	if(leave > now) {
		/* Too early to leave: look again then (the route may change). */
		v->state = P_FREE;
		v->next = leave - now > IDLE_RECHECK_S ? now + IDLE_RECHECK_S : leave;
		return OTD_OK;
	}
	double travel =
	    otd_reality_travel_s(&p->reality, mean, minute_of_day(p->app->tz, now), &v->rng);
	v->km = km * plan->travel->road_factor;
	v->depart = now;
	v->aborted = false;
	tap(p, v, OTD_VEVENT_START_TRAVEL, v->reference, now, true);
	v->state = P_TRAVEL;
	v->next = now + (int64_t)(travel + 0.5);
	return OTD_OK;
}

/* Visitor v begins the visit at now (at the door, the window open). */
static enum otd_status arrive(struct sim_player *p, struct pvisitor *v, int64_t now)
{
	v->arrived = now;
	struct sim_truth *t = truth_slot(p, v->appt);
	t->visitor_id = v->id;
	t->reached = v->reached;
	t->arrived = now;
	t->travel_km = v->km;
	t->after_long = v->had_long;
	bool forgotten = otd_reality_tap_forgotten(&p->reality, &v->rng);
	double dur = otd_reality_duration_s(&p->reality, v->median_s, &v->rng);
	int64_t done = now + (int64_t)(dur + 0.5);
	if(dur > 2 * v->median_s)
		v->had_long = true;
	if(forgotten) {
		p->tot.taps_forgotten++;
		tap(p, v, OTD_VEVENT_ARRIVED, v->reference, done, false);
	} else {
		tap(p, v, OTD_VEVENT_ARRIVED, v->reference, now, true);
	}
	v->state = P_SITE;
	v->next = done;
	return OTD_OK;
}

/* Visitor v's next change, at v->next. */
static enum otd_status advance(struct sim_player *p, struct pvisitor *v, struct otd_error *err)
{
	int64_t now = v->next;
	switch(v->state) {
	case P_OFF:
	case P_FREE: return decide(p, v, now, err);
	case P_BREAK:
		tap(p, v, OTD_VEVENT_BREAK_END, NULL, now, false);
		return decide(p, v, now, err);
	case P_TRAVEL:
		p->tot.travel_s += (double)(now - v->depart);
		p->tot.travel_km += v->km;
		v->lat = v->dest_lat;
		v->lon = v->dest_lon;
		if(v->aborted) {
			p->tot.journeys_wasted++;
			if(now == v->depart) {
				/* Refused at the door itself: look again later, not now
				 * (it would choose the same again). */
				v->state = P_FREE;
				v->next = now + IDLE_RECHECK_S;
				return OTD_OK;
			}
			return decide(p, v, now, err);
		}
		v->reached = now;
		if(now < v->window_start) {
			v->state = P_WAIT;
			v->next = v->window_start;
			return OTD_OK;
		}
		return arrive(p, v, now);
	case P_WAIT: p->tot.wait_s += (double)(now - v->reached); return arrive(p, v, now);
	case P_SITE: {
		p->tot.service_s += (double)(now - v->arrived);
		struct sim_truth *t = truth_slot(p, v->appt);
		t->done = now;
		tap(p, v, OTD_VEVENT_DONE, v->reference, now, true);
		v->appt = 0;
		return decide(p, v, now, err);
	}
	case P_HOME: v->next = INT64_MAX; return OTD_OK;
	}
	return OTD_OK;
}

static int64_t visitor_next(const struct pvisitor *v)
{
	int64_t t = v->next;
	if(v->n_taps && v->taps[0].at < t)
		t = v->taps[0].at;
	return t;
}

int64_t sim_player_next(const struct sim_player *p)
{
	int64_t t = INT64_MAX;
	for(size_t i = 0; i < p->n; i++) {
		int64_t x = visitor_next(&p->v[i]);
		if(x < t)
			t = x;
	}
	return t;
}

enum otd_status sim_player_step(struct sim_player *p, int64_t now, struct otd_error *err)
{
	for(;;) {
		/* The earliest thing due; taps before changes at the same time. */
		struct pvisitor *best = NULL;
		int64_t when = INT64_MAX;
		bool is_tap = false;
		for(size_t i = 0; i < p->n; i++) {
			struct pvisitor *v = &p->v[i];
			if(v->n_taps && v->taps[0].at <= now &&
			   (v->taps[0].at < when || (v->taps[0].at == when && !is_tap))) {
				best = v;
				when = v->taps[0].at;
				is_tap = true;
			}
			if(v->next <= now && v->next < when) {
				best = v;
				when = v->next;
				is_tap = false;
			}
		}
		if(!best)
			return OTD_OK;
		enum otd_status st = is_tap ? send_tap(p, best, err) : advance(p, best, err);
		if(st)
			return st;
	}
}
