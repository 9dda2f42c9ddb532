/* Accounts: users, sessions and API tokens. Secrets are 32 random bytes
 * in base64url; only their BLAKE2b hash is stored, so lookups are one
 * indexed read and a stolen database yields no usable credential. */
#include "app/accounts.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/audit.h"
#include "app/hasher.h"
#include "app/limits.h"
#include "store/accounts.h"
#include "store/store.h"

static void new_secret(char *out)
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, OTD_SECRET_LEN + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

static void secret_hash(const char *secret, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)secret, strlen(secret), NULL, 0);
}

enum otd_status app_login_validate(const char *login, struct otd_error *err)
{
	size_t n = strlen(login);
	if(n < 1 || n > OTD_LOGIN_MAX)
		return otd_error_set(err, OTD_EINVAL, "invalid_login", "login",
		                     "A login is 1 to %d characters long.", OTD_LOGIN_MAX);
	for(size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)login[i];
		if(!(islower(c) || isdigit(c) || c == '.' || c == '_' || c == '-'))
			return otd_error_set(err, OTD_EINVAL, "invalid_login", "login",
			                     "A login uses only lower-case letters a-z, digits, '.', '_' "
			                     "and '-'.");
	}
	return OTD_OK;
}

enum otd_status app_password_validate(const char *password, struct otd_error *err)
{
	size_t n = strlen(password);
	if(n < OTD_PASSWORD_MIN || n > OTD_PASSWORD_MAX)
		return otd_error_set(err, OTD_EINVAL, "invalid_password", "password",
		                     "A password is %d to %d characters long.", OTD_PASSWORD_MIN,
		                     OTD_PASSWORD_MAX);
	return OTD_OK;
}

struct user_add_job {
	const struct otd_principal *actor;
	struct otd_user *user;
	int64_t now;
};

static enum otd_status user_add_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct user_add_job *j = arg;
	enum otd_status st = store_user_insert(tx, j->user, j->now, err);
	if(st)
		return st;
	return app_audit(tx, j->actor, j->now, "user.create", "user", j->user->id,
	                 json_pack("{s:s,s:I}", "role", otd_role_name(j->user->role), "visitor_id",
	                           (json_int_t)j->user->visitor_id),
	                 err);
}

enum otd_status app_user_add(struct otd_app *app, const struct otd_principal *actor,
                             const char *login, const char *display_name, unsigned role,
                             int64_t visitor_id, const char *password, int64_t *id,
                             struct otd_error *err)
{
	struct otd_user u = {0};
	/* Logins are case-insensitive: stored lower case, as sign-in looks them up. */
	char lower[OTD_LOGIN_MAX + 2];
	snprintf(lower, sizeof(lower), "%s", login);
	for(char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	login = lower;
	enum otd_status st = app_login_validate(login, err);
	if(st)
		return st;
	size_t dn = strlen(display_name);
	if(dn < 1 || dn > sizeof(u.display_name) - 1)
		return otd_error_set(err, OTD_EINVAL, "invalid_name", "name",
		                     "A name is 1 to %d characters long.", OTD_NAME_MAX);
	if(!otd_role_name(role)[0])
		return otd_error_set(err, OTD_EINVAL, "invalid_role", "role",
		                     "The role must be admin, dispatcher, finance or visitor.");
	if((role == OTD_ROLE_VISITOR) != (visitor_id > 0))
		return otd_error_set(err, OTD_EINVAL, "visitor_id_mismatch", "visitor_id",
		                     role == OTD_ROLE_VISITOR
		                         ? "A visitor user needs the id of their visitor record."
		                         : "Only visitor users are tied to a visitor record.");
	st = app_password_validate(password, err);
	if(st)
		return st;
	memcpy(u.login, login, strlen(login) + 1); /* validated: fits */
	snprintf(u.display_name, sizeof(u.display_name), "%s", display_name);
	u.role = role;
	u.visitor_id = visitor_id;
	u.active = true;
	if(hasher_hash_now(password, u.password_hash) != OTD_OK)
		return otd_error_set(err, OTD_ENOMEM, "hash_failed", NULL,
		                     "The password could not be hashed (not enough memory).");
	struct user_add_job job = {actor, &u, otd_clock_now(app->clock)};
	st = store_write(app->store, user_add_job, &job, err);
	if(st == OTD_OK)
		*id = u.id;
	return st;
}

struct token_job {
	const struct otd_principal *actor;
	const char *name;
	unsigned char hash[32];
	int64_t now;
	int64_t id;
};

static enum otd_status token_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct token_job *j = arg;
	enum otd_status st = store_token_insert(tx, j->name, j->hash, j->now, &j->id, err);
	if(st)
		return st;
	return app_audit(tx, j->actor, j->now, "token.create", "api_token", j->id,
	                 json_pack("{s:s}", "name", j->name), err);
}

