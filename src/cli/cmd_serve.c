/* onthedot serve: run the HTTP service until SIGTERM or SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sodium.h>

#include "app/app.h"
#include "app/log.h"
#include "cli/cli.h"
#include "http/server.h"

static void serve_usage(FILE *out)
{
	fprintf(out, "usage: onthedot serve [--listen HOST:PORT] [--port-file FILE]\n\n"
	             "Runs the HTTP service until SIGTERM or SIGINT; requests in flight finish "
	             "first.\n\n"
	             "  --listen HOST:PORT  address to listen on (port 0 picks a free port)\n"
	             "  --port-file FILE    write the bound port to FILE once listening\n");
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
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if(!f)
		return -1;
	fprintf(f, "%u\n", port);
	if(fclose(f) != 0)
		return -1;
	return rename(tmp, path); /* readers never see a half-written file */
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {{"listen", required_argument, 0, 'l'},
	                                     {"port-file", required_argument, 0, 'p'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	struct otd_config cfg = {0};
	cfg.listen = "127.0.0.1:8080";
	cfg.http.threads = 4;
	cfg.http.max_connections = 1024;
	cfg.http.per_ip_connections = 128;
	cfg.http.idle_timeout = 30;
	cfg.http.max_body = 1 << 20;
	cfg.http.shutdown_grace = 10;
	int c;
	optind = 1;
	while((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch(c) {
		case 'l': cfg.listen = optarg; break;
		case 'p': cfg.port_file = optarg; break;
		case 'h': serve_usage(stdout); return 0;
		default: serve_usage(stderr); return 2;
		}
	}
	if(sodium_init() < 0) {
		cli_error("serve", "libsodium could not start");
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

	struct otd_app app = {.cfg = &cfg};
	struct otd_server *srv = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	if(http_server_start(&app, &srv, &err) != OTD_OK) {
		cli_error("serve", "%s", err.message);
		return 1;
	}
	unsigned port = http_server_port(srv);
	if(cfg.port_file && write_port_file(cfg.port_file, port) != 0) {
		cli_error("serve", "cannot write the port file %s: %s", cfg.port_file, strerror(errno));
		http_server_stop(srv, 0);
		return 1;
	}
	otd_log(OTD_LOG_INFO, "listening", "{s:s,s:i}", "listen", cfg.listen, "port", (int)port);
	for(;;) {
		int sig = 0;
		if(sigwait(&sigs, &sig) != 0)
			continue;
		if(sig == SIGHUP)
			continue; /* nothing to reload yet */
		otd_log(OTD_LOG_INFO, "stopping", "{s:i,s:i}", "signal", sig, "inflight",
		        http_server_inflight(srv));
		break;
	}
	http_server_stop(srv, cfg.http.shutdown_grace);
	otd_log(OTD_LOG_INFO, "stopped", NULL);
	return 0;
}
