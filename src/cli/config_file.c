/* The configuration loader. One table declares every option; defaults,
 * the libconfig file, the environment, the key list and the dump all walk
 * it, so an option is declared once. */
#include "cli/config_file.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "onthedot/mem.h"

#define ENV_PREFIX "ONTHEDOT_"
#define LIST_ITEM_MAX 255 /* bytes in one string-list entry */
#define NAME_MAX_LEN 64   /* longer names are never suggested as typos */

enum opt_type { OPT_STRING, OPT_INT, OPT_INT64, OPT_DOUBLE, OPT_BOOL, OPT_LIST };

struct opt_def {
	const char *key;   /* dotted name: "database", "http.threads" */
	size_t offset;     /* of the field in struct otd_config */
	int64_t min, max;  /* int, int64: values; string: length; list: entries */
	double dmin, dmax; /* double: values */
	const char *sdef;  /* string default */
	int64_t idef;      /* int and int64 default */
	double ddef;       /* double default */
	/* Strings and list entries: a heap copy of s (normalised) when valid,
	 * NULL when not. NULL: any string within the length range. */
	char *(*parse)(const char *s);
	const char *want; /* strings and lists: what is accepted, for messages */
	const char *doc;  /* one line: what, unit */
	enum opt_type type;
	bool bdef;   /* bool default */
	bool secret; /* strings: the dump hides the value */
};

/* clang-format off */
/* offsetof that does not compile unless the member has type T, so an
 * option cannot be declared with the wrong type. */
#define FIELD(member, T)                                                                           \
	(offsetof(struct otd_config, member) +                                                     \
	 0 * sizeof(char[_Generic(((struct otd_config *)0)->member, T: 1, default: -1)]))

#define OPTION_STRING(k, m, lo, hi, def, fn, w, d)                                                 \
	{.key = k, .type = OPT_STRING, .offset = FIELD(m, char *), .min = lo, .max = hi,           \
	 .sdef = def, .parse = fn, .want = w, .doc = d}
#define OPTION_SECRET(k, m, d)                                                                     \
	{.key = k, .type = OPT_STRING, .offset = FIELD(m, char *), .min = 0, .max = 512,           \
	 .sdef = "", .want = "a string of at most 512 bytes", .doc = d, .secret = true}
#define OPTION_INT(k, m, lo, hi, def, d)                                                           \
	{.key = k, .type = OPT_INT, .offset = FIELD(m, int), .min = lo, .max = hi, .idef = def,    \
	 .doc = d}
#define OPTION_INT64(k, m, lo, hi, def, d)                                                         \
	{.key = k, .type = OPT_INT64, .offset = FIELD(m, int64_t), .min = lo, .max = hi,           \
	 .idef = def, .doc = d}
#define OPTION_DOUBLE(k, m, lo, hi, def, d)                                                        \
	{.key = k, .type = OPT_DOUBLE, .offset = FIELD(m, double), .dmin = lo, .dmax = hi,         \
	 .ddef = def, .doc = d}
#define OPTION_BOOL(k, m, def, d)                                                                  \
	{.key = k, .type = OPT_BOOL, .offset = FIELD(m, bool), .bdef = def, .doc = d}
/* Lists always default to empty. */
#define OPTION_LIST(k, m, maxn, fn, w, d)                                                          \
	{.key = k, .type = OPT_LIST, .offset = FIELD(m, char **), .min = 0, .max = maxn,           \
	 .parse = fn, .want = w, .doc = d}
/* clang-format on */

static char *parse_listen(const char *s);
static char *parse_timezone(const char *s);
static char *parse_url(const char *s);
static char *parse_log_level(const char *s);
static char *parse_startup_check(const char *s);
static char *parse_rfc3339(const char *s);
static char *parse_ip(const char *s);
static char *parse_clock_time(const char *s);
static char *parse_clock_time_or_empty(const char *s);
static char *parse_speed_hours(const char *s);
static char *parse_digits(const char *s);
static char *parse_smtp_url(const char *s);
static char *parse_email_provider(const char *s);
static char *parse_sms_provider(const char *s);

/* Every option. Groups must be contiguous: the dump writes them in this
 * order. contrib/onthedot.conf documents each at more length. */
