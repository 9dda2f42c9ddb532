/* onthedot command line: one function per subcommand. Each takes the
 * arguments after its name (argv[0] is the subcommand) and returns the
 * process exit status: 0 success, 1 failure, 2 usage error. */
#ifndef OTD_CLI_H
#define OTD_CLI_H

int cmd_serve(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* Prints "onthedot SUBCOMMAND: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
