/* Publishing changes to every node's live streams (app/publish.h). */
#include "app/publish.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/log.h"
#include "onthedot/mem.h"
#include "store/notify.h"

struct otd_bus_link {
	char node[OTD_NODE_ID_LEN + 1];
	struct otd_app *app;
	struct store_listener *listener;
	_Atomic bool failing; /* the last notify failed: log the next success once */
};

static const char RESET_DATA[] = "{\"reason\":\"missed\"}";

char *bus_payload_encode(const char *node, const struct otd_bus_event *ev, size_t max)
{
	if(!ev->type)
		return NULL;
	json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:s?,s:s?}", "node", node, "type", ev->type,
	                      "appointment_id", (json_int_t)ev->appointment_id, "visitor_id",
	                      (json_int_t)ev->visitor_id, "staff", ev->staff_json, "customer",
	                      ev->customer_json);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if(text && strlen(text) <= max)
		return text;
	free(text);
	/* Too long (or not UTF-8): the ids only, and the other nodes reload. */
	o = json_pack("{s:s,s:s,s:I,s:I,s:b,s:b}", "node", node, "type", ev->type, "appointment_id",
	              (json_int_t)ev->appointment_id, "visitor_id", (json_int_t)ev->visitor_id,
	              "customer", ev->customer_json != NULL, "reload", 1);
	text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if(text && strlen(text) <= max)
		return text;
	free(text);
	return NULL;
}

void bus_payload_free(struct bus_payload *p)
{
	if(!p)
		return;
	free(p->staff);
	free(p->customer);
	memset(p, 0, sizeof(*p));
}

/* Copies a JSON string of at most size - 1 bytes into buf. */
static bool copy_string(json_t *v, char *buf, size_t size)
{
	if(!json_is_string(v) || json_string_length(v) >= size ||
	   strlen(json_string_value(v)) != json_string_length(v))
		return false;
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return true;
}

bool bus_payload_decode(const char *payload, struct bus_payload *out)
{
	memset(out, 0, sizeof(*out));
	json_t *o = json_loads(payload, JSON_REJECT_DUPLICATES, NULL);
	json_t *aid = json_object_get(o, "appointment_id");
	json_t *vid = json_object_get(o, "visitor_id");
	json_t *reload = json_object_get(o, "reload");
	json_t *staff = json_object_get(o, "staff");
	json_t *customer = json_object_get(o, "customer");
	bool ok =
	    json_is_object(o) &&
	    copy_string(json_object_get(o, "node"), out->node, sizeof(out->node)) && out->node[0] &&
	    copy_string(json_object_get(o, "type"), out->type, sizeof(out->type)) && out->type[0] &&
	    json_is_integer(aid) && json_is_integer(vid) && (!reload || json_is_boolean(reload));
	if(ok && json_is_true(reload)) {
		if(!json_is_boolean(customer)) {
			ok = false;
		} else {
			out->reload = true;
			out->staff = xstrdup(RESET_DATA);
			out->customer = json_is_true(customer) ? xstrdup(RESET_DATA) : NULL;
		}
	} else if(ok) {
		if(!json_is_string(staff) ||
		   !(json_is_null(customer) || json_is_string(customer))) {
			ok = false;
		} else {
			out->staff = xstrdup(json_string_value(staff));
			out->customer =
			    json_is_string(customer) ? xstrdup(json_string_value(customer)) : NULL;
		}
	}
	if(ok) {
		out->ev.type = out->reload ? "reset" : out->type;
		out->ev.appointment_id = (int64_t)json_integer_value(aid);
		out->ev.visitor_id = (int64_t)json_integer_value(vid);
		out->ev.staff_json = out->staff;
		out->ev.customer_json = out->customer;
	}
	json_decref(o);
	if(!ok)
		bus_payload_free(out);
	return ok;
}

uint64_t app_publish(struct otd_app *app, const struct otd_bus_event *ev)
{
	uint64_t id = bus_publish(app->bus, ev);
	struct otd_bus_link *link = app->bus_link;
	if(!link)
		return id;
	char *payload = bus_payload_encode(link->node, ev, STORE_NOTIFY_MAX);
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st = payload ? store_notify(app->store, payload, &e)
	                             : otd_error_set(&e, OTD_EINVAL, "bad_event", NULL,
	                                             "The event cannot be encoded.");
	free(payload);
	if(st) {
		/* One line when it starts failing, one when it works again. */
		if(!atomic_exchange(&link->failing, true))
			otd_log(OTD_LOG_WARN, "nodes_notify_failed", "{s:s,s:s}", "type", ev->type,
			        "why", e.message);
	} else if(atomic_exchange(&link->failing, false)) {
		otd_log(OTD_LOG_INFO, "nodes_notify_recovered", NULL);
	}
	return id;
}

/* The listener's thread: an event of another node goes on our bus. */
static void on_payload(void *arg, const char *payload)
{
	struct otd_bus_link *link = arg;
	struct bus_payload p;
	if(!bus_payload_decode(payload, &p)) {
		otd_log(OTD_LOG_WARN, "nodes_payload_ignored", "{s:i}", "bytes",
		        (int)strlen(payload));
		return;
	}
	if(strcmp(p.node, link->node) != 0)
		bus_publish(link->app->bus, &p.ev);
	bus_payload_free(&p);
}

static void on_state(void *arg, const char *event, const char *detail)
{
	struct otd_bus_link *link = arg;
	bool back = strcmp(event, "store_listen_restored") == 0;
	otd_log(back ? OTD_LOG_INFO : OTD_LOG_WARN, event, "{s:s}", "detail", detail);
	if(back) { /* what the other nodes sent meanwhile is lost: reload */
		struct otd_bus_event ev = {.type = "reset", .staff_json = RESET_DATA};
		bus_publish(link->app->bus, &ev);
	}
}

enum otd_status app_publish_start(struct otd_app *app, struct otd_error *err)
{
	if(!app->bus || !store_is_shared(app->store) || app->bus_link)
		return OTD_OK;
	struct otd_bus_link *link = xcalloc(1, sizeof(*link));
	link->app = app;
	_Static_assert(sizeof(app->node_id) == sizeof(link->node), "one node id");
	memcpy(link->node, app->node_id, sizeof(link->node)); /* random: unique to this process */
	struct store_listen_hooks hooks = {.payload = on_payload, .state = on_state, .arg = link};
	enum otd_status st = store_listen_start(app->store, &hooks, &link->listener, err);
	if(st) {
		free(link);
		return st;
	}
	app->bus_link = link;
	otd_log(OTD_LOG_INFO, "nodes_listening", "{s:s}", "node", link->node);
	return OTD_OK;
}

void app_publish_stop(struct otd_app *app)
{
	struct otd_bus_link *link = app->bus_link;
	if(!link)
		return;
	store_listen_stop(link->listener);
	app->bus_link = NULL;
	free(link);
}
