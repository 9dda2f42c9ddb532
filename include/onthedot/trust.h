/* onthedot: the public trust figures (DESIGN.md, journey 6), pure.
 *
 * The figures /trust and GET /api/v1/trust show, for the last 30 and the
 * last 90 days, and the arithmetic on them. The store counts; this module
 * holds the record, the definitions and the sums, medians and percentages,
 * so the rounding is decided once. No personal data is in the record: no
 * names, references, addresses or contact details.
 *
 * Definitions. A period is [from, to) with to = now and from = now - days
 * x 86400 (UTC seconds; not local dates, so 30 days is always 720 hours).
 *
 *  - A promise is an appointment's window as it finally stood (a window
 *    moved by a reschedule counts once, as the window it was moved to).
 *    It is DUE in a period when its window ended in the period
 *    (from <= window_end < to) and the customer did not cancel it.
 *    Cancelled by the organisation counts as due and not kept.
 *  - It is KEPT when the visitor arrived before the window ended:
 *    arrived_at < window_end (DESIGN.md: an early arrival counts as kept,
 *    and is counted as EARLY too: arrived_at < window_start). For a visit
 *    that ended in "no access" the arrival is the time of the visitor's
 *    no_access report (they were at the door). Anything else whose window
 *    ended (never came, still travelling, cancelled by us) is not kept.
 *  - The WIDTH of a window is (window_end - window_start) / 60 minutes;
 *    promises are counted by width and overall.
 *  - NOTICE before a delay: for each appointment whose first message about
 *    a delay (an apology, an update, or "cannot attend", not cancelled in
 *    the outbox) was queued in the period, while its window had not yet
 *    ended: the minutes from that message being queued to the start of the
 *    window it was about, floor((window_start - queued_at) / 60); negative
 *    when the customer was told after the window had opened. The window
 *    is the one in force when the message was queued (a later reschedule,
 *    such as taking a held replacement window, does not change it). A
 *    customer who agreed to no channel gets no message (the dispatcher
 *    phones them) and is not counted.
 *  - COMPENSATION PAID: guarantee cases marked paid in the period (paid_at
 *    in [from, to)): their number and the sum paid, late penalties
 *    included, in minor units (pence).
 *  - FEEDBACK: the marks customers gave in the period (created_at in
 *    [from, to)): good is 4 or 5, neutral 3, bad 1 or 2; of those, how many
 *    are published (as given or redacted), withheld by a moderator, or
 *    still pending (including those whose authors did not agree to
 *    publication: their mark counts, their words are never shown).
 *
 * Percentages are rounded down (floor), so 100% means every promise was
 * kept, and are -1 when nothing was due. */
#ifndef ONTHEDOT_TRUST_H
#define ONTHEDOT_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTD_FEEDBACK_COMMENT_MAX 2000 /* characters (code points) of a comment */
#define OTD_FEEDBACK_COMMENT_BYTES (4 * OTD_FEEDBACK_COMMENT_MAX + 1) /* UTF-8, NUL */
#define OTD_TRUST_WIDTHS_MAX 12 /* window widths listed per period */
#define OTD_TRUST_LATEST_MAX 10 /* published comments in the record */
#define OTD_TRUST_VISIT_TYPE_BYTES 201

/* Promises due and kept (of one window width, or overall). */
struct otd_trust_kept {
	int width_min; /* window width in minutes; 0 in the overall row */
	int64_t due;
	int64_t kept;  /* of due */
	int64_t early; /* of kept: arrived before the window opened */
	int percent;   /* otd_trust_percent(kept, due): floor, -1 when none due */
};

/* The figures of one period. */
struct otd_trust_period {
	int days;         /* 30 or 90 */
	int64_t from, to; /* [from, to), UTC seconds */
	struct otd_trust_kept overall;
	struct otd_trust_kept widths[OTD_TRUST_WIDTHS_MAX]; /* by width, narrowest first */
	size_t n_widths;
	bool widths_truncated; /* more widths than fit: some count in overall only */

	int64_t delays;            /* appointments told of a delay (NOTICE above) */
	int64_t told_before_start; /* of which before their window opened */
	bool has_median;           /* delays > 0 */
	int64_t median_notice_min; /* otd_trust_median of the notices, minutes */

	int64_t paid_cases; /* compensation paid in the period */
	int64_t paid_minor; /* sum paid, penalties included, minor units */
	char currency[4];   /* of the cases paid; "" when none */

	int64_t feedback; /* marks given in the period */
	int64_t good, neutral, bad;
	int64_t published, published_good, published_bad;
	int64_t withheld, pending;
};

/* A published comment, as the public sees it. */
struct otd_trust_comment {
	int rating;
	bool redacted;    /* a moderator removed personal data or abuse */
	int64_t given_at; /* when it was given, UTC seconds */
	char date[11];    /* the local date it was given, YYYY-MM-DD */
	char visit_type[OTD_TRUST_VISIT_TYPE_BYTES]; /* its name */
	char comment[OTD_FEEDBACK_COMMENT_BYTES];    /* the moderated text; may be "" */
};

/* Everything /trust shows. About 82 KB: callers keep it on the heap or in
 * a thread with an ordinary stack (request threads have 8 MB). */
struct otd_trust_stats {
	int64_t computed_at;                                   /* the "now" the figures are as of */
	struct otd_trust_period periods[2];                    /* [0]: last 30 days, [1]: last 90 */
	struct otd_trust_comment latest[OTD_TRUST_LATEST_MAX]; /* newest first */
	size_t n_latest;
};

/* The percentage of part in whole rounded down (0..100); -1 when whole is
 * 0 (nothing to measure). part is clamped to [0, whole]. */
int otd_trust_percent(int64_t part, int64_t whole);

/* The median of v[0..n) (sorted in place): the middle value, or for an
 * even n the mean of the two middle values rounded down (towards minus
 * infinity, so a median of notice is never overstated). false, *out
 * untouched, when n is 0. */
bool otd_trust_median(int64_t *v, size_t n, int64_t *out);

/* The notice, in whole minutes rounded down, of a message queued at
 * told_at about a window starting at window_start; negative when the
 * window had already opened. */
int64_t otd_trust_notice_minutes(int64_t window_start, int64_t told_at);

/* Empties p for the days before now: [now - days x 86400, now), nothing
 * counted, percentages -1. */
void otd_trust_period_init(struct otd_trust_period *p, int days, int64_t now);

/* Adds a count of promises of one width to p: into p->overall always, and
 * into p->widths (kept sorted by width, a width seen before is summed)
 * while there is room; a new width finding the list full counts in
 * overall only and sets widths_truncated (the store adds widths
 * narrowest first, so those are the widest). Percentages are brought up
 * to date. width_min <= 0 counts in overall only. */
void otd_trust_add_kept(struct otd_trust_period *p, int width_min, int64_t due, int64_t kept,
                        int64_t early);

/* The kept row for width_min in p, or NULL when none was due. */
const struct otd_trust_kept *otd_trust_width(const struct otd_trust_period *p, int width_min);

#endif
