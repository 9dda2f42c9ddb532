/* onthedot store: telling the other nodes that share one PostgreSQL
 * database what changed (LISTEN/NOTIFY on the channel otd_bus), so that a
 * dispatcher's stream on one node shows a change made on another.
 *
 * The store only carries opaque payloads (the app encodes them: app/publish.h).
 * Under SQLite there are no other nodes: store_notify and store_listen_start
 * do nothing and succeed. */
#ifndef OTD_STORE_NOTIFY_H
#define OTD_STORE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "onthedot/status.h"

struct otd_store;
struct store_listener;

/* The channel the nodes notify and listen on. */
#define STORE_NOTIFY_CHANNEL "otd_bus"

/* The longest payload in bytes PostgreSQL takes (it refuses 8000 or more). */
#define STORE_NOTIFY_MAX 7999

/* True when other processes may change the database beside this one and
 * tell it so (a PostgreSQL store); false for SQLite. */
bool store_is_shared(struct otd_store *s);

/* Sends payload (at most STORE_NOTIFY_MAX bytes, valid UTF-8, no NUL) to
 * every listener of the database, this process's included, at once and
 * outside any transaction. SQLite: does nothing, OTD_OK. OTD_EINVAL for a
 * payload too long; OTD_EBUSY or OTD_EIO when the database cannot take it
 * now (the change itself is committed: only the news of it is lost). */
enum otd_status store_notify(struct otd_store *s, const char *payload, struct otd_error *err);

struct store_listen_hooks {
	/* Called on the listener's thread for each payload, in the order the
	 * notifying transactions committed; payload lives only during the call. */
	void (*payload)(void *arg, const char *payload);
	/* Called on the listener's thread when the listening connection is lost
	 * ("store_listen_lost", a reason) or back ("store_listen_restored"):
	 * payloads sent in between are missed. May be NULL. */
	void (*state)(void *arg, const char *event, const char *detail);
	void *arg;
};

/* Starts a thread with its own connection that LISTENs on
 * STORE_NOTIFY_CHANNEL and calls hooks->payload for each notification.
 * The first connection is made before it returns (a failure is reported
 * through hooks->state and retried); a lost one is made again with backoff
 * (0.1 s doubling up to 5 s). *out receives the listener, NULL under
 * SQLite (nothing to listen to). hooks is copied. Returns OTD_OK (or
 * OTD_EIO when no thread can be started). */
enum otd_status store_listen_start(struct otd_store *s, const struct store_listen_hooks *hooks,
                                   struct store_listener **out, struct otd_error *err);

/* Stops the listener promptly (it waits on its socket and a stop pipe),
 * joins its thread and frees it: no hook runs after it returns. NULL is
 * ignored. */
void store_listen_stop(struct store_listener *l);

#endif
