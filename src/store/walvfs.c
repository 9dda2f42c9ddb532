/* A thin SQLite VFS over the default one that gathers the writes of one
 * commit to the write-ahead log into a single pwrite.
 *
 * SQLite writes every log frame as two writes (a 24-byte header, then the
 * page), so a commit of 20 pages costs 40 system calls before its sync;
 * on a virtual machine a system call is dear, and under load those calls
 * were about a quarter of the writer's time. This layer keeps the
 * contiguous writes to a -wal file in memory and hands them to the
 * default VFS in one call:
 *   - as soon as the page of a commit frame (a frame header whose
 *     "database size after commit" field is not zero) has been written,
 *     which is before SQLite syncs the log or publishes the frames in the
 *     shared index, so no reader can ever see a frame still held here;
 *   - before any other operation on the file (read, sync, truncate, size,
 *     lock, file control, close), so the file looks to SQLite exactly as
 *     if every write had gone straight through;
 *   - when a write is not contiguous with what is held, or would overflow
 *     the buffer.
 * Writes that do not extend the log (rewrites of frames already written)
 * go straight through, and so does everything when the file is not
 * power-safe (SQLite then pads commits around a sync).
 * Nothing is acknowledged earlier than before: every byte of a commit has
 * reached the file when SQLite's COMMIT returns, so a sync after it (SQLite's
 * own under synchronous=FULL, or the store's syncer, db.c, on a handle of
 * its own) covers it. Every other file (database, journals) passes
 * straight through. */
#include "store/walvfs.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WALVFS_NAME "onthedot"
/* The default VFS writes at most 128 KiB - 1 bytes in one call (its
 * seekAndWrite masks the length with 0x1ffff): stay below. */
#define BUF_CAP (31 * 4096)
#define FRAME_HEADER 24

struct walfile {
	sqlite3_file base;  /* must be first: SQLite sees this */
	sqlite3_file *real; /* the default VFS's file, just after this struct */
	int is_wal;
	unsigned char *buf; /* held writes, contiguous from buf_off */
	size_t len;
	sqlite3_int64 buf_off;
	sqlite3_int64 end;       /* end of what this log generation has been written up to */
	sqlite3_int64 commit_at; /* offset of the page of a commit frame held, or 0 */
};

static sqlite3_vfs *base_vfs;
static sqlite3_vfs wal_vfs;
static sqlite3_io_methods wal_methods;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int register_rc = SQLITE_ERROR;

/* Hands what is held to the real file. On an error (a full disk, an I/O
 * error) the held bytes are dropped and the error is returned to SQLite:
 * they belong to the transaction being written (a commit is flushed
 * before its write returns, so nothing of an acknowledged commit is ever
 * held), which SQLite then rolls back, and its next transaction rewrites
 * the log from the last commit. The log is taken to end where the failed
 * write began, so the rewrite is held again rather than sent through. */
static int flush(struct walfile *f)
{
	f->commit_at = 0;
	if(!f->len)
		return SQLITE_OK;
	int rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->buf_off);
	if(rc != SQLITE_OK && f->buf_off < f->end)
		f->end = f->buf_off;
	f->len = 0;
	return rc;
}

static int w_close(sqlite3_file *file)
{
	struct walfile *f = (struct walfile *)file;
	int rc = flush(f);
	int rc2 = f->real->pMethods->xClose(f->real);
	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int w_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	struct walfile *f = (struct walfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, amt, off);
}

static unsigned be32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

/* Writes straight through, after anything held. */
static int write_through(struct walfile *f, const void *data, int amt, sqlite3_int64 off)
{
	int rc = flush(f);
	if(rc == SQLITE_OK)
		rc = f->real->pMethods->xWrite(f->real, data, amt, off);
	if(rc == SQLITE_OK && off + amt > f->end)
		f->end = off + amt;
	return rc;
}

