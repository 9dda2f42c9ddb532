/* onthedot: one time zone as an immutable table of UTC offset transitions.
 *
 * DESIGN.md (Time zones): the organisation's zone is read once at start
 * (src/app/tzload.c, with libical) and turned into this table; from then
 * on every thread converts between UTC instants and local wall time with
 * these functions only, without locks, because the table never changes.
 * Instants are int64 UTC seconds since the epoch; offsets are seconds east
 * of UTC (London in summer: +3600). Outside the years the table was built
 * for, the first and last offsets simply continue. */
#ifndef ONTHEDOT_TZ_H
#define ONTHEDOT_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "onthedot/civil.h"

struct otd_tz;

/* Largest offset magnitude accepted (26 h covers every zone ever used). */
#define OTD_TZ_OFFSET_MAX (26 * 3600)

/* A zone named name (an IANA name such as "Europe/London", copied) whose
 * offset is initial_offset before at[0] and offset[i] from at[i] (inclusive)
 * until at[i + 1]. at[] must be strictly ascending; n may be 0 (a fixed
 * offset). Both arrays are copied. Returns NULL, creating nothing, when at[]
 * is not strictly ascending, an offset exceeds OTD_TZ_OFFSET_MAX, or name
 * is NULL. The caller frees the zone with otd_tz_free. */
struct otd_tz *otd_tz_new(const char *name, int32_t initial_offset, const int64_t *at,
                          const int32_t *offset, size_t n);

/* Frees a zone; NULL is fine. No thread may still be using it. */
void otd_tz_free(struct otd_tz *tz);

/* The zone's name as given to otd_tz_new; valid until otd_tz_free. */
const char *otd_tz_name(const struct otd_tz *tz);

/* How many transitions the table holds (n given to otd_tz_new). */
size_t otd_tz_transition_count(const struct otd_tz *tz);

/* The offset in force at UTC instant utc: O(log n). */
int32_t otd_tz_offset_at(const struct otd_tz *tz, int64_t utc);

/* A UTC instant as read on a wall clock in the zone. */
struct otd_local {
	struct otd_civil c; /* the wall-clock reading */
	int32_t offset;     /* seconds east of UTC in force at that instant */
	int weekday;        /* of c's date: 0 = Monday .. 6 = Sunday */
};

/* Converts a UTC instant to the zone's wall-clock reading. */
void otd_tz_to_local(const struct otd_tz *tz, int64_t utc, struct otd_local *out);

enum otd_local_kind {
	OTD_LOCAL_UNIQUE,  /* the wall time occurs once */
	OTD_LOCAL_GAP,     /* it never occurs: the clocks jumped over it */
	OTD_LOCAL_OVERLAP, /* it occurs twice: the clocks went back over it */
};

/* Finds the UTC instant(s) at which the zone's wall clock reads *local
 * (fields in range; the second included). Both out-parameters are always
 * set, and always by the same rule: *earlier interprets the wall time with
 * the offset in force BEFORE the transition concerned, *later with the
 * offset in force AFTER it (this is Python's fold=0 / fold=1, PEP 495).
 *
 *   UNIQUE:  *earlier == *later == the one instant.
 *   OVERLAP: *earlier is the first occurrence, *later the second, so
 *            *earlier < *later. Europe/London 2026-10-25 01:30:
 *            *earlier = 00:30Z (01:30 BST), *later = 01:30Z (01:30 GMT).
 *   GAP:     neither instant reads *local; *earlier lies after the
 *            transition and *later before it, so *earlier > *later.
 *            Europe/London 2026-03-29 01:30: *earlier = 01:30Z (01:30 taken
 *            as GMT, shown as 02:30 BST), *later = 00:30Z (01:30 taken as
 *            BST, shown as 00:30 GMT).
 *
 * RFC 5545 section 3.3.5 gives a DATE-TIME with a TZID the meaning of
 * *earlier in both cases (the first occurrence; the offset before a gap).
 * Either pointer may be NULL when the caller does not need it. */
enum otd_local_kind otd_tz_from_local(const struct otd_tz *tz, const struct otd_civil *local,
                                      int64_t *earlier, int64_t *later);

/* The UTC instant of the first second of local date y-m-d (its midnight,
 * or when midnight falls in a gap, the transition that ends the gap; when
 * midnight occurs twice, the first). y-m-d must be a real date. */
int64_t otd_tz_day_start(const struct otd_tz *tz, int y, int m, int d);

/* Length in seconds of local date y-m-d: 86400, or 82800 / 90000 on the
 * days London changes its clocks (other zones: other amounts). */
int otd_tz_day_length(const struct otd_tz *tz, int y, int m, int d);

/* Bytes otd_tz_format_local needs for any year 0..9999, NUL included. */
#define OTD_TZ_LOCAL_SIZE 26

/* Writes utc as RFC 3339 with the zone's offset in force at that instant:
 * "2026-03-29T03:00:00+01:00" (a zero offset is "+00:00", never "Z").
 * An offset with a seconds part (local mean time, before 1900) is cut to
 * whole minutes and the wall time written with that offset, so the text
 * always parses back to utc. Returns the length written, excluding the NUL;
 * when size is too small writes "" (if size > 0) and returns 0. */
size_t otd_tz_format_local(const struct otd_tz *tz, int64_t utc, char *buf, size_t size);

#endif
