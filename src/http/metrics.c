/* HTTP request counters and latency histogram, rendered for Prometheus. */
#include "http/metrics.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include "app/backups.h"
#include "http/http.h"

static const int status_codes[] = {200, 201, 204, 301, 302, 303, 304, 400, 401, 403, 404,
                                   405, 409, 413, 415, 422, 429, 500, 503};
#define N_STATUS (sizeof(status_codes) / sizeof(status_codes[0]) + 1) /* + other */
#define N_METHODS 8

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1.0,   2.5,  5.0};
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static const char *method_names[N_METHODS] = {"GET",   "HEAD",   "POST",    "PUT",
                                              "PATCH", "DELETE", "OPTIONS", "OTHER"};

struct http_metrics {
	size_t n_routes;
	_Atomic uint64_t *requests; /* [(n_routes + 1) * N_METHODS * N_STATUS] */
	_Atomic uint64_t hist[N_BUCKETS + 1];
	_Atomic uint64_t sum_us;
	_Atomic uint64_t count;
	_Atomic uint64_t refused;
	_Atomic uint64_t access_ok;   /* requests under 400 seen by the sampler */
	_Atomic uint64_t sampled_out; /* of which not logged */
};

struct http_metrics *http_metrics_new(size_t n_routes)
{
	struct http_metrics *m = xcalloc(1, sizeof(*m));
	m->n_routes = n_routes;
	m->requests = xcalloc((n_routes + 1) * N_METHODS * N_STATUS, sizeof(*m->requests));
	return m;
}

void http_metrics_free(struct http_metrics *m)
{
	if(!m)
		return;
	free((void *)m->requests);
	free(m);
}

static size_t status_slot(int status)
{
	for(size_t i = 0; i < N_STATUS - 1; i++)
		if(status_codes[i] == status)
			return i;
	return N_STATUS - 1;
}

static size_t method_slot(int method_bit)
{
	for(size_t i = 0; i < N_METHODS; i++)
		if(method_bit == (1 << i))
			return i;
	return N_METHODS - 1;
}

