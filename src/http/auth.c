/* Authentication and authorisation of a request. */
#include "http/handlers.h"

enum otd_status http_authorise(struct otd_req *req)
{
	if(req->route->auth == AUTH_PUBLIC)
		return OTD_OK;
	return otd_error_set(&req->err, OTD_EAUTH, "unauthenticated", NULL,
	                     "Sign in or send an admin token to use this address.");
}
