/* onthedot simulator: one run of a scenario under a policy and a window
 * width, and the report over several (DESIGN.md, "onthedot simulate").
 *
 * A run builds a throw-away database in a temporary folder (WAL,
 * synchronous=OFF), opens the application on it with a virtual clock, and
 * drives the same use cases the server does, in process:
 *   - the area, the visitors and the visit types through the imports;
 *   - customers booking over the booking days before the first simulated
 *     day through the slot offer, holds and booking, choosing among the
 *     windows offered by a simple preference (the window nearest the time
 *     of day they would like, or the first one), some cancelling and some
 *     moving their visit before the day;
 *   - the day: the visitors played by src/sim/player.c as reality says,
 *     the ticker's pass every scenario tick (expired holds, risk,
 *     auto-rebalance when the policy has it, reminders), and customers who
 *     are told their window is at risk taking a held window now and then.
 * Messages go to the recording channel. Everything random comes from
 * streams derived from the seed, customer by customer and visitor by
 * visitor, so two runs with the same seed give the same report, and the
 * policies face the same customers and the same reality.
 *
 * Policies:
 *   baseline  how field service is usually run: arrivals planned at the
 *             median (quantile 0.5), windows on a fixed grid (the step is
 *             the width: 240 minutes give AM 08-12 and PM 12-16), no
 *             proactive messages, no rebalancing;
 *   onthedot  arrivals planned at the 0.8 quantile, windows on a
 *             30-minute grid, an apology with held windows as soon as a
 *             window is at risk (and updates), auto-rebalance. */
#ifndef OTD_SIM_ENGINE_H
#define OTD_SIM_ENGINE_H

#include <jansson.h>
#include <stdint.h>

#include "app/config.h"
#include "sim/scenario.h"

enum sim_policy { SIM_BASELINE, SIM_ONTHEDOT };

/* "baseline" / "onthedot", and back (false for another name). */
const char *sim_policy_name(enum sim_policy p);
bool sim_policy_parse(const char *s, enum sim_policy *out);

struct sim_run_options {
	const struct sim_scenario *scenario;
	const struct otd_config *base; /* defaults the run overrides (not changed) */
	uint64_t seed;
	int days; /* simulated days, 1..14 */
	enum sim_policy policy;
	int width_minutes;   /* 30, 60, 120 or 240 (any of 15..480 works) */
	double quantile;     /* onthedot's planning quantile, 0.5..0.99; 0: 0.8 */
	const char *tmp_dir; /* where the throw-away folder goes; NULL: $TMPDIR or /tmp */
	const char *keep_db; /* not NULL: copy the database here at the end (tests) */
};

/* Runs one simulation. *run receives the run's object of report.json
 * (see the lead's contract in sim/report.h), *timing its wall-clock
 * figures (seconds by phase), both new references. The temporary folder
 * is removed whatever happens. Fails with err naming what went wrong: a
 * use case refusing what a customer or visitor could always do is a bug
 * and stops the run (OTD_EINTERNAL), never silently skipped. */
enum otd_status sim_run(const struct sim_run_options *o, json_t **run, json_t **timing,
                        struct otd_error *err);

/* The "scenario" and "definitions" members of report.json. */
json_t *sim_report_head(const struct sim_scenario *s, uint64_t seed, int days);

#endif
