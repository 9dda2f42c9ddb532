/* onthedot store: what the dispatch board and the visitor's phone page
 * read about a day's visits (issue 8): each appointment with its
 * customer's name and number, its address, its risk, whether the
 * customer has been warned and its open guarantee case; and the day's
 * head figures. Read-only. */
#ifndef OTD_STORE_BOARD_H
#define OTD_STORE_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/tracking.h"

struct otd_board_row {
	int64_t appointment_id, visitor_id;
	char reference[11];
	char status[16];
	int64_t window_start, window_end;
	int promise_version;
	struct otd_appointment_risk risk;
	int64_t arrived_at, done_at; /* 0: not yet */
	double lat, lon;
	/* heap strings, never NULL ("" when empty); phone NULL-able */
	char *customer_name, *phone, *access_notes;
	char *line1, *line2, *town, *postcode;
	char *visit_type;
	bool warned; /* told of a risk or change to its current promise (sent, or may have been) */
	int64_t case_id;     /* its open guarantee case, 0: none */
	int64_t case_amount; /* minor units of that case */
};

/* The appointments of local_date that are not cancelled, of one visitor
 * (visitor_id > 0) or of everyone (0), by visitor then route order
 * (heap). Free with store_board_rows_free. */
enum otd_status store_board_rows(struct otd_conn *c, const char *local_date, int64_t visitor_id,
                                 struct otd_board_row **out, size_t *n, struct otd_error *err);
void store_board_rows_free(struct otd_board_row *rows, size_t n);

struct otd_board_counts {
	int booked;     /* not cancelled */
	int kept;       /* arrived before the window closed (early counts as kept) */
	int warned;     /* customers told of a risk or a change of plan */
	int open_cases; /* open guarantee cases, of any day */
};

/* The head figures of local_date. */
enum otd_status store_board_counts(struct otd_conn *c, const char *local_date,
                                   struct otd_board_counts *out, struct otd_error *err);

/* One message of an appointment's log, with its latest delivery receipt. */
struct otd_message_row {
	int64_t id;
	char channel[16];
	char template_name[65];
	char state[16]; /* pending sending sent failed uncertain cancelled */
	int attempts;
	int64_t created_at, due_at, sent_at; /* sent_at 0: not sent */
	char provider[41];
	char *last_error;     /* heap, "" when none */
	char *receipt_status; /* heap, "" when no receipt came */
	int64_t receipt_at;   /* 0: none */
};

/* The messages of appointment_id, oldest first (heap). */
enum otd_status store_appointment_messages(struct otd_conn *c, int64_t appointment_id,
                                           struct otd_message_row **out, size_t *n,
                                           struct otd_error *err);
void store_message_rows_free(struct otd_message_row *rows, size_t n);

/* How many messages of appointment_id whose event key contains
 * event_part were queued at or after since (a repeat of a personal
 * message within a few minutes is the same message). */
enum otd_status store_messages_since(struct otd_conn *c, int64_t appointment_id,
                                     const char *event_part, int64_t since, int *count,
                                     struct otd_error *err);

/* One open item of the dispatcher's inbox: a task ("call": phone the
 * customer; "rebook": find them a new window) or a text message a customer
 * sent that nothing handled ("message": replies, address requests from
 * the booking page, texts from unknown numbers). */
struct otd_inbox_item {
	char kind[8];           /* call, rebook, message */
	int64_t id;             /* the task's or the message's id */
	int64_t appointment_id; /* 0: none */
	char reference[11];
	char *customer_name, *phone; /* heap, "" when unknown */
	char *text;                  /* heap: the task's note or the message */
	char outcome[16];            /* messages: inbox, unknown_sender, offer_gone */
	int64_t at;
};

/* The open tasks and messages, oldest first, at most max of each (heap). */
enum otd_status store_inbox(struct otd_conn *c, size_t max, struct otd_inbox_item **out, size_t *n,
                            struct otd_error *err);
void store_inbox_free(struct otd_inbox_item *items, size_t n);

/* Closes open task (message false) or message (true) id at now.
 * OTD_ENOTFOUND when there is no such open one. */
enum otd_status store_inbox_done(struct otd_conn *tx, bool message, int64_t id, int64_t now,
                                 struct otd_error *err);

#endif
