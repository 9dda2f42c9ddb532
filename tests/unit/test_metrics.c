/* Unit tests: HTTP counters and the Prometheus rendering (http/metrics.c):
 * requests by route template, method and status, a cumulative latency
 * histogram, the unmatched label, refused connections. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/metrics.h"
#include "onthedot/mem.h"
#include "testutil.h"

static int route_of(const char *tmpl)
{
	for(size_t i = 0; otd_routes[i].template; i++)
		if(strcmp(otd_routes[i].template, tmpl) == 0)
			return (int)i;
	ck_abort_msg("no route %s", tmpl);
	return -1;
}

static char *render(const struct http_metrics *m)
{
	struct otd_buf out;
	otd_buf_init(&out, 0);
	http_metrics_render(m, &out);
	return otd_buf_steal(&out);
}

/* True when text holds line as a whole line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for(const char *p = text; (p = strstr(p, line)); p++)
		if((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define HAS(text, line) ck_assert_msg(has_line(text, line), "missing line: %s\n%s", line, text)
#define LACKS(text, line) ck_assert_msg(!has_line(text, line), "unexpected line: %s", line)

START_TEST(fresh_counters_render_zero_histogram_and_no_requests)
{
	struct http_metrics *m = http_metrics_new(routes_count());
	char *t = render(m);
	ck_assert_ptr_nonnull(strstr(t, "# TYPE otd_http_requests_total counter\n"));
	ck_assert_ptr_null(strstr(t, "otd_http_requests_total{"));
	HAS(t, "# TYPE otd_http_request_duration_seconds histogram");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"0.0005\"} 0");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"+Inf\"} 0");
	HAS(t, "otd_http_request_duration_seconds_sum 0.000000");
	HAS(t, "otd_http_request_duration_seconds_count 0");
	HAS(t, "otd_http_connections_refused_total 0");
	free(t);
	http_metrics_free(m);
	http_metrics_free(NULL);
}
END_TEST

START_TEST(requests_are_counted_by_route_method_and_status)
{
	struct http_metrics *m = http_metrics_new(routes_count());
	int healthz = route_of("/healthz");
	int visitor = route_of("/api/v1/visitors/{id}");
	http_metrics_observe(m, healthz, HTTP_GET, 200, 0.000244140625);
	http_metrics_observe(m, healthz, HTTP_GET, 200, 0.000244140625);
	http_metrics_observe(m, healthz, HTTP_HEAD, 200, 0.5);
	http_metrics_observe(m, visitor, HTTP_PATCH, 409, 0.00390625);
	http_metrics_observe(m, -1, HTTP_POST, 404, 1.0);
	http_metrics_observe(m, -1, HTTP_GET, 404, 8.0);
	http_metrics_observe(m, healthz, HTTP_GET, 418, 0.25);  /* not a listed status */
	http_metrics_observe(m, 100000, HTTP_OTHER, 405, 0.25); /* out of range: unmatched */
	http_metrics_observe(m, healthz, 0, 200, 0.25);         /* no method bit: OTHER */
	http_metrics_refused(m);
	http_metrics_refused(m);
	char *t = render(m);
	HAS(t, "otd_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2");
	HAS(t, "otd_http_requests_total{route=\"/healthz\",method=\"HEAD\",status=\"200\"} 1");
	HAS(t, "otd_http_requests_total{route=\"/api/v1/visitors/{id}\",method=\"PATCH\","
	       "status=\"409\"} 1");
	HAS(t, "otd_http_requests_total{route=\"unmatched\",method=\"POST\",status=\"404\"} 1");
	HAS(t, "otd_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1");
	HAS(t, "otd_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"other\"} 1");
	HAS(t, "otd_http_requests_total{route=\"unmatched\",method=\"OTHER\",status=\"405\"} 1");
	HAS(t, "otd_http_requests_total{route=\"/healthz\",method=\"OTHER\",status=\"200\"} 1");
	/* Nothing else was counted: 8 request lines in all. */
	size_t lines = 0;
	for(const char *p = t; (p = strstr(p, "otd_http_requests_total{")); p++)
		lines++;
	ck_assert_uint_eq(lines, 8);
	/* No raw path ever appears: only templates. */
	ck_assert_ptr_null(strstr(t, "/api/v1/visitors/4"));
	HAS(t, "otd_http_connections_refused_total 2");

	/* The histogram is cumulative; a value on a bound falls in that bucket. */
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"0.0005\"} 2");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"0.001\"} 2");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"0.0025\"} 2");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"0.005\"} 3");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"0.01\"} 3");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"0.025\"} 3");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"0.05\"} 3");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"0.1\"} 3");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"0.25\"} 6");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"0.5\"} 7");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"1\"} 8");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"2.5\"} 8");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"5\"} 8");
	HAS(t, "otd_http_request_duration_seconds_bucket{le=\"+Inf\"} 9");
	HAS(t, "otd_http_request_duration_seconds_count 9");
	/* 244 + 244 + 500000 + 3906 + 1000000 + 8000000 + 3 * 250000 microseconds */
	HAS(t, "otd_http_request_duration_seconds_sum 10.254394");
	/* Buckets come in increasing order. */
	const char *a = strstr(t, "le=\"0.0005\""), *b = strstr(t, "le=\"0.001\""),
	           *c = strstr(t, "le=\"5\""), *d = strstr(t, "le=\"+Inf\"");
	ck_assert(a && b && c && d && a < b && b < c && c < d);
	free(t);
	http_metrics_free(m);
}
END_TEST

struct observer {
	struct http_metrics *m;
	int route;
};

static void *observe_many(void *p)
{
	struct observer *o = p;
	for(int i = 0; i < 10000; i++)
		http_metrics_observe(o->m, o->route, HTTP_GET, 200, 0.001);
	return NULL;
}

START_TEST(counters_are_exact_under_concurrency)
{
	struct http_metrics *m = http_metrics_new(routes_count());
	int healthz = route_of("/healthz");
	pthread_t t[4];
	struct observer o = {m, healthz};
	for(int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, observe_many, &o), 0);
	for(int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	char *text = render(m);
	HAS(text,
	    "otd_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 40000");
	HAS(text, "otd_http_request_duration_seconds_count 40000");
	HAS(text, "otd_http_request_duration_seconds_bucket{le=\"0.001\"} 40000");
	HAS(text, "otd_http_request_duration_seconds_bucket{le=\"0.0005\"} 0");
	free(text);
	http_metrics_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, fresh_counters_render_zero_histogram_and_no_requests);
	tcase_add_test(tc, requests_are_counted_by_route_method_and_status);
	tcase_add_test(tc, counters_are_exact_under_concurrency);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
