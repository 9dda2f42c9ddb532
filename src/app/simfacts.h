/* onthedot: what the day simulator (src/sim) reads back from a run, as a
 * use case so the simulator, like the command line, calls only the app
 * layer. See store/sim.h for the rows. */
#ifndef OTD_APP_SIMFACTS_H
#define OTD_APP_SIMFACTS_H

#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "store/sim.h"

struct otd_sim_facts {
	struct otd_sim_appt *appts;
	size_t n_appts;
	struct otd_sim_event *events;
	size_t n_events;
	struct otd_sim_message *messages;
	size_t n_messages;
	struct otd_sim_case *cases;
	size_t n_cases;
};

void otd_sim_facts_cleanup(struct otd_sim_facts *f);

/* Every appointment, promise event, message and guarantee case, read in
 * one snapshot. */
enum otd_status app_sim_facts(struct otd_app *app, struct otd_sim_facts *out,
                              struct otd_error *err);

/* The messages about appointments queued since outbox id *last (updated
 * to the newest seen); the caller frees *out. */
enum otd_status app_sim_messages_after(struct otd_app *app, int64_t *last,
                                       struct otd_sim_message **out, size_t *n,
                                       struct otd_error *err);

/* ---- serve --demo-drive (src/sim/drive.c) ----------------------------- */

#define OTD_SIM_SHIFTS_MAX 4 /* shift occurrences of one visitor on one day */

/* An active visitor on one local day: where they start from and the
 * shift occurrences that begin that day ([start, end), in order; none
 * when they do not work). */
struct otd_sim_visitor_day {
	int64_t visitor_id;
	double base_lat, base_lon;
	size_t n_shifts;
	struct {
		int64_t start, end;
	} shifts[OTD_SIM_SHIFTS_MAX];
};

/* A visit type's median duration as the organisation configured it (not
 * as learned since: reality is drawn around a fixed model, so what the
 * service learns from the simulated visits does not feed back into it). */
struct otd_sim_type_median {
	int64_t visit_type_id;
	double median_s;
};

/* Every active visitor, by id, with their base and their shift
 * occurrences starting on local_date ("YYYY-MM-DD", within a day of now
 * or up to the booking horizon ahead: the planner catalog's range), from
 * the planner catalog in one snapshot. The caller frees *out.
 * OTD_EINVAL for a malformed date; storage errors as they come. */
enum otd_status app_sim_working_visitors(struct otd_app *app, const char *local_date,
                                         struct otd_sim_visitor_day **out, size_t *n,
                                         struct otd_error *err);

/* Every visit type (active or not: booked visits may be of a retired
 * one) with its configured median, by id. The caller frees *out. */
enum otd_status app_sim_visit_type_medians(struct otd_app *app, struct otd_sim_type_median **out,
                                           size_t *n, struct otd_error *err);

#endif
