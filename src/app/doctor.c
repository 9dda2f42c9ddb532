/* onthedot doctor's checks (app/doctor.h). */
#include "app/doctor.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/tzload.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "store/inspect.h"
#include "store/store.h"

struct doctor {
	doctor_report_fn report;
	void *arg;
	int fails;
};

static void say(struct doctor *d, enum doctor_level level, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void say(struct doctor *d, enum doctor_level level, const char *what, const char *fmt, ...)
{
	char words[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(words, sizeof(words), fmt, ap);
	va_end(ap);
	if(level == DOCTOR_FAIL)
		d->fails++;
	d->report(d->arg, level, what, words);
}

static void human_bytes(uint64_t n, char *buf, size_t size)
{
	if(n >= (UINT64_C(1) << 30))
		snprintf(buf, size, "%.1f GiB", (double)n / (double)(UINT64_C(1) << 30));
	else if(n >= (UINT64_C(1) << 20))
		snprintf(buf, size, "%.1f MiB", (double)n / (double)(UINT64_C(1) << 20));
	else
		snprintf(buf, size, "%llu KiB", (unsigned long long)(n >> 10));
}

/* ---- the log file ------------------------------------------------------ */

static void check_log_file(struct doctor *d, const struct otd_config *cfg)
{
	if(!cfg->log_file[0]) {
		say(d, DOCTOR_OK, "log", "lines go to stderr (the journal under systemd)");
		return;
	}
	struct stat sb;
	bool existed = stat(cfg->log_file, &sb) == 0;
	int fd = open(cfg->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if(fd < 0) {
		say(d, DOCTOR_FAIL, "log",
		    "cannot append to log_file %s: %s (serve would not start)", cfg->log_file,
		    strerror(errno));
		return;
	}
	close(fd);
	if(!existed)
		unlink(cfg->log_file); /* doctor leaves no trace */
	say(d, DOCTOR_OK, "log", "lines are appended to %s (reopened on SIGHUP)", cfg->log_file);
}

/* ---- the database ------------------------------------------------------ */

/* The schema finding: current, behind (naming migrate) or ahead (then
 * what to do is newer_advice). */
static void say_schema(struct doctor *d, int version, int latest, const char *db,
                       const char *newer_advice)
{
	if(version < latest)
		say(d, DOCTOR_FAIL, "schema",
		    "version %d, this onthedot needs %d; run: onthedot migrate --db %s", version,
		    latest, db);
	else if(version > latest)
		say(d, DOCTOR_FAIL, "schema",
		    "version %d is newer than this onthedot knows (%d): %s", version, latest,
		    newer_advice);
	else
		say(d, DOCTOR_OK, "schema", "version %d, current", version);
}

/* A PostgreSQL database: reachable, migrated, writable, sorted as SQLite. */
static void check_database_pg(struct doctor *d, const struct otd_config *cfg)
{
	struct store_inspect_pg in;
	struct otd_error err;
	otd_error_clear(&err);
	char *db = store_path_shown(cfg->database);
	if(store_inspect_pg(cfg->database, &in, &err) != OTD_OK) {
		say(d, DOCTOR_FAIL, "database", "%s", err.message);
		free(db);
		return;
	}
	say(d, DOCTOR_OK, "database", "%s answers: PostgreSQL %s, %d of %d connections in use", db,
	    in.server_version, in.connections, in.max_connections);
	if(in.read_only)
		say(d, DOCTOR_FAIL, "primary",
		    "%s is a standby (read-only): point every node at the primary", db);
	say_schema(d, in.schema_version, in.schema_latest, db,
	           "run the newer onthedot on every node");
	if(strcmp(in.collate, "C") != 0 && strcmp(in.collate, "POSIX") != 0)
		say(d, DOCTOR_WARN, "collation",
		    "the database sorts text as %s; create it with --locale=C so that lists sort "
		    "as "
		    "under SQLite",
		    in.collate);
	char size[32];
	human_bytes((uint64_t)in.db_bytes, size, sizeof(size));
	say(d, DOCTOR_OK, "nodes", "%d onthedot node(s) seen in the last 5 minutes; %s of data",
	    in.nodes_alive, size);
	free(db);
}

static void check_database(struct doctor *d, const struct otd_config *cfg)
{
	if(store_path_is_pg(cfg->database)) {
		check_database_pg(d, cfg);
		return;
	}
	struct store_inspect in;
	struct otd_error err;
	otd_error_clear(&err);
	const char *db = cfg->database;
	if(store_inspect(db, &in, &err) != OTD_OK) {
		say(d, DOCTOR_FAIL, "database", "%s", err.message);
		return;
	}
	say(d, DOCTOR_OK, "database", "%s opens read-only", db);
	say_schema(d, in.schema_version, in.schema_latest, db,
	           "run the newer onthedot, or restore a backup taken before the upgrade");
	if(in.quick_check_ok)
		say(d, DOCTOR_OK, "integrity", "PRAGMA quick_check passes");
	else
		say(d, DOCTOR_FAIL, "integrity",
		    "PRAGMA quick_check found damage (%s): stop the service and restore the latest "
		    "good backup",
		    in.quick_check);
	if(in.mode & 007)
		say(d, DOCTOR_WARN, "database permissions",
		    "%s holds personal data and other users may use it (mode %04o): run chmod 600 "
		    "%s",
		    db, in.mode, db);
	char wal[32];
	human_bytes((uint64_t)in.wal_bytes, wal, sizeof(wal));
	if(in.wal_bytes > DOCTOR_WAL_WARN_BYTES)
		say(d, DOCTOR_WARN, "wal",
		    "the write-ahead log is %s: a long-running reader may be holding checkpoints "
		    "back",
		    wal);
	else
		say(d, DOCTOR_OK, "wal", "the write-ahead log is %s", wal);
	char free_s[32], total_s[32];
	human_bytes(in.fs_free_bytes, free_s, sizeof(free_s));
	human_bytes(in.fs_total_bytes, total_s, sizeof(total_s));
	if(in.fs_total_bytes == 0)
		say(d, DOCTOR_WARN, "disk",
		    "cannot tell the free space of the database's filesystem");
	else if(in.fs_free_bytes < DOCTOR_DISK_MIN_BYTES ||
	        (double)in.fs_free_bytes < DOCTOR_DISK_MIN_FRACTION * (double)in.fs_total_bytes)
		say(d, DOCTOR_WARN, "disk",
		    "only %s of %s free on the database's filesystem (below 10%% or 1 GiB): writes "
		    "fail when it fills",
		    free_s, total_s);
	else
		say(d, DOCTOR_OK, "disk", "%s of %s free on the database's filesystem", free_s,
		    total_s);
}

/* ---- time zone data ---------------------------------------------------- */

static void check_timezone(struct doctor *d, const struct otd_config *cfg)
{
	struct stat sb;
	char *file = xasprintf("/usr/share/zoneinfo/%s", cfg->timezone);
	if(stat("/usr/share/zoneinfo", &sb) != 0 || !S_ISDIR(sb.st_mode))
		say(d, DOCTOR_FAIL, "tzdata",
		    "/usr/share/zoneinfo is missing: install the time zone data (apt-get install "
		    "tzdata)");
	else if(strcmp(cfg->timezone, "UTC") != 0 && stat(file, &sb) != 0)
		say(d, DOCTOR_FAIL, "tzdata",
		    "%s is missing: the tzdata package may be old or partial", file);
	else
		say(d, DOCTOR_OK, "tzdata", "the system has time zone data (/usr/share/zoneinfo)");
	free(file);
	struct otd_tz *tz = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	if(tzload_build(cfg->timezone, TZLOAD_FROM_YEAR, TZLOAD_TO_YEAR, &tz, &err) != OTD_OK)
		say(d, DOCTOR_FAIL, "timezone", "%s", err.message);
	else
		say(d, DOCTOR_OK, "timezone", "%s loads from libical's data", cfg->timezone);
	otd_tz_free(tz);
}

/* ---- gateways ---------------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_one(const struct addrinfo *ai, int64_t deadline, char *why, size_t why_size)
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if(fd < 0) {
		snprintf(why, why_size, "socket: %s", strerror(errno));
		return -1;
	}
	if(connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if(errno != EINPROGRESS) {
		snprintf(why, why_size, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int64_t left = deadline - mono_ms();
	int n = left > 0 ? poll(&p, 1, (int)left) : 0;
	if(n <= 0) {
		snprintf(why, why_size, "no answer within the connect timeout");
		close(fd);
		return -1;
	}
	int e = 0;
	socklen_t len = sizeof(e);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
	if(e) {
		snprintf(why, why_size, "%s", strerror(e));
		close(fd);
		return -1;
	}
	return fd;
}

static int read_greeting(int fd, int64_t deadline, char *why, size_t why_size)
{
	char line[512];
	size_t got = 0;
	while(got < sizeof(line) - 1 && !memchr(line, '\n', got)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - mono_ms();
		if(left <= 0 || poll(&p, 1, (int)left) <= 0) {
			snprintf(why, why_size, "connected, but no greeting within the timeout");
			return -1;
		}
		ssize_t n = recv(fd, line + got, sizeof(line) - 1 - got, 0);
		if(n <= 0) {
			snprintf(why, why_size,
			         "connected, but the server closed without a greeting");
			return -1;
		}
		got += (size_t)n;
	}
	line[got] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if(strncmp(line, "220", 3) != 0) {
		snprintf(why, why_size, "connected, but the greeting is not 220 (\"%.60s\")", line);
		return -1;
	}
	return 0;
}

int doctor_probe(const char *host, int port, int timeout_ms, bool greeting, char *why,
                 size_t why_size)
{
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, service, &hints, &res);
	if(rc != 0) {
		snprintf(why, why_size, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	int64_t deadline = mono_ms() + timeout_ms;
	int fd = -1;
	for(struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, deadline, why, why_size);
	freeaddrinfo(res);
	if(fd < 0)
		return -1;
	rc = greeting ? read_greeting(fd, deadline, why, why_size) : 0;
	close(fd);
	return rc;
}

/* Host and port of url (the scheme's default port when none is given). */
static int url_host_port(const char *url, char *host, size_t host_size, int *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL;
	int rc = -1;
	if(u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	   curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	   curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		/* "[::1]" -> "::1" for getaddrinfo. */
		size_t n = strlen(h);
		if(n >= 2 && h[0] == '[' && h[n - 1] == ']')
			snprintf(host, host_size, "%.*s", (int)(n - 2), h + 1);
		else
			snprintf(host, host_size, "%s", h);
		char *end;
		long v = strtol(p, &end, 10);
		if(*end == '\0' && v > 0 && v < 65536) {
			*port = (int)v;
			rc = 0;
		}
	}
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}

static void check_gateway(struct doctor *d, const struct otd_config *cfg, const char *provider)
{
	const char *url = NULL, *key = NULL;
	bool smtp = false;
	if(strcmp(provider, "smtp") == 0) {
		url = cfg->delivery.smtp_url, key = "delivery.smtp_url", smtp = true;
	} else if(strcmp(provider, "kannel") == 0) {
		url = cfg->delivery.kannel_url, key = "delivery.kannel_url";
	} else if(strcmp(provider, "twilio") == 0) {
		url = cfg->delivery.twilio_url, key = "delivery.twilio_url";
	} else {
		url = cfg->delivery.webhook_url, key = "delivery.webhook_url";
	}
	char what[64];
	snprintf(what, sizeof(what), "gateway %s", provider);
	if(!url[0]) {
		say(d, DOCTOR_FAIL, what, "%s is empty but %s is a configured provider", key,
		    provider);
		return;
	}
	char host[300];
	int port = 0;
	if(url_host_port(url, host, sizeof(host), &port) != 0) {
		say(d, DOCTOR_FAIL, what, "%s (%s) is not a URL with a host", key, url);
		return;
	}
	/* smtps: the greeting comes after TLS, which is not probed here. */
	bool greeting = smtp && strncmp(url, "smtps:", 6) != 0;
	char why[300];
	if(doctor_probe(host, port, cfg->delivery.connect_timeout_ms, greeting, why, sizeof(why)) !=
	   0) {
		say(d, DOCTOR_FAIL, what, "cannot reach %s:%d (%s): %s", host, port, key, why);
		return;
	}
	say(d, DOCTOR_OK, what, "%s:%d %s (nothing sent)", host, port,
	    greeting ? "answers with its 220 greeting" : "accepts connections");
}

static void check_delivery(struct doctor *d, const struct otd_config *cfg)
{
	bool record_only = cfg->messages.record_only;
	int providers = 0;
	char **lists[2] = {cfg->delivery.email_providers, cfg->delivery.sms_providers};
	for(int c = 0; c < 2; c++)
		for(char **p = lists[c]; p && *p; p++) {
			providers++;
			check_gateway(d, cfg, *p);
		}
	/* The webhook channel is served whenever its URL and key are set. */
	bool webhook_listed = false;
	for(int c = 0; c < 2; c++)
		for(char **p = lists[c]; p && *p; p++)
			webhook_listed = webhook_listed || strcmp(*p, "webhook") == 0;
	if(!webhook_listed && cfg->delivery.webhook_url[0] && cfg->delivery.webhook_secret[0]) {
		providers++;
		check_gateway(d, cfg, "webhook");
	}
	if(record_only)
		say(d, DOCTOR_OK, "messages",
		    "record only (messages.record_only): no customer is sent anything");
	else if(providers == 0)
		say(d, DOCTOR_WARN, "messages",
		    "no email or SMS provider is configured (delivery.email_providers, "
		    "delivery.sms_providers): messages wait in the outbox");
	if(!record_only && !cfg->public_url[0])
		say(d, DOCTOR_FAIL, "public_url",
		    "not set, so links in messages would point at the listen address %s; set "
		    "public_url to the address customers use (https://...)",
		    cfg->listen);
	else if(cfg->public_url[0])
		say(d, DOCTOR_OK, "public_url", "links in messages start with %s", cfg->public_url);
}

int doctor_run(const struct otd_config *cfg, doctor_report_fn report, void *arg)
{
	struct doctor d = {.report = report, .arg = arg};
	check_log_file(&d, cfg);
	check_database(&d, cfg);
	check_timezone(&d, cfg);
	check_delivery(&d, cfg);
	return d.fails;
}
