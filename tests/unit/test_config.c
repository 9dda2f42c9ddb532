/* Unit tests: the configuration loader (defaults, the libconfig file, the
 * environment, the dump) and contrib/onthedot.conf. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "testutil.h"

/* ---- helpers -------------------------------------------------------- */

/* The source tree: OTD_SOURCE_DIR, else the directory this file's path
 * (__FILE__) is in two levels up, else the working directory. */
static const char *source_dir(void)
{
	static char dir[4096];
	const char *env = getenv("OTD_SOURCE_DIR");
	if(env && *env)
		return env;
	static const char suffix[] = "tests/unit/test_config.c";
	const char *file = __FILE__;
	size_t n = strlen(file), s = sizeof(suffix) - 1;
	if(n > s && strcmp(file + n - s, suffix) == 0)
		snprintf(dir, sizeof(dir), "%.*s", (int)(n - s), file);
	else
		snprintf(dir, sizeof(dir), ".");
	return dir;
}

static char *source_path(const char *rel)
{
	return xasprintf("%s/%s", source_dir(), rel);
}

/* Writes text to a new file under the test directory; returns its path
 * (the caller frees it). */
static char *write_file(const char *text)
{
	static int seq;
	char *path = xasprintf("%s/config-%d.conf", testutil_tmpdir(), ++seq);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* Loads text as a file over defaults into *cfg; returns the status. */
static enum otd_status load_text(struct otd_config *cfg, const char *text, struct otd_error *err,
                                 char **path_out)
{
	char *path = write_file(text);
	otd_config_defaults(cfg);
	otd_error_clear(err);
	enum otd_status st = otd_config_load_file(cfg, path, err);
	if(path_out)
		*path_out = path;
	else
		free(path);
	return st;
}

/* The file text setting one dotted key: "http.threads", "8" gives
 * "http = {\n\tthreads = 8;\n};\n" (the setting on line 2). */
static char *setting_text(const char *key, const char *value)
{
	const char *dot = strchr(key, '.');
	if(!dot)
		return xasprintf("\n%s = %s;\n", key, value);
	return xasprintf("%.*s = {\n\t%s = %s;\n};\n", (int)(dot - key), key, dot + 1, value);
}

/* Asserts a failed load of `text` names the key in err->field and starts
 * its message with "PATH line LINE: " followed by `rest`. */
static void expect_file_error(const char *text, const char *field, int line, const char *rest)
{
	struct otd_config cfg;
	struct otd_error err;
	char *path;
	enum otd_status st = load_text(&cfg, text, &err, &path);
	ck_assert_msg(st == OTD_EINVAL, "loading [%s] gave %d, not EINVAL: %s", text, st,
	              err.message);
	ck_assert_str_eq(err.field, field);
	char *expect = xasprintf("%s line %d: %s", path, line, rest);
	ck_assert_str_eq(err.message, expect);
	free(expect);
	free(path);
	otd_config_cleanup(&cfg);
}

static size_t list_len(char **list)
{
	size_t n = 0;
	while(list && list[n])
		n++;
	return n;
}

/* Field-by-field equality of two configurations, naming the first
 * difference. */
static void assert_config_eq(const struct otd_config *a, const struct otd_config *b)
{
	ck_assert_str_eq(a->database, b->database);
	ck_assert_str_eq(a->listen, b->listen);
	ck_assert_str_eq(a->timezone, b->timezone);
	ck_assert_str_eq(a->organisation, b->organisation);
	ck_assert_str_eq(a->public_url, b->public_url);
	ck_assert_str_eq(a->log_level, b->log_level);
	ck_assert_str_eq(a->port_file, b->port_file);
	ck_assert_int_eq(a->virtual_clock, b->virtual_clock);
	ck_assert_str_eq(a->virtual_start, b->virtual_start);
	ck_assert_int_eq(a->http.threads, b->http.threads);
	ck_assert_int_eq(a->http.max_connections, b->http.max_connections);
	ck_assert_int_eq(a->http.per_ip_connections, b->http.per_ip_connections);
	ck_assert_int_eq(a->http.idle_timeout, b->http.idle_timeout);
	ck_assert_int_eq(a->http.max_body, b->http.max_body);
	ck_assert_int_eq(a->http.shutdown_grace, b->http.shutdown_grace);
	ck_assert_uint_eq(list_len(a->http.trusted_proxies), list_len(b->http.trusted_proxies));
	for(size_t i = 0; i < list_len(a->http.trusted_proxies); i++)
		ck_assert_str_eq(a->http.trusted_proxies[i], b->http.trusted_proxies[i]);
	ck_assert_int_eq(a->store.read_connections, b->store.read_connections);
	ck_assert_int_eq(a->store.writer_queue, b->store.writer_queue);
	ck_assert_int_eq(a->store.writer_wait_ms, b->store.writer_wait_ms);
	ck_assert_int_eq(a->store.busy_timeout_ms, b->store.busy_timeout_ms);
	ck_assert_int_eq(a->store.group_commit_max, b->store.group_commit_max);
	ck_assert_int_eq(a->auth.session_hours, b->auth.session_hours);
	ck_assert_int_eq(a->auth.secure_cookies, b->auth.secure_cookies);
	ck_assert_int_eq(a->auth.hash_workers, b->auth.hash_workers);
	ck_assert_int_eq(a->auth.hash_queue, b->auth.hash_queue);
	ck_assert(a->limits.login_ip_per_minute == b->limits.login_ip_per_minute);
	ck_assert_int_eq(a->limits.login_ip_burst, b->limits.login_ip_burst);
	ck_assert(a->limits.login_account_per_minute == b->limits.login_account_per_minute);
	ck_assert_int_eq(a->limits.login_account_burst, b->limits.login_account_burst);
	ck_assert_int_eq(a->limits.list_max, b->limits.list_max);
}

static char *dump_to_string(const struct otd_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	otd_config_dump(cfg, f);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* "http.max_body" -> "ONTHEDOT_HTTP_MAX_BODY=value" */
static char *env_entry(const char *key, const char *value)
{
	char *e = xasprintf("ONTHEDOT_%s=%s", key, value);
	for(char *p = e + 9; *p != '='; p++)
		*p = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
	return e;
}

static enum otd_status apply_one(struct otd_config *cfg, const char *entry, struct otd_error *err)
{
	char *envp[] = {(char *)entry, NULL};
	otd_error_clear(err);
	return otd_config_apply_env(cfg, envp, err);
}

/* ---- defaults and the key table ------------------------------------- */

START_TEST(defaults_set_every_field)
{
	struct otd_config cfg;
	memset(&cfg, 0xa5, sizeof(cfg)); /* defaults must not read old contents */
	otd_config_defaults(&cfg);
	ck_assert_str_eq(cfg.database, "onthedot.db");
	ck_assert_str_eq(cfg.listen, "127.0.0.1:8080");
	ck_assert_str_eq(cfg.timezone, "Europe/London");
	ck_assert_str_eq(cfg.organisation, "onthedot");
	ck_assert_str_eq(cfg.public_url, "");
	ck_assert_str_eq(cfg.log_level, "info");
	ck_assert_str_eq(cfg.port_file, "");
	ck_assert(!cfg.virtual_clock);
	ck_assert_str_eq(cfg.virtual_start, "");
	ck_assert_int_eq(cfg.http.threads, 16);
	ck_assert_int_eq(cfg.http.max_connections, 1024);
	ck_assert_int_eq(cfg.http.per_ip_connections, 128);
	ck_assert_int_eq(cfg.http.idle_timeout, 30);
	ck_assert_int_eq(cfg.http.max_body, 1048576);
	ck_assert_int_eq(cfg.http.shutdown_grace, 10);
	ck_assert_ptr_nonnull(cfg.http.trusted_proxies);
	ck_assert_ptr_null(cfg.http.trusted_proxies[0]);
	ck_assert_int_eq(cfg.store.read_connections, 4);
	ck_assert_int_eq(cfg.store.writer_queue, 256);
	ck_assert_int_eq(cfg.store.writer_wait_ms, 2000);
	ck_assert_int_eq(cfg.store.busy_timeout_ms, 5000);
	ck_assert_int_eq(cfg.store.group_commit_max, 64);
	ck_assert_int_eq(cfg.auth.session_hours, 12);
	ck_assert(!cfg.auth.secure_cookies);
	ck_assert_int_eq(cfg.auth.hash_workers, 2);
	ck_assert_int_eq(cfg.auth.hash_queue, 64);
	ck_assert(cfg.limits.login_ip_per_minute == 10.0);
	ck_assert_int_eq(cfg.limits.login_ip_burst, 10);
	ck_assert(cfg.limits.login_account_per_minute == 5.0);
	ck_assert_int_eq(cfg.limits.login_account_burst, 5);
	ck_assert_int_eq(cfg.limits.list_max, 200);
	/* Heap-owned: LeakSanitizer and ASan check cleanup frees them all. */
	otd_config_cleanup(&cfg);
	ck_assert_ptr_null(cfg.database);
	ck_assert_ptr_null(cfg.http.trusted_proxies);
	otd_config_cleanup(&cfg);
}
END_TEST

/* Every field of struct otd_config, read from src/app/config.h itself,
 * is an option, and every option is a field: a field added to the struct
 * without a table entry fails here. */
START_TEST(every_config_h_field_is_an_option)
{
	char *path = source_path("src/app/config.h");
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s (set OTD_SOURCE_DIR)", path);
	char line[512], fields[192][200];
	size_t nfields = 0;
	bool in_struct = false, in_group = false;
	char group[64][96];
	size_t ngroup = 0;
	while(fgets(line, sizeof(line), f)) {
		char type[64], name[96];
		if(strncmp(line, "struct otd_config {", 19) == 0) {
			in_struct = true;
			continue;
		}
		if(!in_struct)
			continue;
		if(strstr(line, "struct {")) {
			in_group = true;
			ngroup = 0;
			continue;
		}
		if(in_group && sscanf(line, " } %95[a-z_];", name) == 1) {
			for(size_t i = 0; i < ngroup && nfields < 192; i++)
				snprintf(fields[nfields++], sizeof(fields[0]), "%.90s.%.90s", name,
				         group[i]);
			in_group = false;
			continue;
		}
		if(strncmp(line, "};", 2) == 0)
			break;
		/* "\tint threads;", "\tchar **trusted_proxies;", "\tchar *database;" */
		if(sscanf(line, " %63[a-z0-9_] %*[*]%95[a-z_];", type, name) == 2 ||
		   sscanf(line, " %63[a-z0-9_] %95[a-z_];", type, name) == 2) {
			if(nfields >= 192 || ngroup >= 64)
				ck_abort_msg("config.h has more fields than this test expects");
			if(in_group)
				snprintf(group[ngroup++], sizeof(group[0]), "%s", name);
			else
				snprintf(fields[nfields++], sizeof(fields[0]), "%s", name);
		}
	}
	fclose(f);
	free(path);
	const char *const *keys;
	size_t nkeys = otd_config_keys(&keys);
	ck_assert_uint_ge(nfields, 29); /* the parser above saw the struct */
	for(size_t i = 0; i < nfields; i++) {
		bool found = false;
		for(size_t k = 0; k < nkeys; k++)
			found = found || strcmp(keys[k], fields[i]) == 0;
		ck_assert_msg(found, "config.h field %s has no option", fields[i]);
	}
	ck_assert_uint_eq(nkeys, nfields);
	for(size_t a = 0; a < nkeys; a++)
		for(size_t b = a + 1; b < nkeys; b++)
			ck_assert_str_ne(keys[a], keys[b]);
}
END_TEST

/* ---- contrib/onthedot.conf ------------------------------------------ */

START_TEST(contrib_example_loads_as_the_defaults)
{
	char *path = source_path("contrib/onthedot.conf");
	struct otd_config cfg, def;
	struct otd_error err;
	otd_config_defaults(&def);
	otd_config_defaults(&cfg);
	/* Start from other values so that loading must set each one. */
	char *envp[] = {"ONTHEDOT_HTTP_THREADS=9", "ONTHEDOT_DATABASE=x.db",
	                "ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE=1.5", NULL};
	ck_assert_int_eq(otd_config_apply_env(&cfg, envp, &err), OTD_OK);
	otd_error_clear(&err);
	enum otd_status st = otd_config_load_file(&cfg, path, &err);
	ck_assert_msg(st == OTD_OK, "%s", err.message);
	assert_config_eq(&cfg, &def);
	otd_config_cleanup(&cfg);
	otd_config_cleanup(&def);
	free(path);
}
END_TEST

/* Each option is set in the example (not only mentioned) and the comment
 * right above it gives its default. */
START_TEST(contrib_example_sets_and_documents_every_key)
{
	char *path = source_path("contrib/onthedot.conf");
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char *lines[1000];
	size_t nlines = 0;
	char buf[1024];
	while(nlines < 1000 && fgets(buf, sizeof(buf), f))
		lines[nlines++] = xstrdup(buf);
	fclose(f);
	config_t lc;
	config_init(&lc);
	ck_assert_msg(config_read_file(&lc, path), "%s line %d: %s", path, config_error_line(&lc),
	              config_error_text(&lc));
	const char *const *keys;
	size_t nkeys = otd_config_keys(&keys);
	for(size_t k = 0; k < nkeys; k++) {
		/* libconfig paths are dotted like our keys. */
		config_setting_t *s = config_lookup(&lc, keys[k]);
		ck_assert_msg(s != NULL, "%s is not set in the example", keys[k]);
		unsigned line = config_setting_source_line(s);
		ck_assert_uint_ge(line, 2);
		/* The comment block directly above the setting. */
		bool has_default = false;
		size_t i = line - 1; /* 1-based line above, as a 0-based index: line - 2 */
		const char *above = lines[i - 1] + strspn(lines[i - 1], " \t");
		ck_assert_msg(*above == '#', "%s (line %u) has no comment right above it", keys[k],
		              line);
		for(size_t j = i; j-- > 0;) {
			const char *t = lines[j] + strspn(lines[j], " \t");
			if(*t != '#')
				break;
			has_default = has_default || strstr(t, "Default ");
		}
		ck_assert_msg(has_default, "the comment above %s does not give its default",
		              keys[k]);
	}
	config_destroy(&lc);
	for(size_t i = 0; i < nlines; i++)
		free(lines[i]);
	free(path);
}
END_TEST

/* ---- file errors ---------------------------------------------------- */

START_TEST(type_errors_name_line_and_key)
{
	expect_file_error("# c\nhttp = {\n\tmax_connections = 10;\n\tthreads = \"8\";\n};\n",
	                  "http.threads", 4,
	                  "http.threads must be an integer from 1 to 256 (got a string)");
	expect_file_error("database = 5;\n", "database", 1,
	                  "database must be a file name of 1 to 4096 bytes (got an integer)");
	expect_file_error("\n\nvirtual_clock = \"yes\";\n", "virtual_clock", 3,
	                  "virtual_clock must be true or false (got a string)");
	expect_file_error("auth = { secure_cookies = 1; };\n", "auth.secure_cookies", 1,
	                  "auth.secure_cookies must be true or false (got an integer)");
	expect_file_error("http = {\n\tmax_body = 1.5;\n};\n", "http.max_body", 2,
	                  "http.max_body must be an integer from 1 to 4294967296 (got a float)");
	expect_file_error("limits = {\n\tlogin_ip_per_minute = \"10\";\n};\n",
	                  "limits.login_ip_per_minute", 2,
	                  "limits.login_ip_per_minute must be a number from 0.001 to 1e+06 (got a "
	                  "string)");
	expect_file_error(
	    "store = {\n\twriter_queue = true;\n};\n", "store.writer_queue", 2,
	    "store.writer_queue must be an integer from 1 to 1000000 (got a boolean)");
	expect_file_error("http = {\n\ttrusted_proxies = \"10.0.0.1\";\n};\n",
	                  "http.trusted_proxies", 2,
	                  "http.trusted_proxies must be a list of at most 64 IP addresses, such as "
	                  "[ \"10.0.0.1\" ] (got a string)");
	expect_file_error("http = {\n\ttrusted_proxies = ( \"10.0.0.1\",\n\t\t5 );\n};\n",
	                  "http.trusted_proxies", 3,
	                  "http.trusted_proxies must be a list of at most 64 IP addresses, such as "
	                  "[ \"10.0.0.1\" ] (got an integer in the list)");
	expect_file_error("listen = { port = 1; };\n", "listen", 1,
	                  "listen must be \"HOST:PORT\" with a port from 0 to 65535 (got a group)");
	expect_file_error("\nhttp = 4;\n", "http", 2,
	                  "http must be a group such as http = { ... }; (got an integer)");
}
END_TEST

START_TEST(range_errors_name_line_and_key)
{
	expect_file_error("http = {\n\tthreads = 0;\n};\n", "http.threads", 2,
	                  "http.threads must be an integer from 1 to 256 (got 0)");
	expect_file_error("http = {\n\tthreads = 257;\n};\n", "http.threads", 2,
	                  "http.threads must be an integer from 1 to 256 (got 257)");
	expect_file_error("http = {\n\tper_ip_connections = -1;\n};\n", "http.per_ip_connections",
	                  2,
	                  "http.per_ip_connections must be an integer from 0 to 1000000 (got -1)");
	expect_file_error("http = {\n\tmax_body = 4294967297L;\n};\n", "http.max_body", 2,
	                  "http.max_body must be an integer from 1 to 4294967296 (got 4294967297)");
	expect_file_error("limits = {\n\tlogin_account_per_minute = 0.0;\n};\n",
	                  "limits.login_account_per_minute", 2,
	                  "limits.login_account_per_minute must be a number from 0.001 to 1e+06 "
	                  "(got 0)");
	expect_file_error("log_level = \"verbose\";\n", "log_level", 1,
	                  "log_level must be one of \"debug\", \"info\", \"warn\", \"error\" (got "
	                  "\"verbose\")");
	expect_file_error("listen = \"localhost\";\n", "listen", 1,
	                  "listen must be \"HOST:PORT\" with a port from 0 to 65535 (got "
	                  "\"localhost\")");
	expect_file_error("listen = \"localhost:65536\";\n", "listen", 1,
	                  "listen must be \"HOST:PORT\" with a port from 0 to 65535 (got "
	                  "\"localhost:65536\")");
	expect_file_error("timezone = \"\";\n", "timezone", 1,
	                  "timezone must be a time zone name such as \"Europe/London\" (got \"\")");
	expect_file_error("timezone = \"../../etc/passwd\";\n", "timezone", 1,
	                  "timezone must be a time zone name such as \"Europe/London\" (got "
	                  "\"../../etc/passwd\")");
	expect_file_error("public_url = \"ftp://x\";\n", "public_url", 1,
	                  "public_url must be \"\" or a URL starting with http:// or https:// (got "
	                  "\"ftp://x\")");
	expect_file_error("virtual_start = \"2025-02-29T08:00:00Z\";\n", "virtual_start", 1,
	                  "virtual_start must be \"\" or an RFC 3339 time such as "
	                  "\"2025-01-06T08:00:00Z\" (got \"2025-02-29T08:00:00Z\")");
	expect_file_error("organisation = \"a\\nb\";\n", "organisation", 1,
	                  "organisation must be a name of 1 to 200 bytes (got \"a\\x0ab\")");
	expect_file_error(
	    "http = {\n\ttrusted_proxies = [ \"10.0.0.1\",\n\t\t\"proxy.local\" ];\n};\n",
	    "http.trusted_proxies", 3,
	    "http.trusted_proxies must be a list of at most 64 IP addresses, such as "
	    "[ \"10.0.0.1\" ] (got \"proxy.local\")");
	expect_file_error("http = {\n\ttrusted_proxies = [ \"10.0.0.0/8\" ];\n};\n",
	                  "http.trusted_proxies", 2,
	                  "http.trusted_proxies must be a list of at most 64 IP addresses, such as "
	                  "[ \"10.0.0.1\" ] (got \"10.0.0.0/8\")");
}
END_TEST

/* Every option refuses a value far below and far above any range (a type
 * error for strings and booleans, a range error for numbers), and says
 * which option and line. */
START_TEST(every_option_is_checked)
{
	static const char *const bad[] = {"-99999999999L", "99999999999L", "99999999999", "1e300",
	                                  "-1e300"};
	const char *const *keys;
	size_t nkeys = otd_config_keys(&keys);
	for(size_t k = 0; k < nkeys; k++) {
		for(size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			char *text = setting_text(keys[k], bad[b]);
			struct otd_config cfg;
			struct otd_error err;
			char *path;
			ck_assert_msg(load_text(&cfg, text, &err, &path) == OTD_EINVAL,
			              "%s = %s was accepted", keys[k], bad[b]);
			ck_assert_str_eq(err.field, keys[k]);
			char *prefix = xasprintf("%s line 2: %s must be ", path, keys[k]);
			ck_assert_msg(strncmp(err.message, prefix, strlen(prefix)) == 0, "%s",
			              err.message);
			free(prefix);
			free(path);
			free(text);
			otd_config_cleanup(&cfg);
		}
	}
}
END_TEST

/* libconfig 1.5 wraps an integer without L to 32 bits (3000000000 reads
 * as -1294967296, 4294967300 as 4); the loader reads the literal again. */
START_TEST(int64_with_and_without_suffix)
{
	struct otd_config cfg;
	struct otd_error err;
	ck_assert_int_eq(load_text(&cfg, "http = { max_body = 2097152; };\n", &err, NULL), OTD_OK);
	ck_assert_int_eq(cfg.http.max_body, 2097152);
	otd_config_cleanup(&cfg);
	ck_assert_int_eq(load_text(&cfg, "http = { max_body = 2097152L; };\n", &err, NULL), OTD_OK);
	ck_assert_int_eq(cfg.http.max_body, 2097152);
	otd_config_cleanup(&cfg);
	ck_assert_int_eq(load_text(&cfg, "http = { max_body = 3000000000L; };\n", &err, NULL),
	                 OTD_OK);
	ck_assert_int_eq(cfg.http.max_body, INT64_C(3000000000));
	otd_config_cleanup(&cfg);
	ck_assert_int_eq(load_text(&cfg, "http = { max_body = 3000000000; };\n", &err, NULL),
	                 OTD_OK);
	ck_assert_int_eq(cfg.http.max_body, INT64_C(3000000000));
	otd_config_cleanup(&cfg);
	/* Value on a later line than the name, behind a comment; hex. */
	ck_assert_int_eq(
	    load_text(&cfg, "http = {\n max_body =\n /* 4 GiB */ 0x100000000;\n};\n", &err, NULL),
	    OTD_OK);
	ck_assert_int_eq(cfg.http.max_body, INT64_C(4294967296));
	otd_config_cleanup(&cfg);
	/* Two settings on a line, the name also in a comment before them. */
	ck_assert_int_eq(
	    load_text(&cfg, "# threads = 9\nhttp = { threads = 8; max_body = 3000000001; };\n",
	              &err, NULL),
	    OTD_OK);
	ck_assert_int_eq(cfg.http.threads, 8);
	ck_assert_int_eq(cfg.http.max_body, INT64_C(3000000001));
	otd_config_cleanup(&cfg);
	/* Wrapped to 4, a valid thread count: must still be refused. */
	expect_file_error("http = {\n\tthreads = 4294967300;\n};\n", "http.threads", 2,
	                  "http.threads must be an integer from 1 to 256 (got 4294967300)");
	expect_file_error("http = {\n\tmax_body = 99999999999999999999;\n};\n", "http.max_body", 2,
	                  "http.max_body must be an integer from 1 to 4294967296 (got "
	                  "99999999999999999999)");
	expect_file_error(
	    "http = {\n\tmax_body = -3000000000;\n};\n", "http.max_body", 2,
	    "http.max_body must be an integer from 1 to 4294967296 (got -3000000000)");
}
END_TEST

START_TEST(double_takes_integer_and_float)
{
	struct otd_config cfg;
	struct otd_error err;
	ck_assert_int_eq(load_text(&cfg,
	                           "limits = {\n login_ip_per_minute = 30;\n"
	                           " login_account_per_minute = 0.5;\n};\n",
	                           &err, NULL),
	                 OTD_OK);
	ck_assert(cfg.limits.login_ip_per_minute == 30.0);
	ck_assert(cfg.limits.login_account_per_minute == 0.5);
	otd_config_cleanup(&cfg);
	ck_assert_int_eq(
	    load_text(&cfg, "limits = { login_ip_per_minute = 1000000L; };\n", &err, NULL), OTD_OK);
	ck_assert(cfg.limits.login_ip_per_minute == 1e6);
	otd_config_cleanup(&cfg);
	expect_file_error("limits = {\n login_ip_per_minute = 3000000000;\n};\n",
	                  "limits.login_ip_per_minute", 2,
	                  "limits.login_ip_per_minute must be a number from 0.001 to 1e+06 (got "
	                  "3e+09)");
}
END_TEST

START_TEST(unknown_options_are_reported_with_line)
{
	expect_file_error("database = \"a.db\";\n\ncolour = \"red\";\n", "colour", 3,
	                  "unknown option colour");
	expect_file_error("http = {\n\tthreads = 4;\n\tthread = 4;\n};\n", "http.thread", 3,
	                  "unknown option http.thread (did you mean http.threads?)");
	expect_file_error("\nsmtp = {\n\thost = \"x\";\n};\n", "smtp", 2, "unknown option smtp");
	expect_file_error("databse = \"a.db\";\n", "databse", 1,
	                  "unknown option databse (did you mean database?)");
	/* A top-level name put in a group, a group name put at the top. */
	expect_file_error("http = {\n\tdatabase = \"a.db\";\n};\n", "http.database", 2,
	                  "unknown option http.database (did you mean database?)");
	expect_file_error("threads = 4;\n", "threads", 1,
	                  "unknown option threads (did you mean http.threads?)");
	expect_file_error("auth = {\n\tinner = { x = 1; };\n};\n", "auth.inner", 2,
	                  "unknown option auth.inner");
}
END_TEST

START_TEST(syntax_errors_give_libconfig_line)
{
	expect_file_error("http = {\n\tthreads = 4\n\tmax_connections = ;\n};\n", "", 3,
	                  "syntax error");
	expect_file_error("database = \"a.db\";\nlisten = \"x:1\";\ndatabase = \"b.db\";\n", "", 3,
	                  "duplicate setting name");
	expect_file_error("http = {\n\ttrusted_proxies = [ \"10.0.0.1\", 5 ];\n};\n", "", 2,
	                  "mismatched element type in array");
	struct otd_config cfg;
	struct otd_error err;
	ck_assert_int_eq(load_text(&cfg, "", &err, NULL), OTD_OK); /* empty: all defaults */
	otd_config_cleanup(&cfg);
	/* A NUL would make libconfig stop reading there silently. */
	char *path = xasprintf("%s/nul.conf", testutil_tmpdir());
	static const char nul_text[] = "threads = 4;\n\0http = 1;\n";
	FILE *f = fopen(path, "w");
	fwrite(nul_text, 1, sizeof(nul_text) - 1, f);
	fclose(f);
	otd_config_defaults(&cfg);
	ck_assert_int_eq(otd_config_load_file(&cfg, path, &err), OTD_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, " line 2: a NUL byte"));
	otd_config_cleanup(&cfg);
	free(path);
}
END_TEST

START_TEST(missing_file_names_the_path)
{
	struct otd_config cfg;
	struct otd_error err;
	otd_config_defaults(&cfg);
	char *path = xasprintf("%s/no-such.conf", testutil_tmpdir());
	ck_assert_int_eq(otd_config_load_file(&cfg, path, &err), OTD_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.message, path));
	ck_assert_ptr_nonnull(strstr(err.message, "No such file"));
	ck_assert_str_eq(cfg.database, "onthedot.db");
	free(path);
	/* A directory is not a configuration file. */
	ck_assert_int_ne(otd_config_load_file(&cfg, testutil_tmpdir(), &err), OTD_OK);
	ck_assert_ptr_nonnull(strstr(err.message, testutil_tmpdir()));
	otd_config_cleanup(&cfg);
}
END_TEST

