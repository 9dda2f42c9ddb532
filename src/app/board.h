/* onthedot board: what the dispatcher's board and the visitor's phone page
 * show of a day (issue 8, journeys 3 and 4).
 *
 * Both are read models for one page each, assembled here as the JSON the
 * API answers (as the live bus events are): every visitor's routes as the
 * planner models them now (shift, break, planned arrival and the travel
 * into each visit), each visit's promise, status and risk as tracking
 * keeps them, the customer's name, number and address, and for visits at
 * risk the notice clock (the last moment a change still counts as notice
 * under the guarantee rules) and the money at stake. */
#ifndef OTD_APP_BOARD_H
#define OTD_APP_BOARD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/app.h"

/* The board of local_date ("" or NULL: today in the organisation's zone):
 *   {"date", "now", "timezone", "figures": {"booked","kept","at_risk","warned","open_cases"},
 *    "visitors": [{"id","name","skills","state","late_minutes","unavailable_reason",
 *                  "silent","current","shifts","breaks","travel_minutes","stops":[...]}],
 *    "at_risk": [...]}  (most urgent first: earliest window, then highest P(late))
 * Every active visitor who works that day or has visits on it has a row,
 * by name. *out is the caller's (json_decref). 400 bad_date. */
enum otd_status app_board(struct otd_app *app, const char *local_date, json_t **out,
                          struct otd_error *err);

/* What the visitor's page needs besides the tracked day: {"now", "timezone",
 * "visitor_name", "shifts", "breaks", "details": {reference: {"customer_name",
 * "phone", "address", "access_notes", "lat", "lon", "visit_type",
 * "planned_arrival", "travel_minutes"}}}; for a visitor who is not active
 * (or visitor_id <= 0), no name, shifts, breaks or details. */
enum otd_status app_visitor_day_extra(struct otd_app *app, int64_t visitor_id,
                                      const char *local_date, json_t **out, struct otd_error *err);

/* Appointment appointment_id's messages with their delivery status,
 * oldest first: {"items": [{"id","channel","template","state","attempts",
 * "created_at","due_at","sent_at","provider","last_error","receipt":
 * {"status","at"}|null}]}. The link a message carried is never shown. */
enum otd_status app_appointment_messages(struct otd_app *app, int64_t appointment_id, json_t **out,
                                         struct otd_error *err);

/* The dispatcher's inbox: {"calls": [tasks to phone or rebook a customer],
 * "messages": [texts and address requests nothing handled]}, oldest
 * first, at most 200 of each. */
enum otd_status app_inbox(struct otd_app *app, json_t **out, struct otd_error *err);

/* Closes an open task (message false) or inbox message (true), with an
 * audit entry (inbox.done). 404 when there is no such open one. */
enum otd_status app_inbox_done(struct otd_app *app, const struct otd_principal *actor, bool message,
                               int64_t id, struct otd_error *err);

#endif
