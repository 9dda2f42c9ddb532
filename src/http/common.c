/* Request helpers shared by the resource handlers: ids, pages, cursors,
 * Idempotency-Key and instants. */
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/catalog.h"
#include "http/decode.h"
#include "http/http.h"
#include "onthedot/civil.h"
#include "onthedot/tz.h"

enum otd_status id_decode(const char *s, int64_t *id)
{
	char *end;
	errno = 0;
	if(!isdigit((unsigned char)s[0]) || s[0] == '0')
		return OTD_EINVAL;
	long long v = strtoll(s, &end, 10);
	if(errno || *end || v <= 0)
		return OTD_EINVAL;
	*id = v;
	return OTD_OK;
}

enum otd_status req_param_id(struct otd_req *req, size_t i, int64_t *id)
{
	const char *s = i < req->n_params ? req->params[i] : "";
	if(id_decode(s, id) != OTD_OK)
		return otd_error_set(&req->err, OTD_ENOTFOUND, "not_found", NULL,
		                     "There is nothing at this address.");
	return OTD_OK;
}

enum otd_status cursor_decode(const char *a, int64_t *after)
{
	unsigned char raw[32];
	size_t len = 0;
	char text[33];
	if(strlen(a) > 40 ||
	   sodium_base642bin(raw, sizeof(raw) - 1, a, strlen(a), NULL, &len, NULL,
	                     sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return OTD_EINVAL;
	memcpy(text, raw, len);
	text[len] = '\0';
	if(strncmp(text, "v1:", 3) != 0)
		return OTD_EINVAL;
	int64_t v;
	if(strcmp(text + 3, "0") == 0)
		v = 0;
	else if(id_decode(text + 3, &v) != OTD_OK)
		return OTD_EINVAL;
	*after = v;
	return OTD_OK;
}

char *page_cursor(int64_t id)
{
	char raw[32], out[64];
	int n = snprintf(raw, sizeof(raw), "v1:%lld", (long long)id);
	sodium_bin2base64(out, sizeof(out), (const unsigned char *)raw, (size_t)n,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return xstrdup(out);
}

void req_reply_page(struct otd_req *req, json_t *items, int64_t next)
{
	json_t *out = json_pack("{s:o}", "items", items);
	if(next) {
		char *c = page_cursor(next);
		json_object_set_new(out, "next", json_string(c));
		free(c);
	} else {
		json_object_set_new(out, "next", json_null());
	}
	req_reply_json(req, 200, out);
}

enum otd_status req_page(struct otd_req *req, int *limit, int64_t *after)
{
	*limit = 50;
	*after = 0;
	int max = req->app->cfg->limits.list_max;
	if(*limit > max)
		*limit = max;
	const char *l = req_query(req, "limit");
	if(l) {
		char *end;
		errno = 0;
		long v = strtol(l, &end, 10);
		if(errno || *end || end == l || v < 1 || v > max)
			return otd_error_set(&req->err, OTD_EINVAL, "invalid_limit", "limit",
			                     "limit must be a whole number from 1 to %d.", max);
		*limit = (int)v;
	}
	const char *a = req_query(req, "after");
	if(a && cursor_decode(a, after) != OTD_OK)
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_cursor", "after",
		                     "after must be the \"next\" value of a previous page.");
	return OTD_OK;
}

enum otd_status req_active_filter(struct otd_req *req, int dflt, int *active)
{
	const char *a = req_query(req, "active");
	*active = dflt;
	if(!a)
		return OTD_OK;
	if(strcmp(a, "true") == 0)
		*active = 1;
	else if(strcmp(a, "false") == 0)
		*active = 0;
	else if(strcmp(a, "all") == 0)
		*active = -1;
	else
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_filter", "active",
		                     "active must be true, false or all.");
	return OTD_OK;
}

enum otd_status req_idem(struct otd_req *req, struct otd_idem *idem, bool *has_key)
{
	memset(idem, 0, sizeof(*idem));
	*has_key = false;
	const char *key = req_header(req, "Idempotency-Key");
	if(!key)
		return OTD_OK;
	size_t n = strlen(key);
	bool ok = n >= 1 && n <= 255;
	for(size_t i = 0; ok && i < n; i++)
		ok = key[i] > ' ' && key[i] < 0x7f;
	if(!ok)
		return otd_error_set(&req->err, OTD_EINVAL, "invalid_idempotency_key", "Idempotency-Key",
		                     "An Idempotency-Key is 1 to 255 printable characters without "
		                     "spaces.");
	const struct otd_principal *p = &req->principal;
	snprintf(idem->scope, sizeof(idem->scope), "%s:%lld",
	         p->kind == OTD_PRINCIPAL_SESSION ? "user" : p->kind == OTD_PRINCIPAL_TOKEN ? "token"
	                                                                                   : "public",
	         (long long)(p->kind == OTD_PRINCIPAL_SESSION ? p->user_id : p->token_id));
	idem->key = key;
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const unsigned char *)req->route->template,
	                          strlen(req->route->template) + 1);
	unsigned char m = (unsigned char)req->method;
	crypto_generichash_update(&st, &m, 1);
	if(req->body.len)
		crypto_generichash_update(&st, (const unsigned char *)req->body.data, req->body.len);
	crypto_generichash_final(&st, idem->hash, 32);
	*has_key = true;
	return OTD_OK;
}

json_t *json_utc(int64_t t)
{
	char buf[40];
	otd_rfc3339_format(t, buf, sizeof(buf));
	return json_string(buf);
}

json_t *json_instant(const struct otd_app *app, int64_t t)
{
	char local[48];
	otd_tz_format_local(app->tz, t, local, sizeof(local));
	return json_pack("{s:o,s:s}", "utc", json_utc(t), "local", local);
}