START_TEST(failed_load_leaves_config_unchanged)
{
	struct otd_config cfg;
	struct otd_error err;
	char *path = write_file("database = \"new.db\";\nhttp = {\n\ttrusted_proxies = [ "
	                        "\"10.0.0.9\" ];\n\tthreads = 0;\n};\n");
	otd_config_defaults(&cfg);
	ck_assert_int_eq(otd_config_load_file(&cfg, path, &err), OTD_EINVAL);
	ck_assert_str_eq(cfg.database, "onthedot.db");
	ck_assert_ptr_null(cfg.http.trusted_proxies[0]);
	char *envp[] = {"ONTHEDOT_DATABASE=env.db", "ONTHEDOT_HTTP_THREADS=x", NULL};
	ck_assert_int_eq(otd_config_apply_env(&cfg, envp, &err), OTD_EINVAL);
	ck_assert_str_eq(cfg.database, "onthedot.db");
	otd_config_cleanup(&cfg);
	free(path);
}
END_TEST

START_TEST(include_is_relative_to_the_file)
{
	char *dir = xasprintf("%s/inc", testutil_tmpdir());
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	char *inc = xasprintf("%s/limits.conf", dir);
	FILE *f = fopen(inc, "w");
	fputs("\nlimits = {\n\tlist_max = 0;\n};\n", f);
	fclose(f);
	char *main_path = xasprintf("%s/main.conf", dir);
	f = fopen(main_path, "w");
	fputs("http = { max_body = 3000000000; };\n@include \"limits.conf\"\n", f);
	fclose(f);
	struct otd_config cfg;
	struct otd_error err;
	otd_config_defaults(&cfg);
	ck_assert_int_eq(otd_config_load_file(&cfg, main_path, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "limits.list_max");
	ck_assert_str_eq(err.message, "limits.conf line 3: limits.list_max must be an integer from "
	                              "1 to 100000 (got 0)");
	f = fopen(inc, "w");
	fputs("\nlimits = {\n\tlist_max = 4294967496;\n};\n", f);
	fclose(f);
	ck_assert_int_eq(otd_config_load_file(&cfg, main_path, &err), OTD_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "(got 4294967496)"));
	otd_config_cleanup(&cfg);
	free(main_path);
	free(inc);
	free(dir);
}
END_TEST

