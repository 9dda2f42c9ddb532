/* The ticker's shards and the nodes alive (shards.h). */
#include "store/shards.h"

#include <string.h>

#include "store/sql.h"

/* The first key of the shards' advisory locks ("otdt"); the second is
 * the shard. Booking scopes use the visitor's id, which never collides
 * with this pair as a whole (a two-key lock space of its own). */
#define SHARD_LOCK_KEY 0x6f746474

int store_shard_of(int64_t visitor_id)
{
	int64_t m = visitor_id % STORE_TICKER_SHARDS;
	return (int)(m < 0 ? m + STORE_TICKER_SHARDS : m);
}

enum otd_status store_node_heartbeat(struct otd_conn *tx, const char *node, int64_t now,
                                     int64_t live_window, int *rank, int *live,
                                     struct otd_error *err)
{
	*rank = 0;
	*live = 1;
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "INSERT INTO ticker_nodes(node, seen_at) VALUES (?1, ?2) "
	                 "ON CONFLICT(node) DO UPDATE SET seen_at = excluded.seen_at",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, node);
	db_bind_int64(st, 2, now);
	enum otd_status s = conn_step_done(tx, st, "record this node", err);
	if(s)
		return s;
	st = conn_prepare(tx, "DELETE FROM ticker_nodes WHERE seen_at < ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, now - live_window);
	if((s = conn_step_done(tx, st, "forget nodes gone", err)))
		return s;
	st = conn_prepare(tx, "SELECT node FROM ticker_nodes ORDER BY node", err);
	if(!st)
		return OTD_EIO;
	int n = 0, me = 0, rc;
	while((rc = db_step(st)) == DB_ROW) {
		const unsigned char *id = db_column_text(st, 0);
		if(id && strcmp((const char *)id, node) == 0)
			me = n;
		n++;
	}
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(tx, rc, "list the nodes", err);
	*rank = me;
	*live = n > 0 ? n : 1;
	return OTD_OK;
}

enum otd_status store_shard_claim(struct otd_conn *tx, int shard, const char *node, int64_t now,
                                  int64_t due, bool *mine, struct otd_error *err)
{
	*mine = false;
	int rc;
	if(conn_is_pg(tx)) {
		struct otd_stmt *lk =
		    conn_prepare(tx,
		                 "SELECT pg_try_advisory_xact_lock(CAST(?1 AS INTEGER), "
		                 "CAST(?2 AS INTEGER))",
		                 err);
		if(!lk)
			return OTD_EIO;
		db_bind_int64(lk, 1, SHARD_LOCK_KEY);
		db_bind_int(lk, 2, shard);
		rc = db_step(lk);
		bool got = rc == DB_ROW && db_column_int(lk, 0) != 0;
		conn_done(lk);
		if(rc != DB_ROW)
			return conn_fail(tx, rc, "lock a shard", err);
		if(!got)
			return OTD_OK; /* another node is claiming it now */
	}
	struct otd_stmt *st = conn_prepare(
	    tx,
	    "INSERT INTO ticker_shards(shard, pass_at, node) VALUES (?1, ?2, ?3) "
	    "ON CONFLICT(shard) DO UPDATE SET pass_at = excluded.pass_at, node = excluded.node "
	    "WHERE ticker_shards.pass_at <= ?4",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int(st, 1, shard);
	db_bind_int64(st, 2, now);
	db_bind_text(st, 3, node);
	db_bind_int64(st, 4, due);
	enum otd_status s = conn_step_done(tx, st, "claim a shard", err);
	if(s == OTD_OK)
		*mine = conn_changes(tx) == 1;
	return s;
}