static const struct opt_def options[] = {
    OPTION_STRING("database", database, 1, 4096, "onthedot.db", NULL,
                  "a file name of 1 to 4096 bytes", "SQLite database file"),
    OPTION_STRING("listen", listen, 3, 300, "127.0.0.1:8080", parse_listen,
                  "\"HOST:PORT\" with a port from 0 to 65535",
                  "address to listen on, HOST:PORT; port 0 picks a free port"),
    OPTION_STRING("timezone", timezone, 1, 64, "Europe/London", parse_timezone,
                  "a time zone name such as \"Europe/London\"",
                  "the organisation's IANA time zone"),
    OPTION_STRING("organisation", organisation, 1, 200, "onthedot", NULL,
                  "a name of 1 to 200 bytes", "the organisation's name, shown to people"),
    OPTION_STRING("public_url", public_url, 0, 2048, "", parse_url,
                  "\"\" or a URL starting with http:// or https://",
                  "base URL of links in messages; \"\" derives it from listen"),
    OPTION_STRING("node_name", node_name, 0, 200, "", NULL, "a name of at most 200 bytes",
                  "this node's name among nodes sharing a PostgreSQL database; \"\" for the "
                  "host name and the address it listens on"),
    OPTION_STRING("log_level", log_level, 1, 5, "info", parse_log_level,
                  "one of \"debug\", \"info\", \"warn\", \"error\"", "least severe level logged"),
    OPTION_STRING("log_file", log_file, 0, 4096, "", NULL,
                  "a file name of at most 4096 bytes, or \"\" for stderr",
                  "file log lines are appended to, reopened on SIGHUP; \"\" for stderr"),
    OPTION_STRING("port_file", port_file, 0, 4096, "", NULL,
                  "a file name of at most 4096 bytes, or \"\" for none",
                  "file to write the bound port to once listening; \"\" for none"),
    OPTION_BOOL("virtual_clock", virtual_clock, false, "tests only: time moves only when told to"),
    OPTION_STRING("virtual_start", virtual_start, 0, 64, "", parse_rfc3339,
                  "\"\" or an RFC 3339 time such as \"2025-01-06T08:00:00Z\"",
                  "tests only: where a virtual clock starts; \"\" for now"),

    OPTION_INT("http.threads", http.threads, 1, 256, 16, "libmicrohttpd worker threads"),
    OPTION_INT("http.max_connections", http.max_connections, 1, 1000000, 1024,
               "open connections, in total"),
    OPTION_INT("http.per_ip_connections", http.per_ip_connections, 0, 1000000, 128,
               "open connections per client address; 0 for no limit"),
    OPTION_INT("http.idle_timeout", http.idle_timeout, 1, 86400, 30,
               "seconds before an idle connection is closed"),
    OPTION_INT64("http.max_body", http.max_body, 1, INT64_C(4294967296), 1048576,
                 "largest request body, in bytes"),
    OPTION_INT("http.shutdown_grace", http.shutdown_grace, 0, 3600, 10,
               "seconds requests in flight get to finish on SIGTERM"),
    OPTION_LIST("http.trusted_proxies", http.trusted_proxies, 64, parse_ip,
                "a list of at most 64 IP addresses, such as [ \"10.0.0.1\" ]",
                "proxies whose X-Forwarded-For is believed; exempt from per-IP limits"),
    OPTION_STRING("http.tls_cert", http.tls_cert, 0, 4096, "", NULL,
                  "a file name of at most 4096 bytes, or \"\" for plain HTTP",
                  "PEM certificate (chain) to serve HTTPS with; \"\" serves plain HTTP"),
    OPTION_STRING("http.tls_key", http.tls_key, 0, 4096, "", NULL,
                  "a file name of at most 4096 bytes, or \"\" for plain HTTP",
                  "PEM private key (unencrypted) of tls_cert; reloaded with it on SIGHUP"),
    OPTION_INT("http.hsts_seconds", http.hsts_seconds, 0, 63072000, 31536000,
               "Strict-Transport-Security max-age on secure requests; 0 sends none"),

    OPTION_INT("store.read_connections", store.read_connections, 1, 64, 4,
               "SQLite connections for reading"),
    OPTION_INT("store.writer_queue", store.writer_queue, 1, 1000000, 256,
               "write jobs waiting before requests get 503"),
    OPTION_INT("store.writer_wait_ms", store.writer_wait_ms, 1, 600000, 2000,
               "milliseconds a request waits for the writer"),
    OPTION_INT("store.busy_timeout_ms", store.busy_timeout_ms, 0, 600000, 5000,
               "milliseconds SQLite waits for other processes' locks"),
    OPTION_INT("store.group_commit_max", store.group_commit_max, 1, 100000, 64,
               "write jobs committed in one transaction at most"),
    OPTION_BOOL("store.reserve_page_cache", store.reserve_page_cache, true,
                "serve takes its page caches' memory at start, so it does not grow later"),
    OPTION_STRING("store.startup_check", store.startup_check, 1, 5, "quick", parse_startup_check,
                  "one of \"quick\", \"full\", \"off\"",
                  "the database check serve runs before it starts: quick_check, "
                  "integrity_check or none"),

    OPTION_STRING("backup.dir", backup.dir, 0, 4096, "", NULL,
                  "a folder name of at most 4096 bytes, or \"\" for none",
                  "folder serve writes scheduled backups to; \"\" for none"),
    OPTION_INT("backup.interval_minutes", backup.interval_minutes, 1, 525600, 1440,
               "minutes between scheduled backups"),
    OPTION_INT("backup.keep", backup.keep, 1, 100000, 7,
               "scheduled backups kept; older ones are deleted"),

    OPTION_INT("auth.session_hours", auth.session_hours, 1, 8760, 12,
               "hours a session lasts from sign-in"),
    OPTION_BOOL("auth.secure_cookies", auth.secure_cookies, false,
                "mark cookies Secure (serve over TLS or behind a TLS proxy)"),
    OPTION_INT("auth.hash_workers", auth.hash_workers, 1, 64, 2,
               "threads computing password hashes (argon2id)"),
    OPTION_INT("auth.hash_queue", auth.hash_queue, 1, 100000, 64,
               "password hashes waiting before requests get 503"),

    OPTION_DOUBLE("planning.quantile", planning.quantile, 0.5, 0.99, 0.8,
                  "plan each arrival at this quantile of its arrival time"),
    OPTION_INT("planning.step_minutes", planning.step_minutes, 5, 240, 30,
               "minutes between the starts of offered windows"),
    OPTION_DOUBLE("planning.road_factor", planning.road_factor, 1.0, 5.0, 1.3,
                  "road distance over great-circle distance"),
    OPTION_DOUBLE("planning.speed_kmh", planning.speed_kmh, 1.0, 200.0, 30.0,
                  "travel speed in km/h outside speed_by_hour"),
    OPTION_LIST("planning.speed_by_hour", planning.speed_by_hour, 24, parse_speed_hours,
                "a list of \"HH-HH=KMH\" entries such as [ \"07-09=22\" ]",
                "travel speeds by local hour of departure"),
    OPTION_DOUBLE("planning.travel_spread", planning.travel_spread, 0.0, 2.0, 0.25,
                  "log-normal sigma of a journey's duration"),
    OPTION_INT("planning.green_minutes", planning.green_minutes, 0, 240, 10,
               "travel a window may add next to a visit and still be marked green"),
    OPTION_STRING("planning.break_start", planning.break_start, 5, 5, "12:00", parse_clock_time,
                  "a local time \"HH:MM\"", "a visitor's break starts no earlier than this"),
    OPTION_STRING("planning.break_end", planning.break_end, 5, 5, "14:00", parse_clock_time,
                  "a local time \"HH:MM\"", "and starts no later than this"),
    OPTION_INT("planning.break_minutes", planning.break_minutes, 0, 240, 30,
               "length of the break; 0 for none"),

    OPTION_INT("booking.lead_minutes", booking.lead_minutes, 0, 43200, 120,
               "no window starts sooner than this many minutes from now"),
    OPTION_INT("booking.horizon_days", booking.horizon_days, 1, 365, 28,
               "no window starts more than this many days ahead"),
    OPTION_INT("booking.max_visits_per_day", booking.max_visits_per_day, 0, 100, 0,
               "visits per visitor and day; 0 for no limit"),
    OPTION_STRING("booking.same_day_cutoff", booking.same_day_cutoff, 0, 5, "12:00",
                  parse_clock_time_or_empty, "\"\" or a local time \"HH:MM\"",
                  "no booking for today after this local time; \"\" for none"),
    OPTION_INT("booking.hold_minutes", booking.hold_minutes, 1, 1440, 10,
               "minutes a chosen window is held while the customer books"),
    OPTION_INT("booking.offer_hold_minutes", booking.offer_hold_minutes, 1, 2880, 120,
               "minutes an earlier window offered from the waitlist is held"),
    OPTION_INT("booking.holds_per_client", booking.holds_per_client, 1, 100000, 3,
               "live holds one client may have at once"),
    OPTION_INT("booking.link_days", booking.link_days, 1, 3650, 30,
               "days after the visit a customer's link keeps working"),
    OPTION_DOUBLE("booking.slots_per_minute", booking.slots_per_minute, 0.001, 1e6, 60.0,
                  "slot queries per minute per client (refill rate)"),
    OPTION_INT("booking.slots_burst", booking.slots_burst, 1, 1000000, 30,
               "slot queries a client may make at once"),
    OPTION_DOUBLE("booking.resend_per_hour", booking.resend_per_hour, 0.001, 1e6, 5.0,
                  "\"send me a new link\" requests per hour per client"),
    OPTION_INT("booking.resend_burst", booking.resend_burst, 1, 1000000, 3,
               "\"send me a new link\" requests a client may make at once"),
    OPTION_DOUBLE("booking.sms_client_per_hour", booking.sms_client_per_hour, 0.001, 1e6, 20.0,
                  "bookings asking for text messages per hour per client (refill rate)"),
    OPTION_INT("booking.sms_client_burst", booking.sms_client_burst, 1, 1000000, 10,
               "bookings asking for text messages a client may make at once"),
    OPTION_INT("booking.sms_number_per_day", booking.sms_number_per_day, 1, 1000000, 10,
               "text messages to one number in 24 hours before bookings are refused"),
    OPTION_INT("booking.sms_prefix_per_hour", booking.sms_prefix_per_hour, 1, 1000000, 200,
               "text messages in an hour to numbers sharing a prefix"),
    OPTION_INT("booking.sms_prefix_digits", booking.sms_prefix_digits, 1, 15, 6,
               "digits after the country code that make that prefix"),

    OPTION_BOOL("dispatch.auto_rebalance", dispatch.auto_rebalance, false,
                "after each risk pass, apply a rebalance of today that saves a promise at risk "
                "and gives no other visit to another visitor"),
    OPTION_INT("dispatch.rebalance_iterations", dispatch.rebalance_iterations, 100, 1000000, 20000,
               "optimiser iterations per rebalance proposal (the same for a seed)"),

    OPTION_INT("tracking.ticker_seconds", tracking.ticker_seconds, 1, 3600, 30,
               "seconds between risk passes over every active route"),
    OPTION_INT("tracking.samples", tracking.samples, 256, 100000, 256,
               "Monte Carlo samples per projected route"),
    OPTION_DOUBLE("tracking.watch_enter", tracking.watch_enter, 0.0, 1.0, 0.2,
                  "P(late) at which a promise enters watch"),
    OPTION_DOUBLE("tracking.watch_exit", tracking.watch_exit, 0.0, 1.0, 0.1,
                  "P(late) below which it leaves watch"),
    OPTION_DOUBLE("tracking.at_risk_enter", tracking.at_risk_enter, 0.0, 1.0, 0.5,
                  "P(late) at which a promise enters at_risk"),
    OPTION_DOUBLE("tracking.at_risk_exit", tracking.at_risk_exit, 0.0, 1.0, 0.35,
                  "P(late) below which it leaves at_risk"),
    OPTION_INT("tracking.silent_minutes", tracking.silent_minutes, 1, 1440, 20,
               "minutes without word from a visitor expected to move before they are silent"),
    OPTION_INT("tracking.late_max_minutes", tracking.late_max_minutes, 1, 1440, 240,
               "the largest \"late N\" a visitor may send"),
    OPTION_INT("tracking.events_per_batch", tracking.events_per_batch, 1, 10000, 500,
               "events one POST may carry"),
    OPTION_INT("tracking.future_skew_seconds", tracking.future_skew_seconds, 0, 3600, 120,
               "how far ahead of the server a phone's clock may run"),
    OPTION_INT("tracking.offline_hours", tracking.offline_hours, 1, 168, 24,
               "how old an event sent late (taps made without signal) may be"),

    OPTION_BOOL("messages.record_only", messages.record_only, false,
                "write every message to the record channel instead of a gateway (demo)"),
    OPTION_BOOL("messages.proactive", messages.proactive, true,
                "tell customers of a window at risk before it is missed (apology, updates, back "
                "on time)"),
    OPTION_STRING("messages.signature", messages.signature, 1, 200, "The visits team", NULL,
                  "a name of 1 to 200 bytes", "who signs messages: a named person"),
    OPTION_STRING("messages.phone", messages.phone, 0, 32, "", NULL,
                  "a phone number of at most 32 bytes, or \"\"",
                  "a direct number that a human answers, shown in messages"),
    OPTION_STRING("messages.email_from", messages.email_from, 3, 254, "visits@localhost", NULL,
                  "an email address", "the From address of emails"),
    OPTION_STRING("messages.country_code", messages.country_code, 1, 3, "44", parse_digits,
                  "1 to 3 digits", "country code of national phone numbers (\"44\")"),
    OPTION_STRING("messages.quiet_start", messages.quiet_start, 0, 5, "21:00",
                  parse_clock_time_or_empty, "\"\" or a local time \"HH:MM\"",
                  "no messages from this local time (same-day changes excepted)"),
    OPTION_STRING("messages.quiet_end", messages.quiet_end, 0, 5, "08:00",
                  parse_clock_time_or_empty, "\"\" or a local time \"HH:MM\"",
                  "until this local time; equal to quiet_start or \"\" for none"),
    OPTION_STRING("messages.templates_dir", messages.templates_dir, 0, 4096, "", NULL,
                  "a directory name of at most 4096 bytes, or \"\" for none",
                  "directory of NAME.tmpl files replacing built-in message templates"),

    OPTION_STRING("guarantees.rule_set", guarantees.rule_set, 0, 64, "", NULL,
                  "a rule set's name such as \"gb-energy\", or \"\"",
                  "the guarantee rules in force (contrib/guarantees); \"\" keeps no ledger"),
    OPTION_STRING("guarantees.dir", guarantees.dir, 0, 4096, "", NULL, "a folder name, or \"\"",
                  "folder of NAME.json rule sets overriding the built-in"),
    OPTION_INT("guarantees.near_days", guarantees.near_days, 0, 365, 3,
               "days before its deadline an open case is flagged as near"),

    OPTION_INT("retention.contact_days", retention.contact_days, 0, 36500, 90,
               "days after a contact's last visit ended or was cancelled before their "
               "details are anonymised; 0 never"),
    OPTION_INT("retention.evidence_days", retention.evidence_days, 0, 36500, 365,
               "days appointment and visitor events and delivery reports are kept as "
               "evidence (longer while a case is open); 0 forever"),
    OPTION_INT("retention.position_days", retention.position_days, 0, 36500, 30,
               "days visitors' positions are kept (longer as evidence of an open case); "
               "0 forever"),
    OPTION_INT("retention.ip_days", retention.ip_days, 0, 36500, 30,
               "days IP addresses stay in sessions and the audit log; 0 forever"),

    OPTION_LIST("delivery.email_providers", delivery.email_providers, 2, parse_email_provider,
                "\"smtp\" or \"webhook\"", "providers of email, tried in this order"),
    OPTION_LIST("delivery.sms_providers", delivery.sms_providers, 3, parse_sms_provider,
                "\"kannel\", \"twilio\" or \"webhook\"",
                "providers of text messages, tried in this order"),
    OPTION_STRING("delivery.smtp_url", delivery.smtp_url, 0, 2048, "", parse_smtp_url,
                  "\"\" or smtp://HOST:PORT or smtps://HOST:PORT", "the SMTP server"),
    OPTION_STRING("delivery.smtp_user", delivery.smtp_user, 0, 256, "", NULL,
                  "a name of at most 256 bytes", "SMTP AUTH user; \"\" for no AUTH"),
    OPTION_SECRET("delivery.smtp_password", delivery.smtp_password, "SMTP AUTH password"),
    OPTION_BOOL("delivery.smtp_require_tls", delivery.smtp_require_tls, true,
                "refuse to send email unless STARTTLS (or smtps) protects it"),
    OPTION_STRING("delivery.smtp_cafile", delivery.smtp_cafile, 0, 4096, "", NULL,
                  "a file name, or \"\"", "CA certificates for the SMTP server; \"\" = system"),
    OPTION_STRING("delivery.kannel_url", delivery.kannel_url, 0, 2048, "", parse_url,
                  "\"\" or a URL starting with http:// or https://",
                  "Kannel's sendsms URL (smsbox), e.g. http://127.0.0.1:13013/cgi-bin/sendsms"),
    OPTION_STRING("delivery.kannel_user", delivery.kannel_user, 0, 256, "", NULL,
                  "a name of at most 256 bytes", "Kannel sendsms-user username"),
    OPTION_SECRET("delivery.kannel_password", delivery.kannel_password,
                  "Kannel sendsms-user password"),
    OPTION_STRING("delivery.kannel_from", delivery.kannel_from, 0, 20, "", NULL, "at most 20 bytes",
                  "sender of text messages through Kannel"),
    OPTION_SECRET("delivery.kannel_mo_secret", delivery.kannel_mo_secret,
                  "secret= Kannel's get-url gives with inbound messages; \"\" refuses them"),
    OPTION_STRING("delivery.twilio_url", delivery.twilio_url, 0, 2048, "", parse_url,
                  "\"\" or a URL starting with http:// or https://",
                  "the Messages resource of a Twilio-style API"),
    OPTION_STRING("delivery.twilio_sid", delivery.twilio_sid, 0, 64, "", NULL, "at most 64 bytes",
                  "account SID (basic auth user)"),
    OPTION_SECRET("delivery.twilio_token", delivery.twilio_token,
                  "auth token: basic auth password and callback signature key"),
    OPTION_STRING("delivery.twilio_from", delivery.twilio_from, 0, 32, "", NULL, "at most 32 bytes",
                  "sender number of text messages through Twilio"),
    OPTION_STRING("delivery.webhook_url", delivery.webhook_url, 0, 2048, "", parse_url,
                  "\"\" or a URL starting with http:// or https://",
                  "the generic JSON webhook messages are posted to"),
    OPTION_SECRET("delivery.webhook_secret", delivery.webhook_secret,
                  "key of the webhook's HMAC-SHA256 signature"),
    OPTION_INT("delivery.max_attempts", delivery.max_attempts, 1, 100, 6,
               "tries on one provider before the next provider or channel"),
    OPTION_INT("delivery.backoff_base_s", delivery.backoff_base_s, 1, 86400, 30,
               "seconds before the first retry (doubling, with full jitter)"),
    OPTION_INT("delivery.backoff_cap_s", delivery.backoff_cap_s, 1, 86400, 1800,
               "longest wait between retries, seconds"),
    OPTION_INT("delivery.timeout_ms", delivery.timeout_ms, 100, 600000, 15000,
               "longest a transfer to a gateway may take, milliseconds"),
    OPTION_INT("delivery.connect_timeout_ms", delivery.connect_timeout_ms, 100, 600000, 5000,
               "longest a connection to a gateway may take, milliseconds"),
    OPTION_INT("delivery.parallel", delivery.parallel, 1, 1000, 32, "transfers at once"),
    OPTION_INT("delivery.sms_uncertain_grace_s", delivery.sms_uncertain_grace_s, 0, 86400, 60,
               "seconds to wait for a delivery report before re-sending an interrupted SMS"),
    OPTION_INT("delivery.claim_lease_s", delivery.claim_lease_s, 2, 86400, 300,
               "seconds after which another node takes over a message a node claimed for "
               "sending (PostgreSQL)"),

    OPTION_DOUBLE("limits.login_ip_per_minute", limits.login_ip_per_minute, 0.001, 1e6, 10.0,
                  "sign-in attempts per minute per client address (refill rate)"),
    OPTION_INT("limits.login_ip_burst", limits.login_ip_burst, 1, 1000000, 10,
               "sign-in attempts a client address may make at once"),
    OPTION_DOUBLE("limits.login_account_per_minute", limits.login_account_per_minute, 0.001, 1e6,
                  5.0, "sign-in attempts per minute per account name (refill rate)"),
    OPTION_INT("limits.login_account_burst", limits.login_account_burst, 1, 1000000, 5,
               "sign-in attempts on one account name at once"),
    OPTION_INT("limits.list_max", limits.list_max, 1, 100000, 200,
               "largest ?limit= a list request may ask for"),
    OPTION_DOUBLE("limits.address_searches_per_minute", limits.address_searches_per_minute, 0.001,
                  1e6, 300.0,
                  "address searches (autocomplete) per minute per client (refill rate)"),
    OPTION_INT("limits.address_searches_burst", limits.address_searches_burst, 1, 1000000, 60,
               "address searches a client may make at once"),

    OPTION_INT("streams.heartbeat_s", streams.heartbeat_s, 1, 3600, 15,
               "seconds of silence before a live stream gets a keepalive comment"),
    OPTION_INT("streams.max_per_principal", streams.max_per_principal, 1, 1000, 4,
               "live streams one user, token or customer link may have open"),
    OPTION_INT("streams.max_total", streams.max_total, 1, 1000000, 512, "live streams open in all"),
    OPTION_INT("streams.ring", streams.ring, 16, 1000000, 1024,
               "latest events kept so a reconnecting stream gets what it missed"),
    OPTION_INT("streams.retry_ms", streams.retry_ms, 100, 600000, 3000,
               "milliseconds a browser waits before reconnecting a stream"),

    OPTION_INT("log.access_sample", log.access_sample, 1, 1000000, 1,
               "log 1 in N successful requests (status < 400); errors are always logged"),
};

