/* Unit tests: the demo town (app/demo.c), created through the real
 * imports and account use cases on a fresh database. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/accounts.h"
#include "app/app.h"
#include "app/catalog.h"
#include "app/demo.h"
#include "app/hasher.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-04T15:00:00Z" /* a Wednesday: shifts start on Monday 2 March */

static struct otd_config cfg;
static struct otd_app app;
static char *db_path;

static void setup(void)
{
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/demo.db", testutil_tmpdir());
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(START);
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
}

static void teardown(void)
{
	app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

static long long sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return v;
}

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert(otd_rfc3339_parse(s, &t, &e) == OTD_OK);
	return t;
}

/* The password printed for login in the sign-in details. */
static void printed_password(const char *text, const char *login, char *out, size_t size)
{
	const char *p = text;
	while((p = strchr(p, '\n'))) {
		p++;
		char role[32], who[80], pw[80];
		if(sscanf(p, " %31s %79s %79s", role, who, pw) == 3 && strcmp(who, login) == 0) {
			snprintf(out, size, "%s", pw);
			return;
		}
	}
	ck_abort_msg("no password printed for %s", login);
}

START_TEST(demo_builds_a_complete_small_town)
{
	char *text = NULL;
	size_t text_len = 0;
	FILE *out = open_memstream(&text, &text_len);
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_demo_create(&app, 1, out, &err) == OTD_OK, "%s", err.message);
	fclose(out);

	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	long long addresses = sql_int(db, "SELECT count(*) FROM addresses WHERE retired = 0");
	ck_assert_int_ge(addresses, 2000);
	ck_assert_int_eq(sql_int(db, "SELECT count(DISTINCT uprn) FROM addresses"), addresses);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM visitors WHERE active = 1"), 12);
	ck_assert_int_eq(
	    sql_int(db, "SELECT count(*) FROM visitors v WHERE "
	                "EXISTS (SELECT 1 FROM shifts s WHERE s.visitor_id = v.id) AND "
	                "EXISTS (SELECT 1 FROM visitor_skills k WHERE k.visitor_id = v.id) "
	                "AND phone LIKE '+44%' AND email LIKE '%@wrenfield.example'"),
	    12);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM visit_types WHERE active = 1"), 4);
	/* Every visit type can be done by someone. */
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM visit_types t WHERE EXISTS (SELECT 1 "
	                             "FROM visitor_skills k WHERE k.skill_id = t.skill_id)"),
	                 4);
	/* Users: admin, dispatcher, finance and one per visitor, tied to the
	 * visitor with their email. */
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM users"), 15);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM users WHERE role = 'admin'"), 1);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM users WHERE role = 'dispatcher'"), 1);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM users WHERE role = 'finance'"), 1);
	ck_assert_int_eq(sql_int(db,
	                         "SELECT count(*) FROM users u JOIN visitors v ON v.id = "
	                         "u.visitor_id WHERE u.role = 'visitor' AND v.email = u.login || "
	                         "'@wrenfield.example'"),
	                 12);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM api_tokens"), 1);

	/* Everything lies within 10 km of everything else. */
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db,
	                                    "SELECT lat, lon FROM addresses UNION ALL "
	                                    "SELECT base_lat, base_lon FROM visitors",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	size_t n = 0, cap = 4096;
	double *lat = xcalloc(cap, sizeof(double)), *lon = xcalloc(cap, sizeof(double));
	while(sqlite3_step(st) == SQLITE_ROW) {
		if(n == cap) {
			cap *= 2;
			lat = xrealloc(lat, cap * sizeof(double));
			lon = xrealloc(lon, cap * sizeof(double));
		}
		lat[n] = sqlite3_column_double(st, 0);
		lon[n] = sqlite3_column_double(st, 1);
		n++;
	}
	sqlite3_finalize(st);
	ck_assert_uint_eq(n, (size_t)addresses + 12);
	double kx = 111320.0 * cos(52.2 * M_PI / 180.0), ky = 111320.0, max2 = 0;
	for(size_t i = 0; i < n; i++) {
		ck_assert(lat[i] > 51.9 && lat[i] < 52.5 && lon[i] > -1.9 && lon[i] < -1.2);
		for(size_t j = i + 1; j < n; j++) {
			double dx = (lon[i] - lon[j]) * kx, dy = (lat[i] - lat[j]) * ky;
			double d2 = dx * dx + dy * dy;
			if(d2 > max2)
				max2 = d2;
		}
	}
	ck_assert_msg(sqrt(max2) < 10000, "points %.0f m apart", sqrt(max2));
	ck_assert_msg(sqrt(max2) > 1000, "a town, not a street: %.0f m", sqrt(max2));
	free(lat);
	free(lon);
	sqlite3_close(db);

	/* Each visitor works five days in a whole week. */
	for(int64_t id = 1; id <= 12; id++) {
		struct otd_interval *occ = NULL;
		size_t k = 0;
		ck_assert_int_eq(app_visitor_shifts(&app, id, at("2026-03-09T00:00:00Z"),
		                                    at("2026-03-16T00:00:00Z"), &occ, &k, &err),
		                 OTD_OK);
		ck_assert_msg(k == 5, "visitor %lld has %zu shifts", (long long)id, k);
		free(occ);
	}

	/* The printed details work: the dispatcher's password verifies and the
	 * token authenticates. */
	ck_assert_ptr_nonnull(strstr(text, "Wrenfield: "));
	ck_assert_ptr_nonnull(strstr(text, " addresses, 12 visitors, 4 visit types"));
	char pw[80];
	printed_password(text, "dispatch", pw, sizeof(pw));
	struct otd_user u;
	ck_assert_int_eq(app_login_lookup(&app, "dispatch", &u, &err), OTD_OK);
	ck_assert_uint_eq(u.role, OTD_ROLE_DISPATCHER);
	ck_assert(hasher_verify_now(u.password_hash, pw));
	printed_password(text, "priya.shah", pw, sizeof(pw));
	ck_assert_int_eq(app_login_lookup(&app, "priya.shah", &u, &err), OTD_OK);
	ck_assert_uint_eq(u.role, OTD_ROLE_VISITOR);
	ck_assert(hasher_verify_now(u.password_hash, pw));
	const char *tok = strstr(text, "otd_");
	ck_assert_ptr_nonnull(tok);
	char token[64];
	ck_assert_int_eq(sscanf(tok, "%63s", token), 1);
	struct otd_principal p;
	ck_assert_int_eq(app_authenticate_bearer(&app, token, "127.0.0.1", &p, &err), OTD_OK);
	ck_assert_uint_eq(p.role, OTD_ROLE_ADMIN);
	free(text);
	ck_assert_int_eq(store_integrity_check(app.store, &err), OTD_OK);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("demo");
	TCase *tc = tcase_create("demo");
	/* SQLite opened in the child; 15 argon2id hashes under ASan. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, demo_builds_a_complete_small_town);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
