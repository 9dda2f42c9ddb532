/* onthedot serve: run the HTTP service until SIGTERM or SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "app/app.h"
#include "app/backups.h"
#include "app/log.h"
#include "app/ticker.h"
#include "notify/notify.h"
#include "app/tzload.h"
#include "cli/cli.h"
#include "cli/config_file.h"
#include "http/server.h"
#include "onthedot/mem.h"
#include "sim/drive.h"
#include "store/backup.h"
#include "store/store.h"

static void serve_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: onthedot serve [--config FILE] [--db FILE] [--listen HOST:PORT]\n"
	    "                      [--virtual-clock [--virtual-start RFC3339]]\n"
	    "                      [--port-file FILE] [--log-level LEVEL] [--check-config]\n"
	    "                      [--demo-drive]\n\n"
	    "Runs the HTTP service until SIGTERM or SIGINT; requests in flight finish first.\n"
	    "Settings come from the defaults, the config file, ONTHEDOT_* environment\n"
	    "variables and these flags, in that order (contrib/onthedot.conf documents all).\n\n"
	    "  --config FILE        configuration file (default: $ONTHEDOT_CONFIG, if set)\n"
	    "  --db FILE            SQLite database (must be migrated: onthedot migrate)\n"
	    "  --listen HOST:PORT   address to listen on; port 0 picks a free port\n"
	    "  --virtual-clock      time moves only through POST /api/v1/admin/clock (tests)\n"
	    "  --virtual-start T    where a virtual clock starts (default: now)\n"
	    "  --port-file FILE     write the bound port to FILE once listening\n"
	    "  --log-level LEVEL    debug, info, warn or error\n"
	    "  --check-config       validate the configuration, print it, and exit\n"
	    "  --demo-drive         play the visitors of the day with the simulator's reality\n"
	    "                       model (the demo; needs messages.record_only, so no real\n"
	    "                       customer is told): they leave, arrive, finish, tap late\n"
	    "                       now and then, one in 12 falls ill at 10:00\n");
}

/* Raises the open-file limit to the hard limit: each connection is a file. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int write_port_file(const char *path, unsigned port)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	int rc = -1;
	if(f) {
		fprintf(f, "%u\n", port);
		if(fclose(f) == 0)
			rc = rename(tmp, path); /* readers never see a half-written file */
	}
	free(tmp);
	return rc;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, 0, 'c'},
	                                     {"db", required_argument, 0, 'd'},
	                                     {"listen", required_argument, 0, 'l'},
	                                     {"virtual-clock", no_argument, 0, 'v'},
	                                     {"virtual-start", required_argument, 0, 's'},
	                                     {"port-file", required_argument, 0, 'p'},
	                                     {"log-level", required_argument, 0, 'L'},
	                                     {"check-config", no_argument, 0, 'C'},
	                                     {"demo-drive", no_argument, 0, 'D'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	const char *config = NULL, *db = NULL, *listen_at = NULL, *vstart = NULL, *port_file = NULL,
	           *level = NULL;
	bool virtual_clock = false, check_only = false, demo_drive = false;
	int c;
	optind = 1;
	while((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch(c) {
		case 'c': config = optarg; break;
		case 'd': db = optarg; break;
		case 'l': listen_at = optarg; break;
		case 'v': virtual_clock = true; break;
		case 's': vstart = optarg; break;
		case 'p': port_file = optarg; break;
		case 'L': level = optarg; break;
		case 'C': check_only = true; break;
		case 'D': demo_drive = true; break;
		case 'h': serve_usage(stdout); return 0;
		default: serve_usage(stderr); return 2;
		}
	}
	if(optind < argc) {
		cli_error("serve", "unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	struct otd_config cfg;
	if(cli_config_load("serve", config, db, &cfg))
		return 1;
	if(listen_at)
		cli_config_set(&cfg.listen, listen_at);
	if(vstart)
		cli_config_set(&cfg.virtual_start, vstart);
	if(port_file)
		cli_config_set(&cfg.port_file, port_file);
	if(level)
		cli_config_set(&cfg.log_level, level);
	if(virtual_clock)
		cfg.virtual_clock = true;
	int lv = otd_log_level_parse(cfg.log_level);
	if(lv < 0) {
		cli_error("serve", "log level must be debug, info, warn or error (got \"%s\")",
		          cfg.log_level);
		otd_config_cleanup(&cfg);
		return 2;
	}
	otd_log_set_level((enum otd_log_level)lv);
	if(demo_drive && !cfg.messages.record_only) {
		/* Simulated visitors make real apologies: only to the record. */
		cli_error("serve",
		          "--demo-drive plays made-up visitors and needs messages.record_only "
		          "(ONTHEDOT_MESSAGES_RECORD_ONLY=true), so no real customer is told");
		otd_config_cleanup(&cfg);
		return 2;
	}
	if(check_only) {
		struct otd_error terr;
		otd_error_clear(&terr);
		/* The TLS files, read and checked as start reads them. */
		if(http_server_check_tls(&cfg, &terr) != OTD_OK) {
			cli_error("serve", "%s", terr.message);
			otd_config_cleanup(&cfg);
			return 1;
		}
		printf("# configuration is valid; effective values:\n");
		otd_config_dump(&cfg, stdout);
		otd_config_cleanup(&cfg);
		return 0;
	}

	if(cfg.log_file[0]) {
		char why[600];
		if(otd_log_open_file(cfg.log_file, why, sizeof(why)) != 0) {
			cli_error("serve", "%s (log_file)", why);
			otd_config_cleanup(&cfg);
			return 1;
		}
	}
	if(sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cli_error("serve", "libsodium or libcurl could not start");
		otd_config_cleanup(&cfg);
		return 1;
	}
	raise_nofile();
	/* Signals are taken by sigwait in this thread only: block them before
	 * any other thread starts so every thread inherits the mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A long-running server allocates and frees the same working sets per
	 * request: keep freed memory instead of handing it back to the kernel
	 * after each (madvise, then page faults on the next request were a
	 * fifth of the writer thread's time under load). */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	/* One heap arena a core, not one a thread (glibc's default allows
	 * eight a core): each of the pool's threads would otherwise grow an
	 * arena of its own to its high-water mark, slowly, one request mix at
	 * a time, and the resident memory creep for an hour (the soak saw
	 * 0.84 MiB in two minutes with bookings alone; 0.23 with one arena). */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	mallopt(M_ARENA_MAX, cores > 0 && cores < 64 ? (int)cores : 8);
	/* This serve owns the database until it exits: a second one, or a
	 * restore, is refused (cmd_restore.c). */
	struct store_lock *dblock = NULL;
	if(cli_serve_lock(&cfg, &dblock) != 0) {
		curl_global_cleanup();
		otd_log_close();
		otd_config_cleanup(&cfg);
		return 1;
	}

	int rc = 1;
	struct otd_app app;
	struct otd_server *srv = NULL;
	struct otd_ticker *ticker = NULL;
	struct otd_backups *backups = NULL;
	struct otd_notifier *notifier = NULL;
	struct sim_drive *drive = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	if(app_open(&app, &cfg, OTD_APP_SERVER, &err) != OTD_OK) {
		cli_error("serve", "%s", err.message);
		cli_restore_hint(&cfg, &err); /* a damaged database: the command to use */
		goto out_cfg;
	}
	if(http_server_start(&app, &srv, &err) != OTD_OK) {
		cli_error("serve", "%s", err.message);
		goto out_app;
	}
	unsigned port = http_server_port(srv);
	if(app_listening(&app, port, &err) != OTD_OK) {
		cli_error("serve", "%s", err.message);
		goto out_srv;
	}
	if(notifier_start(&app, &notifier, &err) != OTD_OK) {
		cli_error("serve", "%s", err.message);
		goto out_srv;
	}
	ticker = ticker_start(&app, cfg.tracking.ticker_seconds);
	backups = backups_start(&app); /* backup.dir; its own thread, never the writer */
	if(demo_drive && !(drive = sim_drive_start(&app, 1))) {
		cli_error("serve", "the demo driver could not start");
		goto out_srv;
	}
	if(cfg.port_file[0] && write_port_file(cfg.port_file, port) != 0) {
		cli_error("serve", "cannot write the port file %s: %s", cfg.port_file, strerror(errno));
		goto out_srv;
	}
	char *shown = store_path_shown(cfg.database); /* no password in the log */
	otd_log(OTD_LOG_INFO, "listening", "{s:s,s:i,s:s,s:s,s:b,s:b}", "listen", cfg.listen,
	        "port", (int)port, "database", shown, "timezone", cfg.timezone, "virtual_clock",
	        cfg.virtual_clock, "demo_drive", demo_drive);
	free(shown);
	for(;;) {
		int sig = 0;
		if(sigwait(&sigs, &sig) != 0)
			continue;
		if(sig == SIGHUP) {
			/* log_file, after logrotate renamed it */
			otd_log_reopen();
			http_server_reload(srv); /* TLS certificate and key; logs why if not */
			continue;
		}
		otd_log(OTD_LOG_INFO, "stopping", "{s:i,s:i}", "signal", sig, "inflight",
		        http_server_inflight(srv));
		break;
	}
	rc = 0;
out_srv:
	http_server_stop(srv, cfg.http.shutdown_grace);
	sim_drive_stop(drive);
	ticker_stop(ticker);
	backups_stop(backups);
	notifier_stop(notifier);
out_app:
	app_close(&app);
	tzload_shutdown();
	curl_global_cleanup();
	if(rc == 0)
		otd_log(OTD_LOG_INFO, "stopped", NULL);
out_cfg:
	store_lock_release(dblock);
	otd_log_close();
	otd_config_cleanup(&cfg);
	return rc;
}
