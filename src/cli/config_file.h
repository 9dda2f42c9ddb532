/* onthedot configuration: defaults, the libconfig file, ONTHEDOT_*
 * environment variables, and a dump of the result.
 *
 * Every option is declared once, in the table in config_file.c (dotted
 * name, type, range, default, one line of documentation); defaults, file
 * loading, the environment, the key list and the dump are all driven by
 * it. contrib/onthedot.conf documents each option.
 *
 * Precedence is the caller's order of calls: defaults, then the file,
 * then the environment, then command-line flags. */
#ifndef OTD_CLI_CONFIG_FILE_H
#define OTD_CLI_CONFIG_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "app/config.h"
#include "onthedot/status.h"

/* Largest configuration file read, in bytes; larger is an error. */
#define OTD_CONFIG_FILE_MAX (1024 * 1024)

/* Sets every field of *cfg to its default. Strings are heap copies and
 * http.trusted_proxies an empty NULL-terminated array, all owned by cfg
 * and freed by otd_config_cleanup. Overwrites *cfg without freeing what it
 * held: call it on a new or cleaned-up struct. Cannot fail. */
void otd_config_defaults(struct otd_config *cfg);

/* Reads the libconfig file at path over *cfg (options it does not set
 * keep their values). cfg must hold a full configuration (defaults or a
 * previous load). On failure returns OTD_ENOTFOUND (no such file),
 * OTD_EIO (unreadable), OTD_ETOOBIG (over OTD_CONFIG_FILE_MAX or 65535
 * lines) or OTD_EINVAL, fills *err with a message naming the file and the
 * line ("onthedot.conf line 12:
 * http.threads must be an integer from 1 to 256 (got a string)") and the
 * dotted option name in err->field ("" for a syntax error), and leaves
 * *cfg unchanged. Unknown options, wrong types, values out of range and
 * libconfig syntax errors are all failures. @include paths are relative
 * to the file's directory. A file that sets a secret (a password, token
 * or key: delivery.*_password, *_secret, twilio_token) to a non-empty
 * value while group or others may read it, or others may write it, is
 * refused with OTD_EFORBIDDEN (err->code "config_permissions") and a
 * message giving the `chmod 600 FILE` that fixes it; the environment's
 * secrets are not checked. */
enum otd_status otd_config_load_file(struct otd_config *cfg, const char *path,
                                     struct otd_error *err);

/* Applies ONTHEDOT_<SECTION>_<KEY> variables from envp (NULL-terminated
 * "NAME=VALUE" strings, such as environ; NULL means none) over *cfg:
 * ONTHEDOT_HTTP_THREADS=8, ONTHEDOT_DATABASE=/x.db,
 * ONTHEDOT_AUTH_SECURE_COOKIES=true,
 * ONTHEDOT_HTTP_TRUSTED_PROXIES=10.0.0.1,10.0.0.2. Values are checked like
 * the file's; booleans also take 1/0, yes/no, on/off; an empty list
 * variable means an empty list. An ONTHEDOT_ variable that names no option
 * is an error, so a typo is not ignored; ONTHEDOT_CONFIG (the file's
 * path, read by the command line) is the one exception. On failure
 * returns OTD_EINVAL, fills *err (err->field: the dotted option, or the
 * variable's name when unknown) and leaves *cfg unchanged. */
enum otd_status otd_config_apply_env(struct otd_config *cfg, char *const *envp,
                                     struct otd_error *err);

/* Frees every string and list *cfg owns and sets those pointers to NULL;
 * other fields are left as they are. Safe on a zeroed struct and twice. */
void otd_config_cleanup(struct otd_config *cfg);

/* Points *keys at the dotted names of every option ("database",
 * "http.threads", ...) in table order and returns how many there are. The
 * array is static and never freed. Thread-safe. */
size_t otd_config_keys(const char *const **keys);

/* Writes the whole configuration to out in the file's syntax, grouped as
 * in the file: each option on its own line after a comment saying what it
 * is; an option that differs from its default says so in a trailing
 * comment. Loading the output gives back an equal configuration. */
void otd_config_dump(const struct otd_config *cfg, FILE *out);

#endif
