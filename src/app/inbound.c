/* Inbound text messages: "1" keeps, "2"/"3" move, the rest to the inbox. */
#include "app/inbound.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/booking.h"
#include "app/log.h"
#include "onthedot/clock.h"
#include "onthedot/utf8.h"
#include "onthedot/validate.h"
#include "store/booking.h"
#include "store/catalog.h"
#include "store/outbox.h"
#include "store/store.h"

#define BODY_MAX 2000

/* The reply's digit: "1", " 2 ", "3." count; "12" or "2 please" do not. */
static int choice(const char *body)
{
	const char *p = body;
	while(*p && isspace((unsigned char)*p))
		p++;
	if(*p < '1' || *p > '3')
		return 0;
	int d = *p - '0';
	p++;
	while(*p && (isspace((unsigned char)*p) || *p == '.' || *p == '!'))
		p++;
	return *p ? 0 : d;
}

struct target_job {
	const char *phone;
	int64_t now;
	int64_t customer_id, appointment_id;
	struct otd_hold offers[3];
	size_t n_offers;
	char reference[16];
	bool seen; /* this provider message was handled before */
	const char *provider, *provider_id;
};

/* The windows "2" and "3" name: those the latest apology listed, in its
 * order (a lapsed one stays in its place, so "3" never slides onto the
 * window that was "2"); without an apology, the live offers held for the
 * appointment, earliest first. */
static enum otd_status offers_named(struct otd_conn *c, struct target_job *j, struct otd_error *err)
{
	char *detail = NULL;
	enum otd_status st = store_last_event_detail(c, j->appointment_id, "apology", &detail, err);
	if(st)
		return st;
	if(!detail)
		return store_hold_offers(c, j->appointment_id, j->now, j->offers, 3, &j->n_offers,
		                         err);
	json_t *d = json_loads(detail, 0, NULL);
	free(detail);
	json_t *offers = d ? json_object_get(d, "offers") : NULL;
	j->n_offers = 0;
	for(size_t i = 0; st == OTD_OK && i < json_array_size(offers) && i < 3; i++) {
		json_int_t id =
		    json_integer_value(json_object_get(json_array_get(offers, i), "hold_id"));
		struct otd_hold h;
		memset(&h, 0, sizeof(h));
		st = id > 0 ? store_hold_get(c, id, j->now, &h, err) : OTD_ENOTFOUND;
		if(st == OTD_ENOTFOUND ||
		   (st == OTD_OK && h.for_appointment != j->appointment_id)) {
			otd_error_clear(err);
			memset(&h, 0, sizeof(h)); /* gone: its number answers offer_gone */
			st = OTD_OK;
		}
		j->offers[j->n_offers++] = h;
	}
	json_decref(d);
	return st;
}

static enum otd_status target_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct target_job *j = arg;
	enum otd_status st = OTD_OK;
	if(j->provider_id) {
		st = store_inbound_seen(c, j->provider, j->provider_id, &j->seen, err);
		if(st || j->seen)
			return st;
	}
	st = store_inbound_target(c, j->phone, j->now, &j->customer_id, &j->appointment_id, err);
	if(st == OTD_OK && j->appointment_id) {
		struct otd_appointment a;
		st = store_appointment_get(c, j->appointment_id, &a, err);
		if(st == OTD_OK)
			snprintf(j->reference, sizeof(j->reference), "%s", a.reference);
		if(st == OTD_OK)
			st = offers_named(c, j, err);
	}
	return st;
}

struct record_job {
	struct otd_inbound m;
	int64_t id;
	int keep; /* "1": record that the customer keeps the window */
};

static enum otd_status record_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct record_job *j = arg;
	enum otd_status st = store_inbound_insert(tx, &j->m, &j->id, err);
	/* Keeping the window frees the windows held in case they wanted
	 * another. */
	if(st == OTD_OK && j->keep && j->m.appointment_id)
		st = store_holds_drop_offers(tx, j->m.appointment_id, "apology_offer", err);
	if(st == OTD_OK && j->m.appointment_id) {
		char detail[96];
		snprintf(detail, sizeof(detail), "{\"inbound_id\":%lld,\"reply\":\"%s\"}",
		         (long long)j->id, j->m.outcome);
		st = store_appointment_event(tx, j->m.appointment_id,
		                             j->keep ? "customer_keeps_window" : "customer_replied",
		                             j->m.received_at, "customer", 0, detail, err);
	}
	return st;
}

