/* The demo town of Wrenfield. Streets are laid out as short straight
 * lines around the centre; houses sit along them every 12 to 20 metres.
 * Everything goes through the import, user and token use cases. */
#include "app/demo.h"

#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/accounts.h"
#include "app/booking.h"
#include "app/audit.h"
#include "app/imports.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"

#define CENTRE_LAT 52.2050
#define CENTRE_LON (-1.5480)

/* xorshift64*: a small deterministic generator for the layout (never
 * for secrets: those come from libsodium). */
struct prng {
	uint64_t s;
};

static uint64_t next_u64(struct prng *p)
{
	p->s ^= p->s >> 12;
	p->s ^= p->s << 25;
	p->s ^= p->s >> 27;
	return p->s * 2685821657736338717ull;
}

static double uniform(struct prng *p)
{
	return (double)(next_u64(p) >> 11) / 9007199254740992.0;
}

static const char *const street_names[] = {
    "High Street",   "Church Lane",    "Mill Road",      "Station Road",  "Orchard Way",
    "Kingsway",      "Meadow Close",   "Willow Drive",   "Brook Street",  "Chapel Row",
    "Elm Grove",     "Victoria Road",  "Park Avenue",    "Quarry Lane",   "Cherry Walk",
    "The Green",     "Forge Lane",     "Hollow Way",     "Riverside",     "Wren Crescent",
    "Beech Road",    "Cotton Lane",    "Bridge Street",  "School Lane",   "Hawthorn Rise",
    "Tanners Yard",  "Albion Terrace", "Nursery Close",  "Priory Road",   "Canal Side",
    "Sheep Street",  "Mount Pleasant", "Ash Grove",      "Holly Bank",    "Foundry Close",
    "Linden Avenue", "Barley Mow",     "Kestrel Way",    "Malt House Row", "Pound Lane",
    "Oak Tree Road", "Fern Hill",      "Larch Close",    "Market Place",  "Granary Court",
};
#define N_STREETS (sizeof(street_names) / sizeof(street_names[0]))

struct demo_visitor {
	const char *name;
	const char *login;
	const char *role_title;
	const char *skills;
	const char *days; /* BYDAY */
	const char *start;
	int minutes;
};

static const struct demo_visitor visitors[] = {
    {"Priya Shah", "priya.shah", "Planning officer", "planning", "MO,TU,WE,TH,FR", "08:30", 480},
    {"Tom Brennan", "tom.brennan", "Planning officer", "planning", "MO,TU,WE,TH,FR", "09:00", 480},
    {"Zoë O'Brien-Nguyễn", "zoe.obrien", "Senior planning officer", "planning", "TU,WE,TH,FR,SA",
     "08:00", 480},
    {"Łukasz Nowak", "lukasz.nowak", "Gas engineer", "gas", "MO,TU,WE,TH,FR", "07:30", 540},
    {"Aisha Okafor", "aisha.okafor", "Gas engineer", "gas metering", "MO,TU,WE,TH,FR", "08:00",
     540},
    {"Gareth Hughes", "gareth.hughes", "Gas engineer", "gas", "TU,WE,TH,FR,SA", "08:00", 540},
    {"Mei Lin", "mei.lin", "Metering technician", "metering", "MO,TU,WE,TH,FR", "08:00", 480},
    {"Callum Reid", "callum.reid", "Metering technician", "metering gas", "MO,TU,WE,TH,FR", "07:30",
     510},
    {"Sofia Rossi", "sofia.rossi", "Broadband installer", "broadband", "MO,TU,WE,TH,FR", "08:00",
     540},
    {"Dev Patel", "dev.patel", "Broadband installer", "broadband", "MO,TU,WE,TH,FR", "09:00", 480},
    {"Hannah Clarke", "hannah.clarke", "Broadband installer", "broadband metering", "TU,WE,TH,FR,SA",
     "08:00", 540},
    {"Samuel Adeyemi", "samuel.adeyemi", "Planning officer", "planning", "MO,TU,WE,TH,FR", "08:00",
     480},
};
#define N_VISITORS (sizeof(visitors) / sizeof(visitors[0]))

static const char visit_types_csv[] =
    "code,name,skill,duration_median_minutes,window_minutes,duration_spread\n"
    "planning-inspection,Planning inspection,planning,45,60,0.30\n"
    "boiler-repair,Boiler repair,gas,75,120,0.40\n"
    "meter-exchange,Meter exchange,metering,40,60,0.25\n"
    "broadband-install,Broadband installation,broadband,90,120,0.35\n";

static void random_password(char *out, size_t n)
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	for(size_t i = 0; i + 1 < n; i++)
		out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	out[n - 1] = '\0';
}

