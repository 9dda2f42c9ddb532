/* The providers: SMTP (libcurl's MIME), Kannel sendsms, a Twilio-style
 * Messages API and a generic signed JSON webhook. */
#include "notify/provider.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/sign.h"
#include "onthedot/mail.h"
#include "onthedot/sms.h"

/* ---- shared ----------------------------------------------------------- */

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static enum otd_status need(const char *value, const char *what, struct otd_error *err)
{
	if(value && value[0])
		return OTD_OK;
	return otd_error_set(err, OTD_EINVAL, "bad_payload", NULL, "The message has no %s.", what);
}

/* Appends name=value (URL-encoded) to a query or form body. */
static void form_add(CURL *easy, struct otd_buf *b, const char *name, const char *value)
{
	char *v = curl_easy_escape(easy, value, 0);
	otd_buf_printf(b, "%s%s=%s", b->len ? "&" : "", name, v ? v : "");
	curl_free(v);
}

/* What a libcurl error means for a retry: a passing network trouble, or
 * something only a person can fix (a wrong URL, refused credentials, a
 * certificate that does not verify). */
static enum delivery_kind curl_kind(CURLcode rc)
{
	switch(rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_LOGIN_DENIED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_REMOTE_ACCESS_DENIED:
	case CURLE_SSL_CERTPROBLEM: return DELIVERY_PERMANENT;
	default: return DELIVERY_RETRY;
	}
}

/* Whether a transfer that failed with rc may still have reached the
 * gateway: the request went out and the answer never came. */
static bool maybe_delivered(struct transfer *t, CURLcode rc)
{
	if(rc != CURLE_OPERATION_TIMEDOUT && rc != CURLE_RECV_ERROR && rc != CURLE_GOT_NOTHING &&
	   rc != CURLE_PARTIAL_FILE && rc != CURLE_SEND_ERROR)
		return false;
	long code = 0, sent = 0;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &sent);
	/* SMTP: the server took DATA (354) and the message went after it. */
	if(code == 354)
		return true;
	return sent > 0 && code == 0;
}

static void curl_failed(struct transfer *t, CURLcode rc, struct delivery_result *r, char *why,
                        size_t why_size)
{
	r->kind = maybe_delivered(t, rc) ? DELIVERY_UNCERTAIN : curl_kind(rc);
	snprintf(why, why_size, "%s: %s", curl_easy_strerror(rc), t->errbuf[0] ? t->errbuf : "-");
	r->error = why;
}

/* A gateway's answer for our log and last_error, without what may be
 * personal: runs of five or more digits (phone numbers) are elided. */
static void sanitised(const char *body, char *out, size_t size)
{
	size_t k = 0;
	for(const char *p = body; *p && k + 4 < size;) {
		size_t d = strspn(p, "0123456789");
		if(d >= 5) {
			memcpy(out + k, "...", 3);
			k += 3;
			p += d;
			continue;
		}
		if(d == 0) {
			out[k++] = (*p == '\r' || *p == '\n') ? ' ' : *p;
			p++;
		} else {
			size_t n = d < size - 1 - k ? d : size - 1 - k;
			memcpy(out + k, p, n);
			k += n;
			p += d;
		}
	}
	out[k] = '\0';
}

/* HTTP gateways: 2xx accepted; 408, 429 and 5xx passing; other 4xx
 * permanent. */
static void http_outcome(struct transfer *t, CURLcode rc, struct delivery_result *r, char *why,
                         size_t why_size, bool accepted)
{
	if(rc != CURLE_OK) {
		curl_failed(t, rc, r, why, why_size);
		return;
	}
	long code = 0;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	if(code >= 200 && code < 300 && accepted) {
		r->kind = DELIVERY_SENT;
		return;
	}
	char body[201];
	sanitised(t->response.data ? t->response.data : "", body, sizeof(body));
	snprintf(why, why_size, "HTTP %ld: %s", code, body);
	r->error = why;
	if(code >= 200 && code < 300) /* a 2xx that did not say accepted: it may have */
		r->kind = DELIVERY_UNCERTAIN;
	else if(code == 408 || code == 429 || code >= 500 || code == 0)
		r->kind = DELIVERY_RETRY;
	else
		r->kind = DELIVERY_PERMANENT;
}

