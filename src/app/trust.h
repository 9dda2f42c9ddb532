/* onthedot trust figures use cases (DESIGN.md, journey 6; issue 6): what
 * the public /trust page and GET /api/v1/trust show. The definitions of
 * every figure are in onthedot/trust.h.
 *
 * The figures are computed at most once a minute (of the application's
 * clock) and shared by every reader: /trust is public, and reading it
 * must not be a cheap way to load the database. While one request
 * recomputes, the others wait for its result instead of computing too. A
 * moderation invalidates them, so a moderator sees the change at once. */
#ifndef OTD_APP_TRUST_H
#define OTD_APP_TRUST_H

#include <stdint.h>

#include "app/app.h"
#include "onthedot/trust.h"

#define OTD_TRUST_CACHE_S 60 /* seconds the figures are reused */

/* The cache app_open makes and app_close frees (app->trust). */
struct otd_trust_cache;
struct otd_trust_cache *trust_cache_new(void);
void trust_cache_free(struct otd_trust_cache *c);

/* The trust figures as of now (normally otd_clock_now(app->clock)): the
 * last 30 days in out->periods[0], the last 90 in out->periods[1], and the
 * OTD_TRUST_LATEST_MAX latest published comments (dates in the
 * organisation's zone). Served from the cache when it was computed less
 * than OTD_TRUST_CACHE_S before now (and not after it: a clock set back
 * recomputes); out->computed_at says as of when. *out is filled whole
 * (it holds no pointers: copy it freely). OTD_EBUSY or OTD_EIO from the
 * store. */
enum otd_status app_trust_stats(struct otd_app *app, int64_t now, struct otd_trust_stats *out,
                                struct otd_error *err);

/* For the booking page: how often windows of width_min minutes were kept
 * in the last 30 days, from the same cached figures. *percent (rounded
 * down) and *due are set; *percent is -1 and *due 0 when no such window
 * was due. The page may equally read otd_trust_width(&stats.periods[0],
 * width_min) from app_trust_stats. */
enum otd_status app_trust_kept_rate(struct otd_app *app, int width_min, int *percent, int64_t *due,
                                    struct otd_error *err);

/* Makes the next app_trust_stats recompute (after a moderation). */
void app_trust_invalidate(struct otd_app *app);

#endif
