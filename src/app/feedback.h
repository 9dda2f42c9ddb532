/* onthedot feedback use cases (issue 6): the customer's mark and comment
 * after a visit, given through their link, and its moderation by
 * dispatchers before anything is shown on /trust.
 *
 * The customer's words are kept as they gave them (evidence); the public
 * sees only published_comment, which a moderator sets when publishing (the
 * words as given) or redacting (the words with personal data or abuse
 * removed). Feedback whose author did not agree to publication can only be
 * withheld. Every moderation is in the audit log. */
#ifndef OTD_APP_FEEDBACK_H
#define OTD_APP_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "onthedot/trust.h"
#include "store/feedback.h"

/* What the customer's page shows about feedback on one appointment. */
struct otd_feedback_view {
	bool can_give;   /* the visit is done and nothing was given, or it is still pending */
	bool given;      /* fb holds what the customer gave */
	bool changeable; /* given and still pending moderation: may be replaced */
	char status[16]; /* the appointment's status (booked ... done, cancelled) */
	struct otd_feedback fb; /* when given; otd_feedback_view_cleanup frees it */
};

/* Frees v's feedback strings; v may be reused. */
void otd_feedback_view_cleanup(struct otd_feedback_view *v);

/* Records the customer's feedback on their visit (the appointment their
 * link reached: the caller resolved it with app_link_resolve).
 *   rating: 1 to 5, else OTD_EINVAL "bad_rating" naming "rating".
 *   comment: NULL or text of at most OTD_FEEDBACK_COMMENT_MAX characters
 *     (code points, after line ends are made "\n" and surrounding white
 *     space trimmed; newlines and tabs allowed, other control characters
 *     and invalid UTF-8 not): OTD_EINVAL naming "comment" otherwise. It is
 *     stored as text, never interpreted.
 *   publish_consent: the customer agrees that the comment (moderated) and
 *     mark may be shown on /trust.
 * Only once the visit is done: OTD_ESTATE (422) "feedback_not_yet" while
 * it is booked, under way or was cancelled or found no access (the
 * message says which). Once per appointment: while the feedback is still
 * pending moderation a new submission replaces it; after a moderator has
 * acted OTD_ECONFLICT (409) "feedback_given". OTD_ENOTFOUND when there is
 * no such appointment. An appointment event "feedback" (mark and consent,
 * not the words) is recorded in the same transaction.
 * out (may be NULL) receives the stored feedback (otd_feedback_cleanup),
 * *created (may be NULL) whether it is new (false: replaced). */
enum otd_status app_feedback_submit(struct otd_app *app, int64_t appointment_id, int rating,
                                    const char *comment, bool publish_consent,
                                    struct otd_feedback *out, bool *created, struct otd_error *err);

/* What the customer gave on appointment_id, and whether they can give or
 * change it now (for the customer's page; out is always filled on
 * OTD_OK: otd_feedback_view_cleanup it). OTD_ENOTFOUND when there is no
 * such appointment. */
enum otd_status app_feedback_get(struct otd_app *app, int64_t appointment_id,
                                 struct otd_feedback_view *out, struct otd_error *err);

/* The moderation queue for dispatchers: feedback in id order (oldest
 * first) after after_id, of moderation state ("pending", "published",
 * "redacted", "withheld"; NULL or "" for all: else OTD_EINVAL naming
 * "state"), at most limit; *next the last id when more follow, else 0.
 * *out is heap: otd_feedback_list_free(*out, *n). */
enum otd_status app_feedback_list(struct otd_app *app, const char *state, int64_t after_id,
                                  int limit, struct otd_feedback **out, size_t *n, int64_t *next,
                                  struct otd_error *err);

/* A dispatcher moderates feedback id:
 *   "publish": the public sees the customer's words as given;
 *   "redact": the public sees comment instead, the words with personal
 *     data or abuse removed (required, 1 to OTD_FEEDBACK_COMMENT_MAX
 *     characters, else OTD_EINVAL naming "comment");
 *   "withhold": nothing of it is shown; it is counted as withheld. A
 *     reason is required (OTD_EINVAL naming "reason").
 * comment is only for redact (OTD_EINVAL naming "comment" otherwise);
 * reason (at most 300 characters, one line) is kept with the feedback.
 * Publish and redact need the customer's consent: OTD_ESTATE (422)
 * "no_consent" otherwise. An unknown action is OTD_EINVAL naming
 * "action"; an unknown id OTD_ENOTFOUND. A decision may be revised (a
 * published one withheld, and so on); the customer's words are never
 * changed. Audited ("feedback.moderate", with the states before and
 * after), and the trust figures are recomputed on their next read.
 * out (may be NULL) receives the feedback after (otd_feedback_cleanup). */
enum otd_status app_feedback_moderate(struct otd_app *app, const struct otd_principal *actor,
                                      int64_t id, const char *action, const char *comment,
                                      const char *reason, struct otd_feedback *out,
                                      struct otd_error *err);

#endif
