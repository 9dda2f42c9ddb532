/* Fuzz target: POST/PATCH /api/v1/visit-types body decoding. */
#include <assert.h>

#include "fuzz_json.h"
#include "http/decode.h"
#include "onthedot/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = fuzz_json_object(data, size);
	if(!body)
		return 0;
	for(int create = 0; create <= 1; create++) {
		struct otd_visit_type t;
		unsigned set;
		struct otd_error err;
		otd_error_clear(&err);
		if(visit_type_decode(body, create, &t, &set, &err) == OTD_OK) {
			if(create)
				(void)otd_visit_type_validate(&t, &err);
		} else {
			assert(err.message[0]);
		}
		otd_visit_type_cleanup(&t);
	}
	json_decref(body);
	return 0;
}
