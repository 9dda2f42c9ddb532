/* Audit entries from use cases. */
#include "app/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/accounts.h"

void app_principal_cli(struct otd_principal *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = OTD_PRINCIPAL_CLI;
	p->role = OTD_ROLE_ADMIN;
	snprintf(p->ip, sizeof(p->ip), "cli");
}

enum otd_status app_audit(struct otd_conn *tx, const struct otd_principal *actor, int64_t now,
                          const char *action, const char *entity, int64_t entity_id, json_t *detail,
                          struct otd_error *err)
{
	struct otd_audit a = {.action = action, .entity = entity, .entity_id = entity_id, .at = now};
	switch(actor ? actor->kind : OTD_PRINCIPAL_NONE) {
	case OTD_PRINCIPAL_SESSION:
		a.actor_kind = "user";
		a.actor_id = actor->user_id;
		break;
	case OTD_PRINCIPAL_TOKEN:
		a.actor_kind = "token";
		a.actor_id = actor->token_id;
		break;
	case OTD_PRINCIPAL_CLI: a.actor_kind = "cli"; break;
	case OTD_PRINCIPAL_NONE:
		/* Someone without an account: a customer through their link or
		 * the booking page. A NULL actor is the service itself. */
		a.actor_kind = actor ? "customer" : "system";
		break;
	default: a.actor_kind = "system"; break;
	}
	a.ip = actor ? actor->ip : "";
	char *text = NULL;
	if(detail) {
		text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(detail);
	}
	a.detail = text;
	enum otd_status st = store_audit_insert(tx, &a, err);
	free(text);
	return st;
}
