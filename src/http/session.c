/* Sign-in routes: POST /api/v1/auth/login, POST /api/v1/auth/logout,
 * GET /api/v1/auth/session. The password check (argon2id) runs on the
 * hasher's threads while the connection is suspended. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/accounts.h"
#include "app/hasher.h"
#include "http/handlers.h"
#include "http/decode.h"
#include "http/json_in.h"
#include "onthedot/civil.h"

struct login_job {
	struct hash_job hj;
	struct otd_req *req;
	struct otd_user user;
	bool found;
};

static void login_job_free(void *p)
{
	struct login_job *j = p;
	sodium_memzero(j, sizeof(*j));
	free(j);
}

static void login_hashed(struct hash_job *hj, void *arg)
{
	(void)hj;
	req_resume(arg);
}

void session_cookie_set(struct otd_req *req, const char *value, int max_age)
{
	char cookie[256];
	/* Secure when configured, and whenever this request is secure (our TLS,
	 * or https at a trusted proxy): the browser then never sends it in
	 * clear. */
	bool secure = req->app->cfg->auth.secure_cookies || req->secure;
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
	         OTD_SESSION_COOKIE, value, max_age, secure ? "; Secure" : "");
	req_add_header(req, "Set-Cookie", cookie);
}

static json_t *session_json(const struct otd_user *u, const char *csrf, int64_t expires_at)
{
	char exp[32];
	otd_rfc3339_format(expires_at, exp, sizeof(exp));
	json_t *user = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)u->id, "login", u->login,
	                         "name", u->display_name, "role", otd_role_name(u->role));
	json_object_set_new(user, "visitor_id",
	                    u->visitor_id ? json_integer(u->visitor_id) : json_null());
	return json_pack("{s:o,s:s,s:s}", "user", user, "csrf_token", csrf, "expires_at", exp);
}

enum otd_status session_login_end(struct otd_req *req, struct otd_user *user, char *csrf,
                                  int64_t *expires_at)
{
	struct login_job *j = req->job;
	if(j->hj.status == OTD_EBUSY) {
		otd_error_set(&req->err, OTD_EBUSY, "busy", NULL,
		              "Too many sign-ins at once; try again in a moment.");
		req->err.retry_after = 1;
		return OTD_EBUSY;
	}
	if(!j->found || !j->hj.match)
		return otd_error_set(&req->err, OTD_EAUTH, "invalid_credentials", NULL,
		                     "The login or the password is wrong.");
	char cookie[OTD_SECRET_LEN + 1];
	enum otd_status st = app_session_start(req->app, &j->user, req->client_ip, cookie, csrf,
	                                       expires_at, &req->err);
	if(st)
		return st;
	session_cookie_set(req, cookie, req->app->cfg->auth.session_hours * 3600);
	sodium_memzero(cookie, sizeof(cookie));
	req->principal.user_id = j->user.id;
	*user = j->user;
	return OTD_OK;
}

static enum otd_status login_finish(struct otd_req *req)
{
	struct otd_user user;
	char csrf[OTD_SECRET_LEN + 1];
	int64_t expires_at;
	enum otd_status st = session_login_end(req, &user, csrf, &expires_at);
	if(st)
		return st;
	req_reply_json(req, 200, session_json(&user, csrf, expires_at));
	return OTD_OK;
}

enum otd_status login_decode(const json_t *body, char *login_out, char *password_out,
                             size_t password_size, struct otd_error *err)
{
	static const struct field_spec spec[] = {
	    {"login", FIELD_STRING, true, 1, OTD_LOGIN_MAX, false},
	    {"password", FIELD_STRING, true, 1, OTD_PASSWORD_MAX, false},
	};
	enum otd_status st = json_check(body, spec, 2, NULL, err);
	if(st)
		return st;
	const char *login = json_get_str(body, "login");
	const char *password = json_get_str(body, "password");
	/* Lengths were checked in characters; bytes must fit too. */
	if(strlen(login) > OTD_LOGIN_MAX)
		return otd_error_set(err, OTD_EINVAL, "too_long", "login",
		                     "The field \"login\" is at most %d characters long.",
		                     OTD_LOGIN_MAX);
	if(strlen(password) >= password_size)
		return otd_error_set(err, OTD_EINVAL, "too_long", "password",
		                     "The field \"password\" is too long.");
	size_t i = 0;
	for(; login[i]; i++)
		login_out[i] = (char)tolower((unsigned char)login[i]);
	login_out[i] = '\0';
	memcpy(password_out, password, strlen(password) + 1);
	return OTD_OK;
}

