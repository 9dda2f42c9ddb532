/* Unit tests: the import row parsers (core/import.c) for the gazetteer,
 * visit types and visitors, fed through the real CSV reader and header
 * mapping as the imports use them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/csv.h"
#include "onthedot/import.h"
#include "onthedot/mem.h"
#include "testutil.h"

/* A header line and one data row, read and mapped. */
struct one_row {
	struct otd_csv csv;
	struct otd_csv_row row;
	int idx[16];
};

static void one_row_open(struct one_row *o, const char *text, const char *const *cols,
                         size_t n_required, size_t n_cols)
{
	struct otd_csv_row header;
	struct otd_error e;
	otd_error_clear(&e);
	otd_csv_init(&o->csv, text, strlen(text), 4096, 32);
	ck_assert_int_eq(otd_csv_next(&o->csv, &header, &e), OTD_OK);
	ck_assert_msg(otd_csv_header(&header, cols, n_required, n_cols, o->idx, &e) == OTD_OK, "%s",
	              e.message);
	ck_assert_msg(otd_csv_next(&o->csv, &o->row, &e) == OTD_OK, "%s", e.message);
}

/* ---- gazetteer ------------------------------------------------------------ */

#define GAZ_HEADER "uprn,line1,line2,town,postcode,latitude,longitude\n"

static enum otd_status gaz(const char *text, struct otd_address *a, struct otd_error *err)
{
	struct one_row o;
	one_row_open(&o, text, OTD_GAZETTEER_COLUMNS, OTD_GAZETTEER_REQUIRED, OTD_GAZETTEER_COUNT);
	otd_error_clear(err);
	enum otd_status st = otd_gazetteer_row(&o.row, o.idx, a, err);
	otd_csv_cleanup(&o.csv);
	return st;
}

static void gaz_err(const char *row, const char *code, const char *field)
{
	char *text = xasprintf(GAZ_HEADER "%s\n", row);
	struct otd_address a;
	struct otd_error e;
	ck_assert_msg(gaz(text, &a, &e) == OTD_EINVAL, "accepted: %s", row);
	ck_assert_str_eq(e.code, code);
	ck_assert_str_eq(e.field, field);
	otd_address_cleanup(&a);
	free(text);
}

START_TEST(gazetteer_row_is_trimmed_and_normalised)
{
	struct otd_address a;
	struct otd_error e;
	ck_assert_int_eq(gaz(GAZ_HEADER "100023336956,  10 Downing Street , Westminster ,"
	                                " London , sw1a   2aa ,51.503396, -0.127640 \n",
	                     &a, &e),
	                 OTD_OK);
	ck_assert_str_eq(a.uprn, "100023336956");
	ck_assert_str_eq(a.line1, "10 Downing Street");
	ck_assert_str_eq(a.line2, "Westminster");
	ck_assert_str_eq(a.town, "London");
	ck_assert_str_eq(a.postcode, "SW1A 2AA");
	ck_assert_str_eq(a.postcode_norm, "SW1A2AA");
	ck_assert_str_eq(a.match_key, "10 downing street|SW1A2AA");
	ck_assert_double_eq(a.lat, 51.503396);
	ck_assert_double_eq(a.lon, -0.12764);
	ck_assert(!a.retired);
	otd_address_cleanup(&a);
	ck_assert_ptr_null(a.line1);
}
END_TEST

START_TEST(gazetteer_optional_columns_may_be_absent)
{
	struct otd_address a;
	struct otd_error e;
	/* Only the required columns, in another order. */
	ck_assert_int_eq(
	    gaz("postcode,line1,longitude,latitude\nEC1A 1BB,1 Mill Road,-1.5,52.25\n", &a, &e),
	    OTD_OK);
	ck_assert_str_eq(a.uprn, "");
	ck_assert_str_eq(a.line1, "1 Mill Road");
	ck_assert_str_eq(a.line2, "");
	ck_assert_str_eq(a.town, "");
	ck_assert_str_eq(a.postcode, "EC1A 1BB");
	ck_assert_double_eq(a.lat, 52.25);
	ck_assert_double_eq(a.lon, -1.5);
	otd_address_cleanup(&a);
	/* An empty UPRN is none. */
	ck_assert_int_eq(gaz(GAZ_HEADER ",1 Mill Road,,,EC1A 1BB,52.25,-1.5\n", &a, &e), OTD_OK);
	ck_assert_str_eq(a.uprn, "");
	otd_address_cleanup(&a);
}
END_TEST