/* ---- the environment ------------------------------------------------ */

START_TEST(env_overrides_each_type)
{
	struct otd_config cfg;
	struct otd_error err;
	otd_config_defaults(&cfg);
	char *envp[] = {"PATH=/usr/bin",
	                "ONTHEDOTX=1",
	                "ONTHEDOT_CONFIG=/etc/onthedot.conf", /* the file, read by the CLI */
	                "ONTHEDOT_HTTP_THREADS=8",
	                "ONTHEDOT_DATABASE=/x.db",
	                "ONTHEDOT_AUTH_SECURE_COOKIES=true",
	                "ONTHEDOT_VIRTUAL_CLOCK=1",
	                "ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE=2.5",
	                "ONTHEDOT_LIMITS_LOGIN_ACCOUNT_PER_MINUTE=7",
	                "ONTHEDOT_HTTP_MAX_BODY=3000000000",
	                "ONTHEDOT_HTTP_PER_IP_CONNECTIONS=0",
	                "ONTHEDOT_HTTP_TRUSTED_PROXIES=10.0.0.1, 10.0.0.2",
	                "ONTHEDOT_PUBLIC_URL=https://visits.example.org/",
	                "ONTHEDOT_VIRTUAL_START=2025-01-06T08:00:00+01:00",
	                "ONTHEDOT_LOG_LEVEL=debug",
	                NULL};
	ck_assert_int_eq(otd_config_apply_env(&cfg, envp, &err), OTD_OK);
	ck_assert_int_eq(cfg.http.threads, 8);
	ck_assert_str_eq(cfg.database, "/x.db");
	ck_assert(cfg.auth.secure_cookies);
	ck_assert(cfg.virtual_clock);
	ck_assert(cfg.limits.login_ip_per_minute == 2.5);
	ck_assert(cfg.limits.login_account_per_minute == 7.0);
	ck_assert_int_eq(cfg.http.max_body, INT64_C(3000000000));
	ck_assert_int_eq(cfg.http.per_ip_connections, 0);
	ck_assert_uint_eq(list_len(cfg.http.trusted_proxies), 2);
	ck_assert_str_eq(cfg.http.trusted_proxies[0], "10.0.0.1");
	ck_assert_str_eq(cfg.http.trusted_proxies[1], "10.0.0.2");
	ck_assert_str_eq(cfg.public_url, "https://visits.example.org");
	ck_assert_str_eq(cfg.virtual_start, "2025-01-06T08:00:00+01:00");
	ck_assert_str_eq(cfg.log_level, "debug");
	/* Untouched options keep their values; booleans turn off too. */
	ck_assert_str_eq(cfg.listen, "127.0.0.1:8080");
	ck_assert_int_eq(apply_one(&cfg, "ONTHEDOT_AUTH_SECURE_COOKIES=off", &err), OTD_OK);
	ck_assert(!cfg.auth.secure_cookies);
	/* An empty list variable empties the list. */
	ck_assert_int_eq(apply_one(&cfg, "ONTHEDOT_HTTP_TRUSTED_PROXIES=", &err), OTD_OK);
	ck_assert_uint_eq(list_len(cfg.http.trusted_proxies), 0);
	ck_assert_ptr_nonnull(cfg.http.trusted_proxies);
	ck_assert_int_eq(otd_config_apply_env(&cfg, NULL, &err), OTD_OK);
	otd_config_cleanup(&cfg);
}
END_TEST

