/* onthedot doctor: checks that a configuration can run a service, each
 * reported as one line an operator can act on (onthedot doctor). */
#ifndef OTD_APP_DOCTOR_H
#define OTD_APP_DOCTOR_H

#include <stddef.h>

#include "app/config.h"

enum doctor_level { DOCTOR_OK, DOCTOR_WARN, DOCTOR_FAIL };

/* Receives one finding: what was checked ("database", "gateway smtp")
 * and what was found, in plain words. */
typedef void (*doctor_report_fn)(void *arg, enum doctor_level level, const char *what,
                                 const char *words);

/* Free disk below either of these is a warning. */
#define DOCTOR_DISK_MIN_FRACTION 0.10
#define DOCTOR_DISK_MIN_BYTES (UINT64_C(1) << 30)
/* A write-ahead log larger than this is a warning (it should stay small:
 * checkpoints run when the service is idle). */
#define DOCTOR_WAL_WARN_BYTES (INT64_C(256) << 20)

/* Checks, reporting each finding through report: the log file (when
 * set) can be appended to; the database exists, opens read-only, has the
 * schema this build knows, passes PRAGMA quick_check, is private to its
 * owner, and its WAL and free disk space; the organisation's time zone
 * loads from the system's tzdata; each configured gateway's URL parses
 * and its host:port accepts a TCP connection within
 * delivery.connect_timeout_ms (SMTP also answers with its 220 greeting;
 * nothing is ever sent); public_url is set unless messages are
 * record-only. Never writes to the database. Loads the time zone with
 * libical: call with no other thread using libical. Returns the number
 * of DOCTOR_FAIL findings. */
int doctor_run(const struct otd_config *cfg, doctor_report_fn report, void *arg);

/* Connects to host:port (a name or an address) within timeout_ms; when
 * greeting is true, also reads the first line the server sends and
 * requires it to start with "220" (SMTP). Returns 0, or -1 with a
 * sentence in why. */
int doctor_probe(const char *host, int port, int timeout_ms, bool greeting, char *why,
                 size_t why_size);

#endif
