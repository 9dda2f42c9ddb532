/* The store's SQLite VFS: the default one, with the writes of each commit
 * to the write-ahead log gathered into one system call (walvfs.c). */
#ifndef OTD_STORE_WALVFS_H
#define OTD_STORE_WALVFS_H

#include <sqlite3.h>

/* Registers the VFS once (thread-safe; it does not become the default) and
 * returns its name for sqlite3_open_v2, or NULL when it cannot be
 * registered (the caller then opens with the default VFS). */
const char *store_walvfs(void);

#endif