#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

/* ---- the table ------------------------------------------------------ */

static void *slot(struct otd_config *cfg, const struct opt_def *o)
{
	return (char *)cfg + o->offset;
}

static const void *cslot(const struct otd_config *cfg, const struct opt_def *o)
{
	return (const char *)cfg + o->offset;
}

static const struct opt_def *find_option(const char *key)
{
	for(size_t i = 0; i < OPTION_COUNT; i++)
		if(strcmp(options[i].key, key) == 0)
			return &options[i];
	return NULL;
}

/* True when name is a group of the file ("http"). */
static bool is_section(const char *name)
{
	size_t n = strlen(name);
	for(size_t i = 0; i < OPTION_COUNT; i++)
		if(strncmp(options[i].key, name, n) == 0 && options[i].key[n] == '.')
			return true;
	return false;
}

/* "http.max_body" -> "ONTHEDOT_HTTP_MAX_BODY". */
static void env_name(const struct opt_def *o, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s", ENV_PREFIX);
	for(const char *k = o->key; *k && (size_t)n + 1 < size; k++, n++)
		buf[n] = *k == '.' ? '_' : (char)toupper((unsigned char)*k);
	buf[n] = '\0';
}

static const struct opt_def *find_env(const char *name)
{
	char buf[128];
	for(size_t i = 0; i < OPTION_COUNT; i++) {
		env_name(&options[i], buf, sizeof(buf));
		if(strcmp(buf, name) == 0)
			return &options[i];
	}
	return NULL;
}

