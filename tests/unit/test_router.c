/* Unit tests: route matching (http/router.c) against the real route
 * table: templates with parameters, 404 against 405 with the methods
 * allowed, HEAD answered as GET, exact paths. */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "onthedot/mem.h"
#include "testutil.h"

/* Index of template in the table (the test fails when it is missing). */
static int route_of(const char *tmpl)
{
	for(size_t i = 0; otd_routes[i].template; i++)
		if(strcmp(otd_routes[i].template, tmpl) == 0)
			return (int)i;
	ck_abort_msg("no route %s", tmpl);
	return -1;
}

/* The methods of every route with template tmpl. */
static unsigned methods_of(const char *tmpl)
{
	unsigned m = 0;
	for(size_t i = 0; otd_routes[i].template; i++)
		if(strcmp(otd_routes[i].template, tmpl) == 0)
			m |= otd_routes[i].methods;
	return m;
}

static struct otd_req *req_new(enum http_method method, const char *path)
{
	struct otd_req *r = xcalloc(1, sizeof(*r));
	r->method = method;
	r->path = xstrdup(path);
	r->route_index = -1;
	return r;
}

static void req_free(struct otd_req *r)
{
	free(r->path);
	free(r);
}

/* Matches and returns the status; *allowed gets the 405 mask. */
static enum otd_status match(enum http_method method, const char *path, struct otd_req **out,
                             unsigned *allowed)
{
	struct otd_req *r = req_new(method, path);
	*allowed = 0;
	enum otd_status st = router_match(r, allowed);
	if(out)
		*out = r;
	else
		req_free(r);
	return st;
}

START_TEST(table_is_well_formed)
{
	size_t n = routes_count();
	ck_assert_uint_gt(n, 10);
	ck_assert_ptr_null(otd_routes[n].template);
	for(size_t i = 0; i < n; i++) {
		const struct route *r = &otd_routes[i];
		ck_assert_msg(r->template[0] == '/', "%s", r->template);
		ck_assert_ptr_nonnull(r->fn);
		ck_assert_uint_ne(r->methods, 0);
		/* No two entries claim the same method on the same template. */
		for(size_t j = i + 1; j < n; j++)
			if(strcmp(r->template, otd_routes[j].template) == 0)
				ck_assert_msg(!(r->methods & otd_routes[j].methods), "%s twice",
				              r->template);
	}
}
END_TEST

START_TEST(plain_paths_match_exactly)
{
	struct otd_req *r;
	unsigned allowed;
	ck_assert_int_eq(match(HTTP_GET, "/healthz", &r, &allowed), OTD_OK);
	ck_assert_int_eq(r->route_index, route_of("/healthz"));
	ck_assert_ptr_eq(r->route, &otd_routes[route_of("/healthz")]);
	ck_assert_str_eq(r->route->template, "/healthz");
	ck_assert_uint_eq(r->n_params, 0);
	ck_assert_str_eq(r->path, "/healthz"); /* nothing split */
	req_free(r);
	ck_assert_int_eq(match(HTTP_GET, "/", &r, &allowed), OTD_OK);
	ck_assert_str_eq(r->route->template, "/");
	req_free(r);
	/* A trailing slash, a doubled slash or another case is another path. */
	ck_assert_int_eq(match(HTTP_GET, "/healthz/", NULL, &allowed), OTD_ENOTFOUND);
	ck_assert_int_eq(match(HTTP_GET, "//healthz", NULL, &allowed), OTD_ENOTFOUND);
	ck_assert_int_eq(match(HTTP_GET, "/Healthz", NULL, &allowed), OTD_ENOTFOUND);
	ck_assert_int_eq(match(HTTP_GET, "/healthz2", NULL, &allowed), OTD_ENOTFOUND);
	ck_assert_int_eq(match(HTTP_GET, "/health", NULL, &allowed), OTD_ENOTFOUND);
	ck_assert_int_eq(match(HTTP_GET, "//", NULL, &allowed), OTD_ENOTFOUND);
	ck_assert_int_eq(match(HTTP_GET, "", NULL, &allowed), OTD_ENOTFOUND);
	ck_assert_int_eq(match(HTTP_GET, "/api/v1/visitors/", NULL, &allowed), OTD_ENOTFOUND);
	ck_assert_int_eq(match(HTTP_GET, "/no/such/thing", NULL, &allowed), OTD_ENOTFOUND);
	ck_assert_uint_eq(allowed, 0);
}
END_TEST