START_TEST(env_bad_values_are_refused)
{
	static const struct {
		const char *entry, *field, *message;
	} cases[] = {
	    {"ONTHEDOT_HTTP_THREADS=abc", "http.threads",
	     "environment variable ONTHEDOT_HTTP_THREADS: http.threads must be an integer from 1 "
	     "to 256 (got \"abc\")"},
	    {"ONTHEDOT_HTTP_THREADS=0", "http.threads",
	     "environment variable ONTHEDOT_HTTP_THREADS: http.threads must be an integer from 1 "
	     "to 256 (got 0)"},
	    {"ONTHEDOT_HTTP_THREADS=8x", "http.threads", NULL},
	    {"ONTHEDOT_HTTP_THREADS=", "http.threads", NULL},
	    {"ONTHEDOT_HTTP_THREADS= 8", "http.threads", NULL},
	    {"ONTHEDOT_HTTP_THREADS=4294967300", "http.threads", NULL},
	    {"ONTHEDOT_HTTP_MAX_BODY=99999999999999999999", "http.max_body", NULL},
	    {"ONTHEDOT_AUTH_SECURE_COOKIES=maybe", "auth.secure_cookies",
	     "environment variable ONTHEDOT_AUTH_SECURE_COOKIES: auth.secure_cookies must be true "
	     "or false (got \"maybe\")"},
	    {"ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE=nan", "limits.login_ip_per_minute", NULL},
	    {"ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE=inf", "limits.login_ip_per_minute", NULL},
	    {"ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE=1,5", "limits.login_ip_per_minute", NULL},
	    {"ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE=0", "limits.login_ip_per_minute", NULL},
	    {"ONTHEDOT_HTTP_TRUSTED_PROXIES=10.0.0.1,,10.0.0.2", "http.trusted_proxies",
	     "environment variable ONTHEDOT_HTTP_TRUSTED_PROXIES: http.trusted_proxies must be a "
	     "list of at most 64 IP addresses, such as [ \"10.0.0.1\" ] (got an empty entry)"},
	    {"ONTHEDOT_HTTP_TRUSTED_PROXIES=10.0.0.1,proxy", "http.trusted_proxies", NULL},
	    {"ONTHEDOT_LOG_LEVEL=INFO", "log_level", NULL},
	    {"ONTHEDOT_TIMEZONE=", "timezone", NULL},
	    {"ONTHEDOT_LISTEN=8080", "listen", NULL},
	    {"ONTHEDOT_VIRTUAL_START=2025-01-06 08:00:00Z", "virtual_start", NULL},
	    {"ONTHEDOT_VIRTUAL_START=2025-01-06T08:00:60Z", "virtual_start", NULL},
	    {"ONTHEDOT_VIRTUAL_START=2025-01-06T08:00:00", "virtual_start", NULL},
	    {"ONTHEDOT_VIRTUAL_START=2025-01-06T08:00:00+24:00", "virtual_start", NULL},
	    {"ONTHEDOT_PUBLIC_URL=https://", "public_url", NULL},
	    {"ONTHEDOT_HTTP_THREAD=4", "ONTHEDOT_HTTP_THREAD",
	     "unknown environment variable ONTHEDOT_HTTP_THREAD: no option has that name (did you "
	     "mean ONTHEDOT_HTTP_THREADS?)"},
	    {"ONTHEDOT_HTTP=4", "ONTHEDOT_HTTP", NULL},
	    {"ONTHEDOT_CONFIGFILE=x", "ONTHEDOT_CONFIGFILE", NULL},
	    {"ONTHEDOT_=4", "ONTHEDOT_", NULL},
	    {"ONTHEDOT_http_threads=4", "ONTHEDOT_http_threads", NULL},
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct otd_config cfg;
		struct otd_error err;
		otd_config_defaults(&cfg);
		ck_assert_msg(apply_one(&cfg, cases[i].entry, &err) == OTD_EINVAL, "%s accepted",
		              cases[i].entry);
		ck_assert_str_eq(err.field, cases[i].field);
		if(cases[i].message)
			ck_assert_str_eq(err.message, cases[i].message);
		else
			ck_assert_ptr_nonnull(strstr(err.message, cases[i].field));
		ck_assert_int_eq(cfg.http.threads, 16);
		otd_config_cleanup(&cfg);
	}
	/* A 1000-entry list is refused, not silently cut. */
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_puts(&b, "ONTHEDOT_HTTP_TRUSTED_PROXIES=");
	for(int i = 0; i < 1000; i++)
		otd_buf_printf(&b, "%s10.0.%d.%d", i ? "," : "", i / 256, i % 256);
	struct otd_config cfg;
	struct otd_error err;
	otd_config_defaults(&cfg);
	ck_assert_int_eq(apply_one(&cfg, b.data, &err), OTD_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "(got more than 64 entries)"));
	otd_config_cleanup(&cfg);
	otd_buf_cleanup(&b);
}
END_TEST

