/* onthedot store: users, sessions, API tokens and the audit log. All
 * functions take a connection from store_read or store_write; those that
 * write must be called from a write job. */
#ifndef OTD_STORE_ACCOUNTS_H
#define OTD_STORE_ACCOUNTS_H

#include "onthedot/model.h"
#include "onthedot/status.h"

struct otd_conn;

/* Inserts u (id ignored) and sets u->id. OTD_ECONFLICT when the login or
 * the visitor is already taken (err names the field). */
enum otd_status store_user_insert(struct otd_conn *tx, struct otd_user *u, int64_t now,
                                  struct otd_error *err);

/* Finds a user by login (lower case). OTD_ENOTFOUND when absent. */
enum otd_status store_user_by_login(struct otd_conn *c, const char *login, struct otd_user *out,
                                    struct otd_error *err);

/* Inserts a session row and returns its id. */
enum otd_status store_session_insert(struct otd_conn *tx, int64_t user_id,
                                     const unsigned char hash[32], const char *csrf,
                                     const char *ip, int64_t now, int64_t expires_at, int64_t *id,
                                     struct otd_error *err);

/* Looks up a live session (not revoked, not expired at now, active user)
 * by token hash. OTD_ENOTFOUND otherwise. */
enum otd_status store_session_lookup(struct otd_conn *c, const unsigned char hash[32],
                                     int64_t now, struct otd_credential *out,
                                     struct otd_error *err);

/* Marks a session revoked at now. */
enum otd_status store_session_revoke(struct otd_conn *tx, int64_t id, int64_t now,
                                     struct otd_error *err);

/* Inserts an admin API token hash under name; returns its id. */
enum otd_status store_token_insert(struct otd_conn *tx, const char *name,
                                   const unsigned char hash[32], int64_t now, int64_t *id,
                                   struct otd_error *err);

/* Looks up a live (not revoked) token by hash. OTD_ENOTFOUND otherwise. */
enum otd_status store_token_lookup(struct otd_conn *c, const unsigned char hash[32],
                                   struct otd_credential *out, struct otd_error *err);

/* Appends an audit entry. */
enum otd_status store_audit_insert(struct otd_conn *tx, const struct otd_audit *a,
                                   struct otd_error *err);

#endif
