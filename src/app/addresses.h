/* onthedot address search: the gazetteer autocomplete behind
 * GET /api/v1/addresses.
 *
 * The server keeps an index (onthedot/addrindex.h) of the addresses that
 * are not retired, built when it starts. A watcher thread asks the store
 * for the gazetteer's generation once a second (one indexed read) and,
 * when an import changed it (in this process or through `onthedot import
 * gazetteer` in another), builds a new index off the request threads and
 * swaps it in. A search uses the index that is current when it starts and
 * never waits for a build; an index is freed when the last search holding
 * it lets go. */
#ifndef OTD_APP_ADDRESSES_H
#define OTD_APP_ADDRESSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "onthedot/addrindex.h"

#define OTD_ADDRESS_CHECK_MS 1000 /* how often the watcher asks for the generation */

struct otd_address_index_ref;

/* What a search found. The strings of items belong to the index the
 * search used, which stays alive until app_address_hits_release. */
struct otd_address_hits {
	size_t n;
	struct otd_addr_entry items[OTD_ADDR_LIMIT_MAX];
	struct otd_address_index_ref *ref;
};

/* Builds the first index from the store and starts the watcher thread
 * (app_open does this in server mode). Fails when the addresses cannot be
 * read or indexed, err saying why. */
enum otd_status app_addresses_start(struct otd_app *app, struct otd_error *err);

/* Stops the watcher and frees the index once no search holds it (every
 * search must have been released). Safe when never started. */
void app_addresses_stop(struct otd_app *app);

/* Finds at most limit addresses (1 to OTD_ADDR_LIMIT_MAX) for q, best first
 * (the order onthedot/addrindex.h gives). Always fills *out, which the
 * caller releases with app_address_hits_release, also after a failure.
 * OTD_ESTATE when the app runs without the index (the command line). */
enum otd_status app_address_search(struct otd_app *app, const char *q, size_t limit,
                                   struct otd_address_hits *out, struct otd_error *err);

/* Lets go of the index *hits points into; hits is then empty. */
void app_address_hits_release(struct otd_address_hits *hits);

/* Asks for the gazetteer's generation now and rebuilds the index when it
 * changed (or always, with force); *rebuilt says whether it did. The
 * watcher calls it every OTD_ADDRESS_CHECK_MS; tests call it to skip the
 * wait. Builds never run two at once. */
enum otd_status app_addresses_refresh(struct otd_app *app, bool force, bool *rebuilt,
                                      struct otd_error *err);

struct otd_addresses_stats {
	size_t addresses;   /* in the current index */
	size_t bytes;       /* the current index's heap */
	int64_t generation; /* of the gazetteer it was built from */
	uint64_t builds;    /* since start, the first included */
	double build_ms;    /* the last build, reading the store included */
};

/* The current index's figures (zeros when there is none). */
void app_addresses_stats(struct otd_app *app, struct otd_addresses_stats *out);

#endif
