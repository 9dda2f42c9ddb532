/* The route table: every address the server answers. An OpenAPI test
 * checks that each template here is documented in openapi.json. */
#include "http/handlers.h"

#define ADMIN OTD_ROLE_ADMIN
#define DISPATCHER OTD_ROLE_DISPATCHER

const struct route otd_routes[] = {
    {HTTP_GET, "/", h_index, AUTH_PUBLIC, 0, 0},
    {HTTP_GET, "/healthz", h_healthz, AUTH_PUBLIC, 0, 0},
    {HTTP_GET, "/metrics", h_metrics, AUTH_PUBLIC, 0, 0},
    {HTTP_GET, "/api/v1/openapi.json", h_openapi, AUTH_PUBLIC, 0, 0},
    {HTTP_POST, "/api/v1/admin/clock", h_clock, AUTH_STAFF, ADMIN, 0},
    {HTTP_POST, "/api/v1/auth/login", h_login, AUTH_PUBLIC, 0, ROUTE_NO_CSRF},
    {HTTP_POST, "/api/v1/auth/logout", h_logout, AUTH_STAFF, 0, 0},
    {HTTP_GET, "/api/v1/auth/session", h_session, AUTH_STAFF, 0, 0},
    {HTTP_GET, "/api/v1/visitors", h_visitors_list, AUTH_STAFF, ADMIN | DISPATCHER, 0},
    {HTTP_POST, "/api/v1/visitors", h_visitor_create, AUTH_STAFF, ADMIN, ROUTE_IDEMPOTENT},
    {HTTP_GET, "/api/v1/visitors/{id}", h_visitor_get, AUTH_STAFF, ADMIN | DISPATCHER, 0},
    {HTTP_PATCH, "/api/v1/visitors/{id}", h_visitor_update, AUTH_STAFF, ADMIN, 0},
    {HTTP_POST, "/api/v1/visitors/{id}/deactivate", h_visitor_deactivate, AUTH_STAFF, ADMIN, 0},
    {HTTP_POST, "/api/v1/visitors/{id}/activate", h_visitor_activate, AUTH_STAFF, ADMIN, 0},
    {HTTP_GET, "/api/v1/visitors/{id}/shifts", h_visitor_shifts, AUTH_STAFF, ADMIN | DISPATCHER,
     0},
    {HTTP_GET, "/api/v1/visit-types", h_visit_types_list, AUTH_STAFF, ADMIN | DISPATCHER, 0},
    {HTTP_POST, "/api/v1/visit-types", h_visit_type_create, AUTH_STAFF, ADMIN,
     ROUTE_IDEMPOTENT},
    {HTTP_GET, "/api/v1/visit-types/{id}", h_visit_type_get, AUTH_STAFF, ADMIN | DISPATCHER, 0},
    {HTTP_PATCH, "/api/v1/visit-types/{id}", h_visit_type_update, AUTH_STAFF, ADMIN, 0},
    {HTTP_POST, "/api/v1/visit-types/{id}/deactivate", h_visit_type_deactivate, AUTH_STAFF,
     ADMIN, 0},
    {0, NULL, NULL, 0, 0, 0},
};
