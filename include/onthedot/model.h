/* onthedot: the domain records shared by core, app, store and http.
 * Plain data, owned by whoever holds the struct; strings that vary in
 * length are heap pointers freed by the matching *_cleanup function. */
#ifndef ONTHEDOT_MODEL_H
#define ONTHEDOT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Roles (DESIGN.md, Security model), as bits so a route can allow several. */
enum otd_role {
	OTD_ROLE_ADMIN = 1u << 0,
	OTD_ROLE_DISPATCHER = 1u << 1,
	OTD_ROLE_FINANCE = 1u << 2,
	OTD_ROLE_VISITOR = 1u << 3,
};

/* "admin" for OTD_ROLE_ADMIN and so on; "" for 0 or several bits. */
const char *otd_role_name(unsigned role);

/* Parses a role name; returns 0 when unknown. */
unsigned otd_role_parse(const char *name);

#define OTD_LOGIN_MAX 64
#define OTD_NAME_MAX 200

struct otd_user {
	int64_t id;
	char login[OTD_LOGIN_MAX + 1];
	char display_name[OTD_NAME_MAX * 4 + 1]; /* UTF-8: up to 4 bytes a character */
	unsigned role;
	int64_t visitor_id; /* visitors only */
	char password_hash[128];
	bool active;
};

/* What a session or token lookup yields. */
struct otd_credential {
	int64_t id;      /* session or token id */
	int64_t user_id; /* sessions */
	unsigned role;
	int64_t visitor_id;
	char csrf[44];
	int64_t expires_at;
};

/* One audit entry: who, what, which record, when, from where. */
struct otd_audit {
	const char *actor_kind; /* user, token, cli, system, customer */
	int64_t actor_id;
	const char *action; /* "visitor.create" */
	const char *entity; /* "visitor" */
	int64_t entity_id;
	const char *ip;
	const char *detail; /* JSON object text, or NULL for {} */
	int64_t at;
};

/* A visitor's shift as stored: a floating local start, a duration and an
 * iCalendar RRULE with EXDATE dates, in zone tzid. */
struct otd_shift {
	int64_t id;
	char start[20]; /* "YYYY-MM-DDTHH:MM:SS", local */
	int duration_min;
	char rrule[512];
	char tzid[65];
	size_t n_exdates;
	char (*exdates)[11]; /* "YYYY-MM-DD" each; heap */
};

#define OTD_SKILLS_MAX 32
#define OTD_SHIFTS_MAX 16
#define OTD_SKILL_MAX 64

struct otd_visitor {
	int64_t id;
	char *name;
	char *role_title;
	char *phone; /* "" when none */
	char *email; /* NULL when none */
	double base_lat, base_lon;
	size_t n_skills;
	char **skills;
	size_t n_shifts;
	struct otd_shift *shifts;
	bool active;
	int64_t created_at, updated_at;
};

/* Frees everything a visitor record holds and zeroes it. */
void otd_visitor_cleanup(struct otd_visitor *v);

/* Frees one shift's EXDATE array. */
void otd_shift_cleanup(struct otd_shift *s);

struct otd_visit_type {
	int64_t id;
	char code[OTD_SKILL_MAX + 1];
	char *name;
	char skill[OTD_SKILL_MAX + 1];
	double duration_median_min; /* log-normal median */
	double duration_spread;     /* log-normal sigma */
	int window_min;             /* default window width */
	bool active;
	int64_t created_at, updated_at;
};

void otd_visit_type_cleanup(struct otd_visit_type *t);

/* A gazetteer address. */
struct otd_address {
	int64_t id;
	char uprn[13];          /* "" when none */
	char *line1, *line2, *town; /* heap */
	char postcode[11];      /* as shown: upper case, single spaces */
	char postcode_norm[11]; /* for search: upper case, no spaces */
	char *match_key;        /* identity without a UPRN: line1 and postcode, normalised */
	double lat, lon;
	bool retired;
};

void otd_address_cleanup(struct otd_address *a);

/* A customer: the only personal data onthedot keeps. */
struct otd_customer {
	int64_t id;
	char *name;
	char phone[20]; /* E.164, "" when none */
	char email[255]; /* "" when none */
	char *access_notes;
};

void otd_customer_cleanup(struct otd_customer *c);

#define OTD_STATUS_LEN 16

/* One booked visit. */
struct otd_appointment {
	int64_t id;
	char reference[11];
	int64_t customer_id, address_id, visit_type_id, visitor_id;
	char local_date[11];
	int64_t window_start, window_end;
	int promise_version;
	char status[OTD_STATUS_LEN]; /* booked travelling arrived done no_access cancelled */
	char risk[OTD_STATUS_LEN];
	int route_position;
	bool consent_sms, consent_email;
	char booked_by[OTD_STATUS_LEN];
	int64_t created_at, updated_at, cancelled_at;
	char cancelled_by[OTD_STATUS_LEN];
	int64_t cancel_notice_s;
};

/* A short reservation of a window. */
struct otd_hold {
	int64_t id;
	int64_t visitor_id, visit_type_id, address_id;
	char local_date[11];
	int64_t window_start, window_end;
	char client_key[129];
	int64_t for_appointment; /* 0: a new booking */
	char purpose[OTD_STATUS_LEN];
	int64_t created_at, expires_at;
};

/* An appointment in brief, for lists of those a change would affect. */
struct otd_appointment_brief {
	int64_t id;
	char reference[11];
	int64_t window_start, window_end;
	char local_date[11];
	char status[16];
};

#endif