/* Levenshtein distance, or a large number for names too long to bother. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if(la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
		return SIZE_MAX;
	size_t prev[NAME_MAX_LEN + 1], cur[NAME_MAX_LEN + 1];
	for(size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for(size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for(size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

/* Writes " (did you mean X?)" into buf when an option (or its environment
 * variable, for env) is within two edits of name, or (file keys) has the
 * same last part in another group; "" otherwise. */
static void suggest(const char *name, bool env, char *buf, size_t size)
{
	size_t best = 3;
	char cand[128], found[128] = "";
	for(size_t i = 0; i < OPTION_COUNT; i++) {
		if(env)
			env_name(&options[i], cand, sizeof(cand));
		else
			snprintf(cand, sizeof(cand), "%s", options[i].key);
		size_t d = edit_distance(name, cand);
		if(d < best) {
			best = d;
			snprintf(found, sizeof(found), "%s", cand);
		}
	}
	/* The right name in the wrong place: "threads" at the top level. */
	const char *last = strrchr(name, '.') ? strrchr(name, '.') + 1 : name;
	for(size_t i = 0; i < OPTION_COUNT && !env && !found[0]; i++) {
		const char *dot = strrchr(options[i].key, '.');
		if(strcmp(dot ? dot + 1 : options[i].key, last) == 0)
			snprintf(found, sizeof(found), "%s", options[i].key);
	}
	if(found[0])
		snprintf(buf, size, " (did you mean %s?)", found);
	else
		buf[0] = '\0';
}

/* ---- values --------------------------------------------------------- */

/* What o accepts, for messages: "an integer from 1 to 256". */
static void describe(const struct opt_def *o, char *buf, size_t size)
{
	switch(o->type) {
	case OPT_INT:
	case OPT_INT64:
		snprintf(buf, size, "an integer from %" PRId64 " to %" PRId64, o->min, o->max);
		break;
	case OPT_DOUBLE: snprintf(buf, size, "a number from %g to %g", o->dmin, o->dmax); break;
	case OPT_BOOL: snprintf(buf, size, "true or false"); break;
	case OPT_STRING:
	case OPT_LIST: snprintf(buf, size, "%s", o->want); break;
	}
}

/* s in double quotes with quotes, backslashes and control characters
 * escaped, shortened with "..." past about 60 bytes: safe in a message. */
static void quote(const char *s, char *buf, size_t size)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_puts(&b, "\"");
	size_t i = 0;
	for(; i < 60 && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if(c == '"' || c == '\\')
			otd_buf_printf(&b, "\\%c", c);
		else if(c < 0x20 || c == 0x7f)
			otd_buf_printf(&b, "\\x%02x", c);
		else
			otd_buf_append(&b, &s[i], 1);
	}
	otd_buf_puts(&b, s[i] ? "\"..." : "\"");
	snprintf(buf, size, "%s", b.data);
	otd_buf_cleanup(&b);
}

/* "WHERE: KEY must be WANT (got GOT)", the one shape of a bad value. */
static enum otd_status bad_value(struct otd_error *err, const char *code, const char *where,
                                 const struct opt_def *o, const char *got)
{
	char want[200];
	describe(o, want, sizeof(want));
	return otd_error_set(err, OTD_EINVAL, code, o->key, "%s: %s must be %s (got %s)", where,
	                     o->key, want, got);
}

static enum otd_status set_int(struct otd_config *cfg, const struct opt_def *o, int64_t v,
                               const char *where, struct otd_error *err)
{
	if(v < o->min || v > o->max) {
		char got[32];
		snprintf(got, sizeof(got), "%" PRId64, v);
		return bad_value(err, "config_range", where, o, got);
	}
	if(o->type == OPT_INT)
		*(int *)slot(cfg, o) = (int)v;
	else
		*(int64_t *)slot(cfg, o) = v;
	return OTD_OK;
}

static enum otd_status set_double(struct otd_config *cfg, const struct opt_def *o, double v,
                                  const char *where, struct otd_error *err)
{
	if(!(v >= o->dmin && v <= o->dmax)) { /* also rejects NaN */
		char got[40];
		snprintf(got, sizeof(got), "%g", v);
		return bad_value(err, "config_range", where, o, got);
	}
	*(double *)slot(cfg, o) = v;
	return OTD_OK;
}

/* A heap copy of s when it has no control characters, a length in
 * [min, max] and passes parse (which may normalise it); NULL otherwise. */
static char *accept_string(const char *s, int64_t min, int64_t max, char *(*parse)(const char *))
{
	size_t n = strlen(s);
	if((int64_t)n < min || (int64_t)n > max)
		return NULL;
	for(const unsigned char *c = (const unsigned char *)s; *c; c++)
		if(*c < 0x20 || *c == 0x7f)
			return NULL;
	return parse ? parse(s) : xstrdup(s);
}

