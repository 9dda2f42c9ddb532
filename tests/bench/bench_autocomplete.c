/* Benchmark: the address autocomplete over HTTP (issue 6's goal: 8
 * concurrent clients on 100,000 addresses, queries of 1 to 12 characters
 * including "sw1a1aa" and "SW1A 1AA": p99 at most 5 ms, release build).
 *
 *   bench_autocomplete [ONTHEDOT_BINARY [SECONDS [CLIENTS]]]
 *
 * ONTHEDOT_BINARY defaults to the onthedot beside this program's tree
 * (build/release/tests/bench/bench_autocomplete runs build/release/onthedot);
 * SECONDS to 10, CLIENTS to 8.
 *
 * Builds a database of 100,000 addresses in a temporary folder through the
 * real gazetteer import (the numbering of bench_gazetteer, over 60 street
 * names, 6 kinds of street, 12 towns and their postcode areas, with 10
 * Downing Street, London, SW1A 1AA among them), then indexes the same
 * rows in process (the core alone: build time, memory, search latency),
 * then starts the given binary on that database with the address rate
 * limit raised and the default log level (every request writes its log
 * line to a file), warms up for 2 seconds, and runs CLIENTS threads, each
 * with its own libcurl easy handle kept alive, through a fixed mix of 2,400
 * queries, 200 of each length from 1 to 12 characters (prefixes of
 * addresses, streets, towns and postcodes as people type them, in varied
 * case, plus "sw1a1aa", "SW1A 1AA" and other Downing Street forms), for
 * SECONDS seconds. Every answer must be 200 with an items list. Prints a
 * table (count, throughput, p50/p90/p99/max) and a JSON line. */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/imports.h"
#include "app/tzload.h"
#include "cli/config_file.h"
#include "onthedot/addrindex.h"
#include "onthedot/mem.h"
#include "store/store.h"

#define ROWS 100000
#define QUERIES_PER_LENGTH 200
#define MAX_LEN 12
#define N_QUERIES (QUERIES_PER_LENGTH * MAX_LEN)
#define CLIENTS_MAX 64
#define WARMUP_S 2.0
#define GOAL_P99_MS 5.0

static const char *const STREETS[] = {
    "Mill",   "Station",    "Church",   "High",        "Park",      "Victoria",  "Queens",
    "Kings",  "Albert",     "Manor",    "School",      "Green",     "Grove",     "Orchard",
    "Chapel", "Windsor",    "York",     "Springfield", "Highfield", "Meadow",    "Forge",
    "Willow", "Cedar",      "Oak",      "Elm",         "Ash",       "Beech",     "Hawthorn",
    "Rowan",  "Heather",    "Lark",     "Kestrel",     "Priory",    "Abbey",     "Castle",
    "Bridge", "River",      "Brook",    "Hill",        "Valley",    "North",     "South",
    "East",   "West",       "New",      "Old",         "Long",      "Broad",     "Market",
    "Cross",  "Fairfield",  "Glebe",    "Vicarage",    "Rectory",   "Alexandra", "Stanley",
    "Nelson", "Wellington", "Cromwell", "Downing"};
static const char *const KINDS[] = {"Road", "Street", "Lane", "Close", "Avenue", "Way"};
static const char *const TOWNS[] = {"Benchton",         "Wrenfield", "Ashby",    "Kirkby",
                                    "Stow-on-the-Wold", "Cwmbrân",   "Brackley", "Thornbury",
                                    "Elmhurst",         "Holbeck",   "Saltford", "Marlow"};
