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
enum otd_status h_metrics(struct otd_req *req);
enum otd_status h_clock(struct otd_req *req);
enum otd_status h_openapi(struct otd_req *req);
enum otd_status h_index(struct otd_req *req);

/* page_info.c: static assets, the privacy notice, the trust page */
enum otd_status h_static(struct otd_req *req);
enum otd_status h_favicon(struct otd_req *req);
enum otd_status h_page_privacy(struct otd_req *req);
enum otd_status h_page_trust(struct otd_req *req);

/* page_book.c: the booking pages */
enum otd_status h_page_book(struct otd_req *req);
enum otd_status h_page_hold(struct otd_req *req);
enum otd_status h_page_confirm(struct otd_req *req);
enum otd_status h_page_unlisted(struct otd_req *req);
enum otd_status h_page_unlisted_send(struct otd_req *req);

/* page_appointment.c: the customer's page behind the link */
enum otd_status h_page_new_link(struct otd_req *req);
enum otd_status h_page_appointment(struct otd_req *req);
enum otd_status h_page_reschedule(struct otd_req *req);
enum otd_status h_page_move(struct otd_req *req);
enum otd_status h_page_accept(struct otd_req *req);
enum otd_status h_page_keep(struct otd_req *req);
enum otd_status h_page_cancel_ask(struct otd_req *req);
enum otd_status h_page_cancel(struct otd_req *req);
enum otd_status h_page_feedback(struct otd_req *req);

/* page_staff.c: sign-in, the visitor's phone page, the dispatch board */
enum otd_status h_page_login(struct otd_req *req);
enum otd_status h_page_login_post(struct otd_req *req);
enum otd_status h_page_logout(struct otd_req *req);
enum otd_status h_page_visitor(struct otd_req *req);
enum otd_status h_page_dispatch(struct otd_req *req);
enum otd_status h_visitor_sw(struct otd_req *req);

/* session.c */
enum otd_status h_login(struct otd_req *req);
/* The sign-in both the API and the sign-in page use. begin looks login
 * up (in lower case; at most OTD_LOGIN_MAX bytes) and hands the password
 * check to the hasher, suspending req; finish is then called on resume,
 * and calls end: OTD_OK with the session cookie set, *user, csrf and
 * *expires_at filled; OTD_EAUTH invalid_credentials; OTD_EBUSY when the
 * hasher is full; errors in req->err. */
enum otd_status session_login_begin(struct otd_req *req, const char *login, const char *password,
                                    enum otd_status (*finish)(struct otd_req *req));
struct otd_user;
enum otd_status session_login_end(struct otd_req *req, struct otd_user *user, char *csrf,
                                  int64_t *expires_at);
/* Sets the session cookie (value "" with max_age 0 removes it). */
void session_cookie_set(struct otd_req *req, const char *value, int max_age);
enum otd_status h_logout(struct otd_req *req);
enum otd_status h_session(struct otd_req *req);

/* visitors.c */
enum otd_status h_visitors_list(struct otd_req *req);
enum otd_status h_visitor_create(struct otd_req *req);
enum otd_status h_visitor_get(struct otd_req *req);
enum otd_status h_visitor_update(struct otd_req *req);
enum otd_status h_visitor_deactivate(struct otd_req *req);
enum otd_status h_visitor_activate(struct otd_req *req);
enum otd_status h_visitor_shifts(struct otd_req *req);

/* visit_types.c */
enum otd_status h_visit_types_list(struct otd_req *req);
enum otd_status h_visit_type_create(struct otd_req *req);
enum otd_status h_visit_type_get(struct otd_req *req);
enum otd_status h_visit_type_update(struct otd_req *req);
enum otd_status h_visit_type_deactivate(struct otd_req *req);

/* booking.c */
enum otd_status h_slots(struct otd_req *req);
enum otd_status h_hold_create(struct otd_req *req);
enum otd_status h_book(struct otd_req *req);
enum otd_status h_link_view(struct otd_req *req);
enum otd_status h_disruption_declare(struct otd_req *req);
enum otd_status h_appointment_reassign(struct otd_req *req);
enum otd_status h_appointment_reassign_options(struct otd_req *req);
enum otd_status h_appointment_messages(struct otd_req *req);
enum otd_status h_appointment_message(struct otd_req *req);
enum otd_status h_rebalance_propose(struct otd_req *req);
enum otd_status h_rebalance_apply(struct otd_req *req);
enum otd_status h_dispatch_board(struct otd_req *req);
enum otd_status h_route_reorder(struct otd_req *req);
enum otd_status h_inbox(struct otd_req *req);
enum otd_status h_task_done(struct otd_req *req);
enum otd_status h_inbound_done(struct otd_req *req);
enum otd_status h_link_reschedule(struct otd_req *req);
enum otd_status h_link_cancel(struct otd_req *req);
enum otd_status h_link_ics(struct otd_req *req);
enum otd_status h_link_waitlist(struct otd_req *req);
enum otd_status h_link_resend(struct otd_req *req);
enum otd_status h_appointments_list(struct otd_req *req);
enum otd_status h_appointment_get(struct otd_req *req);
enum otd_status h_appointment_cancel(struct otd_req *req);
enum otd_status h_appointment_reschedule(struct otd_req *req);
enum otd_status h_booking_visit_types(struct otd_req *req);

/* addresses.c: the gazetteer autocomplete */
enum otd_status h_addresses(struct otd_req *req);

/* stream.c: live streams (Server-Sent Events) */
enum otd_status h_dispatch_stream(struct otd_req *req);
enum otd_status h_visitor_stream(struct otd_req *req);
enum otd_status h_link_stream(struct otd_req *req);

/* Tracking (tracking.c). */
enum otd_status h_visitor_events(struct otd_req *req);
enum otd_status h_visitor_unavailable(struct otd_req *req);
enum otd_status h_visitor_day(struct otd_req *req);
enum otd_status h_my_day(struct otd_req *req);

/* guarantees.c: the guarantee ledger */
enum otd_status h_guarantees_list(struct otd_req *req);
enum otd_status h_guarantees_report(struct otd_req *req);
enum otd_status h_guarantee_get(struct otd_req *req);
enum otd_status h_guarantee_pay(struct otd_req *req);
enum otd_status h_guarantee_exempt(struct otd_req *req);

/* feedback.c: the customer's feedback, its moderation, the trust figures */
enum otd_status h_link_feedback_get(struct otd_req *req);
enum otd_status h_link_feedback(struct otd_req *req);
enum otd_status h_feedback_list(struct otd_req *req);
enum otd_status h_feedback_moderate(struct otd_req *req);
enum otd_status h_trust(struct otd_req *req);

/* webhooks.c: gateways' delivery reports and inbound text messages */
enum otd_status h_kannel_dlr(struct otd_req *req);
enum otd_status h_kannel_mo(struct otd_req *req);
enum otd_status h_twilio_status(struct otd_req *req);
enum otd_status h_twilio_inbound(struct otd_req *req);

/* privacy.c: erasing a contact, the subject access export, the audit log */
enum otd_status h_customer_erase(struct otd_req *req);
enum otd_status h_customer_export(struct otd_req *req);
enum otd_status h_audit_list(struct otd_req *req);

#endif
