/* onthedot: guarantee rule sets and the arithmetic of a broken promise, pure.
 *
 * DESIGN.md (Core algorithms, Guarantees): what a customer is owed when we
 * do not keep a window, or move it with too little notice and without
 * their consent, comes from a rule set kept as data: a JSON file in
 * contrib/guarantees (the presets gb-energy, england-water, uk-telecoms and
 * the example custom, embedded in the binary as otd_guarantees[]) or an
 * organisation's own copy. A rule set holds versions with effective-from
 * dates; a case keeps the version and amount in force at the breach.
 * contrib/guarantees/README.md documents the file format.
 *
 * Dates are local dates in the organisation's zone (onthedot/tz.h);
 * instants are int64 UTC seconds. A working day is Monday to Friday and not
 * a bank holiday; bank holidays come in as a sorted array of "YYYY-MM-DD"
 * strings (onthedot/holidays.h gives them as struct otd_holiday.date).
 * Whether the customer consented to a change, and exemptions, are the
 * caller's to decide: these functions only measure. Everything here is
 * thread-safe: no function keeps state. */
#ifndef ONTHEDOT_GUARANTEE_H
#define ONTHEDOT_GUARANTEE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/asset.h"
#include "onthedot/status.h"
#include "onthedot/tz.h"

#define OTD_RULE_SET_MAX_BYTES ((size_t)64 << 10) /* a rule set file */
#define OTD_RULE_NAME_MAX 63                      /* bytes of name */
#define OTD_RULE_TITLE_MAX 200                    /* bytes of title */
#define OTD_RULE_NOTES_MAX 16384                  /* bytes of notes, joined */
#define OTD_RULE_VERSIONS_MAX 64                  /* versions in one set */
#define OTD_RULE_VERSION_MAX 31                   /* bytes of a version label */
#define OTD_RULE_REGULATION_MAX 400               /* bytes of a citation */
#define OTD_RULE_AMOUNT_MAX INT64_C(100000000000) /* any amount, minor units */
#define OTD_RULE_HOURS_MAX 8760                   /* notice in hours: a year */
#define OTD_RULE_WORKING_DAYS_MAX 260             /* notice in working days: a year */
#define OTD_RULE_PAY_DAYS_MAX 366                 /* pay_within, either kind */

/* Bytes otd_money_text needs for any int64 amount and currency, NUL included. */
#define OTD_MONEY_TEXT_SIZE 32

enum otd_notice_kind {
	OTD_NOTICE_NONE,         /* "none": any notice will do */
	OTD_NOTICE_HOURS,        /* "hours": clock hours before the window starts */
	OTD_NOTICE_WORKING_DAYS, /* "working_days": see otd_notice_enough */
};

enum otd_pay_kind {
	OTD_PAY_DAYS,         /* "days": calendar days after the breach's day */
	OTD_PAY_WORKING_DAYS, /* "working_days": working days after it */
};

enum otd_late_kind {
	OTD_LATE_NONE,       /* "none": nothing more when paid late */
	OTD_LATE_SAME_AGAIN, /* "same_again": the amount once more */
	OTD_LATE_FIXED,      /* "fixed": late_penalty.amount_minor more */
};

/* One version of a rule set, as the JSON gives it. Plain data: copy it by
 * value (a case keeps its own copy). Amounts are minor units (pence). */
struct otd_rule_version {
	char version[OTD_RULE_VERSION_MAX + 1];       /* label, unique in the set */
	char effective_from[11];                      /* "YYYY-MM-DD", a local date */
	char regulation[OTD_RULE_REGULATION_MAX + 1]; /* what it cites */
	char currency[4];                             /* ISO 4217, "GBP" */
	int64_t missed_minor;                         /* window not kept */
	int64_t short_notice_minor; /* our change with too little notice; 0 = none */
	struct {
		enum otd_notice_kind kind;
		int amount;     /* hours or working days; 0 with OTD_NOTICE_NONE */
		bool more_than; /* amount is exceeded, not merely reached */
	} notice;
	struct {
		enum otd_pay_kind kind;
		int amount; /* 1 .. OTD_RULE_PAY_DAYS_MAX */
	} pay_within;
	struct {
		enum otd_late_kind kind;
		int64_t amount_minor; /* OTD_LATE_FIXED only; 0 otherwise */
	} late_penalty;
};

/* A rule set. Embedded in another struct: otd_rule_set_parse fills it,
 * otd_rule_set_cleanup frees what it owns. */
struct otd_rule_set {
	char name[OTD_RULE_NAME_MAX + 1];   /* [a-z0-9-], "gb-energy" */
	char title[OTD_RULE_TITLE_MAX + 1]; /* for people */
	char *notes; /* owned; "" when the file has none; never NULL after parse */
	struct otd_rule_version *versions; /* owned; effective_from strictly increasing */
	size_t n_versions;                 /* 1 .. OTD_RULE_VERSIONS_MAX */
};

/* The presets, contrib/guarantees/NAME.json, sorted by file name and
 * embedded at build time (asset names "gb-energy.json", ...). */
extern const struct otd_asset otd_guarantees[];
extern const size_t otd_guarantees_count;

