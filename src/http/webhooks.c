/* Gateways' callbacks: delivery reports (Kannel dlr-url, Twilio status
 * callbacks) and inbound text messages (Kannel MO, Twilio inbound).
 *
 * Nothing here trusts the caller: a delivery report names its message with
 * a token we put in the URL we gave the gateway (notify/sign.h), Twilio's
 * requests carry its HMAC-SHA1 signature, Kannel's MO get-url a configured
 * secret. Every failed check answers 403 and changes nothing. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/delivery.h"
#include "app/inbound.h"
#include "http/decode.h"
#include "http/form.h"
#include "http/handlers.h"
#include "http/http.h"
#include "notify/sign.h"

static enum otd_status forbidden(struct otd_req *req, const char *what)
{
	return otd_error_set(&req->err, OTD_EFORBIDDEN, "bad_signature", NULL,
	                     "The %s does not carry a valid signature.", what);
}

/* The message a callback URL names, when its token is right. */
static enum otd_status callback_id(struct otd_req *req, int64_t *id)
{
	const char *ids = req_query(req, "id"), *token = req_query(req, "t");
	if(!ids || id_decode(ids, id) != OTD_OK)
		return forbidden(req, "delivery report");
	unsigned char key[32];
	enum otd_status st = app_url_key(req->app, key, &req->err);
	if(st)
		return st;
	char msg[64];
	snprintf(msg, sizeof(msg), "dlr:%lld", (long long)*id);
	bool ok = otd_url_token_verify(key, msg, token);
	sodium_memzero(key, sizeof(key));
	return ok ? OTD_OK : forbidden(req, "delivery report");
}

static void reply_ok(struct otd_req *req)
{
	req_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}

/* A report about a message we no longer know is acknowledged, so the
 * gateway stops retrying; anything else is an error it may retry. */
static enum otd_status report(struct otd_req *req, enum otd_status st)
{
	if(st == OTD_ENOTFOUND) {
		otd_error_clear(&req->err);
		st = OTD_OK;
	}
	if(st == OTD_OK)
		reply_ok(req);
	return st;
}

/* GET /api/v1/webhooks/kannel/dlr?id=&t=&type=%d&status=%A */
enum otd_status h_kannel_dlr(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = callback_id(req, &id);
	if(st)
		return st;
	const char *type = req_query(req, "type"), *smsc = req_query(req, "status");
	/* Kannel's DLR types: 1 delivered, 2 failed, 4 buffered, 8 accepted
	 * by the SMSC, 16 rejected by the SMSC. */
	const char *status = "other";
	if(type && strcmp(type, "1") == 0)
		status = "delivered";
	else if(type && (strcmp(type, "2") == 0 || strcmp(type, "16") == 0))
		status = "failed";
	else if(type && strcmp(type, "8") == 0)
		status = "accepted";
	json_t *detail =
	    json_pack("{s:s,s:s}", "type", type ? type : "", "smsc_reply", smsc ? smsc : "");
	char *text = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	st = app_delivery_receipt(req->app, id, "kannel", status, text, &req->err);
	free(text);
	return report(req, st);
}

/* Twilio's signature: over our public URL of the request as we gave it,
 * and the form's fields. */
static enum otd_status twilio_check(struct otd_req *req, const struct form *f, const char *path,
                                    bool with_callback_query)
{
	const char *token = req->app->cfg->delivery.twilio_token;
	if(!token[0])
		return otd_error_set(&req->err, OTD_ENOTFOUND, "not_found", NULL,
		                     "Twilio is not configured here.");
	char url[2600];
	if(with_callback_query)
		snprintf(url, sizeof(url), "%s%s?id=%s&t=%s", req->app->base_url, path,
		         req_query(req, "id") ? req_query(req, "id") : "",
		         req_query(req, "t") ? req_query(req, "t") : "");
	else
		snprintf(url, sizeof(url), "%s%s", req->app->base_url, path);
	if(!otd_twilio_verify(token, url, (const char *const *)f->names,
	                      (const char *const *)f->values, f->n,
	                      req_header(req, "X-Twilio-Signature")))
		return forbidden(req, "Twilio request");
	return OTD_OK;
}

/* POST /api/v1/webhooks/twilio/status?id=&t= (form: MessageSid,
 * MessageStatus, ErrorCode) */
enum otd_status h_twilio_status(struct otd_req *req)
{
	struct form f;
	enum otd_status st =
	    form_parse(req->body.data ? req->body.data : "", req->body.len, &f, &req->err);
	if(st)
		return st;
	int64_t id = 0;
	st = twilio_check(req, &f, "/api/v1/webhooks/twilio/status", true);
	if(st == OTD_OK)
		st = callback_id(req, &id);
	if(st) {
		form_cleanup(&f);
		return st;
	}
	const char *ms = form_get(&f, "MessageStatus");
	const char *status = "other";
	if(ms && strcmp(ms, "delivered") == 0)
		status = "delivered";
	else if(ms && (strcmp(ms, "failed") == 0 || strcmp(ms, "undelivered") == 0))
		status = "failed";
	else if(ms && strcmp(ms, "sent") == 0)
		status = "accepted";
	const char *sid = form_get(&f, "MessageSid"), *code = form_get(&f, "ErrorCode");
	json_t *detail = json_pack("{s:s,s:s,s:s}", "message_status", ms ? ms : "", "sid",
	                           sid ? sid : "", "error_code", code ? code : "");
	char *text = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	st = app_delivery_receipt(req->app, id, "twilio", status, text, &req->err);
	free(text);
	form_cleanup(&f);
	return report(req, st);
}

static enum otd_status inbound(struct otd_req *req, const char *provider, const char *id,
                               const char *from, const char *text)
{
	struct otd_inbound_result r;
	enum otd_status st = app_inbound_sms(req->app, provider, id, from, text, &r, &req->err);
	if(st)
		return st;
	json_t *out = json_pack("{s:s}", "outcome", r.outcome);
	if(r.reference[0])
		json_object_set_new(out, "reference", json_string(r.reference));
	req_reply_json(req, 200, out);
	return OTD_OK;
}

/* GET /api/v1/webhooks/kannel/mo?secret=&from=%p&text=%a&id=%I (Kannel's
 * get-url). */
enum otd_status h_kannel_mo(struct otd_req *req)
{
	const char *want = req->app->cfg->delivery.kannel_mo_secret;
	const char *got = req_query(req, "secret");
	if(!want[0] || !got || strlen(got) != strlen(want) ||
	   sodium_memcmp(got, want, strlen(want)) != 0)
		return forbidden(req, "inbound message");
	const char *id = req_query(req, "id");
	return inbound(req, "kannel", id && id[0] ? id : NULL, req_query(req, "from"),
	               req_query(req, "text"));
}

/* POST /api/v1/webhooks/twilio/inbound (form: MessageSid, From, Body) */
enum otd_status h_twilio_inbound(struct otd_req *req)
{
	struct form f;
	enum otd_status st =
	    form_parse(req->body.data ? req->body.data : "", req->body.len, &f, &req->err);
	if(st)
		return st;
	st = twilio_check(req, &f, "/api/v1/webhooks/twilio/inbound", false);
	if(st == OTD_OK)
		st = inbound(req, "twilio", form_get(&f, "MessageSid"), form_get(&f, "From"),
		             form_get(&f, "Body"));
	form_cleanup(&f);
	return st;
}
