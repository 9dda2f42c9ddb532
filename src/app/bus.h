/* onthedot live-change bus: what changed, for the live streams (DESIGN.md,
 * "Risk": "A dispatcher sees it at once"; the tracking issue's streams).
 *
 * Use cases publish AFTER their transaction has committed (a rolled-back
 * change is never shown). Every event gets the next id (1, 2, ...) and is
 * kept in a ring of the latest ones so a stream that reconnects with
 * Last-Event-ID gets what it missed (or is told to reload when it is too
 * old). Thread-safe. */
#ifndef OTD_APP_BUS_H
#define OTD_APP_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"

struct otd_bus;

struct otd_bus_event {
	const char *type;          /* SSE event name: "appointment", "visitor" */
	int64_t appointment_id;    /* the appointment it concerns; 0: none */
	int64_t visitor_id;        /* the visitor whose route it concerns; 0: none */
	const char *staff_json;    /* data for the dispatch stream and the visitor's own
	                            * route stream (one JSON object, no newline) */
	const char *customer_json; /* data for the customer's stream of appointment_id
	                            * (status and arrival band only; never another
	                            * customer's data or a position); NULL: nothing */
};

/* A bus keeping the latest ring events (>= 16). */
struct otd_bus *bus_new(size_t ring);

/* Frees the bus. Streams must be gone. NULL is ignored. */
void bus_free(struct otd_bus *b);

/* Copies ev into the ring, wakes the streams it concerns and returns its
 * id. b NULL (the command line has no bus) does nothing and returns 0. */
uint64_t bus_publish(struct otd_bus *b, const struct otd_bus_event *ev);

/* ---- subscriptions: the live streams ----------------------------------- */

enum otd_bus_scope {
	OTD_BUS_STAFF,    /* staff data of every event (dispatchers) */
	OTD_BUS_VISITOR,  /* staff data of the events of one visitor_id */
	OTD_BUS_CUSTOMER, /* customer data of the events of one appointment_id */
};

struct otd_bus_sub;

/* Called with the bus's lock held, so a wake-up can never slip in between
 * "nothing to send" and parking: park suspends the stream's connection,
 * wake resumes it. Neither may call a bus function. */
typedef void (*otd_bus_fn)(void *arg);

struct otd_bus_sub_options {
	enum otd_bus_scope scope;
	int64_t id;           /* the visitor or appointment; unused for STAFF */
	const char *owner;    /* who opens it, for the cap ("user:5", "link:7") */
	size_t max_per_owner; /* 0: no cap */
	size_t max_total;     /* 0: no cap */
	bool has_last_id;     /* the client sent Last-Event-ID */
	uint64_t last_id;     /* it has seen every event up to this id */
	otd_bus_fn park, wake;
	void *arg;
};

/* Opens a subscription. Without has_last_id it starts after the latest
 * event; with it, it replays the matching events after last_id, or starts
 * with a reset when those are no longer in the ring (or last_id is from
 * before a restart: larger than the latest id). *start_id is where it
 * starts (the id the stream announces first). OTD_ERATE when owner has
 * max_per_owner open, OTD_EBUSY when max_total are open or the bus is
 * closed. The caller owns *out and ends it with bus_unsubscribe. */
enum otd_status bus_subscribe(struct otd_bus *b, const struct otd_bus_sub_options *o,
                              struct otd_bus_sub **out, uint64_t *start_id);

/* Ends a subscription (NULL is ignored). It must not be parked (its
 * connection suspended) unless the bus is closed. */
void bus_unsubscribe(struct otd_bus_sub *s);

enum otd_bus_next {
	OTD_BUS_NONE,   /* nothing now; parked when park_until > 0 */
	OTD_BUS_EVENT,  /* an event for this subscriber in *out */
	OTD_BUS_RESET,  /* events were lost: the page must reload; out->id is where it resumes */
	OTD_BUS_CLOSED, /* the bus is closing: end the stream */
};

struct otd_bus_message {
	uint64_t id;
	char type[32];
	char *data; /* heap, the caller frees it; NULL unless OTD_BUS_EVENT */
};

/* The next thing for s. When there is none and park_until > 0, parks s
 * (calls its park function under the lock) until an event that matches is
 * published, bus_wake_due passes park_until, or the bus closes; each of
 * them calls wake once. */
enum otd_bus_next bus_next(struct otd_bus_sub *s, int64_t park_until,
                           struct otd_bus_message *out);

/* Wakes every parked subscriber whose park_until is <= now (heartbeats).
 * Returns how many it woke. */
size_t bus_wake_due(struct otd_bus *b, int64_t now);

/* Closes the bus: no new subscription, every parked one is woken and
 * bus_next answers OTD_BUS_CLOSED from now on. */
void bus_close(struct otd_bus *b);

/* Subscriptions open right now, and of them parked. */
size_t bus_open_count(struct otd_bus *b, size_t *parked);

/* The id of the latest event (0: none yet). */
uint64_t bus_latest_id(struct otd_bus *b);

#endif