/* Parses the rule set file json[0..len) (UTF-8 JSON, the format of
 * contrib/guarantees/README.md) into *out; file_name is only used in
 * messages. Strict: a duplicate key, an unknown key, a missing field, a
 * wrong type, a negative or out-of-range amount, a bad date, a repeated
 * version label, or versions whose effective_from dates do not strictly
 * increase are refused with OTD_EINVAL, err code "bad_rule_set", err field
 * the JSON path ("versions[1].pay_within.kind"; "" for a JSON syntax error)
 * and a message naming file and path: "gb-energy.json:
 * versions[1].pay_within.kind must be \"days\" or \"working_days\"". More
 * than OTD_RULE_SET_MAX_BYTES is OTD_ETOOBIG "rule_set_too_big". On success
 * the caller owns *out and calls otd_rule_set_cleanup; on failure *out is
 * left zeroed (cleanup is harmless). */
enum otd_status otd_rule_set_parse(const char *file_name, const char *json, size_t len,
                                   struct otd_rule_set *out, struct otd_error *err);

/* Parses the embedded preset NAME.json ("gb-energy", "england-water",
 * "uk-telecoms", "custom") into *out as otd_rule_set_parse does. An
 * unknown name is OTD_ENOTFOUND "unknown_rule_set", field "name", with a
 * message listing the known names. */
enum otd_status otd_rule_set_builtin(const char *name, struct otd_rule_set *out,
                                     struct otd_error *err);

/* Frees what *s owns and zeroes it; a zeroed or already cleaned set is
 * fine. Pointers into s->versions die with it. */
void otd_rule_set_cleanup(struct otd_rule_set *s);

/* The version in force at instant t: the one whose effective_from is the
 * latest local date on or before t's local date in tz (so a version takes
 * effect at local midnight). NULL when t's date is before the first
 * version. The pointer is into s->versions. */
const struct otd_rule_version *otd_rule_in_force(const struct otd_rule_set *s,
                                                 const struct otd_tz *tz, int64_t t);

/* True when date ("YYYY-MM-DD") is a working day: Monday to Friday and not
 * in holidays[0..n_holidays) (sorted ascending, "YYYY-MM-DD" each; binary
 * search). A date that is not a real date is not a working day. */
bool otd_is_working_day(const char date[11], const char (*holidays)[11], size_t n_holidays);

/* The instant that ends the days-th working day after t's local day in tz
 * (t's own day never counts, whatever the time): the local midnight that
 * starts the next calendar day (otd_tz_day_start). days 0 gives the end of
 * t's own day. A breach on Friday 27 March 2026 with 3 and 6 April as bank
 * holidays, 10 working days: the end of Tuesday 14 April. days must be
 * 0 .. OTD_RULE_PAY_DAYS_MAX and holidays sorted as for otd_is_working_day. */
int64_t otd_working_days_after(const struct otd_tz *tz, const char (*holidays)[11], size_t n,
                               int64_t t, int days);

/* Whether telling the customer at told_at of a change to a window that
 * starts at window_start was notice enough under v:
 *
 *   hours:        window_start - told_at >= amount * 3600 seconds
 *                 (> with more_than); clock seconds, whatever the clocks do.
 *   working_days: let k be the number of working days strictly between
 *                 told_at's local day and window_start's local day (both
 *                 ends excluded; the time of day does not matter). Enough
 *                 when k >= amount, or k > amount with more_than. So with
 *                 amount 1 and more_than (GB energy, "more than one working
 *                 day"): told on a Wednesday for a Monday window, k = 2
 *                 (Thursday, Friday), enough; told on a Thursday, k = 1, not
 *                 enough; Friday for Monday, or the same day, k = 0.
 *   none:         always true.
 *
 * told_at at or after window_start is never enough (except with none).
 * Consent is the caller's: with it, notice does not matter. */
bool otd_notice_enough(const struct otd_rule_version *v, const struct otd_tz *tz,
                       const char (*holidays)[11], size_t n, int64_t told_at, int64_t window_start);

/* The notice clock: the last instant at which telling the customer of a
 * change to a window starting at window_start is still notice enough
 * under v (otd_notice_enough holds at it and fails one second later):
 * with hours, window_start - amount hours (one second less with
 * more_than); with working days, the last second of the latest local day
 * with enough working days before the window's day. 0 with "none" (any
 * notice will do). */
int64_t otd_notice_deadline(const struct otd_rule_version *v, const struct otd_tz *tz,
                            const char (*holidays)[11], size_t n, int64_t window_start);

/* The payment deadline for a breach at breached_at: with pay_within
 * "days", the local midnight ending the amount-th calendar day after the
 * breach's local day; with "working_days", otd_working_days_after. A
 * payment at or before the returned instant is in time (see
 * otd_amount_owed). */
int64_t otd_payment_deadline(const struct otd_rule_version *v, const struct otd_tz *tz,
                             const char (*holidays)[11], size_t n, int64_t breached_at);

/* What the case owes in minor units: amount_minor (the amount in force at
 * the breach), plus v's late penalty when paid_at > deadline (same_again:
 * amount_minor again; fixed: late_penalty.amount_minor; none: nothing).
 * paid_at 0 means not paid yet and counts no penalty. */
int64_t otd_amount_owed(const struct otd_rule_version *v, int64_t amount_minor, int64_t deadline,
                        int64_t paid_at);

/* Writes minor units of currency as text: "£40.00" for GBP, "€12.50" for
 * EUR, "USD 3.10" for any other code (always two decimals), "-£5.00" when
 * negative. OTD_MONEY_TEXT_SIZE bytes always suffice; when n is too small
 * writes "" (if n > 0). */
void otd_money_text(const char currency[4], int64_t minor, char *out, size_t n);

#endif
