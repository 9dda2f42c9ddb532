/* Fuzz target: the booking request bodies: POST /api/v1/holds,
 * POST /api/v1/appointments and the reschedule body. The first byte picks
 * the decoder; the rest is parsed as the server parses a body (duplicate
 * keys rejected, an object required). On success each decoder's promises
 * are checked: required fields present, strings pointing into the body
 * within their limits, exactly one of "hold" and "offer". */
#include <assert.h>
#include <string.h>

#include "app/booking.h"
#include "fuzz_json.h"
#include "http/decode.h"
#include "http/json_in.h"

/* A string the decoder handed out: the body's own value for name. */
static void check_str(const json_t *body, const char *name, const char *got, size_t max_chars)
{
	const json_t *v = json_object_get(body, name);
	if(!got) {
		assert(!v || json_is_null(v));
		return;
	}
	assert(json_is_string(v) && json_string_value(v) == got);
	assert(utf8_length(got) <= max_chars);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(size < 1)
		return 0;
	json_t *body = fuzz_json_object(data + 1, size - 1);
	if(!body)
		return 0;
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st;
	switch(data[0] % 3) {
	case 0: {
		int64_t address = -1, type = -1, start = 0;
		const char *link = NULL;
		st = hold_decode(body, &address, &type, &start, &link, &err);
		if(st == OTD_OK) {
			assert(address >= 1 && type >= 1);
			check_str(body, "link", link, 64);
			assert(json_is_string(json_object_get(body, "window_start")));
		} else {
			assert(err.code[0] || err.field[0]);
		}
		break;
	}
	case 1: {
		struct otd_booking_request req;
		st = booking_decode(body, &req, &err);
		if(st == OTD_OK) {
			assert(req.hold_token && req.name && req.name[0]);
			check_str(body, "hold", req.hold_token, 64);
			check_str(body, "name", req.name, 200);
			check_str(body, "phone", req.phone, 32);
			check_str(body, "email", req.email, 254);
			check_str(body, "access_notes", req.access_notes, 2000);
			assert(req.idem == NULL);
			const json_t *consent = json_object_get(body, "consent");
			assert(json_is_object(consent));
			assert(req.consent_sms == json_is_true(json_object_get(consent, "sms")));
			assert(req.consent_email ==
			       json_is_true(json_object_get(consent, "email")));
		} else {
			assert(err.code[0] || err.field[0]);
		}
		break;
	}
	default: {
		const char *hold = NULL, *reason = NULL;
		int64_t offer = -1;
		st = reschedule_decode(body, &hold, &offer, &reason, &err);
		if(st == OTD_OK) {
			assert((hold != NULL) != (offer != 0));
			assert(offer >= 0);
			check_str(body, "hold", hold, 64);
			check_str(body, "reason", reason, 500);
		} else {
			assert(err.code[0] || err.field[0]);
		}
		break;
	}
	}
	json_decref(body);
	return 0;
}
