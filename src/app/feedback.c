/* Customers' feedback and its moderation. */
#include "app/feedback.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/audit.h"
#include "app/trust.h"
#include "onthedot/clock.h"
#include "onthedot/mem.h"
#include "onthedot/validate.h"
#include "store/booking.h"
#include "store/catalog.h"
#include "store/store.h"

#define REASON_MAX 300

void otd_feedback_view_cleanup(struct otd_feedback_view *v)
{
	if(v)
		otd_feedback_cleanup(&v->fb);
}

/* A copy of s with every CRLF or lone CR made LF (a browser's textarea
 * sends CRLF, and each line end must count as one character) and white
 * space around it trimmed. NULL gives "". */
static char *text_normalise(const char *s)
{
	if(!s)
		return xstrdup("");
	size_t n = strlen(s);
	char *out = xmalloc(n + 1), *w = out;
	for(size_t i = 0; i < n; i++) {
		if(s[i] == '\r') {
			*w++ = '\n';
			if(i + 1 < n && s[i + 1] == '\n')
				i++;
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	char *start = out;
	while(*start == ' ' || *start == '\n' || *start == '\t')
		start++;
	char *end = start + strlen(start);
	while(end > start && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\t'))
		*--end = '\0';
	memmove(out, start, strlen(start) + 1);
	return out;
}

/* ---- the customer ------------------------------------------------------------ */

struct submit_job {
	int64_t appointment_id;
	int rating;
	const char *comment;
	bool consent;
	int64_t now;
	struct otd_feedback *out;
	bool created;
};

static enum otd_status not_yet(struct otd_error *err, const char *status)
{
	const char *why =
	    strcmp(status, "cancelled") == 0
	        ? "This visit was cancelled, so there is no visit to give feedback on."
	    : strcmp(status, "no_access") == 0
	        ? "Our visitor could not get in, so there is no visit to give feedback on yet; "
	          "please call us about it."
	        : "You can give feedback once the visit is done; we will send you a link then.";
	return otd_error_set(err, OTD_ESTATE, "feedback_not_yet", NULL, "%s", why);
}

static enum otd_status submit_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct submit_job *j = arg;
	struct otd_appointment a;
	enum otd_status st = store_appointment_get(tx, j->appointment_id, &a, err);
	if(st)
		return st;
	if(strcmp(a.status, "done") != 0)
		return not_yet(err, a.status);
	st = store_feedback_put(tx, j->appointment_id, j->rating, j->comment, j->consent, j->now,
	                        &j->created, err);
	if(st == OTD_OK) {
		/* The mark and consent only: the words stay in the feedback row. */
		char detail[96];
		snprintf(detail, sizeof(detail),
		         "{\"rating\":%d,\"publish_consent\":%s,\"changed\":%s}", j->rating,
		         j->consent ? "true" : "false", j->created ? "false" : "true");
		st = store_appointment_event(tx, j->appointment_id, "feedback", j->now, "customer",
		                             0, detail, err);
	}
	if(st == OTD_OK && j->out) {
		bool found = false;
		st = store_feedback_of_appointment(tx, j->appointment_id, j->out, &found, err);
		if(st == OTD_OK && !found)
			st = otd_error_set(err, OTD_EINTERNAL, "internal", NULL,
			                   "The feedback just stored cannot be read back.");
	}
	return st;
}

enum otd_status app_feedback_submit(struct otd_app *app, int64_t appointment_id, int rating,
                                    const char *comment, bool publish_consent,
                                    struct otd_feedback *out, bool *created, struct otd_error *err)
{
	if(out)
		memset(out, 0, sizeof(*out));
	if(created)
		*created = false;
	if(rating < 1 || rating > 5)
		return otd_error_set(err, OTD_EINVAL, "bad_rating", "rating",
		                     "Give a mark from 1 (poor) to 5 (excellent).");
	char *text = text_normalise(comment);
	enum otd_status st =
	    otd_text_validate(text, 0, OTD_FEEDBACK_COMMENT_MAX, true, "comment", err);
	if(st == OTD_OK) {
		struct submit_job j = {.appointment_id = appointment_id,
		                       .rating = rating,
		                       .comment = text,
		                       .consent = publish_consent,
		                       .now = otd_clock_now(app->clock),
		                       .out = out};
		st = store_write(app->store, submit_write, &j, err);
		if(st == OTD_OK && created)
			*created = j.created;
		if(st && out)
			otd_feedback_cleanup(out);
	}
	free(text);
	return st;
}

struct get_job {
	int64_t appointment_id;
	struct otd_feedback_view *out;
};

static enum otd_status get_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct get_job *j = arg;
	struct otd_appointment a;
	enum otd_status st = store_appointment_get(c, j->appointment_id, &a, err);
	if(st)
		return st;
	snprintf(j->out->status, sizeof(j->out->status), "%s", a.status);
	st = store_feedback_of_appointment(c, j->appointment_id, &j->out->fb, &j->out->given, err);
	if(st)
		return st;
	bool done = strcmp(a.status, "done") == 0;
	j->out->changeable = j->out->given && strcmp(j->out->fb.moderation, "pending") == 0;
	j->out->can_give = done && (!j->out->given || j->out->changeable);
	return OTD_OK;
}

enum otd_status app_feedback_get(struct otd_app *app, int64_t appointment_id,
                                 struct otd_feedback_view *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct get_job j = {.appointment_id = appointment_id, .out = out};
	enum otd_status st = store_read(app->store, get_read, &j, err);
	if(st)
		otd_feedback_view_cleanup(out);
	return st;
}

/* ---- moderation ----------------------------------------------------------------- */

static bool state_known(const char *s)
{
	return strcmp(s, "pending") == 0 || strcmp(s, "published") == 0 ||
	       strcmp(s, "redacted") == 0 || strcmp(s, "withheld") == 0;
}

struct list_job {
	const char *state;
	int64_t after;
	int limit;
	struct otd_feedback *out;
	size_t n;
	int64_t next;
};

static enum otd_status list_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct list_job *j = arg;
	return store_feedback_list(c, j->state, j->after, j->limit, &j->out, &j->n, &j->next, err);
}

