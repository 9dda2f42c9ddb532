/* The gazetteer: upserts by UPRN or match key, retiring what an import
 * no longer lists but an appointment still uses. */
#include "store/gazetteer.h"

#include <stdio.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/sql.h"

enum otd_status store_gazetteer_begin(struct otd_conn *tx, struct otd_error *err)
{
	return conn_exec(tx,
	                 "CREATE TEMP TABLE IF NOT EXISTS import_seen (id INTEGER PRIMARY KEY);"
	                 "DELETE FROM import_seen;",
	                 err);
}

static enum otd_status find(struct otd_conn *tx, const char *sql, const char *key, int64_t *id,
                            struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(tx, sql, err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, key);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*id = db_column_int64(st, 0);
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return OTD_ENOTFOUND;
	return conn_fail(tx, rc, "find address", err);
}

static const char sql_by_uprn[] = "SELECT id FROM addresses WHERE uprn = ?1";
static const char sql_by_key[] = "SELECT id FROM addresses WHERE uprn IS NULL AND match_key = ?1";

static void bind_address(struct otd_stmt *st, const struct otd_address *a, int64_t now)
{
	conn_bind_text(st, 1, a->uprn[0] ? a->uprn : NULL);
	db_bind_text(st, 2, a->line1);
	db_bind_text(st, 3, a->line2 ? a->line2 : "");
	db_bind_text(st, 4, a->town ? a->town : "");
	db_bind_text(st, 5, a->postcode);
	db_bind_text(st, 6, a->postcode_norm);
	db_bind_text(st, 7, a->match_key);
	db_bind_double(st, 8, a->lat);
	db_bind_double(st, 9, a->lon);
	db_bind_int64(st, 10, now);
}

enum otd_status store_address_upsert(struct otd_conn *tx, struct otd_address *a, int64_t now,
                                     bool *inserted, struct otd_error *err)
{
	int64_t id = 0;
	enum otd_status s = OTD_ENOTFOUND;
	if(a->uprn[0])
		s = find(tx, sql_by_uprn, a->uprn, &id, err);
	if(s == OTD_ENOTFOUND)
		s = find(tx, sql_by_key, a->match_key, &id, err);
	struct otd_stmt *st;
	if(s == OTD_OK) {
		st = conn_prepare(tx,
		                  "UPDATE addresses SET uprn = ?1, line1 = ?2, line2 = ?3, town = ?4, "
		                  "postcode = ?5, postcode_norm = ?6, match_key = ?7, lat = ?8, lon = ?9, "
		                  "retired = 0, updated_at = max(?10, created_at) WHERE id = ?11",
		                  err);
		if(!st)
			return OTD_EIO;
		bind_address(st, a, now);
		db_bind_int64(st, 11, id);
		*inserted = false;
	} else if(s == OTD_ENOTFOUND) {
		st = conn_prepare(tx,
		                  "INSERT INTO addresses(uprn, line1, line2, town, postcode, "
		                  "postcode_norm, match_key, lat, lon, created_at, updated_at) "
		                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
		                  err);
		if(!st)
			return OTD_EIO;
		bind_address(st, a, now);
		*inserted = true;
	} else {
		return s;
	}
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE) {
		if(rc == DB_CONSTRAINT_UNIQUE)
			return otd_error_set(err, OTD_ECONFLICT, "duplicate_address", "uprn",
			                     "This address is already listed under another UPRN or line.");
		return conn_fail(tx, rc, "save address", err);
	}
	a->id = *inserted ? conn_last_id(tx) : id;
	st = conn_prepare(tx, "INSERT INTO import_seen(id) VALUES (?1) ON CONFLICT DO NOTHING", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, a->id);
	rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(tx, rc, "mark address", err);
	return OTD_OK;
}

