/* The address autocomplete: GET /api/v1/addresses?q=...&limit=... */
#include <string.h>

#include "app/addresses.h"
#include "app/limits.h"
#include "http/handlers.h"
#include "onthedot/utf8.h"
#include "onthedot/validate.h"

#define Q_MAX_CHARS 100  /* a longer q is refused (400 naming q) */
#define LIMIT_DEFAULT 10 /* addresses when ?limit= is left out */

/* Appends s as a JSON string. Gazetteer text is checked UTF-8 on import;
 * all the same, a byte that is not UTF-8 becomes U+FFFD, and <, > and &
 * are escaped so the answer is safe to put inside HTML too. */
static void put_string(struct otd_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);
	otd_buf_append(b, "\"", 1);
	while(left) {
		size_t run = 0;
		while(run < left && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' &&
		      p[run] != '\\' && p[run] != '<' && p[run] != '>' && p[run] != '&')
			run++;
		otd_buf_append(b, p, run);
		p += run;
		left -= run;
		if(!left)
			break;
		if(*p >= 0x80) {
			size_t len = otd_utf8_char(p, left);
			if(len) {
				otd_buf_append(b, p, len);
			} else {
				otd_buf_puts(b, "\\ufffd");
				len = 1;
			}
			p += len;
			left -= len;
			continue;
		}
		if(*p == '"' || *p == '\\') {
			char e[2] = {'\\', (char)*p};
			otd_buf_append(b, e, 2);
		} else {
			char e[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
			otd_buf_append(b, e, 6);
		}
		p++;
		left--;
	}
	otd_buf_append(b, "\"", 1);
}

/* "10 Downing Street, London, SW1A 1AA": the parts that are not empty. */
static void put_label(struct otd_buf *b, const struct otd_addr_entry *e)
{
	char label[1024];
	size_t n = 0;
	const char *parts[4] = {e->line1, e->line2, e->town, e->postcode};
	for(int i = 0; i < 4; i++) {
		size_t k = strlen(parts[i]);
		if(!k)
			continue;
		if(n + k + 3 > sizeof(label))
			break; /* cannot happen: the store caps each part at 200 bytes */
		if(n) {
			memcpy(label + n, ", ", 2);
			n += 2;
		}
		memcpy(label + n, parts[i], k);
		n += k;
	}
	label[n] = '\0';
	put_string(b, label);
}

static enum otd_status parse_limit(struct otd_req *req, size_t *limit)
{
	const char *s = req_query(req, "limit");
	*limit = LIMIT_DEFAULT;
	if(!s)
		return OTD_OK;
	size_t v = 0, i = 0;
	for(; s[i] >= '0' && s[i] <= '9' && i < 3; i++)
		v = v * 10 + (size_t)(s[i] - '0');
	if(i == 0 || s[i] || v < 1 || v > OTD_ADDR_LIMIT_MAX)
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_parameter", "limit",
		                     "limit must be a whole number from 1 to %d.",
		                     OTD_ADDR_LIMIT_MAX);
	*limit = v;
	return OTD_OK;
}

enum otd_status h_addresses(struct otd_req *req)
{
	enum otd_status st = req_throttle(req, req->app->limits->addresses, "address searches");
	if(st)
		return st;
	const char *q = req_query(req, "q");
	if(!q)
		return otd_error_set(
		    &req->err, OTD_EINVAL, "missing_parameter", "q",
		    "The query parameter q (the address as typed so far) is required.");
	if((st = otd_text_validate(q, 1, Q_MAX_CHARS, false, "q", &req->err)))
		return st;
	size_t limit;
	if((st = parse_limit(req, &limit)))
		return st;
	struct otd_address_hits hits;
	st = app_address_search(req->app, q, limit, &hits, &req->err);
	if(st) {
		app_address_hits_release(&hits);
		return st;
	}
	/* Written directly rather than through jansson: this is the busiest
	 * public route, called at every keystroke. */
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_puts(&b, "{\"items\":[");
	for(size_t i = 0; i < hits.n; i++) {
		const struct otd_addr_entry *e = &hits.items[i];
		otd_buf_printf(&b, "%s{\"id\":%lld,\"line1\":", i ? "," : "", (long long)e->id);
		put_string(&b, e->line1);
		otd_buf_puts(&b, ",\"line2\":");
		put_string(&b, e->line2);
		otd_buf_puts(&b, ",\"town\":");
		put_string(&b, e->town);
		otd_buf_puts(&b, ",\"postcode\":");
		put_string(&b, e->postcode);
		otd_buf_puts(&b, ",\"label\":");
		put_label(&b, e);
		otd_buf_puts(&b, "}");
	}
	otd_buf_puts(&b, "]}");
	app_address_hits_release(&hits);
	size_t len = b.len;
	req_reply_raw(req, 200, "application/json", otd_buf_steal(&b), len);
	return OTD_OK;
}