static int w_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
	struct walfile *f = (struct walfile *)file;
	if(!f->is_wal || amt <= 0)
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	/* A new log generation starts with its 32-byte header at offset 0. */
	if(off == 0) {
		int rc = flush(f);
		if(rc != SQLITE_OK)
			return rc;
		f->end = 0;
	}
	/* Only writes that extend the log are held: a rewrite of a frame
	 * already written (SQLite rewrites checksums of frames a transaction
	 * changed twice) goes straight through. */
	if(off < f->end || (size_t)amt > BUF_CAP)
		return write_through(f, data, amt, off);
	if(!f->buf && !(f->buf = malloc(BUF_CAP))) {
		/* No memory to hold writes: none is ever held on this file, or a
		 * commit frame's header gone through here could leave its page
		 * held past the COMMIT. */
		f->is_wal = 0;
		return write_through(f, data, amt, off);
	}
	int rc;
	if(f->len &&
	   (off != f->buf_off + (sqlite3_int64)f->len || f->len + (size_t)amt > BUF_CAP)) {
		sqlite3_int64 commit_at = f->commit_at;
		if((rc = flush(f)) != SQLITE_OK)
			return rc;
		f->commit_at = commit_at; /* still expected: a page split across buffers */
	}
	if(!f->len)
		f->buf_off = off;
	memcpy(f->buf + f->len, data, (size_t)amt);
	f->len += (size_t)amt;
	f->end = off + amt;
	/* The page of a commit frame: the transaction's last write before
	 * SQLite syncs (if it does) and publishes the frames to readers. */
	if(f->commit_at && off == f->commit_at)
		return flush(f);
	/* A frame header (24 bytes, after the 32-byte log header) whose second
	 * word, the database size after commit, is set: a commit frame. */
	if(amt == FRAME_HEADER && off >= 32 && be32((const unsigned char *)data + 4) != 0)
		f->commit_at = off + FRAME_HEADER;
	return SQLITE_OK;
}

