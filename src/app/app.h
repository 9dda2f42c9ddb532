/* onthedot use cases: the application object and the principal.
 *
 * http and cli call only this layer; it composes core (pure logic) and
 * store (SQLite). Every write use case runs in one SAVEPOINT on the single
 * writer and records an audit entry in the same transaction. */
#ifndef OTD_APP_H
#define OTD_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "app/config.h"
#include "onthedot/clock.h"
#include "onthedot/status.h"

struct otd_store;
struct otd_tz;
struct otd_hasher;
struct otd_limits;

/* Roles (DESIGN.md, Security model), as bits so routes can allow several. */
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

enum otd_principal_kind {
	OTD_PRINCIPAL_NONE = 0,
	OTD_PRINCIPAL_SESSION, /* a user signed in with a cookie */
	OTD_PRINCIPAL_TOKEN,   /* an admin API token */
	OTD_PRINCIPAL_CLI,     /* the onthedot command on the server's machine */
};

#define OTD_CSRF_LEN 43 /* base64url of 32 bytes, no padding */

/* Who is acting, for authorisation and the audit log. */
struct otd_principal {
	enum otd_principal_kind kind;
	unsigned role;      /* one OTD_ROLE_* bit */
	int64_t user_id;    /* sessions */
	int64_t session_id; /* sessions */
	int64_t token_id;   /* tokens */
	int64_t visitor_id; /* visitor users: the visitor they are; else 0 */
	char csrf[OTD_CSRF_LEN + 1];
	char ip[64]; /* where the request came from; "cli" for the command */
};

struct otd_app {
	const struct otd_config *cfg;
	struct otd_store *store;
	struct otd_clock *clock;
	const struct otd_tz *tz;
	struct otd_hasher *hasher;
	struct otd_limits *limits;
};

#endif
