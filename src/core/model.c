/* Role names. */
#include "onthedot/model.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	unsigned bit;
	const char *name;
} roles[] = {{OTD_ROLE_ADMIN, "admin"},
             {OTD_ROLE_DISPATCHER, "dispatcher"},
             {OTD_ROLE_FINANCE, "finance"},
             {OTD_ROLE_VISITOR, "visitor"}};

const char *otd_role_name(unsigned role)
{
	for(size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if(roles[i].bit == role)
			return roles[i].name;
	return "";
}

unsigned otd_role_parse(const char *name)
{
	for(size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if(strcmp(roles[i].name, name) == 0)
			return roles[i].bit;
	return 0;
}

void otd_shift_cleanup(struct otd_shift *s)
{
	free(s->exdates);
	s->exdates = NULL;
	s->n_exdates = 0;
}

void otd_visitor_cleanup(struct otd_visitor *v)
{
	free(v->name);
	free(v->role_title);
	free(v->phone);
	free(v->email);
	for(size_t i = 0; i < v->n_skills; i++)
		free(v->skills[i]);
	free(v->skills);
	for(size_t i = 0; i < v->n_shifts; i++)
		otd_shift_cleanup(&v->shifts[i]);
	free(v->shifts);
	memset(v, 0, sizeof(*v));
}

void otd_visit_type_cleanup(struct otd_visit_type *t)
{
	free(t->name);
	memset(t, 0, sizeof(*t));
}

void otd_address_cleanup(struct otd_address *a)
{
	free(a->line1);
	free(a->line2);
	free(a->town);
	free(a->match_key);
	memset(a, 0, sizeof(*a));
}

void otd_customer_cleanup(struct otd_customer *c)
{
	free(c->name);
	free(c->access_notes);
	memset(c, 0, sizeof(*c));
}