static int w_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct walfile *f = (struct walfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int w_sync(sqlite3_file *file, int flags)
{
	struct walfile *f = (struct walfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int w_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct walfile *f = (struct walfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int w_lock(sqlite3_file *file, int level)
{
	struct walfile *f = (struct walfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xLock(f->real, level);
}

static int w_unlock(sqlite3_file *file, int level)
{
	struct walfile *f = (struct walfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xUnlock(f->real, level);
}

static int w_check_reserved(sqlite3_file *file, int *out)
{
	struct walfile *f = (struct walfile *)file;
	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int w_file_control(sqlite3_file *file, int op, void *arg)
{
	struct walfile *f = (struct walfile *)file;
	int rc = flush(f);
	if(rc != SQLITE_OK)
		return rc;
	rc = f->real->pMethods->xFileControl(f->real, op, arg);
	if(op == SQLITE_FCNTL_VFSNAME && rc == SQLITE_OK && arg) {
		char **name = arg;
		char *prev = *name;
		*name = sqlite3_mprintf("%s/%z", WALVFS_NAME, prev);
	}
	return rc;
}

static int w_sector_size(sqlite3_file *file)
{
	struct walfile *f = (struct walfile *)file;
	return f->real->pMethods->xSectorSize(f->real);
}

static int w_device_characteristics(sqlite3_file *file)
{
	struct walfile *f = (struct walfile *)file;
	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int w_shm_map(sqlite3_file *file, int pg, int pgsz, int extend, void volatile **pp)
{
	struct walfile *f = (struct walfile *)file;
	if(f->real->pMethods->iVersion < 2 || !f->real->pMethods->xShmMap)
		return SQLITE_IOERR_SHMMAP;
	return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, pp);
}

static int w_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct walfile *f = (struct walfile *)file;
	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void w_shm_barrier(sqlite3_file *file)
{
	struct walfile *f = (struct walfile *)file;
	f->real->pMethods->xShmBarrier(f->real);
}

static int w_shm_unmap(sqlite3_file *file, int delete_flag)
{
	struct walfile *f = (struct walfile *)file;
	return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int w_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **pp)
{
	struct walfile *f = (struct walfile *)file;
	*pp = NULL;
	if(f->real->pMethods->iVersion < 3 || !f->real->pMethods->xFetch)
		return SQLITE_OK; /* SQLite then reads instead */
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, amt, pp);
}

static int w_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	struct walfile *f = (struct walfile *)file;
	if(f->real->pMethods->iVersion < 3 || !f->real->pMethods->xUnfetch)
		return SQLITE_OK;
	return f->real->pMethods->xUnfetch(f->real, off, p);
}

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                  int *out_flags)
{
	(void)vfs;
	struct walfile *f = (struct walfile *)file;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	int rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
	if(rc != SQLITE_OK || !f->real->pMethods) {
		f->base.pMethods = NULL; /* SQLite will not call xClose */
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	/* Only where a write cannot damage what is around it (power-safe
	 * overwrite, the default): otherwise SQLite pads each commit to a
	 * sector, splitting its last frame around a sync, and the tail could
	 * be held past the commit. SQLite decides that from the database
	 * file, whose "psow" URI parameter the log's name carries too. */
	f->is_wal = (flags & SQLITE_OPEN_WAL) != 0 && name &&
	            sqlite3_uri_boolean(name, "psow",
	                                !sqlite3_compileoption_used("POWERSAFE_OVERWRITE=0")) &&
	            (f->real->pMethods->xDeviceCharacteristics(f->real) &
	             SQLITE_IOCAP_POWERSAFE_OVERWRITE) != 0;
	f->base.pMethods = &wal_methods;
	return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return base_vfs->xDelete(base_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return base_vfs->xFullPathname(base_vfs, name, n, out);
}

static void *v_dlopen(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return base_vfs->xDlOpen(base_vfs, name);
}

static void v_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	base_vfs->xDlError(base_vfs, n, out);
}

static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return base_vfs->xDlSym(base_vfs, h, sym);
}

static void v_dlclose(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	base_vfs->xDlClose(base_vfs, h);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return base_vfs->xRandomness(base_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return base_vfs->xSleep(base_vfs, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return base_vfs->xCurrentTime(base_vfs, out);
}

static int v_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return base_vfs->xGetLastError ? base_vfs->xGetLastError(base_vfs, n, out) : 0;
}

static int v_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

static void register_once(void)
{
	base_vfs = sqlite3_vfs_find(NULL);
	if(!base_vfs || base_vfs->iVersion < 2) {
		register_rc = SQLITE_ERROR;
		return;
	}
	wal_methods = (sqlite3_io_methods){
	    .iVersion = 3,
	    .xClose = w_close,
	    .xRead = w_read,
	    .xWrite = w_write,
	    .xTruncate = w_truncate,
	    .xSync = w_sync,
	    .xFileSize = w_file_size,
	    .xLock = w_lock,
	    .xUnlock = w_unlock,
	    .xCheckReservedLock = w_check_reserved,
	    .xFileControl = w_file_control,
	    .xSectorSize = w_sector_size,
	    .xDeviceCharacteristics = w_device_characteristics,
	    .xShmMap = w_shm_map,
	    .xShmLock = w_shm_lock,
	    .xShmBarrier = w_shm_barrier,
	    .xShmUnmap = w_shm_unmap,
	    .xFetch = w_fetch,
	    .xUnfetch = w_unfetch,
	};
	wal_vfs = (sqlite3_vfs){
	    .iVersion = 2,
	    .szOsFile = (int)sizeof(struct walfile) + base_vfs->szOsFile,
	    .mxPathname = base_vfs->mxPathname,
	    .zName = WALVFS_NAME,
	    .xOpen = v_open,
	    .xDelete = v_delete,
	    .xAccess = v_access,
	    .xFullPathname = v_full_pathname,
	    .xDlOpen = v_dlopen,
	    .xDlError = v_dlerror,
	    .xDlSym = v_dlsym,
	    .xDlClose = v_dlclose,
	    .xRandomness = v_randomness,
	    .xSleep = v_sleep,
	    .xCurrentTime = v_current_time,
	    .xGetLastError = v_get_last_error,
	    .xCurrentTimeInt64 = v_current_time_int64,
	};
	register_rc = sqlite3_vfs_register(&wal_vfs, 0);
}

const char *store_walvfs(void)
{
	pthread_once(&once, register_once);
	return register_rc == SQLITE_OK ? WALVFS_NAME : NULL;
}
