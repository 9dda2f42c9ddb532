/* onthedot rebalancing: the optimiser (core/optimise) on a day of real
 * routes, for dispatchers (issue 7).
 *
 * A proposal is computed from the day as the planner models it (the same
 * routes a booking is checked against: each visitor's shift from their
 * base, visits and live holds with their duration models, the lunch
 * break, arrivals at the planning quantile). Visits under way (travelling
 * or arrived) stay put at the head of their route; holds stay with their
 * visitor; the visits of a visitor who is unavailable that day need
 * someone else. The optimiser works on a conservative copy of the model
 * (each leg and each visit at its own quantile, legs at the day's slowest
 * speed, the shift shortened by the break), in the field objective:
 * promises broken, lateness, visits moved to another visitor, travel. The
 * result is then re-timed under the real model and offered only when it
 * breaks no promise the day keeps now.
 *
 * Applying a proposal is one transaction, all or nothing: refused with
 * 409 day_changed when any route in its scope changed since (a booking, a
 * cancellation, a status, an unavailability), else every visit that goes
 * to another visitor is reassigned exactly as a dispatcher's manual
 * reassignment does (booking_reassigned: promise version + 1, the customer
 * told who comes now) and every route's order is written. Proposals are
 * kept in memory for OTD_REBALANCE_TTL seconds. */
#ifndef OTD_APP_REBALANCE_H
#define OTD_APP_REBALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "app/accounts.h"

#define OTD_REBALANCE_TTL 900
#define OTD_REBALANCE_KEPT 16 /* proposals kept at once */
#define OTD_REBALANCE_ITERATIONS 20000 /* when dispatch.rebalance_iterations is not set */
#define OTD_REBALANCE_VISITORS_MAX 500
#define OTD_REBALANCE_PLACES_MAX 5000 /* routes + visits + holds in one rebalance */

struct otd_rebalance_move {
	int64_t appointment_id;
	char reference[16];
	int64_t from_visitor, to_visitor; /* from 0: it had no route (an unavailable visitor's) */
	int64_t window_start, window_end;
	int position;            /* 1-based place among to_visitor's visits and holds */
	double expected_arrival; /* mean arrival under the model, UTC seconds */
	bool kept_before, kept_after;
};

struct otd_rebalance {
	char id[33]; /* hex; the proposal's handle for apply */
	char local_date[11];
	int64_t created_at, expires_at;
	int visits;                      /* visits in scope not under way */
	int broken_before, broken_after; /* visits not kept at the quantile, or on no route */
	double travel_before_s, travel_after_s;
	int customers_affected; /* visits going to another visitor: each customer is told */
	int at_risk;            /* booked visits in scope at risk now (tracking) */
	size_t n_moves;
	struct otd_rebalance_move *moves;
	char note[200]; /* why nothing is proposed, when nothing is */
};

void otd_rebalance_cleanup(struct otd_rebalance *r);

/* The proposal cache an app keeps (created by app_open). */
struct otd_rebalance_cache;
struct otd_rebalance_cache *rebalance_cache_new(void);
void rebalance_cache_free(struct otd_rebalance_cache *c);

/* What a proposal weighs after the promises: a rebalance (the day going
 * wrong) moves as few visits to another visitor as it can; a plan (a later
 * day, to cut travel) weighs travel only. */
enum otd_rebalance_mode { OTD_REBALANCE_DAY, OTD_REBALANCE_PLAN };

/* Computes a proposal for local_date over the given visitors (n == 0: all
 * active visitors) and keeps it for apply. 400 invalid_date or
 * unknown_visitor (field "scope"); 422 day_not_rebalanceable when a
 * visit under way is already impossible to place, too_large beyond
 * OTD_REBALANCE_PLACES_MAX routes and visits or 62 skills. A day with nothing to
 * improve gives a proposal with no moves and a note. */
enum otd_status app_rebalance_propose(struct otd_app *app, const struct otd_principal *actor,
                                      const char *local_date, const int64_t *visitor_ids, size_t n,
                                      enum otd_rebalance_mode mode, struct otd_rebalance *out,
                                      struct otd_error *err);

struct otd_rebalance_applied {
	int moved;     /* visits given to another visitor */
	int reordered; /* routes whose order was written */
	int told;      /* customers sent a message (a channel agreed) */
};

/* Applies the kept proposal id, all or nothing (see above). 404
 * proposal_not_found (unknown or expired); 409 day_changed. The proposal
 * is used up either way. */
enum otd_status app_rebalance_apply(struct otd_app *app, const struct otd_principal *actor,
                                    const char *id, struct otd_rebalance_applied *out,
                                    struct otd_error *err);

/* A dispatcher reorders visitor visitor_id's route on local_date by hand:
 * refs (n of them) are the references of the visits not yet under way
 * (booked), each once, in the new order; visits under way and holds keep
 * their places and the lunch break is placed again as the planner places
 * it. The new order is timed under the planning model (as a booking is
 * checked, not from the visitor's live position) and refused when a
 * promise the route keeps now would be broken (the windows do not change,
 * so no customer is told anything; the projections follow at the next
 * risk pass). 400 unknown_visitor, bad
 * date, order_mismatch (field order: a reference not on the route or not
 * booked, one missing or repeated); 409 order_breaks_promise naming the
 * visit that would be late; 422 split_shift (a day of several shifts).
 * Audited (route.reorder); the visitor's route stream hears of it. */
enum otd_status app_reorder(struct otd_app *app, const struct otd_principal *actor,
                            int64_t visitor_id, const char *local_date, const char *const *refs,
                            size_t n, struct otd_error *err);

/* The auto mode (dispatch.auto_rebalance), after each risk pass: when
 * today changed since it last looked and a visit is at risk, it computes a
 * rebalance of today over every visitor and applies it only when it saves
 * a promise, breaks none kept now and gives no visit kept now to another
 * visitor (the visits it moves are reassigned as any rebalance is, with
 * "auto_rebalance" as the source). Then, since that proposal judges the
 * day on the planning model (which does not see a visitor running late),
 * each visit still at risk as tracking projects it live is given, once at
 * most, to a colleague who can keep its window and every promise of their
 * own and has nothing at risk (app_reassign_options; the least travel
 * added), as a dispatcher's reassignment would. *applied says whether
 * anything was done. A day that changed under it is left to the next
 * pass. */
enum otd_status app_rebalance_auto(struct otd_app *app, bool *applied, struct otd_error *err);

#endif
