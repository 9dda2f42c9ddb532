/* onthedot: publishing a committed change to the live streams of every
 * node (DESIGN.md, "Storage and scale": several nodes may share one
 * PostgreSQL database).
 *
 * app_publish puts the event on this process's bus and, when the store is
 * shared, sends it to the other nodes as a NOTIFY payload (store/notify.h).
 * Each node's listener republishes the events of the other nodes on its
 * own bus (never notifying again), so a dispatcher sees a change made on
 * any node. Under SQLite it is bus_publish and nothing more.
 *
 * The payload is one JSON object:
 *   {"node": "<app->node_id: the sending process>", "type": "appointment",
 *    "appointment_id": 12, "visitor_id": 3, "staff": "<staff_json>",
 *    "customer": "<customer_json>" or null}
 * staff and customer are the bus event's texts carried as strings, so the
 * other nodes' streams send exactly the bytes the local one does.
 * PostgreSQL takes payloads under 8000 bytes: an event whose payload would
 * be longer goes out without its data, as
 *   {"node", "type", "appointment_id", "visitor_id", "customer": true|false,
 *    "reload": true}
 * and the other nodes publish it as a "reset" event (what the pages answer
 * by fetching everything again) for the same appointment and visitor.
 * A node whose listening connection was lost publishes a reset for the
 * dispatchers when it is back: what was sent in between is missed. */
#ifndef OTD_APP_PUBLISH_H
#define OTD_APP_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/bus.h"
#include "onthedot/status.h"

struct otd_app;

#define OTD_NODE_ID_LEN 32 /* hex digits of a node id (app->node_id) */

/* Publishes ev (a change that has committed) on app's bus and, when the
 * store is shared and the link is started, to the other nodes. A failure
 * to notify is logged, never returned: the change itself is committed.
 * Returns the local event id (0 without a bus: the command line). */
uint64_t app_publish(struct otd_app *app, const struct otd_bus_event *ev);

/* Server mode, after the bus exists (app_open calls it): when the store is
 * shared, starts
 * listening to the other nodes
 * (app->bus_link). Does nothing under SQLite or without a bus. */
enum otd_status app_publish_start(struct otd_app *app, struct otd_error *err);

/* Stops listening (before the bus is freed). Safe when never started. */
void app_publish_stop(struct otd_app *app);

/* ---- the payload (exposed for the unit tests) ------------------------- */

/* Encodes ev as sent by node (OTD_NODE_ID_LEN hex digits), at most max
 * bytes (STORE_NOTIFY_MAX): the full form when it fits, else the reload
 * form. Returns a heap string, NULL only when even the reload form does
 * not fit max or ev has no type. */
char *bus_payload_encode(const char *node, const struct otd_bus_event *ev, size_t max);

/* A decoded payload: ev is ready for bus_publish (its strings point into
 * this struct). */
struct bus_payload {
	char node[OTD_NODE_ID_LEN + 1];
	char type[32];
	bool reload;    /* sent without data: ev is a "reset" */
	char *staff;    /* heap */
	char *customer; /* heap; NULL: none */
	struct otd_bus_event ev;
};

/* Decodes payload into *out; false (and *out empty) when it is not one of
 * ours (bad JSON, a field missing or of the wrong kind, a type too long).
 * Free with bus_payload_free. */
bool bus_payload_decode(const char *payload, struct bus_payload *out);

/* Frees what bus_payload_decode allocated (NULL or empty is ignored). */
void bus_payload_free(struct bus_payload *p);

#endif
