/* Fuzz target: the small request bodies: sign-in, the virtual clock and
 * the deactivate confirmation. The first byte picks the decoder. */
#include <assert.h>
#include <string.h>

#include "app/hasher.h"
#include "fuzz_json.h"
#include "http/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(size < 1)
		return 0;
	json_t *body = fuzz_json_object(data + 1, size - 1);
	if(!body)
		return 0;
	struct otd_error err;
	otd_error_clear(&err);
	switch(data[0] % 3) {
	case 0: {
		char login[OTD_LOGIN_MAX + 1], password[OTD_PASSWORD_MAX + 1];
		if(login_decode(body, login, password, sizeof(password), &err) == OTD_OK)
			assert(strlen(login) <= OTD_LOGIN_MAX && strlen(password) <= OTD_PASSWORD_MAX);
		break;
	}
	case 1: {
		int64_t seconds, to;
		if(clock_decode(body, &seconds, &to, &err) == OTD_OK)
			assert(seconds >= 0 && (to == 0 || seconds == 0));
		break;
	}
	default: {
		bool confirm;
		(void)confirm_decode(body, &confirm, &err);
		break;
	}
	}
	json_decref(body);
	return 0;
}
