/* Fuzz target: POST/PATCH /api/v1/visitors body decoding and the record
 * validation that follows it (shifts with RRULEs expanded in a zone). */
#include <assert.h>
#include <string.h>

#include "app/tzload.h"
#include "fuzz_json.h"
#include "http/decode.h"
#include "onthedot/tz.h"
#include "onthedot/validate.h"

static struct otd_tz *tz;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(!tz) {
		/* A fixed two-transition table: the fuzzer must not depend on tzdata. */
		static const int64_t at[] = {1774746000, 1792890000};
		static const int32_t off[] = {3600, 0};
		tz = otd_tz_new("Europe/London", 0, at, off, 2);
	}
	json_t *body = fuzz_json_object(data, size);
	if(!body)
		return 0;
	for(int create = 0; create <= 1; create++) {
		struct otd_visitor v;
		unsigned set;
		bool confirm;
		struct otd_error err;
		otd_error_clear(&err);
		if(visitor_decode(body, create, &v, &set, &confirm, &err) == OTD_OK) {
			for(size_t i = 0; i < v.n_shifts; i++)
				if(!v.shifts[i].tzid[0])
					memcpy(v.shifts[i].tzid, "Europe/London", 14);
			if(create && otd_visitor_validate(&v, tz, &err) == OTD_OK)
				(void)otd_window_in_shifts(v.shifts, v.n_shifts, tz, 1774000000, 1774003600);
		} else {
			assert(err.status != OTD_OK && err.message[0]);
		}
		otd_visitor_cleanup(&v);
	}
	json_decref(body);
	return 0;
}
