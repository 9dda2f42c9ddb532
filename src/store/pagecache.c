/* One block of memory for SQLite's page caches, taken when the server
 * starts (SQLITE_CONFIG_PAGECACHE).
 *
 * Each connection's cache takes a page from the heap as it first reads it
 * and keeps it up to its cache_size, so without this the server's resident
 * memory grows for as long as the database does, by up to the sum of the
 * caches: under a steady load that looks just like a leak, and hides one.
 * Given a block, SQLite takes cache pages from it, and once it is nearly
 * used up a connection recycles its own pages before taking heap memory
 * (the block here is the sum of the connections' cache sizes). The block
 * is written here once, so the process holds it all from the start and
 * its memory afterwards is flat. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "store/store.h"

#define PAGE_BYTES 4096 /* SQLite's default page size, which onthedot keeps */

static void *reserved; /* the block, for the life of the process */

enum otd_status store_reserve_page_cache(size_t kib, struct otd_error *err)
{
	if(reserved)
		return otd_error_set(err, OTD_ESTATE, "page_cache", NULL,
		                     "The page cache was already reserved.");
	size_t pages = kib / (PAGE_BYTES / 1024);
	if(pages == 0 || pages > INT32_MAX)
		return otd_error_set(
		    err, OTD_ESTATE, "page_cache", NULL,
		    "The page cache to reserve must be 4 KiB to 8 TiB (got %zu KiB).", kib);
	int hdr = 0;
	int rc = sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &hdr);
	if(rc != SQLITE_OK)
		return otd_error_set(err, OTD_ESTATE, "page_cache", NULL,
		                     "SQLite's page cache can be given memory only before any "
		                     "database is opened (%s).",
		                     sqlite3_errstr(rc));
	size_t slot = ((size_t)PAGE_BYTES + (size_t)hdr + 7) & ~(size_t)7;
	void *block = xmalloc(slot * pages);
	rc = sqlite3_config(SQLITE_CONFIG_PAGECACHE, block, (int)slot, (int)pages);
	if(rc != SQLITE_OK) {
		free(block);
		return otd_error_set(err, OTD_ESTATE, "page_cache", NULL,
		                     "SQLite's page cache can be given memory only before any "
		                     "database is opened (%s).",
		                     sqlite3_errstr(rc));
	}
	memset(block, 0, slot * pages); /* resident now, not as the caches fill */
	reserved = block;
	return OTD_OK;
}

bool store_skip_memory_statistics(void)
{
	/* With statistics on, every allocation and free SQLite makes, on any
	 * connection, takes one mutex all threads share, to count it; the
	 * counts are read nowhere in onthedot. */
	return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
}
