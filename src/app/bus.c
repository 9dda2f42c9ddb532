/* The live-change bus: a ring of the latest events and the streams
 * subscribed to them (bus.h). One mutex guards everything; publishing is
 * O(subscribers), which is a few hundred at most (streams are capped).
 *
 * A subscriber's cursor is the id of the last event it has been given or
 * skipped. A parked subscriber has seen everything (cursor == latest at
 * park time), so a publish that does not concern it moves its cursor on:
 * a quiet customer stream is not reset because others were busy. */
#include "app/bus.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"

struct ring_event {
	uint64_t id; /* 0: empty slot */
	char type[32];
	int64_t appointment_id;
	int64_t visitor_id;
	char *staff_json;
	char *customer_json;
};

struct otd_bus_sub {
	struct otd_bus *bus;
	struct otd_bus_sub *prev, *next;
	enum otd_bus_scope scope;
	int64_t id;
	char owner[64];
	uint64_t cursor;
	bool reset_pending;
	bool parked;
	int64_t park_until;
	otd_bus_fn park, wake;
	void *arg;
};

struct otd_bus {
	pthread_mutex_t lock;
	struct ring_event *ring;
	size_t size;
	uint64_t latest;
	bool closed;
	struct otd_bus_sub *subs;
	size_t n_subs;
};

#define RING_MIN 16

struct otd_bus *bus_new(size_t ring)
{
	struct otd_bus *b = xcalloc(1, sizeof(*b));
	b->size = ring < RING_MIN ? RING_MIN : ring;
	b->ring = xcalloc(b->size, sizeof(*b->ring));
	pthread_mutex_init(&b->lock, NULL);
	return b;
}

