/* onthedot simulator: the visitors, played as reality says.
 *
 * The player drives the real tracking use cases (app_visitor_events,
 * app_visitor_unavailable) for a set of visitors on one local day: each
 * starts their shift from their base, reads their route from the service
 * whenever they are free (so a reassignment or reorder by the dispatcher
 * or the auto-rebalance takes effect), leaves so as to reach the next
 * visit as its window opens, never arrives early (they wait), takes the
 * lunch break in its span, and taps start_travel, arrived, done and the
 * break as people do: journeys and visits last what the reality model
 * draws, some taps are late, some "arrived" taps forgotten until "done".
 * A visitor off sick reports it (through the dispatcher's use case) at
 * the first free moment from their sick time and stops. Nobody starts a
 * visit more than an hour after their shift ends.
 *
 * It records the ground truth the service never sees whole: when each
 * visitor actually reached each door, started and finished, and how long
 * they spent travelling and on site. The simulator judges promises by
 * this truth, and serve --demo-drive uses the same player on a real clock.
 * Each visitor draws from their own random stream: a run is the same for
 * the same seed. Not thread-safe: one thread steps a player. */
#ifndef OTD_SIM_PLAYER_H
#define OTD_SIM_PLAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "onthedot/reality.h"
#include "onthedot/tz.h"

#define SIM_OVERTIME_S 3600 /* no visit is started later after the shift ends */

struct sim_player;

/* What actually happened at one appointment. */
struct sim_truth {
	int64_t visitor_id;
	int64_t reached;  /* at the door (may be before the window) */
	int64_t arrived;  /* began: the later of reached and the window's start */
	int64_t done;     /* 0: not finished */
	double travel_km; /* of the journey there (road distance) */
	bool after_long;  /* an earlier visit of the visitor's day lasted over twice its
	                   * model median (an overrun, mostly) */
};

struct sim_player_totals {
	double travel_s, service_s, wait_s, shift_s, travel_km;
	int taps, taps_late, taps_forgotten, taps_refused, journeys_wasted;
};

/* A player for local date local_date ("YYYY-MM-DD") of app's zone, with
 * reality r (copied) and seed. */
struct sim_player *sim_player_new(struct otd_app *app, const struct otd_reality *r, uint64_t seed,
                                  const char *local_date);
void sim_player_free(struct sim_player *p);

/* The model median (s) of visit type type_id, for the duration draws.
 * A visit of a type never given lasts 45 minutes' median. */
void sim_player_visit_type(struct sim_player *p, int64_t type_id, double median_s);

/* Adds visitor visitor_id working [shift_start, shift_end) that day from
 * the base at lat/lon; sick_from > 0: off sick from then. */
void sim_player_add(struct sim_player *p, int64_t visitor_id, double base_lat, double base_lon,
                    int64_t shift_start, int64_t shift_end, int64_t sick_from);

/* Plays every visitor up to now (the app's clock must stand at now or
 * later: taps carry their own times, which are never after now). Taps the
 * service refuses are counted, not fatal; a storage failure is returned. */
enum otd_status sim_player_step(struct sim_player *p, int64_t now, struct otd_error *err);

/* The earliest time something will happen (INT64_MAX: nothing more). */
int64_t sim_player_next(const struct sim_player *p);

/* The truth for appointment_id; false when nobody reached it. */
bool sim_player_truth(const struct sim_player *p, int64_t appointment_id, struct sim_truth *out);

void sim_player_totals(const struct sim_player *p, struct sim_player_totals *out);

/* The instant local date "YYYY-MM-DD" reads "HH:MM" in zone tz (in a gap
 * or overlap of a clock change, the first reading: RFC 5545); 0 for a
 * malformed date or time. */
int64_t sim_local_time(const struct otd_tz *tz, const char *date, const char *hhmm);

/* Visitors played; their ids in order of sim_player_add. */
size_t sim_player_visitors(const struct sim_player *p, int64_t *ids, size_t max);

#endif
