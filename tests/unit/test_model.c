/* Unit tests: role names and the cleanup functions of the domain records
 * (core/model.c). */
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "onthedot/model.h"
#include "testutil.h"

START_TEST(role_names_round_trip)
{
	static const struct {
		unsigned bit;
		const char *name;
	} roles[] = {{OTD_ROLE_ADMIN, "admin"},
	             {OTD_ROLE_DISPATCHER, "dispatcher"},
	             {OTD_ROLE_FINANCE, "finance"},
	             {OTD_ROLE_VISITOR, "visitor"}};
	for(size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		ck_assert_str_eq(otd_role_name(roles[i].bit), roles[i].name);
		ck_assert_uint_eq(otd_role_parse(roles[i].name), roles[i].bit);
		ck_assert_uint_eq(otd_role_parse(otd_role_name(roles[i].bit)), roles[i].bit);
	}
	/* The four bits are distinct. */
	ck_assert_uint_eq(
	    OTD_ROLE_ADMIN | OTD_ROLE_DISPATCHER | OTD_ROLE_FINANCE | OTD_ROLE_VISITOR, 15);
}
END_TEST

START_TEST(unknown_roles_have_no_name)
{
	ck_assert_str_eq(otd_role_name(0), "");
	ck_assert_str_eq(otd_role_name(OTD_ROLE_ADMIN | OTD_ROLE_VISITOR), "");
	ck_assert_str_eq(otd_role_name(1u << 4), "");
	ck_assert_str_eq(otd_role_name(~0u), "");
	static const char *const bad[] = {"",       "Admin", "ADMIN",    "admin ",
	                                  " admin", "root",  "dispatch", "visitors"};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(otd_role_parse(bad[i]) == 0, "parsed \"%s\"", bad[i]);
}
END_TEST

START_TEST(cleanups_free_everything_and_zero)
{
	/* LeakSanitizer checks that nothing is left behind. */
	struct otd_visitor v = {0};
	v.id = 7;
	v.name = xstrdup("Ann");
	v.role_title = xstrdup("Engineer");
	v.phone = xstrdup("+441632960001");
	v.email = xstrdup("ann@example.org");
	v.n_skills = 2;
	v.skills = xcalloc(2, sizeof(char *));
	v.skills[0] = xstrdup("gas");
	v.skills[1] = xstrdup("water");
	v.n_shifts = 2;
	v.shifts = xcalloc(2, sizeof(*v.shifts));
	v.shifts[1].n_exdates = 2;
	v.shifts[1].exdates = xcalloc(2, sizeof(*v.shifts[1].exdates));
	v.active = true;
	otd_visitor_cleanup(&v);
	struct otd_visitor zero = {0};
	ck_assert(memcmp(&v, &zero, sizeof(v)) == 0);
	otd_visitor_cleanup(&v); /* twice is fine */

	struct otd_shift s = {0};
	s.n_exdates = 1;
	s.exdates = xcalloc(1, sizeof(*s.exdates));
	otd_shift_cleanup(&s);
	ck_assert_ptr_null(s.exdates);
	ck_assert_uint_eq(s.n_exdates, 0);

	struct otd_visit_type t = {0};
	t.name = xstrdup("Boiler repair");
	t.window_min = 60;
	otd_visit_type_cleanup(&t);
	ck_assert_ptr_null(t.name);
	ck_assert_int_eq(t.window_min, 0);

	struct otd_address a = {0};
	a.line1 = xstrdup("1 High St");
	a.line2 = xstrdup("");
	a.town = xstrdup("Wrenfield");
	a.match_key = xstrdup("1 high st|AB12CD");
	a.lat = 52;
	otd_address_cleanup(&a);
	ck_assert_ptr_null(a.line1);
	ck_assert_ptr_null(a.match_key);
	ck_assert_double_eq(a.lat, 0);
	otd_address_cleanup(&a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("model");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, role_names_round_trip);
	tcase_add_test(tc, unknown_roles_have_no_name);
	tcase_add_test(tc, cleanups_free_everything_and_zero);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
