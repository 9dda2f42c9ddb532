/* onthedot configuration values, after the config file, the environment
 * and the command line have been applied (src/cli/config_file.c loads
 * them). Every field has a default; contrib/onthedot.conf documents each. */
#ifndef OTD_APP_CONFIG_H
#define OTD_APP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

struct otd_config {
	char *database;      /* SQLite file */
	char *listen;        /* "HOST:PORT"; port 0 picks a free one */
	char *timezone;      /* the organisation's zone, "Europe/London" */
	char *organisation;  /* shown to people */
	char *public_url;    /* base of links in messages; "" = from listen */
	char *log_level;     /* debug, info, warn, error */
	char *port_file;     /* write the bound port here once listening */
	bool virtual_clock;  /* tests: time moves only when told */
	char *virtual_start; /* RFC 3339 start of a virtual clock */

	struct {
		int threads;            /* libmicrohttpd pool size */
		int max_connections;    /* total */
		int per_ip_connections; /* per client address */
		int idle_timeout;       /* seconds */
		int64_t max_body;       /* bytes */
		int shutdown_grace;     /* seconds to finish requests on SIGTERM */
		char **trusted_proxies; /* NULL-terminated addresses */
	} http;

	struct {
		int read_connections; /* read pool size */
		int writer_queue;     /* jobs waiting before 503 */
		int writer_wait_ms;   /* longest a request waits for the writer */
		int busy_timeout_ms;  /* against other processes only */
		int group_commit_max; /* jobs per COMMIT */
	} store;

	struct {
		int session_hours;   /* absolute session lifetime */
		bool secure_cookies; /* mark cookies Secure (TLS or TLS proxy) */
		int hash_workers;    /* threads computing argon2id */
		int hash_queue;      /* pending hashes before 503 */
	} auth;

	struct {
		double login_ip_per_minute;      /* refill rate per client address */
		int login_ip_burst;              /* bucket size */
		double login_account_per_minute; /* refill rate per account name */
		int login_account_burst;
		int list_max; /* largest ?limit= */
	} limits;
};

#endif