/* Every option has a variable, and its value is checked: a control
 * character is no valid value of any option. */
START_TEST(env_every_option_has_a_checked_variable)
{
	const char *const *keys;
	size_t nkeys = otd_config_keys(&keys);
	for(size_t k = 0; k < nkeys; k++) {
		char *e = env_entry(keys[k], "\x01");
		struct otd_config cfg;
		struct otd_error err;
		otd_config_defaults(&cfg);
		ck_assert_msg(apply_one(&cfg, e, &err) == OTD_EINVAL, "%s accepted", e);
		ck_assert_str_eq(err.field, keys[k]);
		ck_assert_ptr_nonnull(strstr(err.message, "\\x01"));
		otd_config_cleanup(&cfg);
		free(e);
	}
}
END_TEST

START_TEST(trusted_proxies_from_file_and_env)
{
	struct otd_config cfg;
	struct otd_error err;
	ck_assert_int_eq(
	    load_text(&cfg,
	              "http = {\n\ttrusted_proxies = [ \"10.0.0.1\", \"2001:DB8:0::1\", "
	              "\"::1\" ];\n};\n",
	              &err, NULL),
	    OTD_OK);
	ck_assert_uint_eq(list_len(cfg.http.trusted_proxies), 3);
	ck_assert_str_eq(cfg.http.trusted_proxies[0], "10.0.0.1");
	/* As getnameinfo prints a client's address, which it is compared to. */
	ck_assert_str_eq(cfg.http.trusted_proxies[1], "2001:db8::1");
	ck_assert_str_eq(cfg.http.trusted_proxies[2], "::1");
	/* A libconfig list ( ) works as well as an array [ ]; env replaces. */
	char *path = write_file("http = { trusted_proxies = ( \"192.168.1.1\" ); };\n");
	ck_assert_int_eq(otd_config_load_file(&cfg, path, &err), OTD_OK);
	ck_assert_uint_eq(list_len(cfg.http.trusted_proxies), 1);
	ck_assert_str_eq(cfg.http.trusted_proxies[0], "192.168.1.1");
	ck_assert_int_eq(apply_one(&cfg, "ONTHEDOT_HTTP_TRUSTED_PROXIES=10.0.0.1,10.0.0.2", &err),
	                 OTD_OK);
	ck_assert_uint_eq(list_len(cfg.http.trusted_proxies), 2);
	ck_assert_str_eq(cfg.http.trusted_proxies[1], "10.0.0.2");
	free(path);
	/* An empty array empties the list. */
	path = write_file("http = { trusted_proxies = [ ]; };\n");
	ck_assert_int_eq(otd_config_load_file(&cfg, path, &err), OTD_OK);
	ck_assert_ptr_nonnull(cfg.http.trusted_proxies);
	ck_assert_ptr_null(cfg.http.trusted_proxies[0]);
	free(path);
	otd_config_cleanup(&cfg);
}
END_TEST