enum otd_status store_gazetteer_finish(struct otd_conn *tx, int64_t now, int64_t *removed,
                                       int64_t *retired, struct otd_error *err)
{
	/* Referenced addresses (appointments, holds) stay, retired. */
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "DELETE FROM addresses WHERE id NOT IN (SELECT id FROM "
	                 "import_seen) AND id NOT IN (SELECT address_id FROM "
	                 "appointments) AND id NOT IN (SELECT address_id FROM holds)",
	                 err);
	if(!st)
		return OTD_EIO;
	int rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(tx, rc, "remove addresses", err);
	*removed = conn_changes(tx);
	st = conn_prepare(tx,
	                  "UPDATE addresses SET retired = 1, updated_at = max(?1, created_at) WHERE "
	                  "retired = 0 AND id NOT IN (SELECT id FROM import_seen)",
	                  err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, now);
	rc = db_step(st);
	conn_done(st);
	if(rc != DB_DONE)
		return conn_fail(tx, rc, "retire addresses", err);
	*retired = conn_changes(tx);
	return conn_exec(tx, "DELETE FROM import_seen", err);
}

enum otd_status store_address_get(struct otd_conn *c, int64_t id, struct otd_address *out,
                                  struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct otd_stmt *st =
	    conn_prepare(c,
	                 "SELECT uprn, line1, line2, town, postcode, postcode_norm, "
	                 "match_key, lat, lon, retired FROM addresses WHERE id = ?1",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		out->id = id;
		snprintf(out->uprn, sizeof(out->uprn), "%s",
		         db_column_is_null(st, 0) ? "" : (const char *)db_column_text(st, 0));
		out->line1 = conn_column_dup(st, 1);
		out->line2 = conn_column_dup(st, 2);
		out->town = conn_column_dup(st, 3);
		snprintf(out->postcode, sizeof(out->postcode), "%s", db_column_text(st, 4));
		snprintf(out->postcode_norm, sizeof(out->postcode_norm), "%s",
		         db_column_text(st, 5));
		out->match_key = conn_column_dup(st, 6);
		out->lat = db_column_double(st, 7);
		out->lon = db_column_double(st, 8);
		out->retired = db_column_int(st, 9) != 0;
	}
	conn_done(st);
	if(rc == DB_ROW)
		return OTD_OK;
	if(rc == DB_DONE)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL, "There is no address %lld.",
		                     (long long)id);
	return conn_fail(c, rc, "read address", err);
}

enum otd_status store_address_count(struct otd_conn *c, int64_t *n, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c, "SELECT count(*) FROM addresses WHERE retired = 0", err);
	if(!st)
		return OTD_EIO;
	int rc = db_step(st);
	if(rc == DB_ROW)
		*n = db_column_int64(st, 0);
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "count addresses", err);
	return OTD_OK;
}

enum otd_status store_gazetteer_generation(struct otd_conn *c, int64_t *generation,
                                           struct otd_error *err)
{
	/* audit_log_entity covers it: one entry per import is read. */
	struct otd_stmt *st = conn_prepare(
	    c, "SELECT coalesce(max(id), 0) FROM audit_log WHERE entity = 'gazetteer'", err);
	if(!st)
		return OTD_EIO;
	int rc = db_step(st);
	if(rc == DB_ROW)
		*generation = db_column_int64(st, 0);
	conn_done(st);
	if(rc != DB_ROW)
		return conn_fail(c, rc, "gazetteer generation", err);
	return OTD_OK;
}

enum otd_status store_address_each_active(struct otd_conn *c, store_address_fn fn, void *ctx,
                                          struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(c,
	                                   "SELECT id, line1, line2, town, postcode FROM addresses "
	                                   "WHERE retired = 0 ORDER BY id",
	                                   err);
	if(!st)
		return OTD_EIO;
	enum otd_status s = OTD_OK;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		s = fn(ctx, db_column_int64(st, 0), (const char *)db_column_text(st, 1),
		       (const char *)db_column_text(st, 2), (const char *)db_column_text(st, 3),
		       (const char *)db_column_text(st, 4));
		if(s)
			break;
	}
	conn_done(st);
	if(s)
		return s;
	if(rc != DB_DONE)
		return conn_fail(c, rc, "read addresses", err);
	return OTD_OK;
}
