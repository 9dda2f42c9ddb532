/* Starting and stopping the application object. */
#include "app/app.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/addresses.h"
#include "app/backups.h"
#include "app/bus.h"
#include "app/hasher.h"
#include "app/limits.h"
#include "app/log.h"
#include "app/guarantees.h"
#include "app/messages.h"
#include "onthedot/guarantee.h"
#include "app/planning.h"
#include "app/publish.h"
#include "app/rebalance.h"
#include "app/trust.h"
#include "app/tzload.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/risk.h"
#include "onthedot/tz.h"
#include "store/pg.h"
#include "store/store.h"

#define LIMITER_KEYS 65536
/* How long a node waits at start for a process of the same name (one
 * stopping, or killed and not yet noticed by the server) to let go. */
#define NODE_NAME_WAIT_S 15

/* The store's word that writes fail for the storage or a lock, or work
 * again (store_on_fault): one log line per change, not per write. */
static void log_store_fault(void *arg, const char *event, const char *kind, const char *detail)
{
	(void)arg;
	bool recovered =
	    strcmp(event, "store_writes_recovered") == 0 || strcmp(event, "store_reachable") == 0;
	otd_log(recovered                   ? OTD_LOG_INFO
	        : strcmp(kind, "busy") == 0 ? OTD_LOG_WARN
	                                    : OTD_LOG_ERROR,
	        event, "{s:s,s:s}", "kind", kind, "detail", detail);
}

/* Takes the memory of the page caches the store's connections will use
 * (the writer's, each reader's and 2 MiB for the checkpointing
 * connection) now, so the server's resident memory does not grow as they
 * fill with the data. A failure (SQLite already started in this process)
 * only costs that: it is logged. */
static void reserve_page_cache(const struct otd_config *cfg)
{
	int readers = cfg->store.read_connections < 1 ? 1 : cfg->store.read_connections;
	size_t kib = STORE_WRITER_CACHE_KIB + (size_t)readers * STORE_READER_CACHE_KIB + 2048;
	struct otd_error e;
	otd_error_clear(&e);
	if(store_reserve_page_cache(kib, &e) == OTD_OK)
		otd_log(OTD_LOG_INFO, "page_cache_reserved", "{s:i}", "mib", (int)(kib / 1024));
	else
		otd_log(OTD_LOG_WARN, "page_cache_not_reserved", "{s:s}", "why", e.message);
}

enum otd_status app_open(struct otd_app *app, const struct otd_config *cfg, enum otd_app_mode mode,
                         struct otd_error *err)
{
	memset(app, 0, sizeof(*app));
	app->cfg = cfg;
	unsigned char node[16];
	randombytes_buf(node, sizeof(node));
	sodium_bin2hex(app->node_id, sizeof(app->node_id), node, sizeof(node));
	app->shared_store = store_path_is_pg(cfg->database);
	enum otd_status st;
	struct otd_risk_thresholds th = {cfg->tracking.watch_enter, cfg->tracking.watch_exit,
	                                 cfg->tracking.at_risk_enter, cfg->tracking.at_risk_exit};
	if(!otd_risk_thresholds_valid(&th))
		return otd_error_set(err, OTD_EINVAL, "bad_config", "tracking",
		                     "tracking thresholds must keep each exit at or below its enter "
		                     "and watch at or below at_risk.");
	if(cfg->virtual_clock) {
		int64_t start = 0;
		if(cfg->virtual_start && cfg->virtual_start[0]) {
			st = otd_rfc3339_parse(cfg->virtual_start, &start, err);
			if(st) {
				snprintf(err->field, sizeof(err->field), "virtual_start");
				return st;
			}
		} else {
			struct otd_clock *real = otd_clock_new_real();
			start = otd_clock_now(real);
			otd_clock_free(real);
		}
		app->clock = otd_clock_new_virtual(start);
	} else {
		app->clock = otd_clock_new_real();
	}
	st = tzload_build(cfg->timezone, 1990, 2100, &app->tz, err);
	if(st)
		goto fail;
	/* Before the store: a mistake in a template is found without touching
	 * the database, and no message is ever rendered with words unchecked. */
	st = app_messages_load(cfg, &app->messages, err);
	if(st == OTD_OK)
		st = app_guarantees_load(app, err);
	if(st)
		goto fail;
	struct otd_store_options so = {.path = cfg->database,
	                               .read_connections = cfg->store.read_connections,
	                               .writer_queue = cfg->store.writer_queue,
	                               .writer_wait_ms = cfg->store.writer_wait_ms,
	                               .busy_timeout_ms = cfg->store.busy_timeout_ms,
	                               .group_commit_max = cfg->store.group_commit_max,
	                               .synchronous_off = mode == OTD_APP_SIMULATION};
	if(mode == OTD_APP_SERVER && !store_skip_memory_statistics())
		otd_log(OTD_LOG_WARN, "memory_statistics_left_on", "{s:s}", "why",
		        "SQLite had already started in this process");
	if(mode == OTD_APP_SERVER && cfg->store.reserve_page_cache)
		reserve_page_cache(cfg);
	/* store.startup_check: a damaged database is refused before the store
	 * reads it (after the page cache: the check is SQLite's first use). */
	if(mode == OTD_APP_SERVER && (st = app_startup_check(cfg, err)))
		goto fail;
	st = store_open(&so, &app->store, err);
	if(st)
		goto fail;
	store_on_fault(app->store, log_store_fault, NULL);
	app->trust = trust_cache_new();
	app->rebalance = rebalance_cache_new();
	app->planner = planner_new(cfg, app->tz, err);
	if(!app->planner) {
		st = err->status;
		goto fail;
	}
	st = tzload_vtimezone(cfg->timezone, &app->vtimezone, err);
	if(st)
		goto fail;
	if(cfg->public_url && cfg->public_url[0])
		app->base_url = xstrdup(cfg->public_url);
	else
		app->base_url = xasprintf(
		    "%s://%s", cfg->http.tls_cert && cfg->http.tls_cert[0] ? "https" : "http",
		    cfg->listen);
	if(mode == OTD_APP_SERVER) {
		app->hasher = hasher_new(cfg->auth.hash_workers, cfg->auth.hash_queue);
		app->limits = xcalloc(1, sizeof(*app->limits));
		app->limits->login_ip = limiter_new(cfg->limits.login_ip_per_minute,
		                                    cfg->limits.login_ip_burst, LIMITER_KEYS);
		app->limits->login_account = limiter_new(cfg->limits.login_account_per_minute,
		                                         cfg->limits.login_account_burst, LIMITER_KEYS);
		app->limits->slots = limiter_new(cfg->booking.slots_per_minute,
		                                 cfg->booking.slots_burst, LIMITER_KEYS);
		app->limits->resend = limiter_new(cfg->booking.resend_per_hour / 60.0,
		                                  cfg->booking.resend_burst, LIMITER_KEYS);
		app->limits->sms = limiter_new(cfg->booking.sms_client_per_hour / 60.0,
		                               cfg->booking.sms_client_burst, LIMITER_KEYS);
		app->limits->addresses = limiter_new(cfg->limits.address_searches_per_minute,
		                                     cfg->limits.address_searches_burst, LIMITER_KEYS);
		app->bus = bus_new((size_t)cfg->streams.ring);
		/* Before the server takes requests, so that none of their changes
		 * misses the other nodes. */
		st = app_publish_start(app, err);
		if(st)
			goto fail;
		st = app_addresses_start(app, err);
		if(st)
			goto fail;
	}
	return OTD_OK;
fail:
	app_close(app);
	return st;
}

