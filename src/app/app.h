/* onthedot use cases: the application object and the principal.
 *
 * http and cli call only this layer; it composes core (pure logic) and
 * store (SQLite). Every write use case runs as one write job on the single
 * writer (all of its changes kept, or none) and records an audit entry in
 * the same transaction. */
#ifndef OTD_APP_H
#define OTD_APP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/config.h"
#include "onthedot/clock.h"
#include "onthedot/model.h"
#include "onthedot/status.h"

struct otd_store;
struct otd_tz;
struct otd_hasher;
struct otd_limits;
struct otd_planner;
struct otd_bus;
struct otd_bus_link;
struct otd_message_set;
struct otd_rule_set;
struct otd_addresses;
struct otd_trust_cache;

enum otd_principal_kind {
	OTD_PRINCIPAL_NONE = 0,
	OTD_PRINCIPAL_SESSION, /* a user signed in with a cookie */
	OTD_PRINCIPAL_TOKEN,   /* an admin API token */
	OTD_PRINCIPAL_CLI,     /* the onthedot command on the server's machine */
};

#define OTD_CSRF_LEN 43 /* base64url of 32 bytes, no padding */

/* Who is acting, for authorisation and the audit log. */
struct otd_principal {
	enum otd_principal_kind kind;
	unsigned role;      /* one OTD_ROLE_* bit */
	int64_t user_id;    /* sessions */
	int64_t session_id; /* sessions */
	int64_t token_id;   /* tokens */
	int64_t visitor_id; /* visitor users: the visitor they are; else 0 */
	char csrf[OTD_CSRF_LEN + 1];
	char ip[64]; /* where the request came from; "cli" for the command */
};

struct otd_app {
	const struct otd_config *cfg;
	struct otd_store *store;
	struct otd_clock *clock;
	struct otd_tz *tz;
	struct otd_hasher *hasher;
	struct otd_limits *limits;
	struct otd_planner *planner;
	struct otd_bus *bus; /* live changes for the streams; NULL on the command line */
	struct otd_bus_link
	    *_Atomic bus_link; /* the other nodes sharing the database (app/publish.h);
	                        * NULL: none (SQLite, the command line) */
	char *vtimezone; /* the zone as an iCalendar VTIMEZONE, made at start */
	char *base_url;  /* of links in messages, without a trailing '/' */
	struct otd_message_set *messages; /* the message templates (app/messages.h) */
	struct otd_rule_set *rules;       /* the guarantee rules in force; NULL: no ledger */
	struct otd_addresses *addresses;  /* the autocomplete index (app/addresses.h); server only */
	struct otd_trust_cache *trust;    /* the public trust figures, kept a minute (app/trust.h) */
	struct otd_rebalance_cache *rebalance; /* proposals kept for apply (app/rebalance.h) */
	/* This node's id (32 hex digits): random from app_open, and on a
	 * shared store a hash of the node's name from app_listening. The
	 * outbox rows it claims and its ticker shards carry it (DESIGN.md,
	 * Storage and scale). The events it publishes carry the random id it
	 * had when app_open started the link, so that no two processes ever
	 * take each other's events for their own. */
	char node_id[33];
	bool shared_store; /* PostgreSQL: other nodes may serve the same database */
	struct {
		_Atomic int in_flight;           /* transfers to gateways running now */
		_Atomic uint64_t transfers;      /* started since start */
		_Atomic uint64_t outcome_errors; /* outcomes that could not be stored */
		_Atomic bool running;            /* a delivery worker runs */
		_Atomic uint64_t errors;         /* failed claims and due-time reads */
	} delivery; /* the delivery worker's counters (src/notify), for /metrics */
	struct {
		_Atomic uint64_t passes;      /* passes run (thread or virtual clock) */
		_Atomic uint64_t errors;      /* steps of those passes that failed */
		_Atomic int64_t last_success; /* wall clock of the last clean pass; 0: none */
	} ticker; /* the ticker's counters (app/ticker.c), for /metrics */
	struct {
		_Atomic int64_t last_run;   /* app clock seconds of the last pass; 0: none yet */
		_Atomic uint64_t runs;      /* passes run */
		_Atomic uint64_t errors;    /* passes that failed */
		_Atomic uint64_t contacts;  /* contacts anonymised */
		_Atomic uint64_t inbound;   /* texts from unknown senders cleared */
		_Atomic uint64_t events;    /* evidence events deleted */
		_Atomic uint64_t receipts;  /* delivery reports deleted */
		_Atomic uint64_t positions; /* visitor positions deleted or cleared */
		_Atomic uint64_t ips;       /* IP addresses blanked */
		_Atomic uint64_t erasures;  /* contacts erased on request (API, command) */
	} retention; /* the retention pass's counters (app/retention.c), for /metrics */
};

/* What app_open starts: the command line needs the store only, the
 * server also the password workers and the rate limiters; the simulator
 * (src/sim) the store only, on a throw-away database written without
 * waiting for the disk (synchronous=OFF). */
enum otd_app_mode { OTD_APP_CLI, OTD_APP_SERVER, OTD_APP_SIMULATION };

/* Starts the application for cfg (which must outlive it): the clock (real,
 * or virtual at cfg->virtual_start), the organisation's zone table (loaded
 * once here, before any thread: TRAPS.md), the message templates (the
 * built-in ones and any in messages.templates_dir, each checked: a bad one
 * stops the start, err naming its file and line), the store, and in server
 * mode the hasher and limiters. On failure everything started is stopped and
 * err says what is wrong. */
enum otd_status app_open(struct otd_app *app, const struct otd_config *cfg, enum otd_app_mode mode,
                         struct otd_error *err);

/* The server calls this once it has bound port (requests may already be
 * served), before the delivery worker and the ticker start. Sets the base
 * of links in messages to http://HOST:port when the configuration gives
 * no public_url. On a shared store (PostgreSQL) it names this node:
 * node_id becomes a hash of node_name, or of the host name and HOST:port
 * when node_name is "", so that the same node restarted finds its own
 * unfinished claims; it holds that name in the database while it runs.
 * OTD_ECONFLICT ("node_name_taken") when another process holds the same
 * name for longer than a stopping one would, or a store error. */
enum otd_status app_listening(struct otd_app *app, unsigned port, struct otd_error *err);

/* Stops and frees everything app_open started. */
void app_close(struct otd_app *app);

/* Creates the database file at path (it must not hold another schema)
 * with the latest schema, for a throw-away run (the simulator). */
enum otd_status app_create_database(const char *path, struct otd_error *err);

#endif