enum otd_status app_inbound_sms(struct otd_app *app, const char *provider, const char *provider_id,
                                const char *sender, const char *body,
                                struct otd_inbound_result *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	char phone[32];
	enum otd_status st =
	    otd_phone_normalise(sender ? sender : "", app->cfg->messages.country_code, phone,
	                        sizeof(phone), "from", err);
	if(st)
		return st;
	size_t len = body ? strlen(body) : 0;
	if(len > BODY_MAX)
		return otd_error_set(err, OTD_EINVAL, "too_long", "text",
		                     "The message is longer than %d bytes.", BODY_MAX);
	for(size_t i = 0; i < len;) {
		size_t k = otd_utf8_char((const unsigned char *)body + i, len - i);
		if(!k)
			return otd_error_set(err, OTD_EINVAL, "invalid_utf8", "text",
			                     "The message is not valid UTF-8.");
		i += k;
	}
	struct target_job t = {.phone = phone,
	                       .now = otd_clock_now(app->clock),
	                       .provider = provider,
	                       .provider_id = provider_id};
	st = store_read(app->store, target_read, &t, err);
	if(st)
		return st;
	if(t.seen) {
		/* The gateway sent the same message again: it was handled. */
		snprintf(out->outcome, sizeof(out->outcome), "duplicate");
		return OTD_OK;
	}
	const char *outcome;
	int d = choice(body ? body : "");
	int64_t appointment_id = t.appointment_id;
	if(!t.customer_id) {
		outcome = "unknown_sender";
	} else if(!appointment_id || d == 0) {
		outcome = "inbox";
	} else if(d == 1) {
		outcome = "kept";
	} else if((size_t)(d - 2) < t.n_offers && t.offers[d - 2].id) {
		struct otd_principal customer = {.kind = OTD_PRINCIPAL_NONE};
		snprintf(customer.ip, sizeof(customer.ip), "sms");
		struct otd_appointment_view v = {0};
		struct otd_error rerr;
		otd_error_clear(&rerr);
		st = app_reschedule(app, &customer, appointment_id, NULL, t.offers[d - 2].id, true,
		                    NULL, &v, &rerr);
		otd_appointment_view_cleanup(&v);
		if(st == OTD_EBUSY || st == OTD_EIO) {
			*err = rerr;
			return st;
		}
		outcome = st == OTD_OK ? "moved" : "offer_gone";
	} else {
		outcome = "offer_gone";
	}
	struct record_job r = {.m = {.provider = provider,
	                             .provider_id = provider_id,
	                             .sender = phone,
	                             .body = body ? body : "",
	                             .customer_id = t.customer_id,
	                             .appointment_id = appointment_id,
	                             .outcome = outcome,
	                             .received_at = t.now},
	                       .keep = strcmp(outcome, "kept") == 0};
	st = store_write(app->store, record_write, &r, err);
	if(st == OTD_ECONFLICT && provider_id) {
		/* The gateway sent the same message again. */
		otd_error_clear(err);
		snprintf(out->outcome, sizeof(out->outcome), "duplicate");
		return OTD_OK;
	}
	if(st)
		return st;
	snprintf(out->outcome, sizeof(out->outcome), "%s", outcome);
	out->message_id = r.id;
	out->appointment_id = appointment_id;
	snprintf(out->reference, sizeof(out->reference), "%s", t.reference);
	otd_log(OTD_LOG_INFO, "inbound_sms", "{s:s,s:I,s:s,s:I}", "provider", provider,
	        "inbound_id", (json_int_t)r.id, "outcome", outcome, "appointment_id",
	        (json_int_t)appointment_id);
	return OTD_OK;
}
