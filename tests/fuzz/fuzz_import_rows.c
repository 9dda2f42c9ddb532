/* Fuzz target: import files end to end without a database: the CSV reader,
 * the header mapping and the row decoders of the gazetteer, visit types
 * and visitors. The first byte picks the kind. */
#include <assert.h>
#include <string.h>

#include "onthedot/csv.h"
#include "onthedot/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(size < 1)
		return 0;
	int kind = data[0] % 3;
	const char *const *cols = kind == 0   ? OTD_GAZETTEER_COLUMNS
	                          : kind == 1 ? OTD_VISIT_TYPE_COLUMNS
	                                      : OTD_VISITOR_COLUMNS;
	size_t req = kind == 0 ? OTD_GAZETTEER_REQUIRED
	             : kind == 1 ? OTD_VISIT_TYPE_REQUIRED
	                         : OTD_VISITOR_REQUIRED;
	size_t count = kind == 0 ? OTD_GAZETTEER_COUNT
	               : kind == 1 ? OTD_VISIT_TYPE_COUNT
	                           : OTD_VISITOR_COUNT;
	struct otd_csv csv;
	otd_csv_init(&csv, (const char *)data + 1, size - 1, 4096, 32);
	struct otd_csv_row row;
	struct otd_error err;
	int idx[16];
	if(otd_csv_next(&csv, &row, &err) == OTD_OK &&
	   otd_csv_header(&row, cols, req, count, idx, &err) == OTD_OK) {
		while(otd_csv_next(&csv, &row, &err) == OTD_OK) {
			if(kind == 0) {
				struct otd_address a;
				if(otd_gazetteer_row(&row, idx, &a, &err) == OTD_OK)
					assert(a.match_key && a.lat >= -90 && a.lat <= 90);
				otd_address_cleanup(&a);
			} else if(kind == 1) {
				struct otd_visit_type t;
				(void)otd_visit_type_row(&row, idx, &t, &err);
				otd_visit_type_cleanup(&t);
			} else {
				struct otd_visitor v;
				struct otd_shift sh;
				bool has;
				(void)otd_visitor_row(&row, idx, &v, &sh, &has, &err);
				otd_visitor_cleanup(&v);
				otd_shift_cleanup(&sh);
			}
		}
	}
	otd_csv_cleanup(&csv);
	return 0;
}
