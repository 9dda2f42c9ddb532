/* onthedot store: customers' feedback on a visit and its moderation. One
 * row per appointment; the customer's words (comment) are never changed
 * by a moderator, the public sees published_comment. Functions taking tx
 * must run in a write job. */
#ifndef OTD_STORE_FEEDBACK_H
#define OTD_STORE_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"

struct otd_conn;

/* A feedback row with what a moderator needs to place it. The strings
 * are heap copies owned by the record: otd_feedback_cleanup frees them. */
struct otd_feedback {
	int64_t id;
	int64_t appointment_id;
	char reference[11];   /* the appointment's */
	char visit_type[201]; /* its visit type's name */
	char visit_date[11];  /* its local date */
	int rating;           /* 1..5 */
	char *comment;        /* as the customer wrote it; "" when none */
	bool publish_consent;
	char moderation[12];     /* pending, published, redacted, withheld */
	char *published_comment; /* what the public sees; NULL unless published or redacted */
	char *moderation_reason; /* the moderator's; NULL when none */
	int64_t created_at;
	int64_t updated_at;   /* the customer's last change */
	int64_t moderated_at; /* 0: never */
	int64_t moderated_by; /* user id; 0: none or not a user */
};

/* Frees f's strings and zeroes it; NULL is ignored. */
void otd_feedback_cleanup(struct otd_feedback *f);

/* Frees n records of a list and the list. */
void otd_feedback_list_free(struct otd_feedback *list, size_t n);

/* The feedback on an appointment; *found false (out zeroed) when none. */
enum otd_status store_feedback_of_appointment(struct otd_conn *c, int64_t appointment_id,
                                              struct otd_feedback *out, bool *found,
                                              struct otd_error *err);

/* One feedback row by id; OTD_ENOTFOUND ("not_found") when none. */
enum otd_status store_feedback_get(struct otd_conn *c, int64_t id, struct otd_feedback *out,
                                   struct otd_error *err);

/* Records the customer's feedback on an appointment: a new row, or, when
 * one is pending moderation, its rating, comment and consent replaced
 * (updated_at = now). *created says which. OTD_ECONFLICT
 * ("feedback_given") when the row exists and was moderated already. The
 * caller has checked the values. */
enum otd_status store_feedback_put(struct otd_conn *tx, int64_t appointment_id, int rating,
                                   const char *comment, bool publish_consent, int64_t now,
                                   bool *created, struct otd_error *err);

/* Sets the moderation of row id: moderation "published", "redacted" (both
 * with published_comment) or "withheld" (published_comment NULL), with
 * reason (may be NULL), the moderator's user id (0: not a user) and now.
 * OTD_ENOTFOUND when there is no such row. */
enum otd_status store_feedback_moderate(struct otd_conn *tx, int64_t id, const char *moderation,
                                        const char *published_comment, const char *reason,
                                        int64_t user_id, int64_t now, struct otd_error *err);

/* Feedback rows in id order (oldest first) after after_id, of moderation
 * state (NULL or "": any), at most limit; *next the last id when more
 * follow, else 0. *out is heap (otd_feedback_list_free). */
enum otd_status store_feedback_list(struct otd_conn *c, const char *state, int64_t after_id,
                                    int limit, struct otd_feedback **out, size_t *n, int64_t *next,
                                    struct otd_error *err);

#endif
