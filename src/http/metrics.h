/* onthedot HTTP metrics: requests by route and status, a latency
 * histogram, and the Prometheus text rendering of everything /metrics
 * shows. Counters are lock-free atomics, safe from any pool thread. */
#ifndef OTD_HTTP_METRICS_H
#define OTD_HTTP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/mem.h"

struct http_metrics;

/* Creates counters for n_routes routes (plus one slot for unmatched). */
struct http_metrics *http_metrics_new(size_t n_routes);
void http_metrics_free(struct http_metrics *m);

/* Counts one finished request. route_index -1 means unmatched. */
void http_metrics_observe(struct http_metrics *m, int route_index, int method_bit, int status,
                          double seconds);

/* Counts a connection refused by the per-client limit. */
void http_metrics_refused(struct http_metrics *m);

/* Whether the access-log line of a finished request is written: always
 * for status 0 (no reply) and 400 and above, and for 1 in sample of the
 * others (sample 1 or less: all). A line left out is counted for
 * otd_access_log_sampled_out_total. Thread-safe. */
bool http_metrics_access_sample(struct http_metrics *m, int status, int sample);

/* Appends the HTTP part of the Prometheus exposition to out, and the
 * scheduled backups' figures (app/backups.h). */
void http_metrics_render(const struct http_metrics *m, struct otd_buf *out);

/* Appends the retention pass's and erasures' counters (app->retention,
 * app/retention.h) to out: otd_retention_*. */
struct otd_app;
void http_metrics_render_retention(const struct otd_app *app, struct otd_buf *out);

#endif
