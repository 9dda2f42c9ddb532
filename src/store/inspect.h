/* onthedot store: a read-only look at a database file for `onthedot
 * doctor`, safe while a server runs on it (no writer, no migration, no
 * change to the file). */
#ifndef OTD_STORE_INSPECT_H
#define OTD_STORE_INSPECT_H

#include <stdbool.h>
#include <stdint.h>

#include "onthedot/status.h"

/* What store_inspect found. */
struct store_inspect {
	int schema_version;     /* PRAGMA user_version */
	int schema_latest;      /* the version this build migrates to */
	bool quick_check_ok;    /* PRAGMA quick_check said "ok" */
	char quick_check[200];  /* its first line otherwise */
	int64_t db_bytes;       /* the file's size */
	int64_t wal_bytes;      /* FILE-wal's size; 0 when there is none */
	unsigned mode;          /* the file's permission bits */
	uint64_t fs_free_bytes; /* free to unprivileged users on its filesystem */
	uint64_t fs_total_bytes;
};

/* Opens the database at path read-only (SQLITE_OPEN_READONLY) and fills
 * *out. Fails with OTD_ENOTFOUND (err code "database_missing", naming the
 * migrate command that creates it) when there is no such file, OTD_EIO
 * (naming the file and SQLite's reason) when it cannot be opened or read
 * as a database. A failed quick_check or an old schema is not a failure:
 * it is in *out for the caller to judge. */
enum otd_status store_inspect(const char *path, struct store_inspect *out, struct otd_error *err);

/* What store_inspect_pg found in a PostgreSQL database. */
struct store_inspect_pg {
	char server_version[32]; /* SHOW server_version */
	int schema_version;      /* onthedot_schema's version; 0 before migrate */
	int schema_latest;
	int64_t db_bytes;    /* pg_database_size */
	char collate[64];    /* the database's collation: "C" sorts as SQLite does */
	int max_connections; /* SHOW max_connections */
	int connections;     /* sessions connected to this database now */
	int nodes_alive;     /* onthedot nodes whose ticker was seen in the last 5 minutes */
	bool read_only;      /* a standby (pg_is_in_recovery): nodes must use the primary */
};

/* Connects to the PostgreSQL database at url and fills *out with read-only
 * queries. OTD_EIO with the server's words (the password shown as ***)
 * when it cannot connect or read. */
enum otd_status store_inspect_pg(const char *url, struct store_inspect_pg *out,
                                 struct otd_error *err);

#endif