enum otd_status app_token_create(struct otd_app *app, const struct otd_principal *actor,
                                 const char *name, char *token_out, int64_t *id,
                                 struct otd_error *err)
{
	size_t n = strlen(name);
	if(n < 1 || n > 100)
		return otd_error_set(err, OTD_EINVAL, "invalid_name", "name",
		                     "A token name is 1 to 100 characters long.");
	char secret[OTD_SECRET_LEN + 1];
	new_secret(secret);
	snprintf(token_out, 64, "%s%s", OTD_TOKEN_PREFIX, secret);
	struct token_job job = {.actor = actor, .name = name, .now = otd_clock_now(app->clock)};
	secret_hash(token_out, job.hash);
	enum otd_status st = store_write(app->store, token_job, &job, err);
	if(st) {
		sodium_memzero(token_out, 64);
		return st;
	}
	*id = job.id;
	return OTD_OK;
}

enum otd_status app_login_throttle(struct otd_app *app, const char *ip, const char *login,
                                   struct otd_error *err)
{
	int64_t now = otd_clock_now_ms(app->clock);
	int retry = 1;
	if(!limiter_take(app->limits->login_ip, ip, now, &retry) ||
	   !limiter_take(app->limits->login_account, login, now, &retry)) {
		otd_error_set(err, OTD_ERATE, "too_many_attempts", NULL,
		              "Too many sign-in attempts; wait %d seconds and try again.", retry);
		err->retry_after = retry;
		return OTD_ERATE;
	}
	return OTD_OK;
}

struct lookup_job {
	const char *login;
	struct otd_user *out;
};

static enum otd_status lookup_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct lookup_job *j = arg;
	return store_user_by_login(c, j->login, j->out, err);
}

enum otd_status app_login_lookup(struct otd_app *app, const char *login, struct otd_user *out,
                                 struct otd_error *err)
{
	struct lookup_job job = {login, out};
	enum otd_status st = store_read(app->store, lookup_job, &job, err);
	if(st == OTD_OK && !out->active)
		return otd_error_set(err, OTD_ENOTFOUND, "no_such_user", "login", "No such user.");
	return st;
}

struct session_job {
	const struct otd_user *user;
	const char *ip;
	unsigned char hash[32];
	char csrf[OTD_SECRET_LEN + 1];
	int64_t now, expires_at, id;
	int64_t revoke_id;
	const struct otd_principal *actor;
};

static enum otd_status session_start_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct session_job *j = arg;
	enum otd_status st = store_session_insert(tx, j->user->id, j->hash, j->csrf, j->ip, j->now,
	                                          j->expires_at, &j->id, err);
	if(st)
		return st;
	struct otd_principal who = {.kind = OTD_PRINCIPAL_SESSION, .user_id = j->user->id};
	snprintf(who.ip, sizeof(who.ip), "%s", j->ip);
	return app_audit(tx, &who, j->now, "session.start", "session", j->id, NULL, err);
}

