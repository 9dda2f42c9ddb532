/* onthedot: appointment references ("OTD-7K3F9Q"), pure. */
#ifndef ONTHEDOT_REFERENCE_H
#define ONTHEDOT_REFERENCE_H

#include <stdbool.h>
#include <stdint.h>

#define OTD_REFERENCE_LEN 10 /* "OTD-" and six characters */

/* Writes a reference made from the six random bytes into out (11 bytes):
 * "OTD-" and six characters of 2-9 A-H J-N P-Z (no 0/O or 1/I). */
void otd_reference_make(const unsigned char random[6], char out[OTD_REFERENCE_LEN + 1]);

/* True when s is a well-formed reference (case-insensitive; spaces, a
 * missing "OTD-" or a missing hyphen are tolerated: " otd-7k3f 9q",
 * "7K3F9Q", "OTD7K3F9Q"); writes the canonical form to out. False for NULL,
 * a 0, O, 1 or I, any other character, or the wrong length; out is then
 * left alone. */
bool otd_reference_parse(const char *s, char out[OTD_REFERENCE_LEN + 1]);

/* The 4-digit code a visitor tells the customer at the door for
 * appointment_id, derived from the server's 32-byte key (keyed BLAKE2b
 * over "doorstep-code:ID", a domain of its own), so every page that shows
 * it agrees and a stranger cannot guess it. out receives 4 digits and a
 * NUL. */
void otd_doorstep_code(const unsigned char key[32], int64_t appointment_id, char out[5]);

#endif