/* A callback URL naming message id, authenticated by a token. */
static char *callback_url(const struct provider_env *env, const char *path, int64_t id,
                          const char *extra)
{
	char msg[64], token[OTD_URL_TOKEN_SIZE];
	snprintf(msg, sizeof(msg), "dlr:%lld", (long long)id);
	otd_url_token(env->url_key, msg, token);
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_printf(&b, "%s%s?id=%lld&t=%s%s", env->base_url, path, (long long)id, token,
	               extra ? extra : "");
	return otd_buf_steal(&b);
}

/* ---- SMTP ------------------------------------------------------------- */

static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at ? at + 1 : "localhost";
}

static enum otd_status add_header(struct transfer *t, char *line)
{
	struct curl_slist *n = line ? curl_slist_append(t->headers, line) : NULL;
	free(line);
	if(!n)
		return OTD_ENOMEM;
	t->headers = n;
	return OTD_OK;
}

static curl_mimepart *text_part(curl_mime *mime, const char *data, const char *type,
                                const char *encoder)
{
	curl_mimepart *p = curl_mime_addpart(mime);
	curl_mime_data(p, data, CURL_ZERO_TERMINATED);
	curl_mime_type(p, type);
	curl_mime_encoder(p, encoder);
	return p;
}

static enum otd_status smtp_prepare(const struct provider_env *env, struct transfer *t,
                                    struct otd_error *err)
{
	const struct otd_config *cfg = env->cfg;
	json_t *p = json_loads(t->m.payload, 0, NULL);
	if(!p)
		return otd_error_set(err, OTD_EINVAL, "bad_payload", NULL,
		                     "The message's payload is not JSON.");
	const char *to = jstr(p, "to"), *from = jstr(p, "from");
	if(!from[0])
		from = cfg->messages.email_from;
	enum otd_status st = need(to, "email address", err);
	if(st == OTD_OK)
		st = need(jstr(p, "text"), "text", err);
	char *line = NULL;
	if(st == OTD_OK)
		st = otd_mail_header_mailbox("From", cfg->organisation, from, &line, err);
	if(st == OTD_OK)
		st = add_header(t, line);
	if(st == OTD_OK)
		st = otd_mail_header_mailbox("To", jstr(p, "to_name"), to, &line, err);
	if(st == OTD_OK)
		st = add_header(t, line);
	if(st == OTD_OK)
		st = otd_mail_header_text("Subject", jstr(p, "subject"), &line, err);
	if(st == OTD_OK)
		st = add_header(t, line);
	char id[OTD_MAIL_MESSAGE_ID_SIZE], date[OTD_MAIL_DATE_SIZE];
	/* The key, not the row: a message re-sent after a crash keeps its id. */
	if(st == OTD_OK)
		st = otd_mail_message_id(t->m.idem_key, domain_of(from), id, sizeof(id), err);
	if(st == OTD_OK) {
		snprintf(t->provider_id, sizeof(t->provider_id), "%s", id);
		otd_mail_date(env->now, date, sizeof(date));
		st = add_header(t, xasprintf("Date: %s", date));
	}
	if(st == OTD_OK)
		st = add_header(t, xasprintf("Message-ID: %s", id));
	if(st == OTD_OK)
		st = add_header(t, xstrdup("Auto-Submitted: auto-generated"));
	if(st) {
		json_decref(p);
		return st;
	}
	/* multipart/mixed { multipart/alternative { text, html, calendar },
	 * invite.ics } (TRAPS.md): calendars show the inline part, other
	 * clients offer the attachment. */
	t->mime = curl_mime_init(t->easy);
	curl_mime *alt = curl_mime_init(t->easy);
	text_part(alt, jstr(p, "text"), "text/plain; charset=UTF-8", "quoted-printable");
	if(jstr(p, "html")[0])
		text_part(alt, jstr(p, "html"), "text/html; charset=UTF-8", "quoted-printable");
	const char *ics = jstr(p, "ics"), *method = jstr(p, "ics_method");
	if(ics[0]) {
		char type[96];
		snprintf(type, sizeof(type), "text/calendar; method=%s; charset=UTF-8",
		         method[0] ? method : "REQUEST");
		text_part(alt, ics, type, "quoted-printable");
	}
	curl_mimepart *ap = curl_mime_addpart(t->mime);
	curl_mime_subparts(ap, alt);
	curl_mime_type(ap, "multipart/alternative");
	if(ics[0]) {
		curl_mimepart *att = text_part(t->mime, ics, "application/ics", "base64");
		curl_mime_filename(att, "invite.ics");
	}
	char *mail_from = xasprintf("<%s>", from), *rcpt = xasprintf("<%s>", to);
	t->rcpt = curl_slist_append(NULL, rcpt);
	curl_easy_setopt(t->easy, CURLOPT_URL, cfg->delivery.smtp_url);
	curl_easy_setopt(t->easy, CURLOPT_MAIL_FROM, mail_from);
	curl_easy_setopt(t->easy, CURLOPT_MAIL_RCPT, t->rcpt);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(t->easy, CURLOPT_MIMEPOST, t->mime);
	curl_easy_setopt(t->easy, CURLOPT_USE_SSL,
	                 cfg->delivery.smtp_require_tls ? (long)CURLUSESSL_ALL
	                                                : (long)CURLUSESSL_TRY);
	if(cfg->delivery.smtp_cafile[0])
		curl_easy_setopt(t->easy, CURLOPT_CAINFO, cfg->delivery.smtp_cafile);
	if(cfg->delivery.smtp_user[0]) {
		curl_easy_setopt(t->easy, CURLOPT_USERNAME, cfg->delivery.smtp_user);
		curl_easy_setopt(t->easy, CURLOPT_PASSWORD, cfg->delivery.smtp_password);
	}
	free(mail_from); /* libcurl copies string options */
	free(rcpt);
	json_decref(p);
	return t->rcpt ? OTD_OK : OTD_ENOMEM;
}

