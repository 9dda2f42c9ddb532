/* onthedot: the small use cases the customer pages need beside booking.h:
 * an address by id, "my address isn't listed", the doorstep code, and
 * "keep my window" after an apology. */
#ifndef OTD_APP_CUSTOMER_H
#define OTD_APP_CUSTOMER_H

#include <stdint.h>

#include "app/app.h"
#include "onthedot/model.h"
#include "store/guarantees.h"
#include "store/tracking.h"

/* The gazetteer address id (retired ones too: an old booking may use one).
 * OTD_ENOTFOUND when there is none. The caller cleans out up with
 * otd_address_cleanup. */
enum otd_status app_address_get(struct otd_app *app, int64_t id, struct otd_address *out,
                                struct otd_error *err);

struct otd_address_request {
	const char *address;   /* the address as the customer wrote it, 5..500 characters */
	const char *name;      /* 1..200 characters */
	const char *phone;     /* as typed; "" or NULL when none */
	const char *email;     /* "" or NULL when none; one of phone or email is required */
	int64_t visit_type_id; /* what they want; 0 when not chosen */
};

/* "My address isn't listed": records the contact as a new one (the only
 * personal data, in the customers table; a stored contact with the same
 * phone is never changed by this form anyone can send) and a message in the dispatcher's inbox
 * saying what was asked for. No coordinates are guessed and nothing is booked. OTD_EINVAL naming
 * the field ("address", "name", "phone", "email", "contact" when neither phone nor email is given).
 */
enum otd_status app_address_request(struct otd_app *app, const struct otd_address_request *r,
                                    struct otd_error *err);

/* The 4-digit code the visitor shows at the door for appointment_id
 * (otd_doorstep_code under the database's server key), so the customer's
 * page and the visitor's phone always agree and a stranger cannot guess
 * it. out receives 4 digits and a NUL. */
enum otd_status app_doorstep_code(struct otd_app *app, int64_t appointment_id, char out[5],
                                  struct otd_error *err);

/* The customer keeps the promised window after an apology (the page's
 * "keep my window", as the "1" text message): the windows held for them
 * are let go and the choice is recorded. OTD_ESTATE when nothing is held
 * for them any more. */
enum otd_status app_offer_keep(struct otd_app *app, int64_t appointment_id, struct otd_error *err);

/* Lets go of hold hold_id at once (a move that failed after its hold was
 * made must not keep the capacity, nor count against the client's cap
 * until it expires). A hold already gone is not an error. */
enum otd_status app_hold_release(struct otd_app *app, int64_t hold_id, struct otd_error *err);

/* What the customer's page shows of the visit as it goes: the risk and
 * projected arrival band (store/tracking.h), and the guarantee cases of
 * the appointment (compensation owed, paid or exempt), at most 4. */
struct otd_customer_status {
	struct otd_appointment_risk risk; /* risk "ok" and no band when never projected */
	size_t n_cases;
	struct otd_case cases[4];
};

enum otd_status app_customer_status(struct otd_app *app, int64_t appointment_id,
                                    struct otd_customer_status *out, struct otd_error *err);

#endif
