/* onthedot inbound text messages (Kannel MO, Twilio inbound): a customer
 * answering an apology. "1" keeps the window (it waives nothing: a window
 * then broken is still owed), "2" or "3" takes the first or second window
 * held for them, anything else (or a sender we do not know) goes to the
 * dispatcher's inbox. Every message is kept with what became of it. */
#ifndef OTD_APP_INBOUND_H
#define OTD_APP_INBOUND_H

#include <stdint.h>

#include "app/app.h"

struct otd_inbound_result {
	char outcome[16]; /* kept, moved, inbox, unknown_sender, offer_gone */
	int64_t message_id;
	int64_t appointment_id; /* 0 when none */
	char reference[16];     /* of the appointment, or "" */
};

/* Handles one inbound message from sender (as the gateway gave it; it is
 * normalised to E.164 with messages.country_code) with body text.
 * provider_id (may be NULL) makes a gateway's retry of the same message a
 * no-op: OTD_OK with the first outcome's kind "duplicate". OTD_EINVAL when
 * the sender is not a phone number or the body is longer than 2000 bytes
 * or not UTF-8. */
enum otd_status app_inbound_sms(struct otd_app *app, const char *provider, const char *provider_id,
                                const char *sender, const char *body,
                                struct otd_inbound_result *out, struct otd_error *err);

#endif