static void smtp_finish(struct transfer *t, CURLcode rc, struct delivery_result *r, char *why,
                        size_t why_size)
{
	if(rc == CURLE_OK) {
		r->kind = DELIVERY_SENT;
		r->provider_id = t->provider_id;
		return;
	}
	long code = 0;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_failed(t, rc, r, why, why_size);
	/* The server's own verdict: 4xx try later, 5xx never (TRAPS.md). */
	if(code >= 400 && code < 500)
		r->kind = DELIVERY_RETRY;
	else if(code >= 500 && code < 600)
		r->kind = DELIVERY_PERMANENT;
	if(code)
		snprintf(why + strlen(why), why_size - strlen(why), " (SMTP %ld)", code);
}

/* ---- Kannel ----------------------------------------------------------- */

static enum otd_status sms_payload(struct transfer *t, json_t **out, struct otd_error *err)
{
	json_t *p = json_loads(t->m.payload, 0, NULL);
	if(!p)
		return otd_error_set(err, OTD_EINVAL, "bad_payload", NULL,
		                     "The message's payload is not JSON.");
	enum otd_status st = need(jstr(p, "to"), "phone number", err);
	if(st == OTD_OK)
		st = need(jstr(p, "text"), "text", err);
	if(st) {
		json_decref(p);
		return st;
	}
	*out = p;
	return OTD_OK;
}

