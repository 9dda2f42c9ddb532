/* VRPTW instances and solutions, the Solomon and route file formats, and
 * the feasibility checker (onthedot/vrp.h).
 *
 * The checker shares no code with the optimiser on purpose: it re-times
 * every route from the instance alone, so a bug in the solver's cached
 * timing cannot hide behind the same bug here. The Solomon format is the
 * one of M. M. Solomon, "Algorithms for the vehicle routing and scheduling
 * problems with time window constraints", Operations Research 35(2), 1987,
 * as distributed with the instances (and by Gehring and Homberger). */
#include "onthedot/vrp.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"

/* What a Solomon file may make us allocate: places (rows, depot included)
 * and vehicles. */
#define SOLOMON_MAX_PLACES 10001
#define SOLOMON_MAX_VEHICLES 100000
/* Coordinates, times, demands and capacities beyond this magnitude are
 * refused, so every leg and every route sum stays finite. */
#define SOLOMON_MAX_VALUE 1e9
/* A token longer than this is not a number we accept. */
#define NUMBER_MAX_CHARS 63
/* Bytes of a token quoted in a message before it is cut with "...". */
#define SHOW_MAX 24

/* Formats into buf (len > 0) or does nothing. */
static void say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *buf, size_t len, const char *fmt, ...)
{
	if(!buf || len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void otd_vrp_cleanup(struct otd_vrp *p)
{
	free(p->jobs);
	free(p->vehicles);
	if(p->time != p->dist)
		free(p->time);
	free(p->dist);
	memset(p, 0, sizeof(*p));
}

void otd_vrp_solution_init(struct otd_vrp_solution *s, const struct otd_vrp *p)
{
	int nv = p->n_vehicles > 0 ? p->n_vehicles : 0;
	int nj = p->n_jobs > 0 ? p->n_jobs : 0;
	memset(s, 0, sizeof(*s));
	s->n_vehicles = nv;
	s->n_jobs = nj;
	s->first = xcalloc((size_t)nv + 1, sizeof(*s->first));
	s->order = xcalloc((size_t)nj, sizeof(*s->order));
	s->unassigned = xmalloc((size_t)nj * sizeof(*s->unassigned));
	for(int j = 0; j < nj; j++)
		s->unassigned[j] = j;
	s->n_unassigned = nj;
}

void otd_vrp_solution_cleanup(struct otd_vrp_solution *s)
{
	free(s->first);
	free(s->order);
	free(s->unassigned);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------ */
/* The checker                                                          */
/* ------------------------------------------------------------------ */

/* Where the membership pass found a job. */
enum { WHERE_NONE = -2, WHERE_UNASSIGNED = -1 };

struct check {
	char *why;
	size_t why_len;
	bool ok; /* no reason recorded yet */
};

/* Records the first reason the solution is infeasible; later ones are
 * dropped. */
static void check_fail(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check_fail(struct check *c, const char *fmt, ...)
{
	if(!c->ok)
		return;
	c->ok = false;
	if(!c->why || c->why_len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, c->why_len, fmt, ap);
	va_end(ap);
}

/* True when p and s are well-formed enough to walk: sizes agree, route
 * bounds are ordered and every index is in range. Else records why. */
static bool check_shape(const struct otd_vrp *p, const struct otd_vrp_solution *s, struct check *c)
{
	if(p->n_jobs < 0 || p->n_vehicles < 0 || p->n_nodes < 0 || (p->n_jobs > 0 && !p->jobs) ||
	   (p->n_vehicles > 0 && !p->vehicles) || (p->n_nodes > 0 && (!p->dist || !p->time))) {
		check_fail(c, "the instance is malformed");
		return false;
	}
	for(int j = 0; j < p->n_jobs; j++) {
		const struct otd_vrp_job *job = &p->jobs[j];
		if(job->node < 0 || job->node >= p->n_nodes) {
			check_fail(c, "customer %" PRId64 " is at place %d, beyond the %d places",
			           job->id, job->node, p->n_nodes);
			return false;
		}
		if(isnan(job->a) || isnan(job->b) || isnan(job->service)) {
			check_fail(c,
			           "customer %" PRId64 " has a window or service time that is NaN",
			           job->id);
			return false;
		}
		if(job->locked_vehicle >= p->n_vehicles) {
			check_fail(
			    c, "customer %" PRId64 " is locked to route %d, beyond the %d vehicles",
			    job->id, job->locked_vehicle + 1, p->n_vehicles);
			return false;
		}
	}
	for(int v = 0; v < p->n_vehicles; v++) {
		const struct otd_vrp_vehicle *veh = &p->vehicles[v];
		if(veh->start_node < 0 || veh->start_node >= p->n_nodes || veh->end_node < 0 ||
		   veh->end_node >= p->n_nodes) {
			check_fail(c, "route %d: the vehicle starts or ends beyond the %d places",
			           v + 1, p->n_nodes);
			return false;
		}
		if(isnan(veh->start) || isnan(veh->end)) {
			check_fail(c, "route %d: the vehicle's shift is NaN", v + 1);
			return false;
		}
	}
	if(s->n_vehicles != p->n_vehicles || s->n_jobs != p->n_jobs) {
		check_fail(c,
		           "the solution is for %d vehicles and %d customers, the instance has %d "
		           "and %d",
		           s->n_vehicles, s->n_jobs, p->n_vehicles, p->n_jobs);
		return false;
	}
	if(!s->first || (p->n_jobs > 0 && (!s->order || !s->unassigned)) || s->first[0] != 0 ||
	   s->n_unassigned < 0 || s->n_unassigned > p->n_jobs) {
		check_fail(c, "the solution is malformed");
		return false;
	}
	for(int v = 0; v < p->n_vehicles; v++) {
		if(s->first[v + 1] < s->first[v] || s->first[v + 1] > p->n_jobs) {
			check_fail(c, "route %d: its bounds in the solution are malformed", v + 1);
			return false;
		}
		for(int i = s->first[v]; i < s->first[v + 1]; i++) {
			if(s->order[i] < 0 || s->order[i] >= p->n_jobs) {
				check_fail(c,
				           "route %d: stop %d is job %d, beyond the %d customers",
				           v + 1, i - s->first[v] + 1, s->order[i], p->n_jobs);
				return false;
			}
		}
	}
	for(int k = 0; k < s->n_unassigned; k++) {
		if(s->unassigned[k] < 0 || s->unassigned[k] >= p->n_jobs) {
			check_fail(c, "unassigned job %d is beyond the %d customers",
			           s->unassigned[k], p->n_jobs);
			return false;
		}
	}
	return true;
}

/* Every job exactly once, on a route or unassigned. Fills where[j]: the
 * route (0-based) holding job j, WHERE_UNASSIGNED or WHERE_NONE. */
static void check_membership(const struct otd_vrp *p, const struct otd_vrp_solution *s, int *where,
                             struct check *c)
{
	for(int j = 0; j < p->n_jobs; j++)
		where[j] = WHERE_NONE;
	for(int v = 0; v < p->n_vehicles; v++) {
		for(int i = s->first[v]; i < s->first[v + 1]; i++) {
			int j = s->order[i];
			int64_t id = p->jobs[j].id;
			if(where[j] == v)
				check_fail(c, "route %d: customer %" PRId64 " appears twice", v + 1,
				           id);
			else if(where[j] != WHERE_NONE)
				check_fail(c, "customer %" PRId64 " is on route %d and on route %d",
				           id, where[j] + 1, v + 1);
			else
				where[j] = v;
		}
	}
	for(int k = 0; k < s->n_unassigned; k++) {
		int j = s->unassigned[k];
		int64_t id = p->jobs[j].id;
		if(where[j] == WHERE_UNASSIGNED)
			check_fail(c, "customer %" PRId64 " is unassigned twice", id);
		else if(where[j] != WHERE_NONE)
			check_fail(c, "customer %" PRId64 " is on route %d and unassigned", id,
			           where[j] + 1);
		else
			where[j] = WHERE_UNASSIGNED;
	}
	for(int j = 0; j < p->n_jobs; j++)
		if(where[j] == WHERE_NONE)
			check_fail(c, "customer %" PRId64 " is on no route and not unassigned",
			           p->jobs[j].id);
}

/* Locked jobs: on their vehicle, never unassigned, forming the head of the
 * route in locked_pos order (ties in either order). */
static void check_locks(const struct otd_vrp *p, const struct otd_vrp_solution *s, const int *where,
                        struct check *c)
{
	int *n_locked = xcalloc((size_t)p->n_vehicles + 1, sizeof(*n_locked));
	for(int j = 0; j < p->n_jobs; j++) {
		const struct otd_vrp_job *job = &p->jobs[j];
		if(job->locked_vehicle < 0)
			continue;
		n_locked[job->locked_vehicle]++;
		if(where[j] == WHERE_UNASSIGNED)
			check_fail(c, "customer %" PRId64 " is locked to route %d but unassigned",
			           job->id, job->locked_vehicle + 1);
		else if(where[j] >= 0 && where[j] != job->locked_vehicle)
			check_fail(c, "route %d: customer %" PRId64 " is locked to route %d",
			           where[j] + 1, job->id, job->locked_vehicle + 1);
	}
	for(int v = 0; v < p->n_vehicles && c->ok; v++) {
		const int *route = s->order + s->first[v];
		int len = s->first[v + 1] - s->first[v];
		int head = n_locked[v] < len ? n_locked[v] : len;
		for(int i = 0; i < head; i++) {
			const struct otd_vrp_job *job = &p->jobs[route[i]];
			if(job->locked_vehicle != v) {
				/* Every job locked to v is on route v (checked above), and
				 * the first i stops are locked: one comes later. */
				int k = i + 1;
				while(k < len && p->jobs[route[k]].locked_vehicle != v)
					k++;
				if(k < len)
					check_fail(c,
					           "route %d: customer %" PRId64
					           " comes before locked customer %" PRId64,
					           v + 1, job->id, p->jobs[route[k]].id);
				else
					check_fail(c,
					           "route %d: customer %" PRId64
					           " comes before the route's locked customers",
					           v + 1, job->id);
				break;
			}
			if(i > 0 && p->jobs[route[i - 1]].locked_pos > job->locked_pos) {
				check_fail(c,
				           "route %d: locked customer %" PRId64
				           " comes before locked customer %" PRId64
				           ", against their locked order",
				           v + 1, p->jobs[route[i - 1]].id, job->id);
				break;
			}
		}
	}
	free(n_locked);
}

/* Re-times every route, adding to *cost; records the first window, shift,
 * capacity or skill violation in route order. */
static void check_routes(const struct otd_vrp *p, const struct otd_vrp_solution *s,
                         struct otd_vrp_cost *cost, struct check *c)
{
	const size_t n = (size_t)p->n_nodes;
	for(int v = 0; v < p->n_vehicles; v++) {
		const struct otd_vrp_vehicle *veh = &p->vehicles[v];
		if(s->first[v + 1] == s->first[v])
			continue;
		cost->vehicles++;
		double t = veh->start;
		size_t at = (size_t)veh->start_node;
		int64_t load = 0;
		for(int i = s->first[v]; i < s->first[v + 1]; i++) {
			const struct otd_vrp_job *job = &p->jobs[s->order[i]];
			const size_t to = (size_t)job->node;
			cost->distance += p->dist[at * n + to];
			cost->time += p->time[at * n + to];
			double arrive = t + p->time[at * n + to];
			double start = arrive < job->a ? job->a : arrive;
			uint64_t lacks = job->skills & ~veh->skills;
			if(lacks)
				check_fail(c,
				           "route %d: customer %" PRId64 " needs skills 0x%" PRIx64
				           " that the vehicle lacks",
				           v + 1, job->id, lacks);
			if(start > job->b + OTD_VRP_EPS) {
				if(job->soft) {
					cost->late_jobs++;
					cost->required_missed += job->required;
					cost->lateness += start - job->b;
				} else {
					check_fail(c,
					           "route %d: customer %" PRId64
					           " starts at %.2f, after its due time %.2f",
					           v + 1, job->id, start, job->b);
				}
			}
			load += job->demand;
			if(veh->capacity >= 0 && load > veh->capacity)
				check_fail(c,
				           "route %d: the load reaches %" PRId64
				           " at customer %" PRId64 ", over the capacity %d",
				           v + 1, load, job->id, veh->capacity);
			if(job->home_vehicle >= 0 && job->home_vehicle != v) {
				cost->moved++;
				if(job->pinned)
					check_fail(c,
					           "route %d: customer %" PRId64
					           " is pinned to route %d",
					           v + 1, job->id, job->home_vehicle + 1);
			}
			t = start + job->service;
			at = to;
		}
		const size_t end = (size_t)veh->end_node;
		cost->distance += p->dist[at * n + end];
		cost->time += p->time[at * n + end];
		t += p->time[at * n + end];
		if(t > veh->end + OTD_VRP_EPS)
			check_fail(c, "route %d: back at the depot at %.2f, after its end %.2f",
			           v + 1, t, veh->end);
	}
}

bool otd_vrp_check(const struct otd_vrp *p, const struct otd_vrp_solution *s,
                   struct otd_vrp_cost *cost, char *why, size_t why_len)
{
	struct check c = {why, why_len, true};
	struct otd_vrp_cost sum;
	memset(&sum, 0, sizeof(sum));
	say(why, why_len, "%s", "");
	if(check_shape(p, s, &c)) {
		int *where = xmalloc((size_t)p->n_jobs * sizeof(*where));
		sum.unassigned = s->n_unassigned;
		for(int u = 0; u < s->n_unassigned; u++)
			if(s->unassigned[u] >= 0 && s->unassigned[u] < p->n_jobs)
				sum.required_missed += p->jobs[s->unassigned[u]].required;
		check_membership(p, s, where, &c);
		if(c.ok)
			check_locks(p, s, where, &c);
		check_routes(p, s, &sum, &c);
		free(where);
	}
	if(cost)
		*cost = sum;
	return c.ok;
}

/* ------------------------------------------------------------------ */
/* Lines and tokens                                                     */
/* ------------------------------------------------------------------ */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Reads text line by line; a line ends at '\n' (a '\r' before it is a
 * blank like any other). */
struct lines {
	const char *text;
	size_t len, pos;
	size_t line; /* number of the line last read, 1-based; 0 before any */
};

/* The next physical line as [*b, *b + *n). False at the end of the text. */
static bool lines_next(struct lines *l, const char **b, size_t *n)
{
	if(l->pos >= l->len)
		return false;
	const char *start = l->text + l->pos;
	const char *nl = memchr(start, '\n', l->len - l->pos);
	size_t n_line = nl ? (size_t)(nl - start) : l->len - l->pos;
	l->pos += n_line + (nl ? 1 : 0);
	l->line++;
	*b = start;
	*n = n_line;
	return true;
}

/* The next line holding anything but blanks, trimmed of them. */
static bool lines_next_filled(struct lines *l, const char **b, size_t *n)
{
	while(lines_next(l, b, n)) {
		while(*n > 0 && is_blank(**b)) {
			(*b)++;
			(*n)--;
		}
		while(*n > 0 && is_blank((*b)[*n - 1]))
			(*n)--;
		if(*n > 0)
			return true;
	}
	return false;
}

/* The line to name when the text ends early: the last one read. */
static size_t lines_last(const struct lines *l)
{
	return l->line ? l->line : 1;
}

/* The first MAX_TOKENS blank-separated tokens of a line, and how many
 * there are in all. */
#define MAX_TOKENS 8
struct tokens {
	int n;
	const char *b[MAX_TOKENS];
	size_t len[MAX_TOKENS];
};

static void tokens_split(const char *b, size_t n, struct tokens *t)
{
	size_t i = 0;
	t->n = 0;
	for(;;) {
		while(i < n && is_blank(b[i]))
			i++;
		if(i == n)
			return;
		size_t start = i;
		while(i < n && !is_blank(b[i]))
			i++;
		if(t->n < MAX_TOKENS) {
			t->b[t->n] = b + start;
			t->len[t->n] = i - start;
		}
		t->n++;
	}
}

/* True when the token is word, ignoring ASCII case. */
static bool token_is(const char *b, size_t n, const char *word)
{
	if(strlen(word) != n)
		return false;
	for(size_t i = 0; i < n; i++) {
		char x = b[i], y = word[i];
		if(x >= 'a' && x <= 'z')
			x = (char)(x - 'a' + 'A');
		if(x != y)
			return false;
	}
	return true;
}

/* Writes the token for a message into out[SHOW_MAX + 4]: printable ASCII
 * as it is, any other byte as '?', cut with "..." when long, so a message
 * is plain text whatever the input held. */
static void token_show(char *out, const char *b, size_t n)
{
	size_t k = n > SHOW_MAX ? SHOW_MAX : n;
	for(size_t i = 0; i < k; i++)
		out[i] = b[i] >= 0x20 && b[i] < 0x7f ? b[i] : '?';
	if(k < n) {
		memcpy(out + k, "...", 4);
	} else {
		out[k] = '\0';
	}
}

/* Reads a finite decimal number (digits, sign, point and exponent only:
 * no "inf", "nan" or hexadecimal). */
static bool number_parse(const char *b, size_t n, double *out)
{
	char buf[NUMBER_MAX_CHARS + 1];
	if(n == 0 || n > NUMBER_MAX_CHARS)
		return false;
	for(size_t i = 0; i < n; i++) {
		char ch = b[i];
		if(!(ch >= '0' && ch <= '9') && ch != '+' && ch != '-' && ch != '.' && ch != 'e' &&
		   ch != 'E')
			return false;
	}
	memcpy(buf, b, n);
	buf[n] = '\0';
	char *end;
	double v = strtod(buf, &end);
	if(end != buf + n || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/* ------------------------------------------------------------------ */
/* Solomon instances                                                    */
/* ------------------------------------------------------------------ */

struct solomon_row {
	double x, y, ready, due, service;
	int demand;
};

/* Columns of a customer row, for messages. */
static const char *const solomon_columns[7] = {
    "customer number", "x", "y", "demand", "ready time", "due date", "service time",
};

/* Expects the next filled line to be exactly the given words (case
 * ignored). */
static bool solomon_expect(struct lines *l, const char *w1, const char *w2, const char *what,
                           char *err, size_t err_len)
{
	const char *b;
	size_t n;
	struct tokens t;
	if(!lines_next_filled(l, &b, &n)) {
		say(err, err_len, "line %zu: the text ends before %s", lines_last(l), what);
		return false;
	}
	tokens_split(b, n, &t);
	if(t.n != (w2 ? 2 : 1) || !token_is(t.b[0], t.len[0], w1) ||
	   (w2 && !token_is(t.b[1], t.len[1], w2))) {
		char shown[SHOW_MAX + 4];
		token_show(shown, b, n);
		say(err, err_len, "line %zu: expected %s, found \"%s\"", l->line, what, shown);
		return false;
	}
	return true;
}

/* Reads a token as a whole number in [lo, hi]. */
static bool solomon_whole(const char *b, size_t n, double lo, double hi, int *out)
{
	double v;
	if(!number_parse(b, n, &v) || v != floor(v) || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

/* Reads one customer row into *r; k is the number it must carry. */
static bool solomon_row(const struct tokens *t, size_t line, int k, struct solomon_row *r,
                        char *err, size_t err_len)
{
	double v[7];
	char shown[SHOW_MAX + 4];
	if(t->n != 7) {
		say(err, err_len,
		    "line %zu: expected 7 numbers (customer number, x, y, demand, ready time, due "
		    "date, service time), found %d fields",
		    line, t->n);
		return false;
	}
	for(int i = 0; i < 7; i++) {
		if(!number_parse(t->b[i], t->len[i], &v[i])) {
			token_show(shown, t->b[i], t->len[i]);
			say(err, err_len, "line %zu: %s \"%s\" is not a number", line,
			    solomon_columns[i], shown);
			return false;
		}
		if(fabs(v[i]) > SOLOMON_MAX_VALUE) {
			token_show(shown, t->b[i], t->len[i]);
			say(err, err_len, "line %zu: %s \"%s\" is beyond %g in size", line,
			    solomon_columns[i], shown, SOLOMON_MAX_VALUE);
			return false;
		}
	}
	if(v[0] != (double)k) {
		token_show(shown, t->b[0], t->len[0]);
		say(err, err_len,
		    "line %zu: customer number \"%s\" where %d was expected (the depot is 0, "
		    "customers 1, 2, ... in order)",
		    line, shown, k);
		return false;
	}
	if(v[3] < 0 || v[3] != floor(v[3])) {
		token_show(shown, t->b[3], t->len[3]);
		say(err, err_len, "line %zu: demand \"%s\" must be a whole number, 0 or more", line,
		    shown);
		return false;
	}
	if(v[4] > v[5]) {
		say(err, err_len, "line %zu: due date %g is before ready time %g", line, v[5],
		    v[4]);
		return false;
	}
	if(v[6] < 0) {
		say(err, err_len, "line %zu: service time %g is negative", line, v[6]);
		return false;
	}
	r->x = v[1];
	r->y = v[2];
	r->demand = (int)v[3];
	r->ready = v[4];
	r->due = v[5];
	r->service = v[6];
	return true;
}

/* Builds the instance from its rows (rows[0] the depot). */
static void solomon_build(struct otd_vrp *p, const struct solomon_row *rows, int n_rows,
                          int n_vehicles, int capacity)
{
	const size_t n = (size_t)n_rows;
	p->n_nodes = n_rows;
	p->n_jobs = n_rows - 1;
	p->n_vehicles = n_vehicles;
	p->dist = xmalloc(n * n * sizeof(*p->dist));
	p->time = p->dist;
	for(size_t i = 0; i < n; i++) {
		p->dist[i * n + i] = 0;
		/* Computed once per pair so the matrix is exactly symmetric. */
		for(size_t j = i + 1; j < n; j++) {
			double dx = rows[i].x - rows[j].x, dy = rows[i].y - rows[j].y;
			double d = sqrt(dx * dx + dy * dy);
			p->dist[i * n + j] = d;
			p->dist[j * n + i] = d;
		}
	}
	p->jobs = xcalloc((size_t)p->n_jobs, sizeof(*p->jobs));
	for(int k = 1; k < n_rows; k++) {
		struct otd_vrp_job *job = &p->jobs[k - 1];
		job->node = k;
		job->a = rows[k].ready;
		job->b = rows[k].due;
		job->service = rows[k].service;
		job->demand = rows[k].demand;
		job->skills = 0;
		job->soft = false;
		job->locked_vehicle = -1;
		job->locked_pos = 0;
		job->home_vehicle = -1;
		job->id = k;
	}
	p->vehicles = xcalloc((size_t)p->n_vehicles, sizeof(*p->vehicles));
	for(int v = 0; v < p->n_vehicles; v++) {
		struct otd_vrp_vehicle *veh = &p->vehicles[v];
		veh->start_node = 0;
		veh->end_node = 0;
		veh->start = rows[0].ready;
		veh->end = rows[0].due;
		veh->capacity = capacity;
		veh->skills = 0;
		veh->id = v + 1;
	}
}

/* Copies the name line into name[64], cut at a UTF-8 character boundary. */
static void solomon_name(struct otd_vrp *p, const char *b, size_t n)
{
	size_t max = sizeof(p->name) - 1;
	if(n > max) {
		n = max;
		/* Do not end inside a multi-byte character. */
		while(n > 0 && ((unsigned char)b[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(p->name, b, n);
	p->name[n] = '\0';
}

bool otd_solomon_parse(const char *text, size_t len, struct otd_vrp *p, char *err, size_t err_len)
{
	struct lines l = {text, text ? len : 0, 0, 0};
	struct solomon_row *rows = NULL;
	int n_rows = 0, rows_size = 0, n_vehicles = 0, capacity = 0;
	const char *b;
	size_t n;
	struct tokens t;
	char shown[SHOW_MAX + 4];

	memset(p, 0, sizeof(*p));
	say(err, err_len, "%s", "");
	const char *nul = l.len ? memchr(text, '\0', l.len) : NULL;
	if(nul) {
		size_t line = 1;
		for(const char *q = text; q < nul; q++)
			line += *q == '\n';
		say(err, err_len, "line %zu: a NUL byte", line);
		return false;
	}

	if(!lines_next_filled(&l, &b, &n)) {
		say(err, err_len, "line 1: the text is empty; expected the instance name");
		return false;
	}
	tokens_split(b, n, &t);
	if(t.n == 1 && token_is(t.b[0], t.len[0], "VEHICLE")) {
		say(err, err_len, "line %zu: the instance name is missing before VEHICLE", l.line);
		return false;
	}
	solomon_name(p, b, n);

	if(!solomon_expect(&l, "VEHICLE", NULL, "\"VEHICLE\"", err, err_len) ||
	   !solomon_expect(&l, "NUMBER", "CAPACITY", "\"NUMBER CAPACITY\"", err, err_len))
		goto fail;
	if(!lines_next_filled(&l, &b, &n)) {
		say(err, err_len, "line %zu: the text ends before the vehicle number and capacity",
		    lines_last(&l));
		goto fail;
	}
	tokens_split(b, n, &t);
	if(t.n != 2) {
		say(err, err_len,
		    "line %zu: expected the vehicle number and capacity, found %d fields", l.line,
		    t.n);
		goto fail;
	}
	if(!solomon_whole(t.b[0], t.len[0], 1, SOLOMON_MAX_VEHICLES, &n_vehicles)) {
		token_show(shown, t.b[0], t.len[0]);
		say(err, err_len,
		    "line %zu: vehicle number \"%s\" must be a whole number from 1 to %d", l.line,
		    shown, SOLOMON_MAX_VEHICLES);
		goto fail;
	}
	if(!solomon_whole(t.b[1], t.len[1], 0, SOLOMON_MAX_VALUE, &capacity)) {
		token_show(shown, t.b[1], t.len[1]);
		say(err, err_len, "line %zu: capacity \"%s\" must be a whole number from 0 to %g",
		    l.line, shown, SOLOMON_MAX_VALUE);
		goto fail;
	}

	if(!solomon_expect(&l, "CUSTOMER", NULL, "\"CUSTOMER\"", err, err_len))
		goto fail;
	if(!lines_next_filled(&l, &b, &n)) {
		say(err, err_len, "line %zu: the text ends before the column header after CUSTOMER",
		    lines_last(&l));
		goto fail;
	}
	tokens_split(b, n, &t);
	double ignored;
	if(number_parse(t.b[0], t.len[0], &ignored)) {
		say(err, err_len,
		    "line %zu: expected the column header after CUSTOMER, found a row of numbers",
		    l.line);
		goto fail;
	}

	while(lines_next_filled(&l, &b, &n)) {
		if(n_rows == SOLOMON_MAX_PLACES) {
			say(err, err_len, "line %zu: more than %d places (the depot and customers)",
			    l.line, SOLOMON_MAX_PLACES);
			goto fail;
		}
		if(n_rows == rows_size) {
			rows_size = rows_size ? 2 * rows_size : 128;
			if(rows_size > SOLOMON_MAX_PLACES)
				rows_size = SOLOMON_MAX_PLACES;
			rows = xrealloc(rows, (size_t)rows_size * sizeof(*rows));
		}
		tokens_split(b, n, &t);
		if(!solomon_row(&t, l.line, n_rows, &rows[n_rows], err, err_len))
			goto fail;
		n_rows++;
	}
	if(n_rows < 2) {
		say(err, err_len, "line %zu: %s", lines_last(&l),
		    n_rows ? "no customers after the depot"
		           : "no depot row after the column header");
		goto fail;
	}
	solomon_build(p, rows, n_rows, n_vehicles, capacity);
	free(rows);
	return true;

fail:
	free(rows);
	otd_vrp_cleanup(p);
	return false;
}

/* ------------------------------------------------------------------ */
/* Route files                                                          */
/* ------------------------------------------------------------------ */

struct id_index {
	int64_t id;
	int job;
};

static int id_index_cmp(const void *x, const void *y)
{
	const struct id_index *a = x, *b = y;
	if(a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return a->job < b->job ? -1 : a->job > b->job;
}

/* Reads a token as an int64 written in decimal (an optional '-'). */
static bool id_parse(const char *b, size_t n, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	uint64_t v = 0;
	if(n > 0 && b[0] == '-') {
		neg = true;
		i = 1;
	}
	if(i == n)
		return false;
	for(; i < n; i++) {
		if(b[i] < '0' || b[i] > '9')
			return false;
		unsigned d = (unsigned)(b[i] - '0');
		if(v > ((uint64_t)INT64_MAX + 1 - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if(!neg && v > (uint64_t)INT64_MAX)
		return false;
	/* -(INT64_MAX + 1) is representable; the cast of its magnitude is not. */
	*out = neg ? (v ? -(int64_t)(v - 1) - 1 : 0) : (int64_t)v;
	return true;
}

/* One customer as read, in reading order. */
struct route_entry {
	int vehicle, job;
};

bool otd_vrp_routes_parse(const struct otd_vrp *p, const char *text, size_t len,
                          struct otd_vrp_solution *s, char *err, size_t err_len)
{
	static const char prefix[] = "Route #";
	const size_t prefix_len = sizeof(prefix) - 1;
	struct lines l = {text, text ? len : 0, 0, 0};
	const int nj = p->n_jobs > 0 ? p->n_jobs : 0;
	const int nv = p->n_vehicles > 0 ? p->n_vehicles : 0;
	struct id_index *ids = xmalloc((size_t)nj * sizeof(*ids));
	size_t *job_line = xcalloc((size_t)nj, sizeof(*job_line)); /* 0: on no route yet */
	size_t *route_line = xcalloc((size_t)nv, sizeof(*route_line));
	struct route_entry *entries = xmalloc((size_t)nj * sizeof(*entries));
	int n_entries = 0;
	bool ok = false;
	const char *b;
	size_t n;
	char shown[SHOW_MAX + 4];

	otd_vrp_solution_init(s, p);
	say(err, err_len, "%s", "");
	for(int j = 0; j < nj; j++) {
		ids[j].id = p->jobs[j].id;
		ids[j].job = j;
	}
	qsort(ids, (size_t)nj, sizeof(*ids), id_index_cmp);

	while(lines_next(&l, &b, &n)) {
		size_t i = 0;
		while(i < n && (b[i] == ' ' || b[i] == '\t'))
			i++;
		if(n - i < prefix_len || memcmp(b + i, prefix, prefix_len) != 0)
			continue;
		i += prefix_len;
		/* Digits past the vehicles only need to stay beyond them. */
		int64_t k = 0;
		size_t digits = i;
		while(i < n && b[i] >= '0' && b[i] <= '9') {
			if(k <= nv)
				k = k * 10 + (b[i] - '0');
			i++;
		}
		if(i == digits) {
			say(err, err_len, "line %zu: expected a route number after \"Route #\"",
			    l.line);
			goto out;
		}
		size_t digits_end = i;
		while(i < n && is_blank(b[i]))
			i++;
		if(i == n || b[i] != ':') {
			say(err, err_len, "line %zu: expected ':' after the route number", l.line);
			goto out;
		}
		i++;
		if(k < 1) {
			say(err, err_len, "line %zu: route numbers start at 1", l.line);
			goto out;
		}
		if(k > nv) {
			token_show(shown, b + digits, digits_end - digits);
			say(err, err_len, "line %zu: route %s is beyond the %d vehicles", l.line,
			    shown, nv);
			goto out;
		}
		int v = (int)k - 1;
		if(route_line[v]) {
			say(err, err_len, "line %zu: route %d is given twice (first on line %zu)",
			    l.line, v + 1, route_line[v]);
			goto out;
		}
		route_line[v] = l.line;

		for(;;) {
			while(i < n && is_blank(b[i]))
				i++;
			if(i == n)
				break;
			size_t start = i;
			while(i < n && !is_blank(b[i]))
				i++;
			int64_t id;
			if(!id_parse(b + start, i - start, &id)) {
				token_show(shown, b + start, i - start);
				say(err, err_len, "line %zu: \"%s\" is not a customer id", l.line,
				    shown);
				goto out;
			}
			struct id_index key = {id, -1};
			/* The first job with this id: key sorts before all of them. */
			size_t lo = 0, hi = (size_t)nj;
			while(lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if(id_index_cmp(&ids[mid], &key) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			if(lo == (size_t)nj || ids[lo].id != id) {
				say(err, err_len, "line %zu: unknown customer %" PRId64, l.line,
				    id);
				goto out;
			}
			int j = ids[lo].job;
			if(job_line[j]) {
				say(err, err_len,
				    "line %zu: customer %" PRId64
				    " is on a route twice (first on line %zu)",
				    l.line, id, job_line[j]);
				goto out;
			}
			job_line[j] = l.line;
			/* Each job is read at most once, so entries never overflow. */
			entries[n_entries].vehicle = v;
			entries[n_entries].job = j;
			n_entries++;
		}
	}

	/* Routes may come in any order: place each route's entries, in the
	 * order read, at its vehicle's slot. */
	for(int e = 0; e < n_entries; e++)
		s->first[entries[e].vehicle + 1]++;
	for(int v = 0; v < nv; v++)
		s->first[v + 1] += s->first[v];
	{
		int *cursor = xmalloc((size_t)nv * sizeof(*cursor));
		for(int v = 0; v < nv; v++)
			cursor[v] = s->first[v];
		for(int e = 0; e < n_entries; e++)
			s->order[cursor[entries[e].vehicle]++] = entries[e].job;
		free(cursor);
	}
	s->n_unassigned = 0;
	for(int j = 0; j < nj; j++)
		if(!job_line[j])
			s->unassigned[s->n_unassigned++] = j;
	ok = true;

out:
	/* On failure nothing stays allocated (s is zeroed; cleanup is safe). */
	if(!ok)
		otd_vrp_solution_cleanup(s);
	free(ids);
	free(job_line);
	free(route_line);
	free(entries);
	return ok;
}