enum otd_status app_feedback_list(struct otd_app *app, const char *state, int64_t after_id,
                                  int limit, struct otd_feedback **out, size_t *n, int64_t *next,
                                  struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	*next = 0;
	if(state && state[0] && !state_known(state))
		return otd_error_set(err, OTD_EINVAL, "bad_state", "state",
		                     "The state is pending, published, redacted or withheld.");
	if(limit < 1)
		limit = 1;
	struct list_job j = {.state = state, .after = after_id, .limit = limit};
	enum otd_status st = store_read(app->store, list_read, &j, err);
	*out = j.out;
	*n = j.n;
	*next = j.next;
	return st;
}

struct moderate_job {
	const struct otd_principal *actor;
	int64_t id;
	const char *action, *moderation, *comment, *reason;
	int64_t now;
	struct otd_feedback *out;
};

static enum otd_status moderate_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct moderate_job *j = arg;
	struct otd_feedback f;
	enum otd_status st = store_feedback_get(tx, j->id, &f, err);
	if(st)
		return st;
	bool publishes = strcmp(j->moderation, "withheld") != 0;
	if(publishes && !f.publish_consent) {
		otd_feedback_cleanup(&f);
		return otd_error_set(err, OTD_ESTATE, "no_consent", "action",
		                     "The customer did not agree to publish their feedback, so it "
		                     "cannot be published or redacted; it can only be withheld.");
	}
	const char *shown = NULL;
	if(strcmp(j->moderation, "published") == 0)
		shown = f.comment;
	else if(strcmp(j->moderation, "redacted") == 0)
		shown = j->comment;
	st = store_feedback_moderate(tx, j->id, j->moderation, shown, j->reason,
	                             j->actor ? j->actor->user_id : 0, j->now, err);
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "feedback.moderate", "feedback", j->id,
		               json_pack("{s:s,s:s,s:s,s:I}", "action", j->action, "from",
		                         f.moderation, "to", j->moderation, "appointment_id",
		                         (json_int_t)f.appointment_id),
		               err);
	otd_feedback_cleanup(&f);
	if(st == OTD_OK && j->out)
		st = store_feedback_get(tx, j->id, j->out, err);
	return st;
}

enum otd_status app_feedback_moderate(struct otd_app *app, const struct otd_principal *actor,
                                      int64_t id, const char *action, const char *comment,
                                      const char *reason, struct otd_feedback *out,
                                      struct otd_error *err)
{
	if(out)
		memset(out, 0, sizeof(*out));
	const char *moderation = NULL;
	if(action && strcmp(action, "publish") == 0)
		moderation = "published";
	else if(action && strcmp(action, "redact") == 0)
		moderation = "redacted";
	else if(action && strcmp(action, "withhold") == 0)
		moderation = "withheld";
	else
		return otd_error_set(err, OTD_EINVAL, "bad_action", "action",
		                     "The action is publish, redact or withhold.");
	bool redact = strcmp(moderation, "redacted") == 0;
	if(comment && !redact)
		return otd_error_set(err, OTD_EINVAL, "unexpected_field", "comment",
		                     "A comment is given only to redact: it is the text the public "
		                     "sees instead of the customer's.");
	enum otd_status st = OTD_OK;
	if(reason)
		st = otd_text_validate(reason, 0, REASON_MAX, false, "reason", err);
	if(st == OTD_OK && strcmp(moderation, "withheld") == 0 && (!reason || !reason[0]))
		st = otd_error_set(err, OTD_EINVAL, "missing_field", "reason",
		                   "Say why the feedback is withheld: the reason is kept with it.");
	if(st)
		return st;
	char *text = NULL;
	if(redact) {
		text = text_normalise(comment);
		if(!text[0])
			st = otd_error_set(
			    err, OTD_EINVAL, "missing_field", "comment",
			    "To redact, give the text the public sees: the customer's "
			    "words with personal data or abuse removed.");
		else
			st = otd_text_validate(text, 1, OTD_FEEDBACK_COMMENT_MAX, true, "comment",
			                       err);
	}
	if(st == OTD_OK) {
		struct moderate_job j = {.actor = actor,
		                         .id = id,
		                         .action = action,
		                         .moderation = moderation,
		                         .comment = text,
		                         .reason = reason && reason[0] ? reason : NULL,
		                         .now = otd_clock_now(app->clock),
		                         .out = out};
		st = store_write(app->store, moderate_write, &j, err);
		if(st == OTD_OK)
			app_trust_invalidate(app);
		else if(out)
			otd_feedback_cleanup(out);
	}
	free(text);
	return st;
}