static enum otd_status set_string(struct otd_config *cfg, const struct opt_def *o, const char *s,
                                  const char *where, struct otd_error *err)
{
	char *v = accept_string(s, o->min, o->max, o->parse);
	if(!v) {
		char got[300];
		quote(s, got, sizeof(got));
		return bad_value(err, "config_value", where, o, got);
	}
	char **p = slot(cfg, o);
	free(*p);
	*p = v;
	return OTD_OK;
}

static void free_list(char **list)
{
	for(char **p = list; p && *p; p++)
		free(*p);
	free(list);
}

static char **copy_list(char *const *list)
{
	size_t n = 0;
	while(list && list[n])
		n++;
	char **copy = xcalloc(n + 1, sizeof(char *));
	for(size_t i = 0; i < n; i++)
		copy[i] = xstrdup(list[i]);
	return copy;
}

/* A string list being built, entry by entry, each checked as it comes. */
struct list_build {
	char **items;
	size_t n;
};

static enum otd_status list_add(struct list_build *lb, const struct opt_def *o, const char *s,
                                const char *where, struct otd_error *err)
{
	char got[300];
	if((int64_t)lb->n >= o->max) {
		snprintf(got, sizeof(got), "more than %" PRId64 " entries", o->max);
		return bad_value(err, "config_range", where, o, got);
	}
	char *v = accept_string(s, 1, LIST_ITEM_MAX, o->parse);
	if(!v) {
		quote(s, got, sizeof(got));
		return bad_value(err, "config_value", where, o, got);
	}
	lb->items = xrealloc(lb->items, (lb->n + 2) * sizeof(char *));
	lb->items[lb->n++] = v;
	lb->items[lb->n] = NULL;
	return OTD_OK;
}

/* Stores the list in cfg (st == OTD_OK) or frees it. */
static enum otd_status list_finish(struct list_build *lb, struct otd_config *cfg,
                                   const struct opt_def *o, enum otd_status st)
{
	if(st) {
		free_list(lb->items);
		return st;
	}
	char ***p = slot(cfg, o);
	free_list(*p);
	*p = lb->items ? lb->items : xcalloc(1, sizeof(char *));
	return OTD_OK;
}

/* Deep copy: dst owns copies of src's strings and lists. */
static void config_copy(struct otd_config *dst, const struct otd_config *src)
{
	*dst = *src;
	for(size_t i = 0; i < OPTION_COUNT; i++) {
		const struct opt_def *o = &options[i];
		if(o->type == OPT_STRING) {
			const char *s = *(char *const *)cslot(src, o);
			*(char **)slot(dst, o) = s ? xstrdup(s) : NULL;
		} else if(o->type == OPT_LIST) {
			*(char ***)slot(dst, o) = copy_list(*(char **const *)cslot(src, o));
		}
	}
}

/* Replaces *cfg with *next (success) or throws next away, so a failed
 * load leaves the caller's configuration as it was. */
static enum otd_status commit(struct otd_config *cfg, struct otd_config *next, enum otd_status st)
{
	if(st) {
		otd_config_cleanup(next);
		return st;
	}
	otd_config_cleanup(cfg);
	*cfg = *next;
	return OTD_OK;
}

/* ---- string checks -------------------------------------------------- */

/* A local clock time "HH:MM", 00:00 to 23:59. */
static char *parse_clock_time(const char *s)
{
	if(strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	   s[2] != ':' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return NULL;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	if(h > 23 || m > 59)
		return NULL;
	return xstrdup(s);
}

static char *parse_clock_time_or_empty(const char *s)
{
	return s[0] ? parse_clock_time(s) : xstrdup("");
}

/* "HH-HH=KMH": hours 0 to 24, from < to, speed 1 to 200. */
static char *parse_speed_hours(const char *s)
{
	int from, to, used = 0;
	double kmh;
	if(sscanf(s, "%2d-%2d=%lf%n", &from, &to, &kmh, &used) != 3 || s[used] || from < 0 ||
	   to > 24 || from >= to || !(kmh >= 1 && kmh <= 200) || !isdigit((unsigned char)s[0]))
		return NULL;
	return xstrdup(s);
}

static char *parse_smtp_url(const char *s)
{
	if(!*s)
		return xstrdup("");
	if(strncasecmp(s, "smtp://", 7) != 0 && strncasecmp(s, "smtps://", 8) != 0)
		return NULL;
	if(strpbrk(s, " \r\n") || !s[strncasecmp(s, "smtp://", 7) == 0 ? 7 : 8])
		return NULL;
	return xstrdup(s);
}

static char *pick(const char *s, const char *const *names, size_t n)
{
	for(size_t i = 0; i < n; i++)
		if(strcmp(s, names[i]) == 0)
			return xstrdup(s);
	return NULL;
}

static char *parse_email_provider(const char *s)
{
	static const char *const names[] = {"smtp", "webhook"};
	return pick(s, names, 2);
}

static char *parse_sms_provider(const char *s)
{
	static const char *const names[] = {"kannel", "twilio", "webhook"};
	return pick(s, names, 3);
}

static char *parse_digits(const char *s)
{
	for(const char *p = s; *p; p++)
		if(!isdigit((unsigned char)*p))
			return NULL;
	return s[0] ? xstrdup(s) : NULL;
}

/* Same shape as http/server.c accepts: HOST:PORT split at the last ':'. */
static char *parse_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	if(!colon || colon == s || !colon[1])
		return NULL;
	long port = 0;
	for(const char *p = colon + 1; *p; p++) {
		if(!isdigit((unsigned char)*p))
			return NULL;
		port = port * 10 + (*p - '0');
		if(port > 65535)
			return NULL;
	}
	return xstrdup(s);
}

/* An IANA name ("Europe/London", "Etc/GMT+5", "UTC"). Whether the zone
 * exists is checked when it is loaded; this keeps out paths such as
 * "../../etc/passwd" that a zone loader could open. */