enum otd_status app_listening(struct otd_app *app, unsigned port, struct otd_error *err)
{
	const char *listen = app->cfg->listen;
	const char *colon = strrchr(listen, ':');
	int host = (int)(colon ? (size_t)(colon - listen) : strlen(listen));
	if(!app->cfg->public_url || !app->cfg->public_url[0]) {
		const char *tls = app->cfg->http.tls_cert;
		free(app->base_url);
		app->base_url =
		    xasprintf("%s://%.*s:%u", tls && tls[0] ? "https" : "http", host, listen, port);
	}
	if(!app->shared_store)
		return OTD_OK;
	/* The name: given, or this host's name and the address bound, which no
	 * other running process can hold. */
	char *name;
	if(app->cfg->node_name && app->cfg->node_name[0]) {
		name = xstrdup(app->cfg->node_name);
	} else {
		char hostname[256] = "";
		if(gethostname(hostname, sizeof(hostname) - 1) != 0)
			hostname[0] = '\0';
		name = xasprintf("%s/%.*s:%u", hostname, host, listen, port);
	}
	unsigned char id[OTD_NODE_ID_LEN / 2];
	crypto_generichash(id, sizeof(id), (const unsigned char *)name, strlen(name), NULL, 0);
	sodium_bin2hex(app->node_id, sizeof(app->node_id), id, sizeof(id));
	/* A second process under the same name would take this one's sends in
	 * flight for its own: refused (one that is stopping is waited for). */
	int64_t key = 0;
	memcpy(&key, id, sizeof(key));
	enum otd_status st = store_hold_node_name(app->store, key, NODE_NAME_WAIT_S, err);
	if(st == OTD_OK)
		otd_log(OTD_LOG_INFO, "node", "{s:s,s:s}", "name", name, "node", app->node_id);
	else if(st == OTD_ECONFLICT)
		otd_error_set(err, st, "node_name_taken", "node_name",
		              "Another onthedot node named \"%s\" is connected to this database "
		              "(waited %d s for it to stop); give each node its own node_name.",
		              name, NODE_NAME_WAIT_S);
	free(name);
	return st;
}

void app_close(struct otd_app *app)
{
	if(app->hasher)
		hasher_free(app->hasher);
	app_publish_stop(app); /* its listener publishes on the bus */
	bus_free(app->bus);
	if(app->limits) {
		limiter_free(app->limits->login_ip);
		limiter_free(app->limits->login_account);
		limiter_free(app->limits->slots);
		limiter_free(app->limits->resend);
		limiter_free(app->limits->sms);
		limiter_free(app->limits->addresses);
		free(app->limits);
	}
	app_addresses_stop(app); /* its watcher reads the store */
	planner_free(app->planner);
	store_close(app->store);
	trust_cache_free(app->trust);
	rebalance_cache_free(app->rebalance);
	free(app->vtimezone);
	free(app->base_url);
	otd_message_set_free(app->messages);
	if(app->rules) {
		otd_rule_set_cleanup(app->rules);
		free(app->rules);
		app->rules = NULL;
	}
	if(app->tz)
		otd_tz_free(app->tz);
	if(app->clock)
		otd_clock_free(app->clock);
	memset(app, 0, sizeof(*app));
}

enum otd_status app_create_database(const char *path, struct otd_error *err)
{
	int from, to;
	return store_migrate(path, true, 1000, &from, &to, NULL, err);
}