enum otd_status session_login_begin(struct otd_req *req, const char *login, const char *password,
                                    enum otd_status (*finish)(struct otd_req *req))
{
	struct login_job *j = xcalloc(1, sizeof(*j));
	req->job = j;
	req->job_free = login_job_free;
	if(strlen(password) >= sizeof(j->hj.password))
		return otd_error_set(&req->err, OTD_EINVAL, "too_long", "password",
		                     "The field \"password\" is too long.");
	memcpy(j->hj.password, password, strlen(password) + 1);
	/* Logins are kept in lower case (ASCII). */
	char lower[OTD_LOGIN_MAX + 1];
	size_t n = strlen(login);
	if(n > OTD_LOGIN_MAX)
		return otd_error_set(&req->err, OTD_EINVAL, "too_long", "login",
		                     "The field \"login\" is at most %d characters long.",
		                     OTD_LOGIN_MAX);
	for(size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)login[i]);
	enum otd_status st = app_login_throttle(req->app, req->client_ip, lower, &req->err);
	if(st)
		return st;
	st = app_login_lookup(req->app, lower, &j->user, &req->err);
	if(st == OTD_OK) {
		j->found = true;
		snprintf(j->hj.hash, sizeof(j->hj.hash), "%s", j->user.password_hash);
	} else if(st == OTD_ENOTFOUND) {
		/* Verify against a dummy hash so an unknown login takes as long. */
		otd_error_clear(&req->err);
		snprintf(j->hj.hash, sizeof(j->hj.hash), "%s", hasher_dummy_hash());
	} else {
		return st;
	}
	j->req = req;
	j->hj.done = login_hashed;
	j->hj.arg = req;
	req->resume_fn = finish;
	req_suspend(req);
	hasher_submit(req->app->hasher, &j->hj);
	return OTD_OK;
}

enum otd_status h_login(struct otd_req *req)
{
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	char login[OTD_LOGIN_MAX + 1];
	char password[OTD_PASSWORD_MAX + 1];
	enum otd_status st = login_decode(body, login, password, sizeof(password), &req->err);
	json_decref(body);
	if(st == OTD_OK)
		st = session_login_begin(req, login, password, login_finish);
	sodium_memzero(password, sizeof(password));
	return st;
}

enum otd_status h_logout(struct otd_req *req)
{
	enum otd_status st = app_session_end(req->app, &req->principal, &req->err);
	if(st)
		return st;
	session_cookie_set(req, "", 0);
	req_reply_raw(req, 204, "application/json", xstrdup(""), 0);
	return OTD_OK;
}

enum otd_status h_session(struct otd_req *req)
{
	const struct otd_principal *p = &req->principal;
	json_t *out = json_pack("{s:s,s:s}", "kind",
	                        p->kind == OTD_PRINCIPAL_SESSION ? "session" : "token", "role",
	                        otd_role_name(p->role));
	if(p->kind == OTD_PRINCIPAL_SESSION) {
		json_object_set_new(out, "user_id", json_integer(p->user_id));
		json_object_set_new(out, "visitor_id",
		                    p->visitor_id ? json_integer(p->visitor_id) : json_null());
		json_object_set_new(out, "csrf_token", json_string(p->csrf));
	} else {
		json_object_set_new(out, "token_id", json_integer(p->token_id));
	}
	req_reply_json(req, 200, out);
	return OTD_OK;
}