static const char *const AREAS[] = {"BT", "WR", "AS", "KB", "GL", "NP",
                                    "BR", "TB", "EH", "HB", "SF", "ML"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng = 20261204;

static uint64_t rng_next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t pick(size_t n)
{
	return (size_t)(rng_next() % n);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	if(!n)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* ---- the gazetteer ------------------------------------------------------------ */

struct addr {
	char line1[64], town[32], postcode[12];
};

/* Row i, numbered as bench_gazetteer numbers them (house i % 300 + 1,
 * postcode district i % 90 + 1, sector i % 9 + 1, unit letters from i),
 * with a street, kind and town drawn from i; the last row is Downing St. */
static void make_addr(long i, struct addr *a)
{
	if(i == ROWS - 1) {
		snprintf(a->line1, sizeof(a->line1), "10 Downing Street");
		snprintf(a->town, sizeof(a->town), "London");
		snprintf(a->postcode, sizeof(a->postcode), "SW1A 1AA");
		return;
	}
	size_t street = (size_t)(i / 300) % N_OF(STREETS), town = (size_t)(i / 7) % N_OF(TOWNS);
	snprintf(a->line1, sizeof(a->line1), "%ld %s %s", i % 300 + 1, STREETS[street],
	         KINDS[(size_t)(i / 300 / N_OF(STREETS)) % N_OF(KINDS)]);
	snprintf(a->town, sizeof(a->town), "%s", TOWNS[town]);
	snprintf(a->postcode, sizeof(a->postcode), "%s%ld %ld%c%c", AREAS[town], i % 90 + 1,
	         i % 9 + 1, 'A' + (char)(i % 26), 'A' + (char)(i / 26 % 26));
}

static void gazetteer_csv(struct otd_buf *csv)
{
	otd_buf_puts(csv, "uprn,line1,line2,town,postcode,latitude,longitude\n");
	for(long i = 0; i < ROWS; i++) {
		struct addr a;
		make_addr(i, &a);
		otd_buf_printf(csv, "%ld,%s,,%s,%s,%.6f,%.6f\n", 100000000000 + i, a.line1, a.town,
		               a.postcode, 51.0 + (double)(i % 1000) / 2500.0,
		               -1.0 - (double)(i / 1000) / 2500.0);
	}
}

/* ---- the query mix -------------------------------------------------------------- */

/* Something a person types to find address a, in varied case. */
static void typed_form(const struct addr *a, char *out, size_t size)
{
	char street[64];
	const char *sp = strchr(a->line1, ' ');
	snprintf(street, sizeof(street), "%s", sp ? sp + 1 : a->line1);
	char compact[12];
	size_t k = 0;
	for(const char *p = a->postcode; *p && k + 1 < sizeof(compact); p++)
		if(*p != ' ')
			compact[k++] = *p;
	compact[k] = '\0';
	switch(pick(6)) {
	case 0: snprintf(out, size, "%s", a->line1); break;
	case 1: snprintf(out, size, "%s, %s", a->line1, a->town); break;
	case 2: snprintf(out, size, "%s", a->postcode); break;
	case 3: snprintf(out, size, "%s", compact); break;
	case 4: snprintf(out, size, "%s %s", street, a->town); break;
	default: snprintf(out, size, "%s", a->town); break;
	}
	size_t c = pick(3); /* as written, all lower, all upper */
	for(char *p = out; *p && c; p++)
		if(c == 1 && *p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if(c == 2 && *p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

static char *url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(s) * 3 + 1), *o = out;
	for(const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		   (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/* N_QUERIES queries, QUERIES_PER_LENGTH of each length 1..MAX_LEN bytes
 * (a cut never splits a UTF-8 character). One in 25 is a Downing Street
 * form cut to the length; one in 5 of length 7 is "sw1a1aa" and one in 5
 * of length 8 "SW1A 1AA". */
static char **make_queries(size_t *count, size_t *downing)
{
	static const char *const DOWNING[] = {
	    "sw1a1aa",    "SW1A 1AA",       "sw1a 1aa",          "SW1A1AA", "10 downing",
	    "Downing St", "downing street", "10 Downing Street", "sw1a 1",  "sw1a1"};
	char **q = xcalloc(N_QUERIES, sizeof(*q));
	size_t n = 0, d = 0;
	for(size_t len = 1; len <= MAX_LEN; len++) {
		for(size_t k = 0; k < QUERIES_PER_LENGTH; k++) {
			char text[128];
			if((len == 7 || len == 8) && k % 5 == 0) {
				snprintf(text, sizeof(text), "%s",
				         len == 7 ? "sw1a1aa" : "SW1A 1AA");
				d++;
			} else if(k % 25 == 1) {
				/* A Downing Street form at least this long, cut to it. */
				const char *f;
				do
					f = DOWNING[pick(N_OF(DOWNING))];
				while(strlen(f) < len);
				snprintf(text, sizeof(text), "%.*s", (int)len, f);
				d++;
			} else {
				for(;;) {
					struct addr a;
					make_addr((long)pick(ROWS), &a);
					typed_form(&a, text, sizeof(text));
					if(strlen(text) < len)
						continue;
					/* Not inside a UTF-8 character. */
					if(((unsigned char)text[len] & 0xC0) == 0x80)
						continue;
					text[len] = '\0';
					if(text[len - 1] == ' ' && len == 1)
						continue;
					break;
				}
			}
			q[n++] = xstrdup(text);
		}
	}
	*count = n;
	*downing = d;
	return q;
}

/* ---- the HTTP clients -------------------------------------------------------------- */

struct client {
	pthread_t thread;
	int index;
	unsigned port;
	char **urls;
	size_t n_urls;
	double until;      /* monotonic seconds: stop then */
	double warm_until; /* latencies recorded from then on */
	double *lat_ms;
	size_t n_lat, cap_lat;
	size_t errors, empty, warm_requests;
	char body[65536];
	size_t body_len;
	char first_error[256];
};

static size_t on_body(char *p, size_t s, size_t n, void *u)
{
	struct client *c = u;
	size_t k = s * n;
	if(c->body_len + k < sizeof(c->body)) {
		memcpy(c->body + c->body_len, p, k);
		c->body_len += k;
	}
	return k;
}

static pthread_barrier_t start_line;

static void *client_main(void *arg)
{
	struct client *c = arg;
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	pthread_barrier_wait(&start_line);
	/* Each client walks the mix from its own place. */
	size_t i = (size_t)c->index * (c->n_urls / CLIENTS_MAX + 7);
	for(;;) {
		double t0 = now_s();
		if(t0 >= c->until)
			break;
		const char *url = c->urls[i++ % c->n_urls];
		c->body_len = 0;
		curl_easy_setopt(h, CURLOPT_URL, url);
		CURLcode rc = curl_easy_perform(h);
		double t1 = now_s();
		long code = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		bool ok = rc == CURLE_OK && code == 200 && c->body_len >= 11 &&
		          memcmp(c->body, "{\"items\":[", 10) == 0;
		if(!ok) {
			if(!c->errors)
				snprintf(c->first_error, sizeof(c->first_error),
				         "%s: curl %d, HTTP %ld: %.*s", url, (int)rc, code,
				         (int)(c->body_len < 120 ? c->body_len : 120), c->body);
			c->errors++;
		}
		if(t0 < c->warm_until) {
			c->warm_requests++;
			continue;
		}
		if(ok && memcmp(c->body, "{\"items\":[]", 11) == 0)
			c->empty++;
		if(c->n_lat == c->cap_lat) {
			c->cap_lat = c->cap_lat ? c->cap_lat * 2 : 65536;
			c->lat_ms = xrealloc(c->lat_ms, c->cap_lat * sizeof(*c->lat_ms));
		}
		c->lat_ms[c->n_lat++] = (t1 - t0) * 1000.0;
	}
	curl_easy_cleanup(h);
	return NULL;
}

/* CPU seconds (user + system) of process pid so far. */
static double proc_cpu_s(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if(!f)
		return 0;
	char buf[2048];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the name may hold spaces */
	unsigned long ut = 0, st = 0;
	if(p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
		return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

static double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void remove_tree(const char *dir)
{
	const char *names[] = {"bench.db", "bench.db-wal", "bench.db-shm", "port", "serve.log"};
	char path[4200];
	for(size_t i = 0; i < N_OF(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		remove(path);
	}
	rmdir(dir);
}

/* ---- main ---------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	char bin[4096];
	if(argc > 1) {
		snprintf(bin, sizeof(bin), "%s", argv[1]);
	} else {
		/* build/X/tests/bench/bench_autocomplete -> build/X/onthedot */
		snprintf(bin, sizeof(bin), "%s", argv[0]);
		char *slash = strrchr(bin, '/');
		if(slash)
			snprintf(slash + 1, sizeof(bin) - (size_t)(slash + 1 - bin),
			         "../../onthedot");
		else
			snprintf(bin, sizeof(bin), "../../onthedot");
	}
	double seconds = argc > 2 ? strtod(argv[2], NULL) : 10.0;
	long n_clients = argc > 3 ? strtol(argv[3], NULL, 10) : 8;
	if(seconds <= 0 || n_clients < 1 || n_clients > CLIENTS_MAX || access(bin, X_OK) != 0) {
		fprintf(stderr,
		        "usage: bench_autocomplete [ONTHEDOT_BINARY [SECONDS [CLIENTS]]]\n"
		        "(%s is not an executable, or SECONDS or CLIENTS (1 to %d) is wrong)\n",
		        bin, CLIENTS_MAX);
		return 2;
	}
	if(sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	char dir[] = "/tmp/bench-autocomplete-XXXXXX";
	if(!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	char db[4200];
	snprintf(db, sizeof(db), "%s/bench.db", dir);

	/* ---- the database, through the real import ---- */
	struct otd_buf csv;
	otd_buf_init(&csv, 0);
	gazetteer_csv(&csv);
	struct otd_error err;
	otd_error_clear(&err);
	int from, to;
	if(store_migrate(db, true, 5000, &from, &to, NULL, &err) != OTD_OK) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	struct otd_config cfg;
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db);
	struct otd_app app;
	if(app_open(&app, &cfg, OTD_APP_CLI, &err) != OTD_OK) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	struct otd_principal cli;
	app_principal_cli(&cli);
	struct otd_import_report rep;
	double t0 = now_s();
	enum otd_status st =
	    app_import_gazetteer(&app, &cli, "bench", csv.data, csv.len, &rep, &err);
	double import_s = now_s() - t0;
	otd_import_report_cleanup(&rep);
	app_close(&app);
	tzload_shutdown();
	otd_config_cleanup(&cfg);
	otd_buf_cleanup(&csv);
	if(st) {
		fprintf(stderr, "import failed: %s\n", err.message);
		return 1;
	}

	/* ---- the mix ---- */
	size_t n_queries, n_downing;
	char **queries = make_queries(&n_queries, &n_downing);

	/* ---- the index alone, in process ---- */
	struct addr *rows = xcalloc(ROWS, sizeof(*rows));
	struct otd_addr_entry *entries = xcalloc(ROWS, sizeof(*entries));
	for(long i = 0; i < ROWS; i++) {
		make_addr(i, &rows[i]);
		entries[i] = (struct otd_addr_entry){i + 1, rows[i].line1, "", rows[i].town,
		                                     rows[i].postcode};
	}
	struct otd_addrindex *ix = NULL;
	t0 = now_s();
	if(otd_addrindex_build(entries, ROWS, &ix, &err) != OTD_OK) {
		fprintf(stderr, "index: %s\n", err.message);
		return 1;
	}
	double build_ms = (now_s() - t0) * 1000.0;
	size_t index_bytes = otd_addrindex_bytes(ix);
	double *core_us = xcalloc(n_queries * 5, sizeof(*core_us));
	double *query_us = xcalloc(n_queries, sizeof(*query_us)); /* each query's best */
	size_t n_core = 0, found_downing = 0, n_exact = 0;
	for(int round = 0; round < 5; round++) {
		for(size_t i = 0; i < n_queries; i++) {
			struct otd_addr_entry out[10];
			double s = now_s();
			size_t n = otd_addrindex_search(ix, queries[i], 10, out);
			core_us[n_core] = (now_s() - s) * 1e6;
			if(round == 0 || core_us[n_core] < query_us[i])
				query_us[i] = core_us[n_core];
			n_core++;
			if(round == 0 && (strcmp(queries[i], "sw1a1aa") == 0 ||
			                  strcmp(queries[i], "SW1A 1AA") == 0)) {
				n_exact++;
				found_downing +=
				    n == 1 && strcmp(out[0].line1, "10 Downing Street") == 0;
			}
		}
	}
	qsort(core_us, n_core, sizeof(*core_us), cmp_double);
	/* OTD_BENCH_SLOWEST=N: the N slowest queries of the mix, for diagnosis. */
	const char *slowest = getenv("OTD_BENCH_SLOWEST");
	for(long shown = 0, want = slowest ? strtol(slowest, NULL, 10) : 0; shown < want; shown++) {
		size_t worst = 0;
		for(size_t i = 1; i < n_queries; i++)
			if(query_us[i] > query_us[worst])
				worst = i;
		if(query_us[worst] < 0)
			break;
		printf("slow: %8.1f us  \"%s\"\n", query_us[worst], queries[worst]);
		query_us[worst] = -1;
	}
	free(query_us);
	otd_addrindex_free(ix);
	free(entries);
	free(rows);

	/* ---- the server ---- */
	char portfile[4300], logfile[4300];
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	snprintf(logfile, sizeof(logfile), "%s/serve.log", dir);
	const char *level = getenv("OTD_BENCH_LOG_LEVEL");
	pid_t pid = fork();
	if(pid == 0) {
		setenv("ONTHEDOT_LIMITS_ADDRESS_SEARCHES_PER_MINUTE", "1000000", 1);
		setenv("ONTHEDOT_LIMITS_ADDRESS_SEARCHES_BURST", "1000000", 1);
		setenv("ONTHEDOT_HTTP_PER_IP_CONNECTIONS", "1000", 1);
		setenv("ONTHEDOT_LOG_LEVEL", level && *level ? level : "info", 1);
		if(!freopen(logfile, "w", stderr))
			_exit(1);
		execl(bin, bin, "serve", "--db", db, "--listen", "127.0.0.1:0", "--port-file",
		      portfile, (char *)NULL);
		_exit(127);
	}
	unsigned port = 0;
	for(int i = 0; i < 600 && !port; i++) {
		FILE *f = fopen(portfile, "r");
		if(f) {
			if(fscanf(f, "%u", &port) != 1)
				port = 0;
			fclose(f);
		}
		if(!port)
			usleep(25000);
	}
	if(!port) {
		fprintf(stderr, "the server did not start (see %s)\n", logfile);
		kill(pid, SIGTERM);
		return 1;
	}
	/* What the server says of its index (its log line at start). */
	long long server_index_bytes = -1;
	double server_build_ms = -1;
	FILE *lf = fopen(logfile, "r");
	if(lf) {
		char line[4096];
		while(fgets(line, sizeof(line), lf)) {
			const char *b = strstr(line, "\"msg\":\"address_index\"");
			const char *bytes = b ? strstr(line, "\"bytes\":") : NULL;
			const char *ms = b ? strstr(line, "\"build_ms\":") : NULL;
			if(bytes)
				server_index_bytes = strtoll(bytes + 8, NULL, 10);
			if(ms)
				server_build_ms = strtod(ms + 11, NULL);
		}
		fclose(lf);
	}
	char **urls = xcalloc(n_queries, sizeof(*urls));
	for(size_t i = 0; i < n_queries; i++) {
		char *q = url_encode(queries[i]);
		urls[i] = xasprintf("http://127.0.0.1:%u/api/v1/addresses?q=%s&limit=10", port, q);
		free(q);
	}
	struct client *clients = xcalloc((size_t)n_clients, sizeof(*clients));
	pthread_barrier_init(&start_line, NULL, (unsigned)n_clients + 1);
	double start = now_s() + 0.05;
	for(long i = 0; i < n_clients; i++) {
		clients[i].index = (int)i;
		clients[i].port = port;
		clients[i].urls = urls;
		clients[i].n_urls = n_queries;
		clients[i].warm_until = start + WARMUP_S;
		clients[i].until = start + WARMUP_S + seconds;
		pthread_create(&clients[i].thread, NULL, client_main, &clients[i]);
	}
	pthread_barrier_wait(&start_line);
	/* CPU over the measured part only. */
	while(now_s() < start + WARMUP_S)
		usleep(1000);
	double srv_cpu0 = proc_cpu_s(pid), self_cpu0 = self_cpu_s(), m0 = now_s();
	for(long i = 0; i < n_clients; i++)
		pthread_join(clients[i].thread, NULL);
	double m1 = now_s(), srv_cpu1 = proc_cpu_s(pid), self_cpu1 = self_cpu_s();
	kill(pid, SIGTERM);
	int status = 0;
	waitpid(pid, &status, 0);
	if(!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "the server did not stop cleanly (status %d); its log: %s\n",
		        status, logfile);
		setenv("OTD_KEEP", "1", 1);
	}

	size_t total = 0, errors = 0, empty = 0;
	for(long i = 0; i < n_clients; i++) {
		total += clients[i].n_lat;
		errors += clients[i].errors;
		empty += clients[i].empty;
	}
	double *lat = xcalloc(total ? total : 1, sizeof(*lat));
	size_t k = 0;
	for(long i = 0; i < n_clients; i++) {
		memcpy(lat + k, clients[i].lat_ms, clients[i].n_lat * sizeof(*lat));
		k += clients[i].n_lat;
	}
	qsort(lat, total, sizeof(*lat), cmp_double);
	double elapsed = m1 - m0;
	double p50 = pct(lat, total, 0.50), p90 = pct(lat, total, 0.90),
	       p99 = pct(lat, total, 0.99), p999 = pct(lat, total, 0.999),
	       mx = total ? lat[total - 1] : 0;
	double rate = (double)total / elapsed;
	bool met = errors == 0 && total > 0 && p99 <= GOAL_P99_MS;

	printf("gazetteer: %d addresses imported in %.2f s; query mix: %zu queries, %d of each "
	       "length 1-%d, %zu Downing Street forms\n",
	       ROWS, import_s, n_queries, QUERIES_PER_LENGTH, MAX_LEN, n_downing);
	printf("\n%-36s %12s\n", "index (core, in process)", "");
	printf("%-36s %12.1f\n", "build ms", build_ms);
	printf("%-36s %12.1f\n", "memory MiB", (double)index_bytes / (1 << 20));
	printf("%-36s %12.1f\n", "search p50 us", pct(core_us, n_core, 0.5));
	printf("%-36s %12.1f\n", "search p99 us", pct(core_us, n_core, 0.99));
	printf("%-36s %12.1f\n", "search max us", n_core ? core_us[n_core - 1] : 0);
	printf("%-36s %5zu of %zu\n", "sw1a1aa, SW1A 1AA: 10 Downing St", found_downing, n_exact);
	if(server_index_bytes >= 0)
		printf("%-36s %12.1f MiB, built in %.0f ms\n", "the server's index (its log)",
		       (double)server_index_bytes / (1 << 20), server_build_ms);
	printf("\n%-36s %12s\n", "GET /api/v1/addresses over HTTP", "");
	printf("%-36s %12ld\n", "clients (keep-alive)", n_clients);
	printf("%-36s %12.1f\n", "seconds measured", elapsed);
	printf("%-36s %12zu\n", "requests", total);
	printf("%-36s %12zu\n", "errors", errors);
	printf("%-36s %12zu\n", "empty answers", empty);
	printf("%-36s %12.0f\n", "requests/s", rate);
	printf("%-36s %12.3f\n", "p50 ms", p50);
	printf("%-36s %12.3f\n", "p90 ms", p90);
	printf("%-36s %12.3f\n", "p99 ms", p99);
	printf("%-36s %12.3f\n", "p99.9 ms", p999);
	printf("%-36s %12.3f\n", "max ms", mx);
	printf("%-36s %12.2f\n", "server CPU (cores)", (srv_cpu1 - srv_cpu0) / elapsed);
	printf("%-36s %12.2f\n", "load generator CPU (cores)", (self_cpu1 - self_cpu0) / elapsed);
	for(long i = 0; i < n_clients; i++)
		if(clients[i].errors) {
			printf("first error: %s\n", clients[i].first_error);
			break;
		}
	printf("{\"bench\":\"autocomplete_http\",\"addresses\":%d,\"clients\":%ld,\"seconds\":%.1f,"
	       "\"requests\":%zu,\"errors\":%zu,\"rps\":%.0f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
	       "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"index_bytes\":%zu,\"index_build_ms\":%.1f,"
	       "\"core_p99_us\":%.1f,\"server_cpu\":%.2f,\"client_cpu\":%.2f,\"goal_p99_ms\":%.1f,"
	       "\"met\":%s}\n",
	       ROWS, n_clients, elapsed, total, errors, rate, p50, p90, p99, mx, index_bytes,
	       build_ms, pct(core_us, n_core, 0.99), (srv_cpu1 - srv_cpu0) / elapsed,
	       (self_cpu1 - self_cpu0) / elapsed, GOAL_P99_MS, met ? "true" : "false");

	for(long i = 0; i < n_clients; i++)
		free(clients[i].lat_ms);
	free(clients);
	for(size_t i = 0; i < n_queries; i++) {
		free(urls[i]);
		free(queries[i]);
	}
	free(urls);
	free(queries);
	free(lat);
	free(core_us);
	if(getenv("OTD_KEEP"))
		printf("kept %s\n", dir);
	else
		remove_tree(dir);
	curl_global_cleanup();
	return errors ? 1 : 0;
}