/* ---- the dump ------------------------------------------------------- */

START_TEST(dump_reloads_to_an_equal_config)
{
	struct otd_config cfg, back;
	struct otd_error err;
	otd_config_defaults(&cfg);
	/* Values that are awkward to write back: quotes, backslashes, UTF-8,
	 * 64-bit integers, doubles without a short decimal form. */
	char *envp[] = {"ONTHEDOT_ORGANISATION=Gas \"&\" Water \\ Ltd \xc3\xa9",
	                "ONTHEDOT_DATABASE=/var/lib/onthedot/x.db",
	                "ONTHEDOT_HTTP_MAX_BODY=4294967296",
	                "ONTHEDOT_HTTP_PER_IP_CONNECTIONS=0",
	                "ONTHEDOT_HTTP_TRUSTED_PROXIES=10.0.0.1,::1",
	                "ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE=0.1",
	                "ONTHEDOT_LIMITS_LOGIN_ACCOUNT_PER_MINUTE=1000000",
	                "ONTHEDOT_AUTH_SECURE_COOKIES=yes",
	                "ONTHEDOT_VIRTUAL_START=2024-02-29T23:59:59.25Z",
	                "ONTHEDOT_PORT_FILE=/tmp/port",
	                NULL};
	ck_assert_int_eq(otd_config_apply_env(&cfg, envp, &err), OTD_OK);
	cfg.limits.login_account_per_minute = 1.0 / 3.0; /* needs all 17 digits */
	char *text = dump_to_string(&cfg);
	char *path = write_file(text);
	otd_config_defaults(&back);
	enum otd_status st = otd_config_load_file(&back, path, &err);
	ck_assert_msg(st == OTD_OK, "%s\n%s", err.message, text);
	assert_config_eq(&back, &cfg);
	char *again = dump_to_string(&back);
	ck_assert_str_eq(again, text);
	/* Changed values say what the default was. */
	ck_assert_ptr_nonnull(strstr(text, "\tmax_body = 4294967296L; # default: 1048576\n"));
	ck_assert_ptr_nonnull(strstr(text, "\tthreads = 16;\n"));
	ck_assert_ptr_nonnull(strstr(text, "\tlogin_ip_per_minute = 0.1; # default: 10.0\n"));
	ck_assert_ptr_nonnull(strstr(text, "# SQLite database file\ndatabase = "));
	free(again);
	free(text);
	free(path);
	otd_config_cleanup(&back);
	otd_config_cleanup(&cfg);
}
END_TEST

