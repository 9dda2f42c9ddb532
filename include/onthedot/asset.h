/* onthedot: files embedded into the binary at build time (schema
 * migrations, message templates, web assets, the OpenAPI document). */
#ifndef ONTHEDOT_ASSET_H
#define ONTHEDOT_ASSET_H

#include <stddef.h>

struct otd_asset {
	const char *name;          /* file name, "001_init.sql" */
	const unsigned char *data; /* NUL-terminated */
	size_t len;                /* without the NUL */
};

/* Migrations, sorted by name (schema/NNN_name.sql). */
extern const struct otd_asset otd_schema[];
extern const size_t otd_schema_count;

/* Default message templates (contrib/templates/NAME.tmpl), sorted by
 * name; core parses them (onthedot/message.h). */
extern const struct otd_asset otd_templates[];
extern const size_t otd_templates_count;

/* Web assets (src/web): pages, styles, scripts, openapi.json. */
extern const struct otd_asset otd_web[];
extern const size_t otd_web_count;

/* Finds a web asset by file name; NULL when absent. */
const struct otd_asset *otd_web_find(const char *name);

#endif