void http_metrics_observe(struct http_metrics *m, int route_index, int method_bit, int status,
                          double seconds)
{
	size_t r = route_index < 0 ? m->n_routes : (size_t)route_index;
	if(r > m->n_routes)
		r = m->n_routes;
	size_t idx = (r * N_METHODS + method_slot(method_bit)) * N_STATUS + status_slot(status);
	atomic_fetch_add_explicit(&m->requests[idx], 1, memory_order_relaxed);
	size_t b = 0;
	while(b < N_BUCKETS && seconds > buckets[b])
		b++;
	atomic_fetch_add_explicit(&m->hist[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_us, (uint64_t)(seconds * 1e6), memory_order_relaxed);
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

void http_metrics_refused(struct http_metrics *m)
{
	atomic_fetch_add_explicit(&m->refused, 1, memory_order_relaxed);
}

bool http_metrics_access_sample(struct http_metrics *m, int status, int sample)
{
	if(status <= 0 || status >= 400 || sample <= 1)
		return true;
	uint64_t n = atomic_fetch_add_explicit(&m->access_ok, 1, memory_order_relaxed);
	if(n % (uint64_t)sample == 0)
		return true;
	atomic_fetch_add_explicit(&m->sampled_out, 1, memory_order_relaxed);
	return false;
}

/* The scheduled backups' figures: process-wide in app/backups.c, where
 * the backup thread counts them. */
static void render_backups(struct otd_buf *out)
{
	struct otd_backup_stats b;
	backups_stats(&b);
	otd_buf_printf(out,
	               "# HELP otd_backup_enabled Whether scheduled backups run (backup.dir set).\n"
	               "# TYPE otd_backup_enabled gauge\notd_backup_enabled %d\n"
	               "# HELP otd_backup_last_success_timestamp_seconds Unix time of the newest "
	               "good scheduled backup (0: none).\n"
	               "# TYPE otd_backup_last_success_timestamp_seconds gauge\n"
	               "otd_backup_last_success_timestamp_seconds %lld\n"
	               "# HELP otd_backup_last_duration_seconds How long the last good scheduled "
	               "backup took.\n"
	               "# TYPE otd_backup_last_duration_seconds gauge\n"
	               "otd_backup_last_duration_seconds %.6f\n"
	               "# HELP otd_backup_successes_total Scheduled backups written since start.\n"
	               "# TYPE otd_backup_successes_total counter\n"
	               "otd_backup_successes_total %llu\n"
	               "# HELP otd_backup_failures_total Scheduled backups that failed since "
	               "start.\n"
	               "# TYPE otd_backup_failures_total counter\n"
	               "otd_backup_failures_total %llu\n",
	               b.enabled ? 1 : 0, (long long)b.last_success, b.last_duration,
	               (unsigned long long)b.successes, (unsigned long long)b.failures);
}

void http_metrics_render(const struct http_metrics *m, struct otd_buf *out)
{
	otd_buf_puts(out, "# HELP otd_http_requests_total HTTP requests by route template, "
	                  "method and status.\n# TYPE otd_http_requests_total counter\n");
	for(size_t r = 0; r <= m->n_routes; r++) {
		const char *tmpl = r < m->n_routes ? otd_routes[r].template : "unmatched";
		for(size_t mi = 0; mi < N_METHODS; mi++) {
			for(size_t s = 0; s < N_STATUS; s++) {
				uint64_t v = atomic_load_explicit(
				    &m->requests[(r * N_METHODS + mi) * N_STATUS + s], memory_order_relaxed);
				if(!v)
					continue;
				if(s < N_STATUS - 1)
					otd_buf_printf(out,
					               "otd_http_requests_total{route=\"%s\",method=\"%s\","
					               "status=\"%d\"} %llu\n",
					               tmpl, method_names[mi], status_codes[s], (unsigned long long)v);
				else
					otd_buf_printf(out,
					               "otd_http_requests_total{route=\"%s\",method=\"%s\","
					               "status=\"other\"} %llu\n",
					               tmpl, method_names[mi], (unsigned long long)v);
			}
		}
	}
	otd_buf_puts(out, "# HELP otd_http_request_duration_seconds Time from the first byte of "
	                  "the request to the reply being queued.\n"
	                  "# TYPE otd_http_request_duration_seconds histogram\n");
	uint64_t cum = 0;
	for(size_t b = 0; b < N_BUCKETS; b++) {
		cum += atomic_load_explicit(&m->hist[b], memory_order_relaxed);
		otd_buf_printf(out, "otd_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[b],
		               (unsigned long long)cum);
	}
	cum += atomic_load_explicit(&m->hist[N_BUCKETS], memory_order_relaxed);
	otd_buf_printf(out, "otd_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	               (unsigned long long)cum);
	otd_buf_printf(out, "otd_http_request_duration_seconds_sum %.6f\n",
	               (double)atomic_load_explicit(&m->sum_us, memory_order_relaxed) / 1e6);
	otd_buf_printf(out, "otd_http_request_duration_seconds_count %llu\n",
	               (unsigned long long)atomic_load_explicit(&m->count, memory_order_relaxed));
	otd_buf_printf(out,
	               "# HELP otd_http_connections_refused_total Connections refused by the "
	               "per-client limit.\n# TYPE otd_http_connections_refused_total counter\n"
	               "otd_http_connections_refused_total %llu\n",
	               (unsigned long long)atomic_load_explicit(&m->refused, memory_order_relaxed));
	otd_buf_printf(
	    out,
	    "# HELP otd_access_log_sampled_out_total Successful requests left out of the "
	    "access log by log.access_sample.\n"
	    "# TYPE otd_access_log_sampled_out_total counter\n"
	    "otd_access_log_sampled_out_total %llu\n",
	    (unsigned long long)atomic_load_explicit(&m->sampled_out, memory_order_relaxed));
	render_backups(out);
}

void http_metrics_render_retention(const struct otd_app *app, struct otd_buf *out)
{
	static const struct {
		const char *name, *help;
		size_t offset;
	} counters[] = {
	    {"runs", "Retention passes run (once a day).",
	     offsetof(struct otd_app, retention.runs)},
	    {"errors", "Retention passes stopped by an error (the next pass goes on).",
	     offsetof(struct otd_app, retention.errors)},
	    {"contacts", "Contacts anonymised retention.contact_days after their last visit.",
	     offsetof(struct otd_app, retention.contacts)},
	    {"inbound", "Texts from unknown senders cleared after retention.contact_days.",
	     offsetof(struct otd_app, retention.inbound)},
	    {"events", "Appointment and visitor events deleted after retention.evidence_days.",
	     offsetof(struct otd_app, retention.events)},
	    {"receipts", "Delivery reports deleted after retention.evidence_days.",
	     offsetof(struct otd_app, retention.receipts)},
	    {"positions", "Visitor positions deleted after retention.position_days.",
	     offsetof(struct otd_app, retention.positions)},
	    {"ips", "IP addresses blanked after retention.ip_days.",
	     offsetof(struct otd_app, retention.ips)},
	    {"erasures", "Contacts erased on request (API or onthedot erase in this process).",
	     offsetof(struct otd_app, retention.erasures)},
	};
	for(size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		const _Atomic uint64_t *v =
		    (const _Atomic uint64_t *)((const char *)app + counters[i].offset);
		otd_buf_printf(out,
		               "# HELP otd_retention_%s_total %s\n# TYPE otd_retention_%s_total "
		               "counter\notd_retention_%s_total %llu\n",
		               counters[i].name, counters[i].help, counters[i].name,
		               counters[i].name, (unsigned long long)atomic_load(v));
	}
	otd_buf_printf(out,
	               "# HELP otd_retention_last_run_timestamp_seconds App-clock time of the last "
	               "retention pass (0: none yet).\n"
	               "# TYPE otd_retention_last_run_timestamp_seconds gauge\n"
	               "otd_retention_last_run_timestamp_seconds %lld\n",
	               (long long)atomic_load(&app->retention.last_run));
}