enum otd_status app_session_start(struct otd_app *app, const struct otd_user *u, const char *ip,
                                  char *cookie_out, char *csrf_out, int64_t *expires_at,
                                  struct otd_error *err)
{
	struct session_job job = {.user = u, .ip = ip};
	new_secret(cookie_out);
	new_secret(job.csrf);
	secret_hash(cookie_out, job.hash);
	job.now = otd_clock_now(app->clock);
	job.expires_at = job.now + (int64_t)app->cfg->auth.session_hours * 3600;
	enum otd_status st = store_write(app->store, session_start_job, &job, err);
	if(st)
		return st;
	snprintf(csrf_out, OTD_SECRET_LEN + 1, "%s", job.csrf);
	*expires_at = job.expires_at;
	return OTD_OK;
}

static enum otd_status session_end_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct session_job *j = arg;
	enum otd_status st = store_session_revoke(tx, j->revoke_id, j->now, err);
	if(st)
		return st;
	return app_audit(tx, j->actor, j->now, "session.end", "session", j->revoke_id, NULL, err);
}

enum otd_status app_session_end(struct otd_app *app, const struct otd_principal *p,
                                struct otd_error *err)
{
	if(p->kind != OTD_PRINCIPAL_SESSION)
		return otd_error_set(err, OTD_ESTATE, "not_a_session", NULL,
		                     "Only a signed-in session can sign out; API tokens stay valid "
		                     "until revoked.");
	struct session_job job = {.revoke_id = p->session_id, .actor = p,
	                          .now = otd_clock_now(app->clock)};
	return store_write(app->store, session_end_job, &job, err);
}

struct cred_job {
	unsigned char hash[32];
	int64_t now;
	bool token;
	struct otd_credential cred;
};

static enum otd_status cred_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct cred_job *j = arg;
	if(j->token)
		return store_token_lookup(c, j->hash, &j->cred, err);
	return store_session_lookup(c, j->hash, j->now, &j->cred, err);
}

static enum otd_status authenticate(struct otd_app *app, const char *secret, bool token,
                                    const char *ip, struct otd_principal *out,
                                    struct otd_error *err)
{
	size_t n = strlen(secret);
	size_t want = OTD_SECRET_LEN + (token ? strlen(OTD_TOKEN_PREFIX) : 0);
	struct cred_job job = {.token = token, .now = otd_clock_now(app->clock)};
	if(n != want || (token && strncmp(secret, OTD_TOKEN_PREFIX, strlen(OTD_TOKEN_PREFIX)) != 0))
		goto unauthenticated;
	secret_hash(secret, job.hash);
	enum otd_status st = store_read(app->store, cred_job, &job, err);
	if(st == OTD_ENOTFOUND)
		goto unauthenticated;
	if(st)
		return st;
	memset(out, 0, sizeof(*out));
	out->kind = token ? OTD_PRINCIPAL_TOKEN : OTD_PRINCIPAL_SESSION;
	out->role = job.cred.role;
	if(token) {
		out->token_id = job.cred.id;
	} else {
		out->session_id = job.cred.id;
		out->user_id = job.cred.user_id;
		out->visitor_id = job.cred.visitor_id;
		snprintf(out->csrf, sizeof(out->csrf), "%s", job.cred.csrf);
	}
	snprintf(out->ip, sizeof(out->ip), "%s", ip);
	return OTD_OK;
unauthenticated:
	return otd_error_set(err, OTD_EAUTH, token ? "invalid_token" : "session_expired", NULL,
	                     token ? "The API token is not valid (unknown or revoked)."
	                           : "Your session has ended; sign in again.");
}

enum otd_status app_authenticate_cookie(struct otd_app *app, const char *cookie, const char *ip,
                                        struct otd_principal *out, struct otd_error *err)
{
	return authenticate(app, cookie, false, ip, out, err);
}

enum otd_status app_authenticate_bearer(struct otd_app *app, const char *token, const char *ip,
                                        struct otd_principal *out, struct otd_error *err)
{
	return authenticate(app, token, true, ip, out, err);
}
