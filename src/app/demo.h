/* onthedot demo: a fictional town, created through the same use cases as
 * real data (imports, users, tokens), so the demo exercises them. */
#ifndef OTD_APP_DEMO_H
#define OTD_APP_DEMO_H

#include <stdio.h>

#include "app/app.h"

#define OTD_DEMO_ADDRESSES 2400

/* Fills a migrated, empty database with the town of Wrenfield: about
 * OTD_DEMO_ADDRESSES gazetteer addresses, 12 visitors with skills, bases
 * and Monday-to-Friday (some Tuesday-to-Saturday) shifts starting this
 * week, 4 visit types, an admin and a dispatcher user, a user for each
 * visitor, and an admin API token. Writes the sign-in details to out
 * (passwords and the token are shown only there). Deterministic for seed
 * except the secrets. */
enum otd_status app_demo_create(struct otd_app *app, unsigned seed, FILE *out,
                                struct otd_error *err);

#endif