START_TEST(head_is_matched_as_get)
{
	struct otd_req *r;
	unsigned allowed;
	ck_assert_int_eq(match(HTTP_HEAD, "/healthz", &r, &allowed), OTD_OK);
	ck_assert_int_eq(r->route_index, route_of("/healthz"));
	ck_assert_int_eq(r->method, HTTP_HEAD); /* the request keeps its own method */
	req_free(r);
	ck_assert_int_eq(match(HTTP_HEAD, "/api/v1/visitors/7", &r, &allowed), OTD_OK);
	ck_assert_str_eq(r->route->template, "/api/v1/visitors/{id}");
	ck_assert(r->route->methods & HTTP_GET);
	ck_assert_str_eq(r->params[0], "7");
	req_free(r);
	/* HEAD on a POST-only route is 405 like GET. */
	ck_assert_int_eq(match(HTTP_HEAD, "/api/v1/auth/login", NULL, &allowed), OTD_EMETHOD);
	ck_assert_uint_eq(allowed, methods_of("/api/v1/auth/login"));
}
END_TEST

START_TEST(parameters_are_nul_terminated_inside_the_path)
{
	struct otd_req *r;
	unsigned allowed;
	ck_assert_int_eq(match(HTTP_GET, "/api/v1/visitors/42", &r, &allowed), OTD_OK);
	ck_assert_str_eq(r->route->template, "/api/v1/visitors/{id}");
	ck_assert_uint_eq(r->n_params, 1);
	ck_assert_str_eq(r->params[0], "42");
	ck_assert_ptr_eq(r->params[0], r->path + strlen("/api/v1/visitors/"));
	req_free(r);
	ck_assert_int_eq(match(HTTP_GET, "/api/v1/visitors/42/shifts", &r, &allowed), OTD_OK);
	ck_assert_str_eq(r->route->template, "/api/v1/visitors/{id}/shifts");
	ck_assert_uint_eq(r->n_params, 1);
	ck_assert_str_eq(r->params[0], "42"); /* cut at the next slash */
	ck_assert_uint_eq(strlen(r->params[0]), 2);
	req_free(r);
	ck_assert_int_eq(match(HTTP_POST, "/api/v1/visitors/9/deactivate", &r, &allowed), OTD_OK);
	ck_assert_str_eq(r->route->template, "/api/v1/visitors/{id}/deactivate");
	ck_assert_str_eq(r->params[0], "9");
	req_free(r);
	/* The router does not judge parameter values; handlers do. */
	ck_assert_int_eq(match(HTTP_GET, "/api/v1/visitors/abc%20d", &r, &allowed), OTD_OK);
	ck_assert_str_eq(r->params[0], "abc%20d");
	req_free(r);
	/* An empty segment is no parameter. */
	ck_assert_int_eq(match(HTTP_GET, "/api/v1/visitors//shifts", NULL, &allowed),
	                 OTD_ENOTFOUND);
	ck_assert_int_eq(match(HTTP_GET, "/api/v1/visitors/42/", NULL, &allowed), OTD_ENOTFOUND);
	ck_assert_int_eq(match(HTTP_GET, "/api/v1/visitors/42/shifts/x", NULL, &allowed),
	                 OTD_ENOTFOUND);
}
END_TEST

