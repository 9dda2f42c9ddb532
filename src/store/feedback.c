/* Customers' feedback and its moderation. */
#include "store/feedback.h"

#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/sql.h"

#define FEEDBACK_COLUMNS                                                                           \
	"f.id, f.appointment_id, a.reference, t.name, a.local_date, f.rating, f.comment, "         \
	"f.publish_consent, f.moderation, f.published_comment, f.moderation_reason, "              \
	"f.created_at, coalesce(f.updated_at, f.created_at), coalesce(f.moderated_at, 0), "        \
	"coalesce(f.moderated_by, 0) "
#define FEEDBACK_FROM                                                                              \
	"FROM feedback f JOIN appointments a ON a.id = f.appointment_id JOIN visit_types t ON "    \
	"t.id "                                                                                    \
	"= a.visit_type_id "

void otd_feedback_cleanup(struct otd_feedback *f)
{
	if(!f)
		return;
	free(f->comment);
	free(f->published_comment);
	free(f->moderation_reason);
	memset(f, 0, sizeof(*f));
}

void otd_feedback_list_free(struct otd_feedback *list, size_t n)
{
	for(size_t i = 0; list && i < n; i++)
		otd_feedback_cleanup(&list[i]);
	free(list);
}

static char *column_or_null(struct otd_stmt *st, int i)
{
	return db_column_is_null(st, i) ? NULL : conn_column_dup(st, i);
}

static void read_feedback(struct otd_stmt *st, struct otd_feedback *f)
{
	memset(f, 0, sizeof(*f));
	f->id = db_column_int64(st, 0);
	f->appointment_id = db_column_int64(st, 1);
	conn_column_copy(f->reference, sizeof(f->reference), st, 2);
	conn_column_copy(f->visit_type, sizeof(f->visit_type), st, 3);
	conn_column_copy(f->visit_date, sizeof(f->visit_date), st, 4);
	f->rating = db_column_int(st, 5);
	f->comment = conn_column_dup(st, 6);
	f->publish_consent = db_column_int(st, 7) != 0;
	conn_column_copy(f->moderation, sizeof(f->moderation), st, 8);
	f->published_comment = column_or_null(st, 9);
	f->moderation_reason = column_or_null(st, 10);
	f->created_at = db_column_int64(st, 11);
	f->updated_at = db_column_int64(st, 12);
	f->moderated_at = db_column_int64(st, 13);
	f->moderated_by = db_column_int64(st, 14);
}

/* Steps st for at most one row into out. */
static enum otd_status one(struct otd_conn *c, struct otd_stmt *st, struct otd_feedback *out,
                           bool *found, struct otd_error *err)
{
	int rc = db_step(st);
	*found = rc == DB_ROW;
	if(*found)
		read_feedback(st, out);
	else
		memset(out, 0, sizeof(*out));
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(c, rc, "read feedback", err);
	return OTD_OK;
}

enum otd_status store_feedback_of_appointment(struct otd_conn *c, int64_t appointment_id,
                                              struct otd_feedback *out, bool *found,
                                              struct otd_error *err)
{
	struct otd_stmt *st = conn_prepare(
	    c, "SELECT " FEEDBACK_COLUMNS FEEDBACK_FROM "WHERE f.appointment_id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	return one(c, st, out, found, err);
}

enum otd_status store_feedback_get(struct otd_conn *c, int64_t id, struct otd_feedback *out,
                                   struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(c, "SELECT " FEEDBACK_COLUMNS FEEDBACK_FROM "WHERE f.id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	bool found = false;
	enum otd_status s = one(c, st, out, &found, err);
	if(s == OTD_OK && !found)
		s = otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
		                  "There is no feedback %lld.", (long long)id);
	return s;
}

enum otd_status store_feedback_put(struct otd_conn *tx, int64_t appointment_id, int rating,
                                   const char *comment, bool publish_consent, int64_t now,
                                   bool *created, struct otd_error *err)
{
	*created = false;
	struct otd_stmt *st =
	    conn_prepare(tx, "SELECT moderation FROM feedback WHERE appointment_id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	char moderation[12] = "";
	int rc = db_step(st);
	if(rc == DB_ROW)
		conn_column_copy(moderation, sizeof(moderation), st, 0);
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE)
		return conn_fail(tx, rc, "read feedback", err);
	if(rc == DB_ROW && strcmp(moderation, "pending") != 0)
		return otd_error_set(
		    err, OTD_ECONFLICT, "feedback_given", NULL,
		    "Your feedback has been read by our team already, so it cannot "
		    "be changed now. Thank you for it.");
	*created = rc == DB_DONE;
	st = *created
	         ? conn_prepare(tx,
	                        "INSERT INTO feedback(appointment_id, rating, comment, "
	                        "publish_consent, moderation, created_at, updated_at) VALUES "
	                        "(?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
	                        err)
	         : conn_prepare(tx,
	                        "UPDATE feedback SET rating = ?2, comment = ?3, publish_consent "
	                        "= ?4, updated_at = ?5 WHERE appointment_id = ?1 AND "
	                        "moderation = 'pending'",
	                        err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, appointment_id);
	db_bind_int(st, 2, rating);
	conn_bind_text(st, 3, comment ? comment : "");
	db_bind_int(st, 4, publish_consent ? 1 : 0);
	db_bind_int64(st, 5, now);
	return conn_step_done(tx, st, "store feedback", err);
}

enum otd_status store_feedback_moderate(struct otd_conn *tx, int64_t id, const char *moderation,
                                        const char *published_comment, const char *reason,
                                        int64_t user_id, int64_t now, struct otd_error *err)
{
	struct otd_stmt *st =
	    conn_prepare(tx,
	                 "UPDATE feedback SET moderation = ?2, published_comment = ?3, "
	                 "moderation_reason = ?4, moderated_by = ?5, moderated_at = "
	                 "?6 WHERE id = ?1",
	                 err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	conn_bind_text(st, 2, moderation);
	conn_bind_text(st, 3, published_comment);
	conn_bind_text(st, 4, reason);
	if(user_id)
		db_bind_int64(st, 5, user_id);
	db_bind_int64(st, 6, now);
	enum otd_status s = conn_step_done(tx, st, "moderate feedback", err);
	if(s == OTD_OK && conn_changes(tx) == 0)
		s = otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
		                  "There is no feedback %lld.", (long long)id);
	return s;
}

enum otd_status store_feedback_list(struct otd_conn *c, const char *state, int64_t after_id,
                                    int limit, struct otd_feedback **out, size_t *n, int64_t *next,
                                    struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	*next = 0;
	struct otd_stmt *st = conn_prepare(c,
	                                   "SELECT " FEEDBACK_COLUMNS FEEDBACK_FROM
	                                   "WHERE f.id > ?1 AND (?2 = '' OR f.moderation = ?2) "
	                                   "ORDER BY f.id LIMIT ?3",
	                                   err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, after_id);
	conn_bind_text(st, 2, state ? state : "");
	db_bind_int(st, 3, limit + 1);
	size_t cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(*n == (size_t)limit) {
			*next = (*out)[*n - 1].id;
			break;
		}
		if(*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		read_feedback(st, &(*out)[(*n)++]);
	}
	conn_done(st);
	if(rc != DB_ROW && rc != DB_DONE) {
		otd_feedback_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return conn_fail(c, rc, "list feedback", err);
	}
	return OTD_OK;
}
