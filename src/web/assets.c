/* Lookup of embedded web assets by file name. */
#include <string.h>

#include "onthedot/asset.h"

const struct otd_asset *otd_web_find(const char *name)
{
	for(size_t i = 0; i < otd_web_count; i++)
		if(strcmp(otd_web[i].name, name) == 0)
			return &otd_web[i];
	return NULL;
}
