/* onthedot route handlers, one file per resource. Each decodes its
 * input, calls one use case and encodes the result. */
#ifndef OTD_HTTP_HANDLERS_H
#define OTD_HTTP_HANDLERS_H

#include "http/http.h"

/* Authenticates and authorises req for its route: 401 without valid
 * credentials, 403 for a role the route does not allow or a missing or
 * wrong CSRF token on a cookie-authenticated state change. Fills
 * req->principal. Public routes pass untouched. */
enum otd_status http_authorise(struct otd_req *req);

/* system.c */
enum otd_status h_healthz(struct otd_req *req);

#endif