START_TEST(match_key_folds_case_spaces_commas_and_dots)
{
	static const char *const same[] = {
	    "\"Flat 2, 10 Downing St.\"",
	    "FLAT 2 10 DOWNING ST",
	    "\"flat  2 ,10   downing  st\"",
	    "\" Flat 2,,10 Downing St.,\"",
	};
	for(size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		char *text = xasprintf(GAZ_HEADER ",%s,,,SW1A 2AA,51.5,-0.12\n", same[i]);
		struct otd_address a;
		struct otd_error e;
		ck_assert_msg(gaz(text, &a, &e) == OTD_OK, "%s: %s", same[i], e.message);
		ck_assert_str_eq(a.match_key, "flat 2 10 downing st|SW1A2AA");
		otd_address_cleanup(&a);
		free(text);
	}
	/* A different postcode or house is a different key. */
	struct otd_address a;
	struct otd_error e;
	ck_assert_int_eq(gaz(GAZ_HEADER ",Flat 2 10 Downing St,,,SW1A 2AB,51.5,-0.12\n", &a, &e),
	                 OTD_OK);
	ck_assert_str_eq(a.match_key, "flat 2 10 downing st|SW1A2AB");
	otd_address_cleanup(&a);
	ck_assert_int_eq(gaz(GAZ_HEADER ",Flat 21 0 Downing St,,,SW1A 2AA,51.5,-0.12\n", &a, &e),
	                 OTD_OK);
	ck_assert_str_ne(a.match_key, "flat 2 10 downing st|SW1A2AA");
	otd_address_cleanup(&a);
}
END_TEST

START_TEST(gazetteer_bad_rows_name_the_column)
{
	gaz_err(",,,,AB1 2CD,52,-1", "empty", "line1");
	gaz_err(",   ,,,AB1 2CD,52,-1", "empty", "line1");
	gaz_err(",1 High St,,,,52,-1", "invalid_postcode", "postcode");
	gaz_err(",1 High St,,,A,52,-1", "invalid_postcode", "postcode");
	gaz_err(",1 High St,,,AB1-2CD,52,-1", "invalid_postcode", "postcode");
	gaz_err(",1 High St,,,ABCDEFGHIJK,52,-1", "invalid_postcode", "postcode");
	gaz_err(",1 High St,,,AB1 2CD,,-1", "invalid_number", "latitude");
	gaz_err(",1 High St,,,AB1 2CD,90.5,-1", "invalid_number", "latitude");
	gaz_err(",1 High St,,,AB1 2CD,nan,-1", "invalid_number", "latitude");
	gaz_err(",1 High St,,,AB1 2CD,52x,-1", "invalid_number", "latitude");
	gaz_err(",1 High St,,,AB1 2CD,1e2,-1", "invalid_number", "latitude");
	gaz_err(",1 High St,,,AB1 2CD,52,-180.5", "invalid_number", "longitude");
	gaz_err(",1 High St,,,AB1 2CD,52,east", "invalid_number", "longitude");
	gaz_err("1234567890123,1 High St,,,AB1 2CD,52,-1", "invalid_uprn", "uprn");
	gaz_err("12a,1 High St,,,AB1 2CD,52,-1", "invalid_uprn", "uprn");
	gaz_err("-12,1 High St,,,AB1 2CD,52,-1", "invalid_uprn", "uprn");
	/* A short row lacks its coordinates. */
	gaz_err(",1 High St,,,AB1 2CD", "invalid_number", "latitude");
	/* Control characters are not text. */
	gaz_err(",1 High St,\"a\x01"
	        "b\",,AB1 2CD,52,-1",
	        "invalid_text", "line2");
	/* The limits themselves are fine. */
	struct otd_address a;
	struct otd_error e;
	ck_assert_int_eq(gaz(GAZ_HEADER "123456789012,1 High St,,,ABCDEFGHIJ,-90,180\n", &a, &e),
	                 OTD_OK);
	ck_assert_str_eq(a.postcode, "ABCDEFGHIJ");
	ck_assert_double_eq(a.lat, -90);
	otd_address_cleanup(&a);
}
END_TEST

