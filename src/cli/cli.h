/* onthedot command line: one function per subcommand. Each takes the
 * arguments after its name (argv[0] is the subcommand) and returns the
 * process exit status: 0 success, 1 failure, 2 usage error. */
#ifndef OTD_CLI_H
#define OTD_CLI_H

#include <stddef.h>

#include "app/config.h"

int cmd_serve(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_solve(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_check_routes(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_erase(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_retention(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

struct store_lock;
struct otd_error;

/* Takes the database's lock for serve (store_lock_take; cmd_restore.c):
 * 0 with *lock held for serve's life (release with store_lock_release),
 * or 1 after printing why (another serve or a restore runs on it). */
int cli_serve_lock(const struct otd_config *cfg, struct store_lock **lock);

/* After app_open failed with err: when the database failed its startup
 * check ("database_damaged"), prints the restore command to use, with the
 * newest backup in backup.dir (or BACKUP). Otherwise prints nothing. */
void cli_restore_hint(const struct otd_config *cfg, const struct otd_error *err);

/* Prints "onthedot SUBCOMMAND: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Builds the configuration a subcommand runs with: defaults, then the
 * file (config_path, else $ONTHEDOT_CONFIG when set), then ONTHEDOT_*
 * environment variables, then db when not NULL. Prints what is wrong and
 * returns 1 on failure; 0 on success (free with otd_config_cleanup). */
int cli_config_load(const char *cmd, const char *config_path, const char *db,
                    struct otd_config *cfg);

/* Replaces a heap-owned configuration string. */
void cli_config_set(char **field, const char *value);

/* Reads a whole regular file into memory (NUL-terminated; *len excludes
 * the NUL), refusing more than max bytes. Returns NULL with a sentence in
 * why on failure. The caller frees the result. */
char *cli_read_file(const char *path, size_t max, size_t *len, char *why, size_t why_size);

/* True when argv holds --help or -h. */
int cli_wants_help(int argc, char **argv);

#endif
