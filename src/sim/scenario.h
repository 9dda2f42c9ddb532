/* onthedot simulator: a scenario file (contrib/scenarios/NAME.json).
 *
 * A scenario describes an organisation and its days: the area (a
 * generated gazetteer around a centre), the visitors, the visit types and
 * their mix, how customers book, and how reality differs from the
 * planner's model (include/onthedot/reality.h). The policies and window
 * widths compared are the simulator's, not the scenario's. Loading checks
 * every value and names the first bad one by its JSON path
 * ("visitors[1].shift_start"), with the file's name; nothing is guessed. */
#ifndef OTD_SIM_SCENARIO_H
#define OTD_SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "onthedot/reality.h"
#include "onthedot/status.h"

#define SIM_GROUPS_MAX 16
#define SIM_TYPES_MAX 16
#define SIM_VISITORS_MAX 500
#define SIM_ADDRESSES_MAX 50000
#define SIM_SCENARIO_MAX_BYTES (1 << 20)

/* Visitors alike: count of them, with these skills and this shift. */
struct sim_visitor_group {
	int count;            /* 1..SIM_VISITORS_MAX (all groups together too) */
	char role_title[101]; /* "Gas engineer" */
	char skills[201];     /* space-separated skill codes, each [a-z0-9-]{1,40}
	                       * (in the file: an array of strings) */
	char shift_start[6];  /* "HH:MM" local */
	int shift_minutes;    /* 60..1440 */
	char days[64];        /* BYDAY list: "MO,TU,WE,TH,FR" */
};

/* A visit type and its share of the requests. */
struct sim_visit_type {
	char code[65]; /* [a-z0-9-]{1,64} */
	char name[201];
	char skill[41];              /* one skill some group has */
	int duration_median_minutes; /* 5..480 */
	double duration_spread;      /* 0..2: the planner's log-normal sigma */
	double share;                /* > 0; shares are normalised */
};

struct sim_scenario {
	char name[121]; /* "Utility region" */
	char description[1001];
	char timezone[65];  /* IANA zone, "Europe/London" */
	char first_day[11]; /* local date of the first simulated day */
	int booking_days;   /* customers book over this many days before it, 1..30 */
	int history_days;   /* working days played before it so the service learns
	                     * durations and travel from them, as it would in use;
	                     * left out of the figures, 0..7 */

	/* The area: addresses spread over a disc around the centre, along
	 * short streets, in postcode districts named postcode_area + 1..9. */
	double centre_lat, centre_lon;
	double radius_km; /* 0.5..100 */
	int addresses;    /* 10..SIM_ADDRESSES_MAX */
	char town[101];
	char postcode_area[3]; /* one or two capital letters */

	struct sim_visitor_group groups[SIM_GROUPS_MAX];
	size_t n_groups; /* >= 1 */
	struct sim_visit_type types[SIM_TYPES_MAX];
	size_t n_types; /* >= 1 */

	/* The planner's settings (planning.* in the configuration). */
	double speed_kmh;    /* 5..130 */
	double road_factor;  /* 1..3 */
	char break_start[6]; /* "HH:MM", "" with break_minutes 0 */
	char break_end[6];
	int break_minutes; /* 0..120 */
	char rule_set[33]; /* guarantee rule set ("gb-energy"), "" for none */

	/* Demand. */
	int requests_per_day;       /* customers asking for a visit on each simulated day */
	double cancel_share;        /* of bookings, cancelled by the customer before the day */
	double reschedule_share;    /* of bookings, moved by the customer before the day */
	double sms_consent_share;   /* customers who agree to text messages */
	double email_consent_share; /* ... to email (at least one is always given) */
	double accept_offer_share;  /* told their window is at risk, take a held window */

	/* Reality, and who falls ill. */
	struct otd_reality reality;
	int sick_visitors; /* visitors off sick each simulated day, 0..count */
	char sick_from[6]; /* "HH:MM" local: when they report it */

	int tick_minutes; /* a risk pass this often on the day, 1..60 */
};

/* Parses a scenario from text (len bytes, name for messages: the file's
 * base name, never a path the report would leak; NULL or "" for none).
 * Defaults for members the file leaves out are those of
 * contrib/scenarios/README.md. Unknown and duplicate members are errors.
 * OTD_EINVAL with field the JSON path ("visitors[1].shift_start", "" for
 * JSON that does not parse) and a message "NAME: PATH: what is wrong and
 * what is allowed" (for bad JSON, the line and column); OTD_ETOOBIG beyond
 * SIM_SCENARIO_MAX_BYTES. On failure *out holds the defaults only. The
 * time zone is checked by loading it through libical (app/tzload.h):
 * NOT thread-safe, call before starting threads. */
enum otd_status sim_scenario_parse(const char *text, size_t len, const char *name,
                                   struct sim_scenario *out, struct otd_error *err);

/* Reads and parses the file at path (OTD_ENOTFOUND / OTD_EIO naming it
 * when it cannot be read). */
enum otd_status sim_scenario_load(const char *path, struct sim_scenario *out,
                                  struct otd_error *err);

/* Visitors in all groups. */
int sim_scenario_visitors(const struct sim_scenario *s);

#endif