START_TEST(postcodes_normalise_to_display_and_search_forms)
{
	char display[11], norm[11];
	struct otd_error e;
	static const struct {
		const char *in, *display, *norm;
	} ok[] = {
	    {"sw1a 2aa", "SW1A 2AA", "SW1A2AA"},
	    {"  SW1A   2AA  ", "SW1A 2AA", "SW1A2AA"},
	    {"sw1a2aa", "SW1A2AA", "SW1A2AA"},
	    {"m1 1ae", "M1 1AE", "M11AE"},
	    {"AB", "AB", "AB"},
	    {"ABCDE FGHI", "ABCDE FGHI", "ABCDEFGHI"},
	};
	for(size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(otd_postcode_normalise(ok[i].in, display, norm, &e) == OTD_OK, "%s",
		              ok[i].in);
		ck_assert_str_eq(display, ok[i].display);
		ck_assert_str_eq(norm, ok[i].norm);
	}
	static const char *const bad[] = {
	    "",         "   ",       "A",           "A ",          "SW1A_2AA",
	    "SW1A-2AA", "SW1A 2AA!", "ABCDEFGHIJK", "ABCDE FGHIJ", "Å1 1AA"};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		otd_error_clear(&e);
		ck_assert_msg(otd_postcode_normalise(bad[i], display, norm, &e) == OTD_EINVAL,
		              "accepted \"%s\"", bad[i]);
		ck_assert_str_eq(e.code, "invalid_postcode");
		ck_assert_str_eq(e.field, "postcode");
		ck_assert_str_eq(display, "");
		ck_assert_str_eq(norm, "");
	}
}
END_TEST

/* ---- visit types ---------------------------------------------------------- */

#define VT_HEADER "code,name,skill,duration_median_minutes,window_minutes,duration_spread\n"

static enum otd_status vt(const char *text, struct otd_visit_type *t, struct otd_error *err)
{
	struct one_row o;
	one_row_open(&o, text, OTD_VISIT_TYPE_COLUMNS, OTD_VISIT_TYPE_REQUIRED,
	             OTD_VISIT_TYPE_COUNT);
	otd_error_clear(err);
	enum otd_status st = otd_visit_type_row(&o.row, o.idx, t, err);
	otd_csv_cleanup(&o.csv);
	return st;
}

static void vt_err(const char *row, const char *code, const char *field)
{
	char *text = xasprintf(VT_HEADER "%s\n", row);
	struct otd_visit_type t;
	struct otd_error e;
	ck_assert_msg(vt(text, &t, &e) == OTD_EINVAL, "accepted: %s", row);
	ck_assert_str_eq(e.code, code);
	ck_assert_str_eq(e.field, field);
	otd_visit_type_cleanup(&t);
	free(text);
}

START_TEST(visit_type_rows_parse_and_default_the_spread)
{
	struct otd_visit_type t;
	struct otd_error e;
	ck_assert_int_eq(vt(VT_HEADER " boiler-repair , Boiler repair ,gas,75.5,120,0.4\n", &t, &e),
	                 OTD_OK);
	ck_assert_str_eq(t.code, "boiler-repair");
	ck_assert_str_eq(t.name, "Boiler repair");
	ck_assert_str_eq(t.skill, "gas");
	ck_assert_double_eq(t.duration_median_min, 75.5);
	ck_assert_double_eq(t.duration_spread, 0.4);
	ck_assert_int_eq(t.window_min, 120);
	ck_assert(t.active);
	otd_visit_type_cleanup(&t);
	/* An empty spread, and no spread column at all: 0.3. */
	ck_assert_int_eq(vt(VT_HEADER "meter,Meter exchange,metering,40,60,\n", &t, &e), OTD_OK);
	ck_assert_double_eq(t.duration_spread, 0.3);
	otd_visit_type_cleanup(&t);
	ck_assert_int_eq(vt("window_minutes,code,name,skill,duration_median_minutes\n"
	                    "60,meter,Meter exchange,metering,40\n",
	                    &t, &e),
	                 OTD_OK);
	ck_assert_str_eq(t.code, "meter");
	ck_assert_int_eq(t.window_min, 60);
	ck_assert_double_eq(t.duration_spread, 0.3);
	otd_visit_type_cleanup(&t);
}
END_TEST

START_TEST(visit_type_bad_rows_name_the_column)
{
	vt_err("Boiler,Boiler,gas,75,120,0.4", "invalid_code", "code");
	vt_err(",Boiler,gas,75,120,0.4", "invalid_code", "code");
	vt_err("boiler,,gas,75,120,0.4", "empty", "name");
	vt_err("boiler,Boiler,Gas,75,120,0.4", "invalid_code", "skill");
	vt_err("boiler,Boiler,gas,0,120,0.4", "invalid_number", "duration_median_minutes");
	vt_err("boiler,Boiler,gas,721,120,0.4", "invalid_number", "duration_median_minutes");
	vt_err("boiler,Boiler,gas,long,120,0.4", "invalid_number", "duration_median_minutes");
	vt_err("boiler,Boiler,gas,75,120.5,0.4", "invalid_number", "window_minutes");
	vt_err("boiler,Boiler,gas,75,10,0.4", "invalid_number", "window_minutes");
	vt_err("boiler,Boiler,gas,75,721,0.4", "invalid_number", "window_minutes");
	vt_err("boiler,Boiler,gas,75,17,0.4", "out_of_range",
	       "window_minutes"); /* not a step of 5 */
	vt_err("boiler,Boiler,gas,75,120,3.5", "invalid_number", "duration_spread");
	vt_err("boiler,Boiler,gas,75,120,wide", "invalid_number", "duration_spread");
	char code65[66], *row;
	memset(code65, 'a', 65);
	code65[65] = '\0';
	row = xasprintf("%s,Boiler,gas,75,120,0.4", code65);
	vt_err(row, "invalid_code", "code");
	free(row);
	row = xasprintf("boiler,Boiler,%s,75,120,0.4", code65);
	vt_err(row, "invalid_code", "skill");
	free(row);
}
END_TEST

