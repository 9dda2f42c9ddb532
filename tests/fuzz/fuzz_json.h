/* Shared by the JSON body fuzz targets: parse the input as the server does
 * (duplicate keys rejected, an object required), then decode. */
#ifndef OTD_FUZZ_JSON_H
#define OTD_FUZZ_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

static inline json_t *fuzz_json_object(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if(root && !json_is_object(root)) {
		json_decref(root);
		return NULL;
	}
	return root;
}

#endif
