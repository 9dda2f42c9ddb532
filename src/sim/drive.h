/* onthedot simulator: serve --demo-drive, the demo's visitors played live.
 *
 * A thread that, every second of wall time, reads now from the app's clock
 * (real, or virtual and moved by POST /api/v1/admin/clock) and plays the
 * visitors of today (the local date of now) up to now with the
 * simulator's player (sim/player.h), so the board is alive: visitors
 * leave, arrive, finish, tap late now and then, one falls ill, and the
 * service's risk, apologies and rebalancing (proposed, or applied with
 * dispatch.auto_rebalance) react as they would to real phones. It plays
 * what is booked and books nothing itself.
 *
 * Each day (the first second the driver sees a new local date, and at
 * start) it makes a new player with every active visitor working that day
 * (from their base, over the span of their shift occurrences starting that
 * day; a visitor's day begins no earlier than that moment, so a server
 * started mid-day does not replay the morning), the visit types'
 * configured medians, and reality as the utility region's scenario fixes
 * it: durations median x 1.10 with log-spread 0.35, travel x 1.15 with
 * log-spread 0.25, 5% of visits overrunning by 30 to 90 minutes, 10% of
 * taps up to 10 minutes late, 3% of "arrived" taps forgotten until "done",
 * no traffic bands, an ordinary day's weather. Off sick from 10:00 local:
 * max(1, n / 12) of the n visitors working (none when nobody works),
 * chosen by the seed and the date. A day's visitors still out at midnight
 * stop there. Every draw comes from the seed and the date.
 *
 * A server restarted mid-day finds the visitors where the service left
 * them: a visit left open is finished ("done") and a break ended at that
 * moment, and a visitor already unavailable that day (ill, or marked so
 * by a dispatcher) is not played.
 *
 * Errors from a step are logged (warn, "demo_drive") and the driver
 * carries on the next second. The player is used by the driver's thread
 * only; the use cases it calls are thread-safe. */
#ifndef OTD_SIM_DRIVE_H
#define OTD_SIM_DRIVE_H

#include <stdint.h>

#include "app/app.h"
#include "onthedot/reality.h"

struct sim_drive;

/* Fills r with the demo's reality (the utility region's, above). */
void sim_drive_reality(struct otd_reality *r);

/* Starts the driver's thread on app (which must outlive it) with seed.
 * NULL when the thread cannot be started. */
struct sim_drive *sim_drive_start(struct otd_app *app, uint64_t seed);

/* Stops the thread after its current step, joins it and frees everything.
 * NULL is ignored. */
void sim_drive_stop(struct sim_drive *d);

#endif