static char *parse_timezone(const char *s)
{
	if(!isalpha((unsigned char)s[0]))
		return NULL;
	for(const char *p = s; *p; p++) {
		if(!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
			return NULL;
		if(*p == '/' && (p[1] == '/' || p[1] == '\0'))
			return NULL;
	}
	return xstrdup(s);
}

/* "" or http(s)://HOST..., without trailing slashes so links can be
 * written as base + "/path". */
static char *parse_url(const char *s)
{
	if(!*s)
		return xstrdup("");
	size_t skip;
	if(strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else if(strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	else
		return NULL;
	if(strchr(s, ' '))
		return NULL;
	size_t n = strlen(s);
	while(n > skip && s[n - 1] == '/')
		n--;
	if(n == skip)
		return NULL;
	return xstrndup(s, n);
}

static char *parse_log_level(const char *s)
{
	static const char *const levels[] = {"debug", "info", "warn", "error"};
	for(size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if(strcmp(s, levels[i]) == 0)
			return xstrdup(s);
	return NULL;
}

static char *parse_startup_check(const char *s)
{
	if(strcmp(s, "quick") == 0 || strcmp(s, "full") == 0 || strcmp(s, "off") == 0)
		return xstrdup(s);
	return NULL;
}

static bool two_digits(const char *s, int *v)
{
	if(!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return false;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* "" or an RFC 3339 date-time (section 5.6): 2025-01-06T08:00:00Z,
 * 2025-01-06T09:00:00.5+01:00. Accepts what otd_rfc3339_parse
 * (core/civil.c) accepts, which reads it at start: no space for the T, no
 * leap seconds (":60"). Each
 * check stops at the first mismatch, so a short string is never read
 * past its end. */
static char *parse_rfc3339(const char *s)
{
	if(!*s)
		return xstrdup("");
	int c1, c2, mo, d, h, mi, sec;
	if(!two_digits(s, &c1) || !two_digits(s + 2, &c2) || s[4] != '-' ||
	   !two_digits(s + 5, &mo) || s[7] != '-' || !two_digits(s + 8, &d) ||
	   (s[10] != 'T' && s[10] != 't') || !two_digits(s + 11, &h) || s[13] != ':' ||
	   !two_digits(s + 14, &mi) || s[16] != ':' || !two_digits(s + 17, &sec))
		return NULL;
	const char *p = s + 19;
	if(*p == '.') {
		p++;
		if(!isdigit((unsigned char)*p))
			return NULL;
		while(isdigit((unsigned char)*p))
			p++;
	}
	int oh, om;
	if(*p == 'Z' || *p == 'z')
		p++;
	else if((*p == '+' || *p == '-') && two_digits(p + 1, &oh) && p[3] == ':' &&
	        two_digits(p + 4, &om) && oh <= 23 && om <= 59)
		p += 6;
	else
		return NULL;
	if(*p || mo < 1 || mo > 12 || d < 1 || d > days_in_month(c1 * 100 + c2, mo) || h > 23 ||
	   mi > 59 || sec > 59)
		return NULL;
	return xstrdup(s);
}

/* An IPv4 or IPv6 address, rewritten the way getnameinfo(NI_NUMERICHOST)
 * prints a client's address (http/server.c compares the strings):
 * "2001:DB8::0:1" becomes "2001:db8::1". */
static char *parse_ip(const char *s)
{
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];
	if(inet_pton(AF_INET, s, addr) == 1)
		return xstrdup(s);
	if(inet_pton(AF_INET6, s, addr) == 1 && inet_ntop(AF_INET6, addr, text, sizeof(text)))
		return xstrdup(text);
	return NULL;
}

/* ---- integer literals ----------------------------------------------- */

/* Parses a libconfig integer literal at s: an optional sign, decimal
 * digits or 0x and hex digits, an optional L or LL. Sets *end past it and
 * *overflow when the value does not fit 64 bits. False when s does not
 * start with one. */
static bool parse_integer(const char *s, const char **end, int64_t *value, bool *overflow)
{
	const char *p = s;
	bool neg = *p == '-';
	if(*p == '-' || *p == '+')
		p++;
	unsigned base = 10;
	if(p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
		base = 16;
		p += 2;
	}
	if(!isxdigit((unsigned char)*p) || (base == 10 && !isdigit((unsigned char)*p)))
		return false;
	uint64_t mag = 0;
	bool big = false;
	for(;; p++) {
		unsigned dgt;
		if(isdigit((unsigned char)*p))
			dgt = (unsigned)(*p - '0');
		else if(base == 16 && isxdigit((unsigned char)*p))
			dgt = (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
		else
			break;
		if(mag > (UINT64_MAX - dgt) / base)
			big = true;
		else
			mag = mag * base + dgt;
	}
	if(*p == 'L')
		p += p[1] == 'L' ? 2 : 1;
	if(neg) {
		big = big || mag > (uint64_t)INT64_MAX + 1;
		*value = big || mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		big = big || mag > (uint64_t)INT64_MAX;
		*value = big ? INT64_MAX : (int64_t)mag;
	}
	*overflow = big;
	*end = p;
	return true;
}

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '*';
}

/* Skips white space and libconfig comments (#, //, slash-star). */
static const char *skip_blank(const char *p)
{
	for(;;) {
		if(isspace((unsigned char)*p)) {
			p++;
		} else if(*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while(*p && *p != '\n')
				p++;
		} else if(p[0] == '/' && p[1] == '*') {
			const char *close = strstr(p + 2, "*/");
			if(!close)
				return p + strlen(p);
			p = close + 2;
		} else {
			return p;
		}
	}
}

/* libconfig 1.5 keeps an integer written without the L suffix in 32 bits
 * and wraps it silently: "max_body = 3000000000;" reads as -1294967296,
 * "threads = 4294967300;" as 4. Finds the literal of setting `name` that
 * starts on `line` of text and returns its full value when libconfig's
 * value `seen` is that literal as libconfig stores it (the same number
 * for 64-bit settings, its low 32 bits for 32-bit ones); the literal's
 * text goes to lit. False when no such literal is found. */
static bool find_literal(const char *text, unsigned line, const char *name, bool wide, int64_t seen,
                         int64_t *value, bool *overflow, char *lit, size_t litsz)
{
	const char *p = text;
	for(unsigned l = 1; l < line && p; l++) {
		p = strchr(p, '\n');
		if(p)
			p++;
	}
	if(!p)
		return false;
	const char *eol = strchrnul(p, '\n');
	size_t nl = strlen(name);
	for(const char *q = p; q < eol; q++) {
		if(strncmp(q, name, nl) != 0 || (q > text && is_name_char(q[-1])) ||
		   is_name_char(q[nl]))
			continue;
		const char *r = skip_blank(q + nl);
		if(*r != '=' && *r != ':')
			continue;
		r = skip_blank(r + 1);
		const char *end;
		int64_t v;
		bool big;
		if(!parse_integer(r, &end, &v, &big) || is_name_char(*end) || *end == '.')
			continue;
		bool same =
		    wide ? v == seen || big
		         : (int32_t)(uint32_t)(uint64_t)v == (int32_t)(uint32_t)(uint64_t)seen;
		if(!same)
			continue;
		*value = v;
		*overflow = big;
		snprintf(lit, litsz, "%.*s", (int)(end - r < 40 ? end - r : 40), r);
		return true;
	}
	return false;
}

/* ---- the file ------------------------------------------------------- */

struct loader {
	const char *path; /* as the caller gave it, for messages */
	const char *text; /* the file */
	const char *dir;  /* its directory: libconfig's include directory */
	struct otd_config *cfg;
	struct otd_error *err;
};

/* Reads a whole file of at most OTD_CONFIG_FILE_MAX bytes into *out
 * (NUL-terminated; the caller frees it). */
static enum otd_status read_text(const char *path, char **out, size_t *len, struct otd_error *err)
{
	FILE *f = fopen(path, "r");
	if(!f) {
		int e = errno;
		enum otd_status st = e == ENOENT ? OTD_ENOTFOUND : OTD_EIO;
		otd_error_set(err, st, "config_file", NULL,
		              "cannot open the configuration file %s: %s", path, strerror(e));
		return st;
	}
	struct otd_buf b;
	otd_buf_init(&b, OTD_CONFIG_FILE_MAX);
	enum otd_status st = OTD_OK;
	char chunk[8192];
	size_t n;
	while((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if(!otd_buf_append(&b, chunk, n)) {
			st = otd_error_set(err, OTD_ETOOBIG, "config_file", NULL,
			                   "the configuration file %s is larger than %d bytes",
			                   path, OTD_CONFIG_FILE_MAX);
			break;
		}
	}
	if(!st && ferror(f))
		st = otd_error_set(err, OTD_EIO, "config_file", NULL,
		                   "cannot read the configuration file %s: %s", path,
		                   strerror(errno));
	fclose(f);
	if(st) {
		otd_buf_cleanup(&b);
		return st;
	}
	*len = b.len;
	*out = otd_buf_steal(&b);
	return OTD_OK;
}

/* "onthedot.conf line 12", where a setting was written. */
static void where_of(const struct loader *ld, const config_setting_t *s, char *buf, size_t size)
{
	const char *file = config_setting_source_file(s);
	snprintf(buf, size, "%s line %u", file ? file : ld->path, config_setting_source_line(s));
}

static const char *type_name(int type)
{
	switch(type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT: return "an integer";
	case CONFIG_TYPE_INT64: return "a 64-bit integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "an unknown type";
	}
}

static enum otd_status type_error(const struct loader *ld, const struct opt_def *o,
                                  const config_setting_t *s, const char *suffix)
{
	char where[300], got[64];
	where_of(ld, s, where, sizeof(where));
	snprintf(got, sizeof(got), "%s%s", type_name(config_setting_type(s)), suffix);
	return bad_value(ld->err, "config_type", where, o, got);
}

/* The value of an integer setting, repaired where libconfig wrapped it. */
static enum otd_status setting_integer(const struct loader *ld, const struct opt_def *o,
                                       const config_setting_t *s, int64_t *out)
{
	int64_t seen = config_setting_get_int64(s);
	*out = seen;
	const char *file = config_setting_source_file(s);
	char *included = NULL;
	const char *text = ld->text;
	if(file) {
		/* An @include: libconfig names it as written, relative to dir. */
		char *path = file[0] == '/' ? xstrdup(file) : xasprintf("%s/%s", ld->dir, file);
		size_t len;
		struct otd_error ignored;
		if(read_text(path, &included, &len, &ignored) == OTD_OK)
			text = included;
		else
			text = NULL;
		free(path);
	}
	int64_t v;
	bool big = false;
	char lit[48];
	if(text && find_literal(text, config_setting_source_line(s), config_setting_name(s),
	                        config_setting_type(s) == CONFIG_TYPE_INT64, seen, &v, &big, lit,
	                        sizeof(lit)))
		*out = v;
	free(included);
	if(big) {
		char where[300];
		where_of(ld, s, where, sizeof(where));
		return bad_value(ld->err, "config_range", where, o, lit);
	}
	return OTD_OK;
}

/* A file that sets a secret must be readable by its owner only: refused
 * when group or others may read it, or others may write it. */
static enum otd_status secret_file_private(const struct loader *ld, const struct opt_def *o,
                                           const config_setting_t *s)
{
	const char *file = config_setting_source_file(s);
	char *path = !file            ? xstrdup(ld->path)
	             : file[0] == '/' ? xstrdup(file)
	                              : xasprintf("%s/%s", ld->dir, file);
	struct stat sb;
	enum otd_status st = OTD_OK;
	if(stat(path, &sb) != 0)
		st = otd_error_set(ld->err, OTD_EIO, "config_file", o->key, "cannot stat %s: %s",
		                   path, strerror(errno));
	else if(sb.st_mode & 046)
		st = otd_error_set(ld->err, OTD_EFORBIDDEN, "config_permissions", o->key,
		                   "%s holds a secret (%s) but other users may %s it (mode %04o): "
		                   "run chmod 600 %s",
		                   path, o->key, sb.st_mode & 044 ? "read" : "change",
		                   (unsigned)(sb.st_mode & 07777), path);
	free(path);
	return st;
}

static enum otd_status load_setting(const struct loader *ld, const struct opt_def *o,
                                    const config_setting_t *s)
{
	char where[300];
	where_of(ld, s, where, sizeof(where));
	int type = config_setting_type(s);
	bool integer = type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64;
	int64_t v;
	enum otd_status st;
	switch(o->type) {
	case OPT_INT:
	case OPT_INT64:
		if(!integer)
			return type_error(ld, o, s, "");
		st = setting_integer(ld, o, s, &v);
		return st ? st : set_int(ld->cfg, o, v, where, ld->err);
	case OPT_DOUBLE:
		/* 10 is as good a rate as 10.0. */
		if(type == CONFIG_TYPE_FLOAT)
			return set_double(ld->cfg, o, config_setting_get_float(s), where, ld->err);
		if(!integer)
			return type_error(ld, o, s, "");
		st = setting_integer(ld, o, s, &v);
		return st ? st : set_double(ld->cfg, o, (double)v, where, ld->err);
	case OPT_BOOL:
		if(type != CONFIG_TYPE_BOOL)
			return type_error(ld, o, s, "");
		*(bool *)slot(ld->cfg, o) = config_setting_get_bool(s);
		return OTD_OK;
	case OPT_STRING:
		if(type != CONFIG_TYPE_STRING)
			return type_error(ld, o, s, "");
		if(o->secret && config_setting_get_string(s)[0]) {
			st = secret_file_private(ld, o, s);
			if(st)
				return st;
		}
		return set_string(ld->cfg, o, config_setting_get_string(s), where, ld->err);
	case OPT_LIST: break;
	}
	if(type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
		return type_error(ld, o, s, "");
	struct list_build lb = {0};
	st = OTD_OK;
	int n = config_setting_length(s);
	for(int i = 0; i < n && !st; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		where_of(ld, e, where, sizeof(where));
		if(config_setting_type(e) != CONFIG_TYPE_STRING)
			st = type_error(ld, o, e, " in the list");
		else
			st = list_add(&lb, o, config_setting_get_string(e), where, ld->err);
	}
	return list_finish(&lb, ld->cfg, o, st);
}

static enum otd_status unknown_option(const struct loader *ld, const config_setting_t *s,
                                      const char *key)
{
	char where[300], hint[160];
	where_of(ld, s, where, sizeof(where));
	suggest(key, false, hint, sizeof(hint));
	return otd_error_set(ld->err, OTD_EINVAL, "config_unknown", key, "%s: unknown option %s%s",
	                     where, key, hint);
}

/* Loads the settings of group (the root when section is NULL). */
static enum otd_status load_group(const struct loader *ld, const config_setting_t *group,
                                  const char *section)
{
	int n = config_setting_length(group);
	for(int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		char key[OTD_ERR_FIELD_MAX];
		if(section)
			snprintf(key, sizeof(key), "%s.%s", section, name);
		else
			snprintf(key, sizeof(key), "%s", name);
		const struct opt_def *o = find_option(key);
		enum otd_status st;
		if(o) {
			st = load_setting(ld, o, s);
		} else if(!section && is_section(name)) {
			if(config_setting_type(s) == CONFIG_TYPE_GROUP) {
				st = load_group(ld, s, name);
			} else {
				char where[300];
				where_of(ld, s, where, sizeof(where));
				st = otd_error_set(
				    ld->err, OTD_EINVAL, "config_type", name,
				    "%s: %s must be a group such as %s = { ... }; (got %s)", where,
				    name, name, type_name(config_setting_type(s)));
			}
		} else {
			st = unknown_option(ld, s, key);
		}
		if(st)
			return st;
	}
	return OTD_OK;
}

enum otd_status otd_config_load_file(struct otd_config *cfg, const char *path,
                                     struct otd_error *err)
{
	char *text = NULL, *dir = NULL;
	size_t len = 0;
	config_t lc;
	bool lc_ready = false;
	enum otd_status st = read_text(path, &text, &len, err);
	if(st)
		goto out;
	/* libconfig reads a string up to its NUL: a NUL in the file would
	 * silently hide the rest. */
	const char *nul = memchr(text, '\0', len);
	if(nul) {
		unsigned line = 1;
		for(const char *p = text; p < nul; p++)
			line += *p == '\n';
		st = otd_error_set(err, OTD_EINVAL, "config_syntax", NULL,
		                   "%s line %u: a NUL byte; this is not a text file", path, line);
		goto out;
	}
	/* libconfig counts lines in an unsigned short. */
	size_t lines = 1;
	for(const char *p = text; *p; p++)
		lines += *p == '\n';
	if(lines > 65535) {
		st = otd_error_set(err, OTD_ETOOBIG, "config_file", NULL,
		                   "the configuration file %s has more than 65535 lines", path);
		goto out;
	}
	const char *slash = strrchr(path, '/');
	dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	config_init(&lc);
	lc_ready = true;
	config_set_include_dir(&lc, dir);
	if(!config_read_string(&lc, text)) {
		const char *file = config_error_file(&lc);
		st = otd_error_set(err, OTD_EINVAL, "config_syntax", NULL, "%s line %d: %s",
		                   file ? file : path, config_error_line(&lc),
		                   config_error_text(&lc));
		goto out;
	}
	struct otd_config next;
	config_copy(&next, cfg);
	struct loader ld = {.path = path, .text = text, .dir = dir, .cfg = &next, .err = err};
	st = commit(cfg, &next, load_group(&ld, config_root_setting(&lc), NULL));
out:
	if(lc_ready)
		config_destroy(&lc);
	free(dir);
	free(text);
	return st;
}

/* ---- the environment ------------------------------------------------ */

static bool parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for(size_t i = 0; i < 4; i++) {
		if(strcasecmp(s, yes[i]) == 0) {
			*v = true;
			return true;
		}
		if(strcasecmp(s, no[i]) == 0) {
			*v = false;
			return true;
		}
	}
	return false;
}

/* Entries separated by commas, blanks around them dropped; "" is an empty
 * list, an empty entry is an error. */
static enum otd_status env_list(struct otd_config *cfg, const struct opt_def *o, const char *s,
                                const char *where, struct otd_error *err)
{
	struct list_build lb = {0};
	enum otd_status st = OTD_OK;
	const char *p = s + strspn(s, " \t");
	if(*p) {
		for(;;) {
			const char *comma = strchrnul(p, ',');
			const char *a = p, *b = comma;
			while(a < b && (*a == ' ' || *a == '\t'))
				a++;
			while(b > a && (b[-1] == ' ' || b[-1] == '\t'))
				b--;
			char *item = xstrndup(a, (size_t)(b - a));
			if(!*item)
				st = bad_value(err, "config_value", where, o, "an empty entry");
			else
				st = list_add(&lb, o, item, where, err);
			free(item);
			if(st || !*comma)
				break;
			p = comma + 1;
		}
	}
	return list_finish(&lb, cfg, o, st);
}

/* ONTHEDOT_ variables the program reads that are not options: not typos. */
static const char *const env_not_options[] = {
    "ONTHEDOT_CONFIG", /* the configuration file (cli/common.c) */
};

static enum otd_status apply_env_var(struct otd_config *cfg, const char *entry,
                                     struct otd_error *err)
{
	const char *eq = strchr(entry, '=');
	if(strncmp(entry, ENV_PREFIX, strlen(ENV_PREFIX)) != 0 || !eq)
		return OTD_OK;
	char name[OTD_ERR_FIELD_MAX];
	snprintf(name, sizeof(name), "%.*s", (int)(eq - entry), entry);
	for(size_t i = 0; i < sizeof(env_not_options) / sizeof(env_not_options[0]); i++)
		if(strcmp(name, env_not_options[i]) == 0)
			return OTD_OK;
	const struct opt_def *o = (size_t)(eq - entry) < sizeof(name) ? find_env(name) : NULL;
	if(!o) {
		char hint[160];
		suggest(name, true, hint, sizeof(hint));
		return otd_error_set(err, OTD_EINVAL, "config_unknown", name,
		                     "unknown environment variable %s: no option has that name%s",
		                     name, hint);
	}
	const char *v = eq + 1;
	char where[160], got[300];
	snprintf(where, sizeof(where), "environment variable %s", name);
	quote(v, got, sizeof(got));
	switch(o->type) {
	case OPT_INT:
	case OPT_INT64: {
		const char *end;
		int64_t n;
		bool big;
		if(!parse_integer(v, &end, &n, &big) || *end || big)
			return bad_value(err, "config_value", where, o, got);
		return set_int(cfg, o, n, where, err);
	}
	case OPT_DOUBLE: {
		char *end;
		errno = 0;
		double d = strtod(v, &end);
		if(!*v || isspace((unsigned char)*v) || *end || errno == ERANGE)
			return bad_value(err, "config_value", where, o, got);
		return set_double(cfg, o, d, where, err);
	}
	case OPT_BOOL: {
		bool b;
		if(!parse_bool(v, &b))
			return bad_value(err, "config_value", where, o, got);
		*(bool *)slot(cfg, o) = b;
		return OTD_OK;
	}
	case OPT_STRING: return set_string(cfg, o, v, where, err);
	case OPT_LIST: return env_list(cfg, o, v, where, err);
	}
	return otd_error_set(err, OTD_EINTERNAL, NULL, o->key, "option %s has no type", o->key);
}

enum otd_status otd_config_apply_env(struct otd_config *cfg, char *const *envp,
                                     struct otd_error *err)
{
	struct otd_config next;
	config_copy(&next, cfg);
	enum otd_status st = OTD_OK;
	for(char *const *e = envp; e && *e && !st; e++)
		st = apply_env_var(&next, *e, err);
	return commit(cfg, &next, st);
}

/* ---- defaults, cleanup, keys, dump ---------------------------------- */

void otd_config_defaults(struct otd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for(size_t i = 0; i < OPTION_COUNT; i++) {
		const struct opt_def *o = &options[i];
		void *p = slot(cfg, o);
		switch(o->type) {
		case OPT_STRING: *(char **)p = xstrdup(o->sdef); break;
		case OPT_INT: *(int *)p = (int)o->idef; break;
		case OPT_INT64: *(int64_t *)p = o->idef; break;
		case OPT_DOUBLE: *(double *)p = o->ddef; break;
		case OPT_BOOL: *(bool *)p = o->bdef; break;
		case OPT_LIST: *(char ***)p = xcalloc(1, sizeof(char *)); break;
		}
	}
}

void otd_config_cleanup(struct otd_config *cfg)
{
	for(size_t i = 0; i < OPTION_COUNT; i++) {
		const struct opt_def *o = &options[i];
		if(o->type == OPT_STRING) {
			char **p = slot(cfg, o);
			free(*p);
			*p = NULL;
		} else if(o->type == OPT_LIST) {
			char ***p = slot(cfg, o);
			free_list(*p);
			*p = NULL;
		}
	}
}

static const char *key_names[OPTION_COUNT];
static pthread_once_t key_names_once = PTHREAD_ONCE_INIT;

static void key_names_init(void)
{
	for(size_t i = 0; i < OPTION_COUNT; i++)
		key_names[i] = options[i].key;
}

size_t otd_config_keys(const char *const **keys)
{
	pthread_once(&key_names_once, key_names_init);
	*keys = key_names;
	return OPTION_COUNT;
}

/* A libconfig string literal. */
static void put_string(struct otd_buf *b, const char *s)
{
	otd_buf_puts(b, "\"");
	for(const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
		if(*c == '"' || *c == '\\')
			otd_buf_printf(b, "\\%c", *c);
		else if(*c < 0x20 || *c == 0x7f)
			otd_buf_printf(b, "\\x%02x", *c);
		else
			otd_buf_append(b, c, 1);
	}
	otd_buf_puts(b, "\"");
}

/* The option's value in the file's syntax, in b. */
static void format_value(const struct otd_config *cfg, const struct opt_def *o, struct otd_buf *b)
{
	const void *p = cslot(cfg, o);
	switch(o->type) {
	case OPT_STRING: put_string(b, *(char *const *)p); break;
	case OPT_INT: otd_buf_printf(b, "%d", *(const int *)p); break;
	case OPT_INT64: {
		int64_t v = *(const int64_t *)p;
		/* The L keeps it 64-bit for any libconfig reader. */
		otd_buf_printf(b, "%" PRId64 "%s", v, v > INT32_MAX || v < INT32_MIN ? "L" : "");
		break;
	}
	case OPT_DOUBLE: {
		double d = *(const double *)p;
		char num[40];
		if(d > -1e15 && d < 1e15 && d == (double)(int64_t)d) {
			snprintf(num, sizeof(num), "%.1f", d); /* 10.0, not 1e+01 */
		} else {
			/* The shortest text that reads back as the same double. */
			for(int prec = 1; prec <= 17; prec++) {
				snprintf(num, sizeof(num), "%.*g", prec, d);
				if(strtod(num, NULL) == d)
					break;
			}
		}
		otd_buf_printf(b, "%s%s", num, strpbrk(num, ".eEn") ? "" : ".0");
		break;
	}
	case OPT_BOOL: otd_buf_puts(b, *(const bool *)p ? "true" : "false"); break;
	case OPT_LIST: {
		char *const *list = *(char **const *)p;
		otd_buf_puts(b, "[");
		for(size_t i = 0; list && list[i]; i++) {
			otd_buf_puts(b, i ? ", " : " ");
			put_string(b, list[i]);
		}
		otd_buf_puts(b, " ]");
		break;
	}
	}
}

void otd_config_dump(const struct otd_config *cfg, FILE *out)
{
	struct otd_config def;
	otd_config_defaults(&def);
	struct otd_buf v, d;
	otd_buf_init(&v, 0);
	otd_buf_init(&d, 0);
	fprintf(out, "# onthedot configuration (libconfig syntax)\n");
	const char *group = NULL; /* the open group's key, to compare prefixes */
	size_t group_len = 0;
	for(size_t i = 0; i < OPTION_COUNT; i++) {
		const struct opt_def *o = &options[i];
		const char *dot = strchr(o->key, '.');
		size_t len = dot ? (size_t)(dot - o->key) : 0;
		if(group && (len != group_len || strncmp(o->key, group, len) != 0)) {
			fprintf(out, "};\n");
			group = NULL;
		}
		if(dot && !group) {
			fprintf(out, "\n%.*s = {\n", (int)len, o->key);
			group = o->key;
			group_len = len;
		}
		format_value(cfg, o, &v);
		format_value(&def, o, &d);
		if(o->secret && strcmp(v.data, "\"\"") != 0) {
			otd_buf_cleanup(&v);
			otd_buf_init(&v, 0);
			otd_buf_puts(&v, "\"(hidden)\"");
		}
		const char *indent = group ? "\t" : "";
		fprintf(out, "%s# %s\n%s%s = %s;", indent, o->doc, indent, dot ? dot + 1 : o->key,
		        v.data);
		if(strcmp(v.data, d.data) != 0)
			fprintf(out, " # default: %s", d.data);
		fputc('\n', out);
		otd_buf_cleanup(&v);
		otd_buf_cleanup(&d);
	}
	if(group)
		fprintf(out, "};\n");
	otd_config_cleanup(&def);
}