static enum otd_status kannel_prepare(const struct provider_env *env, struct transfer *t,
                                      struct otd_error *err)
{
	const struct otd_config *cfg = env->cfg;
	json_t *p;
	enum otd_status st = sms_payload(t, &p, err);
	if(st)
		return st;
	const char *text = jstr(p, "text");
	char *dlr = callback_url(env, "/api/v1/webhooks/kannel/dlr", t->m.id, "&type=%d&status=%A");
	struct otd_buf q;
	otd_buf_init(&q, 0);
	form_add(t->easy, &q, "username", cfg->delivery.kannel_user);
	form_add(t->easy, &q, "password", cfg->delivery.kannel_password);
	if(cfg->delivery.kannel_from[0])
		form_add(t->easy, &q, "from", cfg->delivery.kannel_from);
	form_add(t->easy, &q, "to", jstr(p, "to"));
	form_add(t->easy, &q, "text", text);
	form_add(t->easy, &q, "charset", "UTF-8");
	/* GSM-7 where it fits, else UCS-2 (names like Łukasz stay intact). */
	form_add(t->easy, &q, "coding", otd_sms_is_gsm7(text) ? "0" : "2");
	form_add(t->easy, &q, "dlr-mask", "27"); /* delivered, failed, smsc ack, smsc reject */
	form_add(t->easy, &q, "dlr-url", dlr);
	free(dlr);
	t->url = xasprintf("%s?%s", cfg->delivery.kannel_url, q.data);
	otd_buf_cleanup(&q);
	curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
	curl_easy_setopt(t->easy, CURLOPT_HTTPGET, 1L);
	json_decref(p);
	return OTD_OK;
}

static void kannel_finish(struct transfer *t, CURLcode rc, struct delivery_result *r, char *why,
                          size_t why_size)
{
	/* "0: Accepted for delivery" and "3: Queued for later delivery" both
	 * mean accepted (TRAPS.md). */
	const char *body = t->response.data ? t->response.data : "";
	bool accepted = strncmp(body, "0:", 2) == 0 || strncmp(body, "3:", 2) == 0;
	http_outcome(t, rc, r, why, why_size, accepted);
	if(r->kind == DELIVERY_SENT) {
		snprintf(t->provider_id, sizeof(t->provider_id), "%lld", (long long)t->m.id);
		r->provider_id = t->provider_id;
	}
}

/* ---- Twilio ----------------------------------------------------------- */

static enum otd_status twilio_prepare(const struct provider_env *env, struct transfer *t,
                                      struct otd_error *err)
{
	const struct otd_config *cfg = env->cfg;
	json_t *p;
	enum otd_status st = sms_payload(t, &p, err);
	if(st)
		return st;
	char *cb = callback_url(env, "/api/v1/webhooks/twilio/status", t->m.id, NULL);
	struct otd_buf b;
	otd_buf_init(&b, 0);
	form_add(t->easy, &b, "To", jstr(p, "to"));
	form_add(t->easy, &b, "From", cfg->delivery.twilio_from);
	form_add(t->easy, &b, "Body", jstr(p, "text"));
	form_add(t->easy, &b, "StatusCallback", cb);
	free(cb);
	t->post = otd_buf_steal(&b);
	t->userpwd = xasprintf("%s:%s", cfg->delivery.twilio_sid, cfg->delivery.twilio_token);
	curl_easy_setopt(t->easy, CURLOPT_URL, cfg->delivery.twilio_url);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->post);
	curl_easy_setopt(t->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(t->easy, CURLOPT_USERPWD, t->userpwd);
	json_decref(p);
	return OTD_OK;
}

static void twilio_finish(struct transfer *t, CURLcode rc, struct delivery_result *r, char *why,
                          size_t why_size)
{
	json_t *j = t->response.data ? json_loads(t->response.data, 0, NULL) : NULL;
	const char *sid = j ? json_string_value(json_object_get(j, "sid")) : NULL;
	http_outcome(t, rc, r, why, why_size, sid && sid[0]);
	if(r->kind == DELIVERY_SENT) {
		snprintf(t->provider_id, sizeof(t->provider_id), "%s", sid ? sid : "");
		r->provider_id = t->provider_id;
	}
	json_decref(j);
}

/* ---- the generic webhook --------------------------------------------- */

