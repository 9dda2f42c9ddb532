/* Fuzz target: the visitor events body (POST /api/v1/me/events): one event
 * or {"events": [...]}, parsed as the server parses a body (duplicate keys
 * rejected, an object required) and decoded with the server's default
 * limit of 500 events. On success each event's promises are checked: its
 * index is its place, its kind has a name, a reference looks like
 * "OTD-XXXXXX" exactly when the kind takes one, a position is on the
 * globe, a late event's minutes are in range, a note points into the
 * body; on failure the error names a status and a message. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "app/tracking.h"
#include "fuzz_json.h"
#include "http/decode.h"

#define MAX_EVENTS 500

static bool takes_reference(enum otd_vevent_kind k)
{
	return k == OTD_VEVENT_START_TRAVEL || k == OTD_VEVENT_ARRIVED || k == OTD_VEVENT_DONE ||
	       k == OTD_VEVENT_NO_ACCESS || k == OTD_VEVENT_NEEDS_ANOTHER_VISIT ||
	       k == OTD_VEVENT_CANNOT_ATTEND;
}

/* The JSON object event i came from. */
static const json_t *source(const json_t *body, size_t i)
{
	const json_t *list = json_object_get(body, "events");
	return list ? json_array_get(list, i) : body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = fuzz_json_object(data, size);
	if(!body)
		return 0;
	struct otd_vevent *v = NULL;
	size_t n = 0;
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = vevents_decode(body, MAX_EVENTS, &v, &n, &err);
	if(st == OTD_OK) {
		assert(v && n >= 1 && n <= MAX_EVENTS);
		for(size_t i = 0; i < n; i++) {
			const struct otd_vevent *e = &v[i];
			const json_t *o = source(body, i);
			assert(json_is_object(o));
			assert(e->index == i);
			assert(strcmp(otd_vevent_kind_name(e->kind), "?") != 0);
			assert(e->client_id[0] && strlen(e->client_id) <= OTD_CLIENT_EVENT_ID_MAX);
			assert(takes_reference(e->kind) == (e->reference[0] != '\0'));
			if(e->reference[0])
				assert(strlen(e->reference) == 10 &&
				       memcmp(e->reference, "OTD-", 4) == 0);
			if(e->kind == OTD_VEVENT_POSITION)
				assert(e->has_position);
			if(e->has_position)
				assert(e->lat >= -90 && e->lat <= 90 && e->lon >= -180 &&
				       e->lon <= 180);
			if(e->kind == OTD_VEVENT_LATE)
				assert(e->late_minutes >= 1 && e->late_minutes <= 1440);
			else
				assert(e->late_minutes == 0);
			assert((e->kind == OTD_VEVENT_UNAVAILABLE) == (e->reason[0] != '\0'));
			if(e->note)
				assert(e->note == json_string_value(json_object_get(o, "note")));
			if(e->kind == OTD_VEVENT_CANNOT_ATTEND)
				assert(e->note && e->note[0]);
		}
	} else {
		assert(v == NULL && n == 0);
		assert(err.status != OTD_OK && err.message[0]);
		assert(st == OTD_EINVAL || st == OTD_ETOOBIG);
	}
	free(v);
	json_decref(body);
	return 0;
}