START_TEST(a_known_path_with_another_method_is_405_with_allow)
{
	struct otd_req *r;
	unsigned allowed;
	ck_assert_int_eq(match(HTTP_POST, "/healthz", &r, &allowed), OTD_EMETHOD);
	ck_assert_uint_eq(allowed, HTTP_GET);
	ck_assert_int_eq(r->route_index, -1);
	ck_assert_ptr_null(r->route);
	req_free(r);
	char allow[64];
	router_allow_header(allowed, allow, sizeof(allow));
	ck_assert_str_eq(allow, "GET, HEAD");

	/* Several entries share a template: the mask is their union. */
	ck_assert_int_eq(match(HTTP_DELETE, "/api/v1/visitors/42", NULL, &allowed), OTD_EMETHOD);
	ck_assert_uint_eq(allowed, methods_of("/api/v1/visitors/{id}"));
	ck_assert_uint_eq(allowed & (HTTP_GET | HTTP_PATCH), HTTP_GET | HTTP_PATCH);
	ck_assert_uint_eq(allowed & HTTP_DELETE, 0);
	ck_assert_int_eq(match(HTTP_PUT, "/api/v1/visitors", NULL, &allowed), OTD_EMETHOD);
	ck_assert_uint_eq(allowed & (HTTP_GET | HTTP_POST), HTTP_GET | HTTP_POST);
	/* Both methods of a shared template match their own entry. */
	ck_assert_int_eq(match(HTTP_POST, "/api/v1/visitors", &r, &allowed), OTD_OK);
	ck_assert_uint_eq(r->route->methods & HTTP_POST, HTTP_POST);
	ck_assert_ptr_eq(r->route->fn, otd_routes[r->route_index].fn);
	req_free(r);
	ck_assert_int_eq(match(HTTP_GET, "/api/v1/visitors", &r, &allowed), OTD_OK);
	ck_assert_uint_eq(r->route->methods & HTTP_GET, HTTP_GET);
	req_free(r);
	/* An unknown method on a known path is 405 too. */
	ck_assert_int_eq(match(HTTP_OTHER, "/healthz", NULL, &allowed), OTD_EMETHOD);
	ck_assert_uint_eq(allowed, HTTP_GET);
}
END_TEST

START_TEST(allow_header_text)
{
	char buf[64];
	router_allow_header(HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE,
	                    buf, sizeof(buf));
	ck_assert_str_eq(buf, "GET, HEAD, POST, PUT, PATCH, DELETE");
	router_allow_header(HTTP_POST, buf, sizeof(buf));
	ck_assert_str_eq(buf, "POST");
	router_allow_header(HTTP_PATCH | HTTP_GET, buf, sizeof(buf));
	ck_assert_str_eq(buf, "GET, HEAD, PATCH");
	router_allow_header(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	/* Too small a buffer holds whole names only. */
	char small[8];
	router_allow_header(HTTP_GET | HTTP_POST, small, sizeof(small));
	ck_assert_str_eq(small, "GET");
	router_allow_header(HTTP_POST | HTTP_PUT, small, sizeof(small));
	ck_assert_str_eq(small, "POST");
	char tiny[3];
	router_allow_header(HTTP_GET, tiny, sizeof(tiny));
	ck_assert_str_eq(tiny, "");
}
END_TEST

START_TEST(method_names_parse_exactly)
{
	ck_assert_int_eq(http_method_parse("GET"), HTTP_GET);
	ck_assert_int_eq(http_method_parse("HEAD"), HTTP_HEAD);
	ck_assert_int_eq(http_method_parse("POST"), HTTP_POST);
	ck_assert_int_eq(http_method_parse("PUT"), HTTP_PUT);
	ck_assert_int_eq(http_method_parse("PATCH"), HTTP_PATCH);
	ck_assert_int_eq(http_method_parse("DELETE"), HTTP_DELETE);
	ck_assert_int_eq(http_method_parse("OPTIONS"), HTTP_OPTIONS);
	ck_assert_int_eq(http_method_parse("get"), HTTP_OTHER);
	ck_assert_int_eq(http_method_parse("TRACE"), HTTP_OTHER);
	ck_assert_int_eq(http_method_parse("GETS"), HTTP_OTHER);
	ck_assert_int_eq(http_method_parse(""), HTTP_OTHER);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("router");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, table_is_well_formed);
	tcase_add_test(tc, plain_paths_match_exactly);
	tcase_add_test(tc, head_is_matched_as_get);
	tcase_add_test(tc, parameters_are_nul_terminated_inside_the_path);
	tcase_add_test(tc, a_known_path_with_another_method_is_405_with_allow);
	tcase_add_test(tc, allow_header_text);
	tcase_add_test(tc, method_names_parse_exactly);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
