/* onthedot HTTP metrics: requests by route and status, a latency
 * histogram, and the Prometheus text rendering of everything /metrics
 * shows. Counters are lock-free atomics, safe from any pool thread. */
#ifndef OTD_HTTP_METRICS_H
#define OTD_HTTP_METRICS_H

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

/* Appends the HTTP part of the Prometheus exposition to out. */
void http_metrics_render(const struct http_metrics *m, struct otd_buf *out);

#endif
