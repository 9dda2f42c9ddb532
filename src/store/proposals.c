/* Rebalance proposals shared by the nodes (proposals.h). */
#include "store/proposals.h"

#include <stdlib.h>

#include "onthedot/mem.h"
#include "store/sql.h"

enum otd_status store_proposal_put(struct otd_conn *tx, const char *id, int64_t expires_at,
                                   const char *body, int64_t now, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx, "DELETE FROM rebalance_proposals WHERE expires_at <= ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, now);
	enum otd_status s = conn_step_done(tx, st, "forget expired proposals", err);
	if(s)
		return s;
	st = conn_prepare(
	    tx, "INSERT INTO rebalance_proposals(id, expires_at, body) VALUES (?1, ?2, ?3)", err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, id);
	db_bind_int64(st, 2, expires_at);
	db_bind_text(st, 3, body);
	return conn_step_done(tx, st, "store the proposal", err);
}

enum otd_status store_proposal_get(struct otd_conn *c, const char *id, int64_t now, char **body,
                                   struct otd_error *err)
{
	*body = NULL;
	struct otd_stmt *st = conn_prepare(
	    c, "SELECT body FROM rebalance_proposals WHERE id = ?1 AND expires_at > ?2", err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, id);
	db_bind_int64(st, 2, now);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		const unsigned char *text = db_column_text(st, 0);
		*body = xstrdup(text ? (const char *)text : "");
		rc = DB_DONE;
	}
	conn_done(st);
	if(rc != DB_DONE) {
		free(*body);
		*body = NULL;
		return conn_fail(c, rc, "read the proposal", err);
	}
	return OTD_OK;
}

enum otd_status store_proposal_remove(struct otd_conn *tx, const char *id, bool *removed,
                                      struct otd_error *err)
{
	*removed = false;
	struct otd_stmt *st =
	    conn_prepare(tx, "DELETE FROM rebalance_proposals WHERE id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, id);
	enum otd_status s = conn_step_done(tx, st, "take the proposal", err);
	if(s == OTD_OK)
		*removed = conn_changes(tx) > 0;
	return s;
}
