/* The route table: every address the server answers. An OpenAPI test
 * checks that each template here is documented in openapi.json. */
#include "http/handlers.h"

const struct route otd_routes[] = {
    {HTTP_GET, "/healthz", h_healthz, AUTH_PUBLIC, 0, 0},
    {0, NULL, NULL, 0, 0, 0},
};
