/* The customer pages' small use cases (customer.h). */
#include "app/customer.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/catalog.h"
#include "app/delivery.h"
#include "app/config.h"
#include "onthedot/mem.h"
#include "onthedot/reference.h"
#include "onthedot/validate.h"
#include "store/booking.h"
#include "store/catalog.h"
#include "store/guarantees.h"
#include "store/tracking.h"
#include "store/gazetteer.h"
#include "store/outbox.h"
#include "store/store.h"

/* ---- an address ------------------------------------------------------------ */

struct address_job {
	int64_t id;
	struct otd_address *out;
};

static enum otd_status address_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct address_job *j = arg;
	return store_address_get(c, j->id, j->out, err);
}

enum otd_status app_address_get(struct otd_app *app, int64_t id, struct otd_address *out,
                                struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct address_job j = {.id = id, .out = out};
	return store_read(app->store, address_read, &j, err);
}

/* ---- "my address isn't listed" ----------------------------------------------- */

struct request_job {
	struct otd_customer c;
	char *body;
	int64_t now;
};

static enum otd_status request_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct request_job *j = arg;
	/* A new contact: this form must never rename or change a stored one. */
	enum otd_status st = store_customer_insert(tx, &j->c, j->now, err);
	if(st)
		return st;
	struct otd_inbound m = {.provider = "web",
	                        .sender = j->c.phone[0] ? j->c.phone : "web form",
	                        .body = j->body,
	                        .customer_id = j->c.id,
	                        .outcome = "inbox",
	                        .received_at = j->now};
	int64_t id;
	return store_inbound_insert(tx, &m, &id, err);
}

enum otd_status app_address_request(struct otd_app *app, const struct otd_address_request *r,
                                    struct otd_error *err)
{
	enum otd_status st;
	if((st = otd_text_validate(r->address ? r->address : "", 5, 500, true, "address", err)) ||
	   (st = otd_text_validate(r->name ? r->name : "", 1, 200, false, "name", err)))
		return st;
	struct request_job j = {.now = otd_clock_now(app->clock)};
	bool phone = r->phone && r->phone[0], email = r->email && r->email[0];
	if(!phone && !email)
		return otd_error_set(
		    err, OTD_EINVAL, "missing_contact", "contact",
		    "Give a phone number or an email address so we can reach you.");
	if(phone && (st = otd_phone_normalise(r->phone, app->cfg->messages.country_code, j.c.phone,
	                                      sizeof(j.c.phone), "phone", err)))
		return st;
	if(email &&
	   (st = otd_email_normalise(r->email, j.c.email, sizeof(j.c.email), "email", err)))
		return st;
	char type[220] = "";
	if(r->visit_type_id) {
		struct otd_visit_type t;
		if(app_visit_type_get(app, r->visit_type_id, &t, NULL) == OTD_OK) {
			snprintf(type, sizeof(type), " for a visit: %s", t.name);
			otd_visit_type_cleanup(&t);
		}
	}
	j.c.name = (char *)r->name;
	j.c.access_notes = (char *)"";
	j.body = xasprintf("Address not listed%s. The customer wrote: %s", type, r->address);
	/* The inbox keeps at most 2000 bytes; the address is at most 500
	 * characters (2000 bytes of UTF-8), so cut at a character boundary. */
	size_t n = strlen(j.body);
	if(n > 2000) {
		n = 2000;
		while(n > 0 && ((unsigned char)j.body[n] & 0xC0) == 0x80)
			n--;
		j.body[n] = '\0';
	}
	st = store_write(app->store, request_write, &j, err);
	free(j.body);
	return st;
}

/* ---- the doorstep code --------------------------------------------------------- */

enum otd_status app_doorstep_code(struct otd_app *app, int64_t appointment_id, char out[5],
                                  struct otd_error *err)
{
	unsigned char key[32];
	enum otd_status st = app_url_key(app, key, err);
	if(st == OTD_OK)
		otd_doorstep_code(key, appointment_id, out);
	sodium_memzero(key, sizeof(key));
	return st;
}

/* ---- keeping the window ------------------------------------------------------ */

struct keep_job {
	int64_t id;
	int64_t now;
};

static enum otd_status keep_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct keep_job *j = arg;
	struct otd_hold offers[3];
	size_t n = 0;
	enum otd_status st = store_hold_offers(tx, j->id, j->now, offers, 3, &n, err);
	if(st)
		return st;
	bool any = false;
	for(size_t i = 0; i < n; i++)
		any = any || strcmp(offers[i].purpose, "apology_offer") == 0;
	if(!any)
		return otd_error_set(
		    err, OTD_ESTATE, "nothing_held", NULL,
		    "There are no other windows held for you now; your visit stays "
		    "as it is.");
	st = store_holds_drop_offers(tx, j->id, "apology_offer", err);
	if(st == OTD_OK)
		st = store_appointment_event(tx, j->id, "customer_keeps_window", j->now, "customer",
		                             0, "{\"via\":\"web\"}", err);
	return st;
}

enum otd_status app_offer_keep(struct otd_app *app, int64_t appointment_id, struct otd_error *err)
{
	struct keep_job j = {.id = appointment_id, .now = otd_clock_now(app->clock)};
	return store_write(app->store, keep_write, &j, err);
}

/* ---- the status the page shows ------------------------------------------------- */

struct status_job {
	int64_t id;
	struct otd_customer_status *out;
};

static enum otd_status status_read(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct status_job *j = arg;
	enum otd_status st = store_appointment_risk_get(c, j->id, &j->out->risk, err);
	if(st == OTD_ENOTFOUND) {
		memset(&j->out->risk, 0, sizeof(j->out->risk));
		snprintf(j->out->risk.risk, sizeof(j->out->risk.risk), "ok");
		st = OTD_OK;
	}
	if(st == OTD_OK)
		st = store_cases_of_appointment(c, j->id, j->out->cases, 4, &j->out->n_cases, err);
	return st;
}

enum otd_status app_customer_status(struct otd_app *app, int64_t appointment_id,
                                    struct otd_customer_status *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct status_job j = {.id = appointment_id, .out = out};
	return store_read(app->store, status_read, &j, err);
}

/* ---- letting a hold go ----------------------------------------------------------- */

static enum otd_status release_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	enum otd_status st = store_hold_delete(tx, *(int64_t *)arg, err);
	return st == OTD_ENOTFOUND ? OTD_OK : st;
}

enum otd_status app_hold_release(struct otd_app *app, int64_t hold_id, struct otd_error *err)
{
	return store_write(app->store, release_write, &hold_id, err);
}
