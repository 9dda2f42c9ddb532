/* Unit tests: accounts (app/accounts.c with store/accounts.c and the
 * audit log): users, sign-in sessions, API tokens and sign-in throttling,
 * on a real migrated database with a virtual clock. Each test opens its
 * own application inside the forked test process. */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/accounts.h"
#include "app/app.h"
#include "app/audit.h"
#include "app/hasher.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-02T09:00:00Z"
#define START_T 1772442000

struct fixture {
	struct otd_config cfg;
	struct otd_app app;
	char *path;
	struct otd_principal cli;
};

static struct fixture fx;

/* A fresh migrated database and an application on it (server mode: the
 * limiters are needed), with the limits changed by tweak when given. */
static void open_app(void (*tweak)(struct otd_config *))
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	fx.path = xasprintf("%s/accounts-%d.db", testutil_tmpdir(), ++seq);
	remove(fx.path);
	int from, to;
	ck_assert_int_eq(store_migrate(fx.path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&fx.cfg);
	free(fx.cfg.database);
	fx.cfg.database = xstrdup(fx.path);
	fx.cfg.virtual_clock = true;
	free(fx.cfg.virtual_start);
	fx.cfg.virtual_start = xstrdup(START);
	if(tweak)
		tweak(&fx.cfg);
	ck_assert_msg(app_open(&fx.app, &fx.cfg, OTD_APP_SERVER, &err) == OTD_OK, "%s",
	              err.message);
	app_principal_cli(&fx.cli);
}

static void setup(void)
{
	open_app(NULL);
}

static void teardown(void)
{
	app_close(&fx.app);
	otd_config_cleanup(&fx.cfg);
	free(fx.path);
}

/* Runs sql on a separate connection and returns the first column of the
 * first row as an integer (-1 when there is no row). */
