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
	char *node_name;     /* this node among several on one database; "" = host + listen */
	char *log_level;     /* debug, info, warn, error */
	char *log_file;      /* append log lines here; "" = stderr */
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
		char *tls_cert;         /* PEM certificate chain; "" = plain HTTP */
		char *tls_key;          /* PEM private key, unencrypted */
		int hsts_seconds;       /* Strict-Transport-Security max-age; 0 = none */
	} http;

	struct {
		int read_connections; /* read pool size */
		int writer_queue;     /* jobs waiting before 503 */
		int writer_wait_ms;   /* longest a request waits for the writer */
		int busy_timeout_ms;  /* against other processes only */
		int group_commit_max; /* jobs per COMMIT */
		bool reserve_page_cache; /* serve: take the page caches' memory at start */
		char *startup_check;     /* "quick", "full" or "off": serve's check at start */
	} store;

	struct {
		char *dir;            /* scheduled backups are written here; "" = none */
		int interval_minutes; /* between two scheduled backups */
		int keep;             /* the newest scheduled backups kept, >= 1 */
	} backup;

	struct {
		int session_hours;   /* absolute session lifetime */
		bool secure_cookies; /* mark cookies Secure (TLS or TLS proxy) */
		int hash_workers;    /* threads computing argon2id */
		int hash_queue;      /* pending hashes before 503 */
	} auth;

	struct {
		double quantile;        /* plan arrivals at this quantile (0.8) */
		int step_minutes;       /* grid step of offered windows */
		double road_factor;     /* road distance / great-circle distance */
		double speed_kmh;       /* travel speed outside speed_by_hour */
		char **speed_by_hour;   /* "HH-HH=KMH" entries, local hours */
		double travel_spread;   /* log-normal sigma of a leg */
		int green_minutes;      /* travel added next to a visit still "green" */
		char *break_start;      /* "HH:MM": a break starts no earlier */
		char *break_end;        /* "HH:MM": and no later than this */
		int break_minutes;      /* its length; 0 = no break */
	} planning;

	struct {
		int lead_minutes;       /* no window starts sooner than this from now */
		int horizon_days;       /* nor later than this many days ahead */
		int max_visits_per_day; /* per visitor; 0 = no limit */
		char *same_day_cutoff;  /* "HH:MM": no same-day booking after; "" = none */
		int hold_minutes;       /* how long a chosen window is held */
		int offer_hold_minutes; /* how long a waitlist offer is held */
		int holds_per_client;   /* live holds one client may have */
		int link_days;          /* a customer link works this long after the visit */
		double slots_per_minute;/* slot queries per client (refill rate) */
		int slots_burst;
		double resend_per_hour; /* "send me a new link" per client */
		int resend_burst;
		double sms_client_per_hour; /* bookings asking for text messages, per client */
		int sms_client_burst;
		int sms_number_per_day;  /* text messages to one number in 24 hours */
		int sms_prefix_per_hour; /* to numbers sharing a prefix, in an hour */
		int sms_prefix_digits;   /* digits of that prefix after the country code */
	} booking;

	struct {
		bool auto_rebalance; /* on at_risk, apply a rebalance that saves a promise and
		                      * moves nobody else (app/rebalance.h) */
		int rebalance_iterations; /* optimiser iterations per proposal */
	} dispatch;

	struct {
		int ticker_seconds;      /* a risk pass over every active route this often */
		int samples;             /* Monte Carlo samples per projection, >= 256 */
		double watch_enter;      /* P(late) thresholds (DESIGN.md, Risk) */
		double watch_exit;
		double at_risk_enter;
		double at_risk_exit;
		int silent_minutes;      /* no word from a visitor expected to move: silent */
		int late_max_minutes;    /* the largest "late N" accepted */
		int events_per_batch;    /* events one POST may carry */
		int future_skew_seconds; /* a phone clock may run this far ahead */
		int offline_hours;       /* an event may be this old when it arrives */
	} tracking;

	struct {
		bool record_only;  /* write every message to the 'record' channel (demo) */
		bool proactive;    /* apologise and update customers when a window is at risk
		                    * (off only to model how field service is usually run: the
		                    * simulator's baseline) */
		char *signature;   /* a named person signing messages */
		char *phone;       /* a direct number a human answers */
		char *email_from;  /* the From address of emails */
		char *country_code; /* for national phone numbers, "44" */
		char *quiet_start;  /* "HH:MM" local: no messages from then ... */
		char *quiet_end;    /* ... until then, except same-day changes; "" = none */
		char *templates_dir; /* NAME.tmpl files replacing built-in ones; "" = none */
	} messages;

	struct {
		char *rule_set; /* "gb-energy", "england-water", "uk-telecoms", "custom"...; "" none
		                 */
		char *dir;      /* rule-set files overriding the built-in ones; "" none */
		int near_days;  /* an open case due within this many days is flagged */
	} guarantees;

	struct {
		int contact_days;  /* contact details anonymised after the last visit; 0 never */
		int evidence_days; /* events and delivery reports deleted after; 0 never */
		int position_days; /* visitor positions deleted after; 0 never */
		int ip_days;       /* IP addresses of sessions and the audit log blanked after */
	} retention;

	struct {
		char **email_providers; /* "smtp", "webhook": tried in this order */
		char **sms_providers;   /* "kannel", "twilio", "webhook" */
		char *smtp_url;         /* smtp://host:port or smtps://host:port */
		char *smtp_user;        /* "" = no AUTH */
		char *smtp_password;
		bool smtp_require_tls; /* STARTTLS or fail */
		char *smtp_cafile;     /* "" = the system's CAs */
		char *kannel_url;      /* the smsbox sendsms URL */
		char *kannel_user;
		char *kannel_password;
		char *kannel_from;      /* sender shown on the phone */
		char *kannel_mo_secret; /* in the MO get-url: ?secret= */
		char *twilio_url;       /* the Messages resource URL */
		char *twilio_sid;
		char *twilio_token; /* also verifies status callbacks */
		char *twilio_from;
		char *webhook_url;    /* the generic JSON webhook */
		char *webhook_secret; /* HMAC-SHA256 key of its signature */
		int max_attempts;     /* tries per provider before the next one */
		int backoff_base_s;   /* first retry delay (full jitter) */
		int backoff_cap_s;    /* longest retry delay */
		int timeout_ms;       /* a whole transfer */
		int connect_timeout_ms;
		int parallel;              /* transfers at once */
		int sms_uncertain_grace_s; /* wait for a delivery report before re-sending */
		int claim_lease_s;         /* PostgreSQL: older claims are taken over by any node */
	} delivery;

	struct {
		double login_ip_per_minute;      /* refill rate per client address */
		int login_ip_burst;              /* bucket size */
		double login_account_per_minute; /* refill rate per account name */
		int login_account_burst;
		int list_max; /* largest ?limit= */
		double address_searches_per_minute; /* autocomplete queries per client (refill) */
		int address_searches_burst;
	} limits;

	struct {
		int heartbeat_s;       /* a keepalive comment after this much silence */
		int max_per_principal; /* open streams of one user, token or link */
		int max_total;         /* open streams in all */
		int ring;              /* events kept for Last-Event-ID replay */
		int retry_ms;          /* the reconnection delay told to browsers */
	} streams;

	struct {
		int access_sample; /* log 1 in N successful requests (<400) */
	} log;
};

#endif
