/* Unit tests: doctor's pieces (app/doctor.c, store/inspect.c): a TCP probe
 * of a closed port fails, of a listening one passes, and with a greeting
 * wanted needs "220"; store_inspect tells a missing file (naming the
 * migrate command), a migrated database and a file that is no database
 * apart; doctor_run reports each finding and counts the failures. */
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/doctor.h"
#include "app/tzload.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "store/inspect.h"
#include "store/store.h"
#include "testutil.h"

/* A listening socket on 127.0.0.1; *port receives its port. */
static int listener(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

struct greeter {
	int fd;
	const char *line;
};

static void *greet(void *arg)
{
	struct greeter *g = arg;
	int c = accept(g->fd, NULL, NULL);
	if(c >= 0) {
		ssize_t n = write(c, g->line, strlen(g->line));
		(void)n;
		char buf[16];
		n = read(c, buf, sizeof(buf)); /* until the prober closes */
		close(c);
	}
	return NULL;
}

START_TEST(probe_closed_listening_and_greeting)
{
	char why[300];
	int port;
	int fd = listener(&port);
	close(fd); /* now closed */
	ck_assert_int_eq(doctor_probe("127.0.0.1", port, 2000, false, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "refused"));

	fd = listener(&port);
	ck_assert_int_eq(doctor_probe("127.0.0.1", port, 2000, false, why, sizeof(why)), 0);
	ck_assert_int_eq(doctor_probe("localhost", port, 2000, false, why, sizeof(why)), 0);
	/* Connected, but silent: no greeting within the timeout. */
	ck_assert_int_eq(doctor_probe("127.0.0.1", port, 300, true, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "no greeting"));
	close(fd);

	const char *lines[] = {"220 mail.test ESMTP\r\n", "421 busy\r\n"};
	for(int i = 0; i < 2; i++) {
		struct greeter g = {listener(&port), lines[i]};
		pthread_t t;
		pthread_create(&t, NULL, greet, &g);
		int rc = doctor_probe("127.0.0.1", port, 2000, true, why, sizeof(why));
		pthread_join(t, NULL);
		close(g.fd);
		ck_assert_int_eq(rc, i == 0 ? 0 : -1);
		if(i == 1)
			ck_assert_ptr_nonnull(strstr(why, "not 220 (\"421 busy\")"));
	}
	ck_assert_int_eq(doctor_probe("no-such-host.invalid", 25, 500, false, why, sizeof(why)),
	                 -1);
	ck_assert_ptr_nonnull(strstr(why, "cannot resolve no-such-host.invalid"));
}
END_TEST

START_TEST(inspect_missing_migrated_and_junk)
{
	struct store_inspect in;
	struct otd_error err;
	otd_error_clear(&err);
	char *missing = xasprintf("%s/none.db", testutil_tmpdir());
	ck_assert_int_eq(store_inspect(missing, &in, &err), OTD_ENOTFOUND);
	char *want = xasprintf("create it with: onthedot migrate --db %s", missing);
	ck_assert_ptr_nonnull(strstr(err.message, want));
	free(want);
	ck_assert_int_ne(access(missing, F_OK), 0); /* nothing created */
	free(missing);

	char *db = testutil_migrated_db("doctor");
	ck_assert_int_eq(store_inspect(db, &in, &err), OTD_OK);
	ck_assert_int_eq(in.schema_version, store_schema_latest());
	ck_assert_int_eq(in.schema_latest, store_schema_latest());
	ck_assert(in.quick_check_ok);
	ck_assert_int_gt(in.db_bytes, 0);
	ck_assert_uint_gt(in.fs_total_bytes, 0);
	ck_assert_uint_le(in.fs_free_bytes, in.fs_total_bytes);
	free(db);

	char *junk = xasprintf("%s/junk.db", testutil_tmpdir());
	FILE *f = fopen(junk, "w");
	for(int i = 0; i < 200; i++)
		fputs("not a database at all. ", f);
	fclose(f);
	ck_assert_int_eq(store_inspect(junk, &in, &err), OTD_EIO);
	ck_assert_ptr_nonnull(strstr(err.message, "as a database"));
	free(junk);
}
END_TEST

struct tally {
	int n[3];
	char last_fail[1200];
};

static void count(void *arg, enum doctor_level level, const char *what, const char *words)
{
	struct tally *t = arg;
	t->n[level]++;
	if(level == DOCTOR_FAIL)
		snprintf(t->last_fail, sizeof(t->last_fail), "%s: %s", what, words);
}

START_TEST(run_counts_failures)
{
	struct otd_config cfg;
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = testutil_migrated_db("doctor-run");
	cfg.messages.record_only = true;
	struct tally t;
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(doctor_run(&cfg, count, &t), 0);
	ck_assert_int_eq(t.n[DOCTOR_FAIL], 0);
	ck_assert_int_ge(t.n[DOCTOR_OK], 8);
	/* An unknown zone fails, naming it. */
	free(cfg.timezone);
	cfg.timezone = xstrdup("Mars/Olympus_Mons");
	memset(&t, 0, sizeof(t));
	ck_assert_int_ge(doctor_run(&cfg, count, &t), 1);
	ck_assert_ptr_nonnull(strstr(t.last_fail, "Mars/Olympus_Mons"));
	otd_config_cleanup(&cfg);
	tzload_shutdown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("doctor");
	TCase *tc = tcase_create("doctor");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, probe_closed_listening_and_greeting);
	tcase_add_test(tc, inspect_missing_migrated_and_junk);
	tcase_add_test(tc, run_counts_failures);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
