/* onthedot core: the address autocomplete index over the gazetteer.
 *
 * An immutable structure built once from the addresses (id, line1, line2,
 * town, postcode) and then searched by many threads at once without a
 * lock. Searching forgives case, spacing, punctuation and postcode format:
 * "sw1a1aa", "SW1A 1AA", "sw1a 1", "10 downing", "Downing St" and
 * "downing street london" all find "10 Downing Street, London, SW1A 1AA".
 *
 * Text is normalised (otd_addr_normalise): ASCII letters lower-cased,
 * letters and digits kept, apostrophes dropped ("John's" is "johns"),
 * every other run of punctuation or space made one space; accented Latin
 * letters (U+00C0 to U+017F: "Zoë", "Glyndŵr") fold to their ASCII base
 * letter; any other UTF-8 character is kept byte for byte.
 *
 * The keys of an address are every word-suffix of its normalised text
 * "line1 line2 town postcode " (the text ends in a space, so a query
 * ending in a space matches whole words only) and its postcode without
 * spaces. A query matches in four tiers, best first:
 *   0  its text without spaces is the address's postcode without spaces;
 *   1  it is a prefix of the text (the start of line1: "10 downing");
 *   2  it is a prefix of a later word-suffix ("downing st"), or its text
 *      without spaces is a prefix of the postcode without spaces ("sw1a1");
 *   3  two to eight words in any order ("downing 10 sw1a"), each a word
 *      of the address or its postcode without spaces; the last one, unless
 *      a space follows it, may be the start of one.
 * Within a tier addresses come in natural order of line1 (numbers by
 * value: "2 Mill Road" before "10 Mill Road"), then of the whole text,
 * then by id, so an answer is stable. Each tier yields its best addresses
 * without visiting every match (a range-minimum structure over the sorted
 * keys), so a one-letter query costs about what a long one does. Tiers 0
 * to 2 look at no more than OTD_ADDR_SCAN_BUDGET keys each (reached only
 * when addresses have hundreds of words). Tier 3 checks every address of
 * its rarest word when that word has at most OTD_ADDR_WORDS_BUDGET keys
 * (narrowed first by the other words' sorted keys, without reading text);
 * past that it walks the rarest word's keys best first and stops after
 * OTD_ADDR_WORDS_BUDGET of them, so common words that rarely meet ("road
 * lane") cost a bounded quarter of a millisecond and may miss matches. */
#ifndef ONTHEDOT_ADDRINDEX_H
#define ONTHEDOT_ADDRINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"

#define OTD_ADDR_LIMIT_MAX 50      /* most addresses one search returns */
#define OTD_ADDR_QUERY_BYTES 1024  /* a longer query finds nothing */
#define OTD_ADDR_SCAN_BUDGET 4096  /* keys tiers 0, 1 and 2 may each visit */
#define OTD_ADDR_WORDS_BUDGET 1024 /* keys tier 3 may visit */
/* Tier 3 narrows its candidates by another word when that word has at
 * most this many keys per candidate left. */
#define OTD_ADDR_FILTER_RATIO 64
#define OTD_ADDR_TOKENS_MAX 8 /* words a tier-3 query may have */

/* One address: the input of a build and the output of a search. In a
 * search's output the strings point into the index and live as long as
 * it does; they are never NULL ("" when the address has no line2). */
struct otd_addr_entry {
	int64_t id;
	const char *line1, *line2, *town, *postcode;
};

struct otd_addrindex;

/* Builds an index of the n addresses in a (copied: a may be freed after;
 * NULL strings count as ""). n may be 0. *out is the caller's, freed with
 * otd_addrindex_free. Fails with OTD_ETOOBIG when the text of all the
 * addresses passes 3 GiB or there are more than 2^31 keys. Allocation
 * failure aborts (onthedot/mem.h). */
enum otd_status otd_addrindex_build(const struct otd_addr_entry *a, size_t n,
                                    struct otd_addrindex **out, struct otd_error *err);

/* Frees an index. NULL is ignored. */
void otd_addrindex_free(struct otd_addrindex *ix);

/* Number of addresses in ix. */
size_t otd_addrindex_count(const struct otd_addrindex *ix);

/* Bytes of heap ix holds (its arrays and text), for /metrics and logs. */
size_t otd_addrindex_bytes(const struct otd_addrindex *ix);

/* Finds the addresses matching query, best first (tiers above), and
 * writes at most limit of them (limit is capped at OTD_ADDR_LIMIT_MAX) to
 * out. Returns how many. A query that normalises to nothing, or of
 * OTD_ADDR_QUERY_BYTES or more bytes, finds nothing. Thread-safe: ix is
 * only read. */
size_t otd_addrindex_search(const struct otd_addrindex *ix, const char *query, size_t limit,
                            struct otd_addr_entry *out);

/* Normalises s (see above) into out, which has room for size bytes
 * (strlen(s) + 1 is always enough: the result is never longer than s).
 * Leading and trailing separators go, except that with keep_trailing a
 * separator at the end of s leaves one space at the end of the result.
 * Returns the length written (without the NUL); a result that would not
 * fit is cut at a character boundary. */
size_t otd_addr_normalise(const char *s, char *out, size_t size, bool keep_trailing);

/* Compares a[0..an) with b[0..bn) in natural order: runs of ASCII digits
 * by their value (leading zeros ignored), everything else byte by byte;
 * equal values with different spellings ("01", "1") then compare byte by
 * byte. Returns <0, 0 or >0. */
int otd_addr_natural_cmp(const char *a, size_t an, const char *b, size_t bn);

#endif
