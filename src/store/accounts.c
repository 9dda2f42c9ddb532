/* Users, sessions, API tokens and the audit log. */
#include "store/accounts.h"

#include <stdio.h>
#include <string.h>

#include "store/sql.h"

enum otd_status store_user_insert(struct otd_conn *tx, struct otd_user *u, int64_t now,
                                  struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO users(login, display_name, role, visitor_id, "
	                 "password_hash, active, created_at, updated_at) "
	                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, u->login);
	db_bind_text(st, 2, u->display_name);
	db_bind_text(st, 3, otd_role_name(u->role));
	if(u->visitor_id)
		db_bind_int64(st, 4, u->visitor_id);
	else
		db_bind_null(st, 4);
	db_bind_text(st, 5, u->password_hash);
	db_bind_int(st, 6, u->active ? 1 : 0);
	db_bind_int64(st, 7, now);
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE) {
		if(rc == DB_CONSTRAINT_UNIQUE) {
			bool visitor = strstr(conn_errmsg(tx), "visitor_id") != NULL;
			return otd_error_set(err, OTD_ECONFLICT, visitor ? "visitor_has_user" : "login_taken",
			                     visitor ? "visitor_id" : "login",
			                     visitor ? "That visitor already has a user."
			                             : "A user with that login already exists.");
		}
		if(rc == DB_CONSTRAINT_FOREIGNKEY)
			return otd_error_set(err, OTD_EINVAL, "unknown_visitor", "visitor_id",
			                     "There is no visitor with that id.");
		return conn_fail(tx, rc, "insert user", err);
	}
	u->id = conn_last_id(tx);
	return OTD_OK;
}

enum otd_status store_user_by_login(struct otd_conn *c, const char *login, struct otd_user *out,
                                    struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c,
	                                   "SELECT id, login, display_name, role, visitor_id, "
	                                   "password_hash, active FROM users WHERE login = ?1",
	                                   err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, login);
	int rc = db_step(st);
	enum otd_status result = OTD_OK;
	if(rc == DB_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = db_column_int64(st, 0);
		snprintf(out->login, sizeof(out->login), "%s", db_column_text(st, 1));
		snprintf(out->display_name, sizeof(out->display_name), "%s", db_column_text(st, 2));
		out->role = otd_role_parse((const char *)db_column_text(st, 3));
		out->visitor_id = db_column_int64(st, 4);
		snprintf(out->password_hash, sizeof(out->password_hash), "%s",
		         db_column_text(st, 5));
		out->active = db_column_int(st, 6) != 0;
	} else if(rc == DB_DONE) {
		result = otd_error_set(err, OTD_ENOTFOUND, "no_such_user", "login", "No such user.");
	} else {
		result = conn_fail(c, rc, "find user", err);
	}
	conn_done(st);
	return result;
}

enum otd_status store_session_insert(struct otd_conn *tx, int64_t user_id,
                                     const unsigned char hash[32], const char *csrf,
                                     const char *ip, int64_t now, int64_t expires_at, int64_t *id,
                                     struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO sessions(user_id, token_hash, csrf_token, ip, "
	                 "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, user_id);
	db_bind_blob(st, 2, hash, 32);
	db_bind_text(st, 3, csrf);
	db_bind_text(st, 4, ip ? ip : "");
	db_bind_int64(st, 5, now);
	db_bind_int64(st, 6, expires_at);
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(tx, rc, "insert session", err);
	*id = conn_last_id(tx);
	return OTD_OK;
}

enum otd_status store_session_lookup(struct otd_conn *c, const unsigned char hash[32],
                                     int64_t now, struct otd_credential *out,
                                     struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT s.id, s.user_id, u.role, u.visitor_id, s.csrf_token, "
	                 "s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id "
	                 "WHERE s.token_hash = ?1 AND s.revoked_at IS NULL "
	                 "AND s.expires_at > ?2 AND u.active = 1",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_blob(st, 1, hash, 32);
	db_bind_int64(st, 2, now);
	int rc = db_step(st);
	enum otd_status result = OTD_OK;
	if(rc == DB_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = db_column_int64(st, 0);
		out->user_id = db_column_int64(st, 1);
		out->role = otd_role_parse((const char *)db_column_text(st, 2));
		out->visitor_id = db_column_int64(st, 3);
		snprintf(out->csrf, sizeof(out->csrf), "%s", db_column_text(st, 4));
		out->expires_at = db_column_int64(st, 5);
	} else if(rc == DB_DONE) {
		result = otd_error_set(err, OTD_ENOTFOUND, "no_session", NULL, "No such session.");
	} else {
		result = conn_fail(c, rc, "find session", err);
	}
	conn_done(st);
	return result;
}

enum otd_status store_session_revoke(struct otd_conn *tx, int64_t id, int64_t now,
                                     struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx, "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now);
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(tx, rc, "revoke session", err);
	return OTD_OK;
}

enum otd_status store_token_insert(struct otd_conn *tx, const char *name,
                                   const unsigned char hash[32], int64_t now, int64_t *id,
                                   struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    tx, "INSERT INTO api_tokens(name, token_hash, created_at) VALUES (?1, ?2, ?3)", err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, name);
	db_bind_blob(st, 2, hash, 32);
	db_bind_int64(st, 3, now);
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(tx, rc, "insert token", err);
	*id = conn_last_id(tx);
	return OTD_OK;
}

enum otd_status store_token_lookup(struct otd_conn *c, const unsigned char hash[32],
                                   struct otd_credential *out, struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c, "SELECT id, role FROM api_tokens WHERE token_hash = ?1 AND revoked_at IS NULL", err);
	if(!st)
		return OTD_EIO;
	db_bind_blob(st, 1, hash, 32);
	int rc = db_step(st);
	enum otd_status result = OTD_OK;
	if(rc == DB_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = db_column_int64(st, 0);
		out->role = otd_role_parse((const char *)db_column_text(st, 1));
	} else if(rc == DB_DONE) {
		result = otd_error_set(err, OTD_ENOTFOUND, "no_token", NULL, "No such token.");
	} else {
		result = conn_fail(c, rc, "find token", err);
	}
	conn_done(st);
	return result;
}

enum otd_status store_audit_insert(struct otd_conn *tx, const struct otd_audit *a,
                                   struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO audit_log(at, actor_kind, actor_id, action, "
	                 "entity, entity_id, ip, detail) "
	                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, a->at);
	db_bind_text(st, 2, a->actor_kind);
	if(a->actor_id)
		db_bind_int64(st, 3, a->actor_id);
	else
		db_bind_null(st, 3);
	db_bind_text(st, 4, a->action);
	db_bind_text(st, 5, a->entity);
	if(a->entity_id)
		db_bind_int64(st, 6, a->entity_id);
	else
		db_bind_null(st, 6);
	db_bind_text(st, 7, a->ip ? a->ip : "");
	db_bind_text(st, 8, a->detail ? a->detail : "{}");
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(tx, rc, "audit", err);
	return OTD_OK;
}
