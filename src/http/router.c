/* Route matching: templates with {name} segments, linear scan (the table
 * is a few dozen entries; a scan is faster than any structure here). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"

size_t routes_count(void)
{
	size_t n = 0;
	while(otd_routes[n].template)
		n++;
	return n;
}

enum http_method http_method_parse(const char *s)
{
	static const struct {
		const char *name;
		enum http_method m;
	} names[] = {{"GET", HTTP_GET},     {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
	             {"PUT", HTTP_PUT},     {"PATCH", HTTP_PATCH},   {"DELETE", HTTP_DELETE},
	             {"OPTIONS", HTTP_OPTIONS}};
	for(size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if(strcmp(s, names[i].name) == 0)
			return names[i].m;
	return HTTP_OTHER;
}

void router_allow_header(unsigned methods, char *buf, size_t size)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{HTTP_GET, "GET"},     {HTTP_HEAD, "HEAD"},     {HTTP_POST, "POST"},
	             {HTTP_PUT, "PUT"},     {HTTP_PATCH, "PATCH"},   {HTTP_DELETE, "DELETE"}};
	if(methods & HTTP_GET)
		methods |= HTTP_HEAD;
	size_t off = 0;
	buf[0] = '\0';
	for(size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if(!(methods & names[i].bit))
			continue;
		int n = snprintf(buf + off, size - off, "%s%s", off ? ", " : "", names[i].name);
		if(n < 0 || (size_t)n >= size - off) {
			buf[off] = '\0'; /* whole names only, never "GET, HE" */
			break;
		}
		off += (size_t)n;
	}
}

/* Matches path against tmpl segment by segment. On success stores the
 * offsets of {param} segments of path in starts/lens. */
static bool template_match(const char *tmpl, const char *path, size_t *starts, size_t *lens,
                           size_t *n_params)
{
	const char *t = tmpl, *p = path;
	size_t n = 0;
	while(*t && *p) {
		if(*t != '/' || *p != '/')
			return false;
		t++;
		p++;
		const char *tend = strchr(t, '/');
		const char *pend = strchr(p, '/');
		size_t tl = tend ? (size_t)(tend - t) : strlen(t);
		size_t pl = pend ? (size_t)(pend - p) : strlen(p);
		if(tl >= 2 && t[0] == '{' && t[tl - 1] == '}') {
			if(pl == 0 || n >= ROUTE_MAX_PARAMS)
				return false;
			starts[n] = (size_t)(p - path);
			lens[n] = pl;
			n++;
		} else if(tl != pl || memcmp(t, p, tl) != 0) {
			return false;
		}
		t += tl;
		p += pl;
	}
	if(*t || *p)
		return false;
	*n_params = n;
	return true;
}

enum otd_status router_match(struct otd_req *req, unsigned *allowed)
{
	size_t starts[ROUTE_MAX_PARAMS], lens[ROUTE_MAX_PARAMS], n = 0;
	unsigned allow = 0;
	unsigned want = req->method == HTTP_HEAD ? HTTP_GET : req->method;
	for(size_t i = 0; otd_routes[i].template; i++) {
		const struct route *r = &otd_routes[i];
		size_t s[ROUTE_MAX_PARAMS], l[ROUTE_MAX_PARAMS], k = 0;
		if(!template_match(r->template, req->path, s, l, &k))
			continue;
		if(!(r->methods & want)) {
			allow |= r->methods;
			continue;
		}
		req->route = r;
		req->route_index = (int)i;
		memcpy(starts, s, sizeof(s));
		memcpy(lens, l, sizeof(l));
		n = k;
		/* Split the path copy in place so params are NUL-terminated. */
		for(size_t j = 0; j < n; j++) {
			req->path[starts[j] + lens[j]] = '\0';
			req->params[j] = req->path + starts[j];
		}
		req->n_params = n;
		return OTD_OK;
	}
	if(allow) {
		*allowed = allow;
		return OTD_EMETHOD;
	}
	return OTD_ENOTFOUND;
}