/* ---- visitors ------------------------------------------------------------- */

#define V_HEADER                                                                                   \
	"email,name,role_title,base_lat,base_lon,phone,skills,shift_start,shift_minutes,shift_"    \
	"rrule,"                                                                                   \
	"shift_exdates\n"

static enum otd_status vis(const char *text, struct otd_visitor *v, struct otd_shift *sh,
                           bool *has_shift, struct otd_error *err)
{
	struct one_row o;
	one_row_open(&o, text, OTD_VISITOR_COLUMNS, OTD_VISITOR_REQUIRED, OTD_VISITOR_COUNT);
	otd_error_clear(err);
	enum otd_status st = otd_visitor_row(&o.row, o.idx, v, sh, has_shift, err);
	otd_csv_cleanup(&o.csv);
	return st;
}

static void vis_err(const char *row, const char *code, const char *field)
{
	char *text = xasprintf(V_HEADER "%s\n", row);
	struct otd_visitor v;
	struct otd_shift sh;
	bool has = true;
	struct otd_error e;
	ck_assert_msg(vis(text, &v, &sh, &has, &e) == OTD_EINVAL, "accepted: %s", row);
	ck_assert_str_eq(e.code, code);
	ck_assert_str_eq(e.field, field);
	ck_assert(!has);
	otd_visitor_cleanup(&v);
	otd_shift_cleanup(&sh);
	free(text);
}

START_TEST(visitor_row_with_a_shift)
{
	struct otd_visitor v;
	struct otd_shift sh;
	bool has = false;
	struct otd_error e;
	ck_assert_int_eq(vis(V_HEADER
	                     "ann@example.org , Ann Lee ,Gas engineer,52.2,-1.5,"
	                     "01632 960001,\"gas; metering  water;\",2026-03-02T08:00,480,"
	                     "\"FREQ=WEEKLY;BYDAY=MO,TU\",\"2026-03-09;2026-03-16 2026-03-23\"\n",
	                     &v, &sh, &has, &e),
	                 OTD_OK);
	ck_assert(has);
	ck_assert_str_eq(v.email, "ann@example.org");
	ck_assert_str_eq(v.name, "Ann Lee");
	ck_assert_str_eq(v.role_title, "Gas engineer");
	ck_assert_str_eq(v.phone, "01632 960001"); /* normalised later, by the use case */
	ck_assert_double_eq(v.base_lat, 52.2);
	ck_assert_double_eq(v.base_lon, -1.5);
	ck_assert(v.active);
	ck_assert_uint_eq(v.n_skills, 3);
	ck_assert_str_eq(v.skills[0], "gas");
	ck_assert_str_eq(v.skills[1], "metering");
	ck_assert_str_eq(v.skills[2], "water");
	ck_assert_uint_eq(v.n_shifts, 0); /* the shift comes back separately */
	ck_assert_str_eq(sh.start, "2026-03-02T08:00:00");
	ck_assert_int_eq(sh.duration_min, 480);
	ck_assert_str_eq(sh.rrule, "FREQ=WEEKLY;BYDAY=MO,TU");
	ck_assert_uint_eq(sh.n_exdates, 3);
	ck_assert_str_eq(sh.exdates[0], "2026-03-09");
	ck_assert_str_eq(sh.exdates[1], "2026-03-16");
	ck_assert_str_eq(sh.exdates[2], "2026-03-23");
	otd_visitor_cleanup(&v);
	otd_shift_cleanup(&sh);
}
END_TEST