void bus_free(struct otd_bus *b)
{
	if(!b)
		return;
	assert(b->subs == NULL);
	for(size_t i = 0; i < b->size; i++) {
		free(b->ring[i].staff_json);
		free(b->ring[i].customer_json);
	}
	free(b->ring);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* The oldest id still in the ring (latest + 1 when the ring is empty). */
static uint64_t oldest_id(const struct otd_bus *b)
{
	return b->latest >= b->size ? b->latest - b->size + 1 : 1;
}

static struct ring_event *slot_of(struct otd_bus *b, uint64_t id)
{
	return &b->ring[(id - 1) % b->size];
}

/* The data of e for s, or NULL when e does not concern s. */
static const char *data_for(const struct otd_bus_sub *s, const struct ring_event *e)
{
	switch(s->scope) {
	case OTD_BUS_STAFF: return e->staff_json;
	case OTD_BUS_VISITOR: return e->visitor_id == s->id ? e->staff_json : NULL;
	case OTD_BUS_CUSTOMER: return e->appointment_id == s->id ? e->customer_json : NULL;
	}
	return NULL;
}

uint64_t bus_publish(struct otd_bus *b, const struct otd_bus_event *ev)
{
	if(!b || !ev || !ev->type)
		return 0;
	/* Copy outside the lock; only the swap happens under it. */
	char *staff = ev->staff_json ? xstrdup(ev->staff_json) : NULL;
	char *customer = ev->customer_json ? xstrdup(ev->customer_json) : NULL;
	pthread_mutex_lock(&b->lock);
	uint64_t id = ++b->latest;
	struct ring_event *e = slot_of(b, id);
	char *old_staff = e->staff_json, *old_customer = e->customer_json;
	e->id = id;
	snprintf(e->type, sizeof(e->type), "%s", ev->type);
	e->appointment_id = ev->appointment_id;
	e->visitor_id = ev->visitor_id;
	e->staff_json = staff;
	e->customer_json = customer;
	for(struct otd_bus_sub *s = b->subs; s; s = s->next) {
		if(!s->parked)
			continue; /* it will find the event when it next asks */
		if(data_for(s, e)) {
			s->parked = false;
			s->wake(s->arg);
		} else if(s->cursor == id - 1) {
			s->cursor = id;
		}
	}
	pthread_mutex_unlock(&b->lock);
	free(old_staff);
	free(old_customer);
	return id;
}

enum otd_status bus_subscribe(struct otd_bus *b, const struct otd_bus_sub_options *o,
                              struct otd_bus_sub **out, uint64_t *start_id)
{
	*out = NULL;
	pthread_mutex_lock(&b->lock);
	enum otd_status st = OTD_OK;
	if(b->closed || (o->max_total && b->n_subs >= o->max_total)) {
		st = OTD_EBUSY;
		goto out;
	}
	if(o->max_per_owner && o->owner) {
		size_t mine = 0;
		for(struct otd_bus_sub *s = b->subs; s; s = s->next)
			if(strcmp(s->owner, o->owner) == 0)
				mine++;
		if(mine >= o->max_per_owner) {
			st = OTD_ERATE;
			goto out;
		}
	}
	struct otd_bus_sub *s = xcalloc(1, sizeof(*s));
	s->bus = b;
	s->scope = o->scope;
	s->id = o->id;
	snprintf(s->owner, sizeof(s->owner), "%s", o->owner ? o->owner : "");
	s->park = o->park;
	s->wake = o->wake;
	s->arg = o->arg;
	s->cursor = b->latest;
	if(o->has_last_id) {
		/* Events after last_id are all still here when last_id + 1 is. A
		 * last_id beyond the latest comes from before a restart. */
		if(o->last_id > b->latest || o->last_id + 1 < oldest_id(b))
			s->reset_pending = true;
		else
			s->cursor = o->last_id;
	}
	s->next = b->subs;
	if(b->subs)
		b->subs->prev = s;
	b->subs = s;
	b->n_subs++;
	*out = s;
	*start_id = s->cursor;
out:
	pthread_mutex_unlock(&b->lock);
	return st;
}

void bus_unsubscribe(struct otd_bus_sub *s)
{
	if(!s)
		return;
	struct otd_bus *b = s->bus;
	pthread_mutex_lock(&b->lock);
	assert(!s->parked || b->closed);
	if(s->prev)
		s->prev->next = s->next;
	else
		b->subs = s->next;
	if(s->next)
		s->next->prev = s->prev;
	b->n_subs--;
	pthread_mutex_unlock(&b->lock);
	free(s);
}

enum otd_bus_next bus_next(struct otd_bus_sub *s, int64_t park_until, struct otd_bus_message *out)
{
	struct otd_bus *b = s->bus;
	memset(out, 0, sizeof(*out));
	enum otd_bus_next r = OTD_BUS_NONE;
	pthread_mutex_lock(&b->lock);
	s->parked = false;
	if(b->closed) {
		r = OTD_BUS_CLOSED;
		goto out;
	}
	if(s->reset_pending || s->cursor + 1 < oldest_id(b)) {
		/* What it missed is gone (a slow reader, or too old a Last-Event-ID). */
		s->reset_pending = false;
		s->cursor = b->latest;
		out->id = b->latest;
		snprintf(out->type, sizeof(out->type), "reset");
		r = OTD_BUS_RESET;
		goto out;
	}
	while(s->cursor < b->latest) {
		struct ring_event *e = slot_of(b, ++s->cursor);
		assert(e->id == s->cursor);
		const char *data = data_for(s, e);
		if(data) {
			out->id = e->id;
			snprintf(out->type, sizeof(out->type), "%s", e->type);
			out->data = xstrdup(data);
			r = OTD_BUS_EVENT;
			goto out;
		}
	}
	if(park_until > 0) {
		s->parked = true;
		s->park_until = park_until;
		s->park(s->arg);
	}
out:
	pthread_mutex_unlock(&b->lock);
	return r;
}

size_t bus_wake_due(struct otd_bus *b, int64_t now)
{
	size_t n = 0;
	pthread_mutex_lock(&b->lock);
	for(struct otd_bus_sub *s = b->subs; s; s = s->next) {
		if(s->parked && s->park_until <= now) {
			s->parked = false;
			s->wake(s->arg);
			n++;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return n;
}

void bus_close(struct otd_bus *b)
{
	pthread_mutex_lock(&b->lock);
	b->closed = true;
	for(struct otd_bus_sub *s = b->subs; s; s = s->next) {
		if(s->parked) {
			s->parked = false;
			s->wake(s->arg);
		}
	}
	pthread_mutex_unlock(&b->lock);
}

size_t bus_open_count(struct otd_bus *b, size_t *parked)
{
	pthread_mutex_lock(&b->lock);
	size_t n = b->n_subs, p = 0;
	for(struct otd_bus_sub *s = b->subs; s; s = s->next)
		p += s->parked;
	pthread_mutex_unlock(&b->lock);
	if(parked)
		*parked = p;
	return n;
}

uint64_t bus_latest_id(struct otd_bus *b)
{
	pthread_mutex_lock(&b->lock);
	uint64_t id = b->latest;
	pthread_mutex_unlock(&b->lock);
	return id;
}