static void gazetteer_csv(struct prng *p, struct otd_buf *csv)
{
	otd_buf_puts(csv, "uprn,line1,line2,town,postcode,latitude,longitude\n");
	/* About 53 addresses a street: 45 streets give ~2,400. */
	double m_per_deg_lat = 111320.0;
	double m_per_deg_lon = 111320.0 * cos(CENTRE_LAT * M_PI / 180.0);
	long uprn = 10090000000;
	for(size_t s = 0; s < N_STREETS; s++) {
		double r = 300 + uniform(p) * 3700;        /* metres from the centre */
		double a = uniform(p) * 2 * M_PI;           /* where */
		double heading = uniform(p) * 2 * M_PI;     /* which way it runs */
		double x = r * cos(a), y = r * sin(a);      /* east, north in metres */
		int district = 1 + (int)(r / 1000);         /* ZZ1 near the centre .. ZZ4 */
		int houses = 48 + (int)(uniform(p) * 12);
		for(int h = 1; h <= houses; h++) {
			double step = 12 + uniform(p) * 8;
			x += step * cos(heading);
			y += step * sin(heading);
			double side = (h % 2 ? 7.0 : -7.0); /* odd numbers on one side */
			double hx = x + side * -sin(heading), hy = y + side * cos(heading);
			double lat = CENTRE_LAT + hy / m_per_deg_lat;
			double lon = CENTRE_LON + hx / m_per_deg_lon;
			char pc[24];
			snprintf(pc, sizeof(pc), "ZZ%d %d%c%c", district, 1 + (int)(s % 9),
			         'A' + (char)(s % 20), 'A' + (char)(h / 8 % 20));
			const char *flat = (h % 13 == 0) ? "Flat 2" : "";
			if(flat[0])
				otd_buf_printf(csv, "%ld,\"%s, %d %s\",,Wrenfield,%s,%.6f,%.6f\n", uprn++, flat, h,
				               street_names[s], pc, lat, lon);
			else
				otd_buf_printf(csv, "%ld,%d %s,,Wrenfield,%s,%.6f,%.6f\n", uprn++, h,
				               street_names[s], pc, lat, lon);
		}
	}
}

static void visitors_csv(struct prng *p, const struct otd_tz *tz, int64_t now, struct otd_buf *csv)
{
	/* Shifts start on the Monday of this week, local time. */
	struct otd_local l;
	otd_tz_to_local(tz, now, &l);
	int64_t days = otd_days_from_civil(l.c.year, l.c.month, l.c.day) - l.weekday;
	int y, m, d;
	otd_civil_from_days(days, &y, &m, &d);
	otd_buf_puts(csv, "email,name,role_title,base_lat,base_lon,phone,skills,shift_start,"
	                  "shift_minutes,shift_rrule\n");
	for(size_t i = 0; i < N_VISITORS; i++) {
		const struct demo_visitor *v = &visitors[i];
		double r = 500 + uniform(p) * 3000, a = uniform(p) * 2 * M_PI;
		double lat = CENTRE_LAT + r * sin(a) / 111320.0;
		double lon = CENTRE_LON + r * cos(a) / (111320.0 * cos(CENTRE_LAT * M_PI / 180.0));
		otd_buf_printf(csv,
		               "%s@wrenfield.example,\"%s\",%s,%.6f,%.6f,01632 960%03zu,%s,"
		               "%04d-%02d-%02dT%s,%d,\"FREQ=WEEKLY;BYDAY=%s\"\n",
		               v->login, v->name, v->role_title, lat, lon, 100 + i, v->skills, y, m, d,
		               v->start, v->minutes, v->days);
	}
}

static enum otd_status add_user(struct otd_app *app, const struct otd_principal *cli,
                                const char *login, const char *name, unsigned role,
                                int64_t visitor_id, FILE *out, struct otd_error *err)
{
	char password[17];
	random_password(password, sizeof(password));
	int64_t id;
	enum otd_status st =
	    app_user_add(app, cli, login, name, role, visitor_id, password, &id, err);
	if(st == OTD_OK)
		fprintf(out, "  %-11s %-16s %s\n", otd_role_name(role), login, password);
	sodium_memzero(password, sizeof(password));
	return st;
}

static const char *const given_names[] = {
    "Amelia", "Oliver", "Isla", "Noah", "Zoë", "Arjun", "Freya", "Kwame", "Siobhan", "Mateusz",
    "Hannah", "Yusuf", "Grace", "Tomasz", "Niamh", "Ravi", "Evie", "Chidi", "Maja", "Rhys"};
static const char *const family_names[] = {
    "Hughes", "O'Connor", "Patel", "Nguyễn", "Kowalski", "Okafor", "Campbell", "Sharma",
    "Brennan", "Davies", "Walsh", "Ahmed", "Fletcher", "Nowak", "Mensah", "Reid"};

/* Books about half a day's capacity for each of the next days through the
 * real use cases (slots, hold, book), as customers would. */
