/* Benchmark: importing a gazetteer of 100,000 addresses (the foundation
 * issue's goal: at most 5 seconds), first into an empty database, then
 * again (every row an update). Run from the release build:
 *   build/release/tests/bench/bench_gazetteer [ROWS] [DIR]
 * Prints a table and one JSON line. */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/imports.h"
#include "app/tzload.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "store/store.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long rows = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	if(rows < 1 || sodium_init() < 0)
		return 2;
	char db[4096];
	snprintf(db, sizeof(db), "%s/bench-gazetteer-%ld.db", dir, (long)getpid());
	struct otd_buf csv;
	otd_buf_init(&csv, 0);
	otd_buf_puts(&csv, "uprn,line1,line2,town,postcode,latitude,longitude\n");
	for(long i = 0; i < rows; i++)
		otd_buf_printf(&csv, "%ld,%ld %s Road,,Benchton,BT%ld %ld%c%c,%.6f,%.6f\n",
		               100000000000 + i, i % 300 + 1, i % 2 ? "Station" : "Mill", i % 90 + 1,
		               i % 9 + 1, 'A' + (char)(i % 26), 'A' + (char)(i / 26 % 26),
		               51.0 + (double)(i % 1000) / 2500.0, -1.0 - (double)(i / 1000) / 2500.0);
	struct otd_config cfg;
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db);
	struct otd_error err;
	int from, to;
	if(store_migrate(db, true, 5000, &from, &to, NULL, &err) != OTD_OK) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	struct otd_app app;
	if(app_open(&app, &cfg, OTD_APP_CLI, &err) != OTD_OK) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	struct otd_principal cli;
	app_principal_cli(&cli);
	struct otd_import_report r;
	double t0 = now_s();
	enum otd_status st = app_import_gazetteer(&app, &cli, "bench", csv.data, csv.len, &r, &err);
	double first = now_s() - t0;
	size_t inserted = r.inserted;
	otd_import_report_cleanup(&r);
	t0 = now_s();
	if(st == OTD_OK)
		st = app_import_gazetteer(&app, &cli, "bench", csv.data, csv.len, &r, &err);
	double again = now_s() - t0;
	size_t updated = r.updated;
	otd_import_report_cleanup(&r);
	app_close(&app);
	tzload_shutdown();
	otd_config_cleanup(&cfg);
	otd_buf_cleanup(&csv);
	char side[4200];
	remove(db);
	snprintf(side, sizeof(side), "%s-wal", db);
	remove(side);
	snprintf(side, sizeof(side), "%s-shm", db);
	remove(side);
	if(st) {
		fprintf(stderr, "import failed: %s\n", err.message);
		return 1;
	}
	printf("%-28s %10s %10s %12s\n", "gazetteer import", "rows", "seconds", "rows/s");
	printf("%-28s %10zu %10.2f %12.0f\n", "into an empty database", inserted, first,
	       (double)inserted / first);
	printf("%-28s %10zu %10.2f %12.0f\n", "again (all updates)", updated, again,
	       (double)updated / again);
	printf("{\"bench\":\"gazetteer_import\",\"rows\":%ld,\"first_s\":%.3f,\"again_s\":%.3f,"
	       "\"goal_s\":5.0,\"met\":%s}\n",
	       rows, first, again, first <= 5.0 && again <= 5.0 ? "true" : "false");
	return 0;
}