START_TEST(visitor_row_without_a_shift_or_optional_columns)
{
	struct otd_visitor v;
	struct otd_shift sh;
	bool has = true;
	struct otd_error e;
	ck_assert_int_eq(
	    vis(V_HEADER "bob@example.org,Bob,Planner,52,-1,,,,,,\n", &v, &sh, &has, &e), OTD_OK);
	ck_assert(!has);
	ck_assert_str_eq(v.phone, "");
	ck_assert_uint_eq(v.n_skills, 0);
	otd_visitor_cleanup(&v);
	otd_shift_cleanup(&sh);
	/* Only the required columns. */
	ck_assert_int_eq(
	    vis("name,email,role_title,base_lon,base_lat\nBob,bob@example.org,Planner,-1,52\n", &v,
	        &sh, &has, &e),
	    OTD_OK);
	ck_assert(!has);
	ck_assert_str_eq(v.name, "Bob");
	ck_assert_double_eq(v.base_lat, 52);
	ck_assert_double_eq(v.base_lon, -1);
	otd_visitor_cleanup(&v);
	otd_shift_cleanup(&sh);
}
END_TEST

START_TEST(visitor_bad_rows_name_the_column)
{
	vis_err(",Ann,Eng,52,-1,,,,,,", "missing_value", "email");
	vis_err("ann@example.org,Ann,Eng,north,-1,,,,,,", "invalid_number", "base_lat");
	vis_err("ann@example.org,Ann,Eng,95,-1,,,,,,", "invalid_number", "base_lat");
	vis_err("ann@example.org,Ann,Eng,52,-181,,,,,,", "invalid_number", "base_lon");
	vis_err("ann@example.org,Ann,Eng,52,-1,,,2026-03-02T08:00,480,,", "incomplete_shift",
	        "shift_rrule");
	vis_err("ann@example.org,Ann,Eng,52,-1,,,,480,FREQ=DAILY,", "incomplete_shift",
	        "shift_rrule");
	vis_err("ann@example.org,Ann,Eng,52,-1,,,2026-03-02 08:00,480,FREQ=DAILY,",
	        "bad_local_time", "shift_start");
	vis_err("ann@example.org,Ann,Eng,52,-1,,,2026-02-30T08:00,480,FREQ=DAILY,",
	        "bad_local_time", "shift_start");
	vis_err("ann@example.org,Ann,Eng,52,-1,,,2026-03-02T08:00,0,FREQ=DAILY,", "invalid_number",
	        "shift_minutes");
	vis_err("ann@example.org,Ann,Eng,52,-1,,,2026-03-02T08:00,1441,FREQ=DAILY,",
	        "invalid_number", "shift_minutes");
	vis_err("ann@example.org,Ann,Eng,52,-1,,,2026-03-02T08:00,8h,FREQ=DAILY,", "invalid_number",
	        "shift_minutes");
	vis_err("ann@example.org,Ann,Eng,52,-1,,,2026-03-02T08:00,480,FREQ=DAILY,2026-02-30",
	        "bad_date", "shift_exdates");
	vis_err(
	    "ann@example.org,Ann,Eng,52,-1,,,2026-03-02T08:00,480,FREQ=DAILY,2026-03-09;09/03/2026",
	    "bad_date", "shift_exdates");
	char rrule[600];
	memset(rrule, 'X', 599);
	rrule[599] = '\0';
	char *row = xasprintf("ann@example.org,Ann,Eng,52,-1,,,2026-03-02T08:00,480,%s,", rrule);
	vis_err(row, "bad_rrule", "shift_rrule");
	free(row);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("import");
	TCase *tg = tcase_create("gazetteer");
	tcase_set_timeout(tg, 30);
	tcase_add_test(tg, gazetteer_row_is_trimmed_and_normalised);
	tcase_add_test(tg, gazetteer_optional_columns_may_be_absent);
	tcase_add_test(tg, match_key_folds_case_spaces_commas_and_dots);
	tcase_add_test(tg, gazetteer_bad_rows_name_the_column);
	tcase_add_test(tg, postcodes_normalise_to_display_and_search_forms);
	suite_add_tcase(s, tg);
	TCase *tt = tcase_create("visit_types");
	tcase_set_timeout(tt, 30);
	tcase_add_test(tt, visit_type_rows_parse_and_default_the_spread);
	tcase_add_test(tt, visit_type_bad_rows_name_the_column);
	suite_add_tcase(s, tt);
	TCase *tv = tcase_create("visitors");
	tcase_set_timeout(tv, 30);
	tcase_add_test(tv, visitor_row_with_a_shift);
	tcase_add_test(tv, visitor_row_without_a_shift_or_optional_columns);
	tcase_add_test(tv, visitor_bad_rows_name_the_column);
	suite_add_tcase(s, tv);
	return testutil_run(s);
}
