/* onthedot doctor: check a configuration, its database, time zone data and
 * gateways, one line per finding. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/doctor.h"
#include "app/tzload.h"
#include "cli/cli.h"
#include "cli/config_file.h"

extern char **environ;

static void doctor_usage(FILE *out)
{
	fprintf(out, "usage: onthedot doctor [--config FILE] [--db FILE]\n\n"
	             "Checks what serve needs and says what is wrong, one line per finding:\n"
	             "  ok|WARN|FAIL  what: plain words\n"
	             "The configuration loads (a file holding a secret must be chmod 600); the\n"
	             "database exists, opens read-only, has the current schema, passes PRAGMA\n"
	             "quick_check, and its WAL and free disk space; the time zone loads from the\n"
	             "system's tzdata; each configured gateway accepts a TCP connection (SMTP:\n"
	             "its 220 greeting; nothing is ever sent); public_url is set unless messages\n"
	             "are record-only. Safe while the service runs: nothing is written.\n"
	             "Exit status 0 when nothing FAILed, 1 otherwise.\n\n"
	             "  --config FILE   configuration file (default: $ONTHEDOT_CONFIG, if set)\n"
	             "  --db FILE       database, instead of the configuration's\n");
}

static void print_finding(void *arg, enum doctor_level level, const char *what, const char *words)
{
	(void)arg;
	static const char *names[] = {"ok", "WARN", "FAIL"};
	printf("%-4s  %s: %s\n", names[level], what, words);
	fflush(stdout);
}

/* The configuration as serve builds it, reported instead of refused.
 * Returns 0 when it loads. */
static int load_config(const char *path, const char *db, struct otd_config *cfg)
{
	otd_config_defaults(cfg);
	struct otd_error err;
	otd_error_clear(&err);
	if(!path)
		path = getenv("ONTHEDOT_CONFIG");
	if(path && *path) {
		if(otd_config_load_file(cfg, path, &err) != OTD_OK) {
			print_finding(NULL, DOCTOR_FAIL, "configuration", err.message);
			return -1;
		}
		struct stat sb;
		char words[600];
		if(stat(path, &sb) == 0 && (sb.st_mode & 002)) {
			snprintf(words, sizeof(words),
			         "any user may change %s (mode %04o): run chmod 600 %s", path,
			         (unsigned)(sb.st_mode & 07777), path);
			print_finding(NULL, DOCTOR_WARN, "configuration", words);
		} else {
			snprintf(words, sizeof(words), "%s loads", path);
			print_finding(NULL, DOCTOR_OK, "configuration", words);
		}
	} else {
		print_finding(NULL, DOCTOR_OK, "configuration",
		              "no file given: the defaults and ONTHEDOT_* variables");
	}
	if(otd_config_apply_env(cfg, environ, &err) != OTD_OK) {
		print_finding(NULL, DOCTOR_FAIL, "environment", err.message);
		return -1;
	}
	if(db)
		cli_config_set(&cfg->database, db);
	return 0;
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, 0, 'c'},
	                                     {"db", required_argument, 0, 'd'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	const char *config = NULL, *db = NULL;
	int c;
	optind = 1;
	while((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch(c) {
		case 'c': config = optarg; break;
		case 'd': db = optarg; break;
		case 'h': doctor_usage(stdout); return 0;
		default: doctor_usage(stderr); return 2;
		}
	}
	if(optind < argc) {
		cli_error("doctor", "unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	struct otd_config cfg;
	if(load_config(config, db, &cfg) != 0) {
		printf("FAIL  doctor: the other checks need a configuration that loads\n");
		otd_config_cleanup(&cfg);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int fails = doctor_run(&cfg, print_finding, NULL);
	curl_global_cleanup();
	tzload_shutdown();
	otd_config_cleanup(&cfg);
	return fails ? 1 : 0;
}