static long long sql_int(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(fx.path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The same for a text result, into a static buffer ("(none)" when no row). */
static const char *sql_text(const char *sql)
{
	static char out[1024];
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(fx.path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	if(sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(st, 0));
	else
		snprintf(out, sizeof(out), "(none)");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static void sql_exec(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(fx.path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
	sqlite3_close(db);
}

static int64_t add_user(const char *login, unsigned role, int64_t visitor_id)
{
	struct otd_error err;
	otd_error_clear(&err);
	int64_t id = 0;
	ck_assert_msg(app_user_add(&fx.app, &fx.cli, login, "Test User", role, visitor_id,
	                           "a long enough password", &id, &err) == OTD_OK,
	              "%s", err.message);
	ck_assert_int_gt(id, 0);
	return id;
}

static void user_add_err(const char *login, const char *name, unsigned role, int64_t visitor_id,
                         const char *password, enum otd_status want, const char *code,
                         const char *field)
{
	struct otd_error err;
	otd_error_clear(&err);
	int64_t id = -7;
	enum otd_status st =
	    app_user_add(&fx.app, &fx.cli, login, name, role, visitor_id, password, &id, &err);
	ck_assert_msg(st == want, "%s: status %d, want %d (%s)", login, st, want, err.message);
	ck_assert_str_eq(err.code, code);
	ck_assert_str_eq(err.field, field);
	ck_assert_int_eq(id, -7);
}

/* ---- users -------------------------------------------------------------- */

START_TEST(user_add_refuses_bad_input_naming_the_field)
{
	const char *pw = "a long enough password";
	user_add_err("", "Ann", OTD_ROLE_ADMIN, 0, pw, OTD_EINVAL, "invalid_login", "login");
	user_add_err("ann smith", "Ann", OTD_ROLE_ADMIN, 0, pw, OTD_EINVAL, "invalid_login",
	             "login");
	user_add_err("ann@x", "Ann", OTD_ROLE_ADMIN, 0, pw, OTD_EINVAL, "invalid_login", "login");
	user_add_err("zoë", "Ann", OTD_ROLE_ADMIN, 0, pw, OTD_EINVAL, "invalid_login", "login");
	char long_login[80];
	memset(long_login, 'a', 65);
	long_login[65] = '\0';
	user_add_err(long_login, "Ann", OTD_ROLE_ADMIN, 0, pw, OTD_EINVAL, "invalid_login",
	             "login");
	user_add_err("ann", "", OTD_ROLE_ADMIN, 0, pw, OTD_EINVAL, "invalid_name", "name");
	user_add_err("ann", "Ann", 0, 0, pw, OTD_EINVAL, "invalid_role", "role");
	user_add_err("ann", "Ann", OTD_ROLE_ADMIN | OTD_ROLE_FINANCE, 0, pw, OTD_EINVAL,
	             "invalid_role", "role");
	user_add_err("ann", "Ann", OTD_ROLE_VISITOR, 0, pw, OTD_EINVAL, "visitor_id_mismatch",
	             "visitor_id");
	user_add_err("ann", "Ann", OTD_ROLE_DISPATCHER, 3, pw, OTD_EINVAL, "visitor_id_mismatch",
	             "visitor_id");
	user_add_err("ann", "Ann", OTD_ROLE_ADMIN, 0, "short", OTD_EINVAL, "invalid_password",
	             "password");
	user_add_err("ann", "Ann", OTD_ROLE_ADMIN, 0, "123456789", OTD_EINVAL, "invalid_password",
	             "password");
	char long_pw[300];
	memset(long_pw, 'p', 257);
	long_pw[257] = '\0';
	user_add_err("ann", "Ann", OTD_ROLE_ADMIN, 0, long_pw, OTD_EINVAL, "invalid_password",
	             "password");
	/* Nothing was written, not even an audit entry. */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM users"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log"), 0);
	/* The limits themselves are accepted. */
	memset(long_login, 'a', 64);
	long_login[64] = '\0';
	memset(long_pw, 'p', 256);
	long_pw[256] = '\0';
	int64_t id = 0;
	struct otd_error err;
	ck_assert_int_eq(app_user_add(&fx.app, &fx.cli, long_login, "Ann", OTD_ROLE_FINANCE, 0,
	                              long_pw, &id, &err),
	                 OTD_OK);
	ck_assert_int_eq(sql_int("SELECT length(login) FROM users"), 64);
}
END_TEST

START_TEST(logins_are_stored_lower_case_and_unique)
{
	int64_t id = add_user("Ann.Admin", OTD_ROLE_ADMIN, 0);
	ck_assert_str_eq(sql_text("SELECT login FROM users"), "ann.admin");
	ck_assert_str_eq(sql_text("SELECT role FROM users"), "admin");
	ck_assert_int_eq(sql_int("SELECT visitor_id IS NULL FROM users"), 1);
	/* The password is stored as an argon2id hash that verifies. */
	struct otd_user u;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_login_lookup(&fx.app, "ann.admin", &u, &err), OTD_OK);
	ck_assert_int_eq(u.id, id);
	ck_assert_str_eq(u.login, "ann.admin");
	ck_assert_str_eq(u.display_name, "Test User");
	ck_assert_uint_eq(u.role, OTD_ROLE_ADMIN);
	ck_assert(u.active);
	ck_assert_int_eq(strncmp(u.password_hash, "$argon2id$", 10), 0);
	ck_assert(hasher_verify_now(u.password_hash, "a long enough password"));
	ck_assert(!hasher_verify_now(u.password_hash, "a long enough passwor"));
	/* The same login in another case is taken: 409. */
	int64_t other = -1;
	ck_assert_int_eq(app_user_add(&fx.app, &fx.cli, "ANN.ADMIN", "Another", OTD_ROLE_FINANCE, 0,
	                              "a long enough password", &other, &err),
	                 OTD_ECONFLICT);
	ck_assert_int_eq(otd_status_http(err.status), 409);
	ck_assert_str_eq(err.code, "login_taken");
	ck_assert_str_eq(err.field, "login");
	ck_assert_int_eq(other, -1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM users"), 1);
	/* Unknown logins are not found. */
	ck_assert_int_eq(app_login_lookup(&fx.app, "bob", &u, &err), OTD_ENOTFOUND);
	/* Who created it, from where, recorded once. */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log"), 1);
	char *q = xasprintf("SELECT count(*) FROM audit_log WHERE action = 'user.create' AND "
	                    "entity = 'user' AND entity_id = %lld AND actor_kind = 'cli' AND "
	                    "actor_id IS NULL AND ip = 'cli' AND at = %d AND "
	                    "detail = '{\"role\":\"admin\",\"visitor_id\":0}'",
	                    (long long)id, START_T);
	ck_assert_int_eq(sql_int(q), 1);
	free(q);
}
END_TEST

START_TEST(visitor_users_need_their_own_visitor)
{
	sql_exec(
	    "INSERT INTO visitors(name, role_title, base_lat, base_lon, created_at, updated_at) "
	    "VALUES ('Vic', 'Engineer', 52, -1, 1, 1), ('Val', 'Engineer', 52, -1, 1, 1)");
	int64_t id = add_user("vic", OTD_ROLE_VISITOR, 1);
	struct otd_user u;
	struct otd_error err;
	ck_assert_int_eq(app_login_lookup(&fx.app, "vic", &u, &err), OTD_OK);
	ck_assert_int_eq(u.id, id);
	ck_assert_uint_eq(u.role, OTD_ROLE_VISITOR);
	ck_assert_int_eq(u.visitor_id, 1);
	/* One user per visitor. */
	user_add_err("vic2", "Vic", OTD_ROLE_VISITOR, 1, "a long enough password", OTD_ECONFLICT,
	             "visitor_has_user", "visitor_id");
	/* A visitor that does not exist. */
	user_add_err("ghost", "Ghost", OTD_ROLE_VISITOR, 99, "a long enough password", OTD_EINVAL,
	             "unknown_visitor", "visitor_id");
	add_user("val", OTD_ROLE_VISITOR, 2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM users WHERE role = 'visitor'"), 2);
	ck_assert_str_eq(sql_text("SELECT detail FROM audit_log WHERE entity_id = 2 AND "
	                          "action = 'user.create'"),
	                 "{\"role\":\"visitor\",\"visitor_id\":2}");
}
END_TEST

/* ---- sessions ----------------------------------------------------------- */

START_TEST(session_start_lookup_and_end)
{
	int64_t uid = add_user("dee", OTD_ROLE_DISPATCHER, 0);
	struct otd_user u;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_login_lookup(&fx.app, "dee", &u, &err), OTD_OK);
	char cookie[OTD_SECRET_LEN + 1], csrf[OTD_SECRET_LEN + 1];
	int64_t expires = 0;
	ck_assert_int_eq(app_session_start(&fx.app, &u, "192.0.2.7", cookie, csrf, &expires, &err),
	                 OTD_OK);
	ck_assert_uint_eq(strlen(cookie), OTD_SECRET_LEN);
	ck_assert_uint_eq(strlen(csrf), OTD_SECRET_LEN);
	ck_assert_str_ne(cookie, csrf);
	ck_assert_int_eq(expires, START_T + 12 * 3600); /* auth.session_hours = 12 */
	/* Only a hash of the cookie is stored. */
	unsigned char h[32];
	crypto_generichash(h, 32, (const unsigned char *)cookie, strlen(cookie), NULL, 0);
	char hex[65];
	sodium_bin2hex(hex, sizeof(hex), h, 32);
	char *q = xasprintf("SELECT count(*) FROM sessions WHERE lower(hex(token_hash)) = '%s' AND "
	                    "user_id = %lld AND ip = '192.0.2.7' AND csrf_token = '%s' AND "
	                    "expires_at = %lld",
	                    hex, (long long)uid, csrf, (long long)expires);
	ck_assert_int_eq(sql_int(q), 1);
	free(q);

	struct otd_principal p;
	ck_assert_int_eq(app_authenticate_cookie(&fx.app, cookie, "198.51.100.1", &p, &err),
	                 OTD_OK);
	ck_assert_int_eq(p.kind, OTD_PRINCIPAL_SESSION);
	ck_assert_uint_eq(p.role, OTD_ROLE_DISPATCHER);
	ck_assert_int_eq(p.user_id, uid);
	ck_assert_int_gt(p.session_id, 0);
	ck_assert_int_eq(p.token_id, 0);
	ck_assert_int_eq(p.visitor_id, 0);
	ck_assert_str_eq(p.csrf, csrf);
	ck_assert_str_eq(p.ip, "198.51.100.1");

	/* A cookie one character off is unknown. */
	char forged[OTD_SECRET_LEN + 1];
	memcpy(forged, cookie, sizeof(forged));
	forged[5] = forged[5] == 'A' ? 'B' : 'A';
	struct otd_principal q2;
	otd_error_clear(&err);
	ck_assert_int_eq(app_authenticate_cookie(&fx.app, forged, "192.0.2.7", &q2, &err),
	                 OTD_EAUTH);
	ck_assert_str_eq(err.code, "session_expired");
	ck_assert_int_eq(otd_status_http(err.status), 401);
	/* Wrong lengths never reach the database. */
	ck_assert_int_eq(app_authenticate_cookie(&fx.app, "", "192.0.2.7", &q2, &err), OTD_EAUTH);
	forged[OTD_SECRET_LEN - 1] = '\0';
	ck_assert_int_eq(app_authenticate_cookie(&fx.app, forged, "192.0.2.7", &q2, &err),
	                 OTD_EAUTH);

	/* Signing out ends it. */
	ck_assert_int_eq(app_session_end(&fx.app, &p, &err), OTD_OK);
	ck_assert_int_eq(app_authenticate_cookie(&fx.app, cookie, "192.0.2.7", &q2, &err),
	                 OTD_EAUTH);
	q = xasprintf("SELECT revoked_at FROM sessions WHERE id = %lld", (long long)p.session_id);
	ck_assert_int_eq(sql_int(q), START_T);
	free(q);
	/* The audit log says who signed in and out, from where. */
	q = xasprintf("SELECT count(*) FROM audit_log WHERE action = 'session.start' AND "
	              "entity = 'session' AND entity_id = %lld AND actor_kind = 'user' AND "
	              "actor_id = %lld AND ip = '192.0.2.7'",
	              (long long)p.session_id, (long long)uid);
	ck_assert_int_eq(sql_int(q), 1);
	free(q);
	q = xasprintf("SELECT count(*) FROM audit_log WHERE action = 'session.end' AND "
	              "entity_id = %lld AND actor_kind = 'user' AND actor_id = %lld AND "
	              "ip = '198.51.100.1'",
	              (long long)p.session_id, (long long)uid);
	ck_assert_int_eq(sql_int(q), 1);
	free(q);
	/* Tokens cannot sign out. */
	struct otd_principal tok = {
	    .kind = OTD_PRINCIPAL_TOKEN, .role = OTD_ROLE_ADMIN, .token_id = 1};
	ck_assert_int_eq(app_session_end(&fx.app, &tok, &err), OTD_ESTATE);
	ck_assert_str_eq(err.code, "not_a_session");
}
END_TEST

START_TEST(sessions_expire_with_the_virtual_clock)
{
	add_user("dee", OTD_ROLE_DISPATCHER, 0);
	struct otd_user u;
	struct otd_error err;
	ck_assert_int_eq(app_login_lookup(&fx.app, "dee", &u, &err), OTD_OK);
	char cookie[OTD_SECRET_LEN + 1], csrf[OTD_SECRET_LEN + 1];
	int64_t expires = 0;
	ck_assert_int_eq(app_session_start(&fx.app, &u, "192.0.2.7", cookie, csrf, &expires, &err),
	                 OTD_OK);
	struct otd_principal p;
	ck_assert(otd_clock_advance(fx.app.clock, 12 * 3600 - 1));
	ck_assert_int_eq(app_authenticate_cookie(&fx.app, cookie, "192.0.2.7", &p, &err), OTD_OK);
	ck_assert(otd_clock_advance(fx.app.clock, 1)); /* now == expires_at */
	ck_assert_int_eq(otd_clock_now(fx.app.clock), expires);
	otd_error_clear(&err);
	ck_assert_int_eq(app_authenticate_cookie(&fx.app, cookie, "192.0.2.7", &p, &err),
	                 OTD_EAUTH);
	ck_assert_str_eq(err.code, "session_expired");
}
END_TEST

START_TEST(deactivated_users_cannot_sign_in_or_keep_sessions)
{
	add_user("dee", OTD_ROLE_DISPATCHER, 0);
	struct otd_user u;
	struct otd_error err;
	ck_assert_int_eq(app_login_lookup(&fx.app, "dee", &u, &err), OTD_OK);
	char cookie[OTD_SECRET_LEN + 1], csrf[OTD_SECRET_LEN + 1];
	int64_t expires = 0;
	ck_assert_int_eq(app_session_start(&fx.app, &u, "192.0.2.7", cookie, csrf, &expires, &err),
	                 OTD_OK);
	sql_exec("UPDATE users SET active = 0");
	struct otd_principal p;
	ck_assert_int_eq(app_authenticate_cookie(&fx.app, cookie, "192.0.2.7", &p, &err),
	                 OTD_EAUTH);
	otd_error_clear(&err);
	ck_assert_int_eq(app_login_lookup(&fx.app, "dee", &u, &err), OTD_ENOTFOUND);
	ck_assert_str_eq(err.code, "no_such_user");
}
END_TEST

/* ---- API tokens --------------------------------------------------------- */

START_TEST(tokens_are_created_once_and_looked_up_by_hash)
{
	char token[64];
	int64_t id = 0;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_token_create(&fx.app, &fx.cli, "ci pipeline", token, &id, &err),
	                 OTD_OK);
	ck_assert_int_gt(id, 0);
	ck_assert_uint_eq(strlen(token), strlen(OTD_TOKEN_PREFIX) + OTD_SECRET_LEN);
	ck_assert_int_eq(strncmp(token, "otd_", 4), 0);
	/* The database holds the hash, never the token. */
	unsigned char h[32];
	crypto_generichash(h, 32, (const unsigned char *)token, strlen(token), NULL, 0);
	char hex[65];
	sodium_bin2hex(hex, sizeof(hex), h, 32);
	char *q =
	    xasprintf("SELECT count(*) FROM api_tokens WHERE lower(hex(token_hash)) = '%s' AND "
	              "name = 'ci pipeline' AND role = 'admin' AND created_at = %d AND "
	              "revoked_at IS NULL",
	              hex, START_T);
	ck_assert_int_eq(sql_int(q), 1);
	free(q);
	q = xasprintf("SELECT count(*) FROM api_tokens WHERE instr(CAST(token_hash AS TEXT), '%s') "
	              "OR instr(name, '%s')",
	              token + 4, token + 4);
	ck_assert_int_eq(sql_int(q), 0);
	free(q);

	struct otd_principal p;
	ck_assert_int_eq(app_authenticate_bearer(&fx.app, token, "203.0.113.9", &p, &err), OTD_OK);
	ck_assert_int_eq(p.kind, OTD_PRINCIPAL_TOKEN);
	ck_assert_uint_eq(p.role, OTD_ROLE_ADMIN);
	ck_assert_int_eq(p.token_id, id);
	ck_assert_int_eq(p.user_id, 0);
	ck_assert_int_eq(p.session_id, 0);
	ck_assert_str_eq(p.csrf, "");
	ck_assert_str_eq(p.ip, "203.0.113.9");

	/* A revoked token stops working. */
	char token2[64];
	int64_t id2;
	ck_assert_int_eq(app_token_create(&fx.app, &fx.cli, "old", token2, &id2, &err), OTD_OK);
	ck_assert_str_ne(token2, token);
	q = xasprintf("UPDATE api_tokens SET revoked_at = 1 WHERE id = %lld", (long long)id2);
	sql_exec(q);
	free(q);
	otd_error_clear(&err);
	ck_assert_int_eq(app_authenticate_bearer(&fx.app, token2, "203.0.113.9", &p, &err),
	                 OTD_EAUTH);
	ck_assert_str_eq(err.code, "invalid_token");
	ck_assert_int_eq(app_authenticate_bearer(&fx.app, token, "203.0.113.9", &p, &err), OTD_OK);

	/* Audited with the name, never the secret. */
	q = xasprintf("SELECT count(*) FROM audit_log WHERE action = 'token.create' AND "
	              "entity = 'api_token' AND entity_id = %lld AND actor_kind = 'cli' AND "
	              "detail = '{\"name\":\"ci pipeline\"}'",
	              (long long)id);
	ck_assert_int_eq(sql_int(q), 1);
	free(q);
	q = xasprintf("SELECT count(*) FROM audit_log WHERE instr(detail, '%s')", token + 4);
	ck_assert_int_eq(sql_int(q), 0);
	free(q);
}
END_TEST

START_TEST(token_strings_of_the_wrong_shape_are_refused)
{
	char token[64];
	int64_t id = 0;
	struct otd_error err;
	ck_assert_int_eq(app_token_create(&fx.app, &fx.cli, "ci", token, &id, &err), OTD_OK);
	struct otd_principal p;
	char bad[80];
	/* The secret without its prefix. */
	ck_assert_int_eq(app_authenticate_bearer(&fx.app, token + 4, "ip", &p, &err), OTD_EAUTH);
	/* Another prefix of the same length. */
	snprintf(bad, sizeof(bad), "xyz_%s", token + 4);
	ck_assert_int_eq(app_authenticate_bearer(&fx.app, bad, "ip", &p, &err), OTD_EAUTH);
	snprintf(bad, sizeof(bad), "OTD_%s", token + 4);
	ck_assert_int_eq(app_authenticate_bearer(&fx.app, bad, "ip", &p, &err), OTD_EAUTH);
	/* One character short, one too many. */
	snprintf(bad, sizeof(bad), "%.*s", (int)strlen(token) - 1, token);
	ck_assert_int_eq(app_authenticate_bearer(&fx.app, bad, "ip", &p, &err), OTD_EAUTH);
	snprintf(bad, sizeof(bad), "%sA", token);
	ck_assert_int_eq(app_authenticate_bearer(&fx.app, bad, "ip", &p, &err), OTD_EAUTH);
	ck_assert_int_eq(app_authenticate_bearer(&fx.app, "", "ip", &p, &err), OTD_EAUTH);
	ck_assert_int_eq(app_authenticate_bearer(&fx.app, "otd_", "ip", &p, &err), OTD_EAUTH);
	otd_error_clear(&err);
	ck_assert_int_eq(app_authenticate_bearer(&fx.app, "Bearer x", "ip", &p, &err), OTD_EAUTH);
	ck_assert_str_eq(err.code, "invalid_token");
	/* A token is not a session cookie. */
	ck_assert_int_eq(app_authenticate_cookie(&fx.app, token, "ip", &p, &err), OTD_EAUTH);
	/* Names are 1 to 100 characters. */
	ck_assert_int_eq(app_token_create(&fx.app, &fx.cli, "", token, &id, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "invalid_name");
	ck_assert_str_eq(err.field, "name");
	char name[102];
	memset(name, 'n', 101);
	name[101] = '\0';
	ck_assert_int_eq(app_token_create(&fx.app, &fx.cli, name, token, &id, &err), OTD_EINVAL);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM api_tokens"), 1);
}
END_TEST

/* ---- sign-in throttling ------------------------------------------------ */

static void tight_limits(struct otd_config *cfg)
{
	cfg->limits.login_account_per_minute = 1;
	cfg->limits.login_account_burst = 2;
	cfg->limits.login_ip_per_minute = 2;
	cfg->limits.login_ip_burst = 3;
}

START_TEST(sign_in_attempts_are_throttled_per_account_and_per_address)
{
	app_close(&fx.app);
	otd_config_cleanup(&fx.cfg);
	free(fx.path);
	open_app(tight_limits);
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_login_throttle(&fx.app, "192.0.2.1", "ann", &err), OTD_OK);
	ck_assert_int_eq(app_login_throttle(&fx.app, "192.0.2.2", "ann", &err), OTD_OK);
	/* The account's burst of 2 is used up, whatever the address. */
	ck_assert_int_eq(app_login_throttle(&fx.app, "192.0.2.3", "ann", &err), OTD_ERATE);
	ck_assert_str_eq(err.code, "too_many_attempts");
	ck_assert_int_eq(err.retry_after, 60);
	ck_assert_int_eq(otd_status_http(err.status), 429);
	/* Another account is fine... */
	ck_assert_int_eq(app_login_throttle(&fx.app, "192.0.2.1", "bob", &err), OTD_OK);
	/* ...until the address's burst of 3 is used up (192.0.2.1: ann, bob, cy). */
	ck_assert_int_eq(app_login_throttle(&fx.app, "192.0.2.1", "cy", &err), OTD_OK);
	otd_error_clear(&err);
	ck_assert_int_eq(app_login_throttle(&fx.app, "192.0.2.1", "dee", &err), OTD_ERATE);
	ck_assert_int_eq(err.retry_after, 30);
	/* Time refills both. */
	ck_assert(otd_clock_advance(fx.app.clock, 60));
	ck_assert_int_eq(app_login_throttle(&fx.app, "192.0.2.9", "ann", &err), OTD_OK);
	ck_assert_int_eq(app_login_throttle(&fx.app, "192.0.2.1", "dee", &err), OTD_OK);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("accounts");
	TCase *tc = tcase_create("accounts");
	/* Fork mode: the checked fixture opens SQLite and the hasher's
	 * threads in the child. Hashes are slow under ASan. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, user_add_refuses_bad_input_naming_the_field);
	tcase_add_test(tc, logins_are_stored_lower_case_and_unique);
	tcase_add_test(tc, visitor_users_need_their_own_visitor);
	tcase_add_test(tc, session_start_lookup_and_end);
	tcase_add_test(tc, sessions_expire_with_the_virtual_clock);
	tcase_add_test(tc, deactivated_users_cannot_sign_in_or_keep_sessions);
	tcase_add_test(tc, tokens_are_created_once_and_looked_up_by_hash);
	tcase_add_test(tc, token_strings_of_the_wrong_shape_are_refused);
	tcase_add_test(tc, sign_in_attempts_are_throttled_per_account_and_per_address);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
