/* onthedot accounts: users, sign-in sessions, admin API tokens. */
#ifndef OTD_APP_ACCOUNTS_H
#define OTD_APP_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "app/app.h"

#define OTD_SECRET_LEN 43 /* base64url of 32 random bytes, no padding */
#define OTD_TOKEN_PREFIX "otd_"
#define OTD_SESSION_COOKIE "otd_session"

/* Checks a login name: 1 to 64 of a-z 0-9 . _ - (stored lower case). */
enum otd_status app_login_validate(const char *login, struct otd_error *err);

/* Checks a password: 10 to 256 bytes, no NUL. */
enum otd_status app_password_validate(const char *password, struct otd_error *err);

/* Creates a user, hashing password with argon2id on the calling thread
 * (the command line; never a request thread). role is one OTD_ROLE_* bit;
 * visitor_id is required for visitors and refused for the others. Records
 * the audit entry. Sets *id. */
enum otd_status app_user_add(struct otd_app *app, const struct otd_principal *actor,
                             const char *login, const char *display_name, unsigned role,
                             int64_t visitor_id, const char *password, int64_t *id,
                             struct otd_error *err);

/* Creates an admin API token named name and writes it (once; only its
 * hash is stored) to token_out, which holds at least 64 bytes. */
enum otd_status app_token_create(struct otd_app *app, const struct otd_principal *actor,
                                 const char *name, char *token_out, int64_t *id,
                                 struct otd_error *err);

/* Rate limits a sign-in attempt per client address and per login name.
 * OTD_ERATE with err->retry_after when either is exhausted. */
enum otd_status app_login_throttle(struct otd_app *app, const char *ip, const char *login,
                                   struct otd_error *err);

/* Reads the user for a sign-in attempt. OTD_ENOTFOUND when there is none
 * or it is inactive (the caller then verifies against a dummy hash). */
enum otd_status app_login_lookup(struct otd_app *app, const char *login, struct otd_user *out,
                                 struct otd_error *err);

/* Starts a session for u after its password matched: writes the session
 * (only the token's hash is stored) and the audit entry, and returns the
 * cookie value (OTD_SECRET_LEN + 1 bytes), the CSRF token and expiry. */
enum otd_status app_session_start(struct otd_app *app, const struct otd_user *u, const char *ip,
                                  char *cookie_out, char *csrf_out, int64_t *expires_at,
                                  struct otd_error *err);

/* Ends the session p signed in with. */
enum otd_status app_session_end(struct otd_app *app, const struct otd_principal *p,
                                struct otd_error *err);

/* Resolves a session cookie to a principal. OTD_EAUTH when unknown,
 * expired, revoked or its user inactive. */
enum otd_status app_authenticate_cookie(struct otd_app *app, const char *cookie, const char *ip,
                                        struct otd_principal *out, struct otd_error *err);

/* Resolves an admin API token ("otd_..."). OTD_EAUTH when unknown or
 * revoked. */
enum otd_status app_authenticate_bearer(struct otd_app *app, const char *token, const char *ip,
                                        struct otd_principal *out, struct otd_error *err);

#endif
