/* System routes: health. */
#include "http/handlers.h"

enum otd_status h_healthz(struct otd_req *req)
{
	req_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
	return OTD_OK;
}
