/* onthedot: the clock every layer takes "now" from.
 *
 * Instants are int64 UTC seconds since the Unix epoch. Core never reads a
 * clock; it is given instants. The app layer owns a clock object: real
 * (CLOCK_REALTIME) or virtual (tests and the simulator move it). */
#ifndef ONTHEDOT_CLOCK_H
#define ONTHEDOT_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct otd_clock;

/* A real clock. Caller frees with otd_clock_free. */
struct otd_clock *otd_clock_new_real(void);

/* A virtual clock standing at start (UTC seconds) until moved. */
struct otd_clock *otd_clock_new_virtual(int64_t start);

void otd_clock_free(struct otd_clock *c);

/* The current instant in UTC seconds. Thread-safe. */
int64_t otd_clock_now(const struct otd_clock *c);

/* The current instant in milliseconds (sub-second precision for timers
 * and durations; virtual clocks have whole seconds). Thread-safe. */
int64_t otd_clock_now_ms(const struct otd_clock *c);

/* True for a virtual clock. */
bool otd_clock_is_virtual(const struct otd_clock *c);

/* Moves a virtual clock forward by seconds (>= 0). Returns false for a
 * real clock or a negative step: time never runs backwards. */
bool otd_clock_advance(struct otd_clock *c, int64_t seconds);

/* Sets a virtual clock to t when t is not before its current time.
 * Returns false otherwise or for a real clock. */
bool otd_clock_set(struct otd_clock *c, int64_t t);

#endif