START_TEST(dump_of_defaults_reloads)
{
	struct otd_config def, back;
	struct otd_error err;
	otd_config_defaults(&def);
	char *text = dump_to_string(&def);
	ck_assert_ptr_null(strstr(text, "default:")); /* nothing differs */
	char *path = write_file(text);
	otd_config_defaults(&back);
	back.http.threads = 99;
	ck_assert_int_eq(otd_config_load_file(&back, path, &err), OTD_OK);
	assert_config_eq(&back, &def);
	free(text);
	free(path);
	otd_config_cleanup(&back);
	otd_config_cleanup(&def);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, defaults_set_every_field);
	tcase_add_test(tc, every_config_h_field_is_an_option);
	tcase_add_test(tc, contrib_example_loads_as_the_defaults);
	tcase_add_test(tc, contrib_example_sets_and_documents_every_key);
	tcase_add_test(tc, type_errors_name_line_and_key);
	tcase_add_test(tc, range_errors_name_line_and_key);
	tcase_add_test(tc, every_option_is_checked);
	tcase_add_test(tc, int64_with_and_without_suffix);
	tcase_add_test(tc, double_takes_integer_and_float);
	tcase_add_test(tc, unknown_options_are_reported_with_line);
	tcase_add_test(tc, syntax_errors_give_libconfig_line);
	tcase_add_test(tc, missing_file_names_the_path);
	tcase_add_test(tc, failed_load_leaves_config_unchanged);
	tcase_add_test(tc, include_is_relative_to_the_file);
	tcase_add_test(tc, env_overrides_each_type);
	tcase_add_test(tc, env_bad_values_are_refused);
	tcase_add_test(tc, env_every_option_has_a_checked_variable);
	tcase_add_test(tc, trusted_proxies_from_file_and_env);
	tcase_add_test(tc, dump_reloads_to_an_equal_config);
	tcase_add_test(tc, dump_of_defaults_reloads);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