static enum otd_status webhook_prepare(const struct provider_env *env, struct transfer *t,
                                       struct otd_error *err)
{
	const struct otd_config *cfg = env->cfg;
	json_t *p = json_loads(t->m.payload, 0, NULL);
	if(!p)
		return otd_error_set(err, OTD_EINVAL, "bad_payload", NULL,
		                     "The message's payload is not JSON.");
	json_object_del(p, "alt");
	json_t *body =
	    json_pack("{s:s,s:I,s:s,s:s,s:o}", "key", t->m.idem_key, "id", (json_int_t)t->m.id,
	              "channel", t->m.channel, "template", t->m.template, "message", p);
	t->post = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(body);
	if(!t->post)
		return OTD_ENOMEM;
	char sig[OTD_WEBHOOK_SIGNATURE_SIZE];
	otd_webhook_signature(cfg->delivery.webhook_secret, t->post, strlen(t->post), sig);
	t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
	add_header(t, xasprintf("X-Onthedot-Signature: %s", sig));
	add_header(t, xasprintf("Idempotency-Key: %s", t->m.idem_key));
	curl_easy_setopt(t->easy, CURLOPT_URL, cfg->delivery.webhook_url);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->post);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	return OTD_OK;
}

static void webhook_finish(struct transfer *t, CURLcode rc, struct delivery_result *r, char *why,
                           size_t why_size)
{
	http_outcome(t, rc, r, why, why_size, true);
	if(r->kind == DELIVERY_SENT) {
		json_t *j = t->response.data ? json_loads(t->response.data, 0, NULL) : NULL;
		const char *id = j ? json_string_value(json_object_get(j, "id")) : NULL;
		snprintf(t->provider_id, sizeof(t->provider_id), "%s", id ? id : t->m.idem_key);
		r->provider_id = t->provider_id;
		json_decref(j);
	}
}

/* ---- the table -------------------------------------------------------- */

static const struct provider providers[] = {
    {"smtp", smtp_prepare, smtp_finish},
    {"kannel", kannel_prepare, kannel_finish},
    {"twilio", twilio_prepare, twilio_finish},
    {"webhook", webhook_prepare, webhook_finish},
};

const struct provider *provider_find(const char *name)
{
	for(size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if(strcmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

static enum otd_status need_key(const char *value, const char *provider, const char *key,
                                struct otd_error *err)
{
	if(value && value[0])
		return OTD_OK;
	return otd_error_set(err, OTD_EINVAL, "config_missing", key,
	                     "Provider \"%s\" is listed but %s is not set.", provider, key);
}

enum otd_status provider_check(const struct otd_config *cfg, const char *name,
                               struct otd_error *err)
{
	enum otd_status st = OTD_OK;
	if(strcmp(name, "smtp") == 0) {
		st = need_key(cfg->delivery.smtp_url, name, "delivery.smtp_url", err);
		if(st == OTD_OK && cfg->delivery.smtp_user[0])
			st = need_key(cfg->delivery.smtp_password, name, "delivery.smtp_password",
			              err);
	} else if(strcmp(name, "kannel") == 0) {
		st = need_key(cfg->delivery.kannel_url, name, "delivery.kannel_url", err);
		if(st == OTD_OK)
			st = need_key(cfg->delivery.kannel_user, name, "delivery.kannel_user", err);
		if(st == OTD_OK)
			st = need_key(cfg->delivery.kannel_password, name,
			              "delivery.kannel_password", err);
	} else if(strcmp(name, "twilio") == 0) {
		st = need_key(cfg->delivery.twilio_url, name, "delivery.twilio_url", err);
		if(st == OTD_OK)
			st = need_key(cfg->delivery.twilio_sid, name, "delivery.twilio_sid", err);
		if(st == OTD_OK)
			st = need_key(cfg->delivery.twilio_token, name, "delivery.twilio_token",
			              err);
		if(st == OTD_OK)
			st = need_key(cfg->delivery.twilio_from, name, "delivery.twilio_from", err);
	} else if(strcmp(name, "webhook") == 0) {
		st = need_key(cfg->delivery.webhook_url, name, "delivery.webhook_url", err);
		if(st == OTD_OK)
			st = need_key(cfg->delivery.webhook_secret, name, "delivery.webhook_secret",
			              err);
	} else {
		st = otd_error_set(err, OTD_EINVAL, "config_value", NULL,
		                   "Unknown provider \"%s\".", name);
	}
	return st;
}