static enum otd_status book_week(struct otd_app *app, struct prng *p, size_t addresses,
                                 FILE *out, struct otd_error *err)
{
	int64_t now = otd_clock_now(app->clock);
	struct otd_principal customer = {0};
	size_t booked = 0, tried = 0;
	for(int day = 1; day <= 7; day++) {
		struct otd_local l;
		otd_tz_to_local(app->tz, now + (int64_t)day * 86400, &l);
		char date[11];
		otd_date_format(l.c.year, l.c.month, l.c.day, date);
		for(int k = 0; k < 36; k++) {
			tried++;
			struct otd_slot_query q = {.address_id = 1 + (int64_t)(uniform(p) * (double)addresses),
			                           .visit_type_id = 1 + (int64_t)(uniform(p) * 4)};
			memcpy(q.from, date, sizeof(q.from));
			memcpy(q.to, date, sizeof(q.to));
			struct otd_slot_result r;
			if(app_slots(app, &q, &r, err) != OTD_OK)
				return err->status;
			if(r.n_days == 0 || r.days[0].n == 0) {
				otd_slot_result_cleanup(&r);
				continue;
			}
			/* People prefer green windows, then any. */
			size_t pick = (size_t)(uniform(p) * (double)r.days[0].n);
			for(size_t i = 0; i < r.days[0].n; i++)
				if(r.days[0].windows[i].green && uniform(p) < 0.5)
					pick = i;
			struct otd_hold_request hr = {.address_id = q.address_id,
			                              .visit_type_id = q.visit_type_id,
			                              .window_start = r.days[0].windows[pick].start,
			                              .client_key = "demo"};
			otd_slot_result_cleanup(&r);
			struct otd_hold_result h;
			enum otd_status st = app_hold_create(app, &customer, &hr, &h, err);
			if(st == OTD_ECONFLICT) {
				otd_error_clear(err);
				continue;
			}
			if(st)
				return st;
			char name[120], phone[24], email[120];
			const char *given = given_names[(size_t)(uniform(p) * 20)];
			const char *family = family_names[(size_t)(uniform(p) * 16)];
			snprintf(name, sizeof(name), "%s %s", given, family);
			snprintf(phone, sizeof(phone), "07700 900%03zu", booked % 1000);
			snprintf(email, sizeof(email), "customer%zu@example.com", booked + 1);
			struct otd_booking_request br = {.hold_token = h.token,
			                                 .name = name,
			                                 .phone = phone,
			                                 .email = email,
			                                 .access_notes = booked % 5 ? "" : "Side gate, "
			                                                                   "the bell "
			                                                                   "does not "
			                                                                   "work",
			                                 .consent_sms = uniform(p) < 0.7,
			                                 .consent_email = true};
			struct otd_appointment_view v;
			st = app_book(app, &customer, &br, &v, err);
			otd_appointment_view_cleanup(&v);
			if(st == OTD_ECONFLICT) {
				otd_error_clear(err);
				continue;
			}
			if(st)
				return st;
			booked++;
		}
	}
	fprintf(out, "booked %zu appointments over the next 7 days (%zu tries)\n", booked, tried);
	return OTD_OK;
}

enum otd_status app_demo_create(struct otd_app *app, unsigned seed, FILE *out,
                                struct otd_error *err)
{
	struct prng p = {0x9E3779B97F4A7C15ull ^ seed};
	struct otd_principal cli;
	app_principal_cli(&cli);
	struct otd_import_report r;
	struct otd_buf csv;
	otd_buf_init(&csv, 0);
	gazetteer_csv(&p, &csv);
	enum otd_status st = app_import_gazetteer(app, &cli, "demo gazetteer", csv.data, csv.len,
	                                          &r, err);
	size_t addresses = r.inserted;
	otd_import_report_cleanup(&r);
	otd_buf_cleanup(&csv);
	if(st)
		return st;
	st = app_import_visit_types(app, &cli, "demo visit types", visit_types_csv,
	                            sizeof(visit_types_csv) - 1, &r, err);
	otd_import_report_cleanup(&r);
	if(st)
		return st;
	otd_buf_init(&csv, 0);
	visitors_csv(&p, app->tz, otd_clock_now(app->clock), &csv);
	st = app_import_visitors(app, &cli, "demo visitors", csv.data, csv.len, false, &r, err);
	if(st && r.problems)
		fputs(r.problems, out);
	otd_import_report_cleanup(&r);
	otd_buf_cleanup(&csv);
	if(st)
		return st;
	fprintf(out, "Wrenfield: %zu addresses, %zu visitors, 4 visit types\n\nsign-in details "
	             "(shown once):\n",
	        addresses, N_VISITORS);
	if((st = add_user(app, &cli, "admin", "Demo Administrator", OTD_ROLE_ADMIN, 0, out, err)) ||
	   (st = add_user(app, &cli, "dispatch", "Morgan Ellis", OTD_ROLE_DISPATCHER, 0, out, err)) ||
	   (st = add_user(app, &cli, "finance", "Robin Finch", OTD_ROLE_FINANCE, 0, out, err)))
		return st;
	/* Visitors were imported in file order: ids 1..N on a fresh database. */
	for(size_t i = 0; i < N_VISITORS; i++)
		if((st = add_user(app, &cli, visitors[i].login, visitors[i].name, OTD_ROLE_VISITOR,
		                  (int64_t)i + 1, out, err)))
			return st;
	char token[64];
	int64_t token_id;
	if((st = app_token_create(app, &cli, "demo", token, &token_id, err)))
		return st;
	fprintf(out, "\nadmin API token (Authorization: Bearer ...):\n  %s\n\n", token);
	sodium_memzero(token, sizeof(token));
	return book_week(app, &p, addresses, out, err);
}
