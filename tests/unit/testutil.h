/* Helpers shared by the unit tests. */
#ifndef OTD_TESTUTIL_H
#define OTD_TESTUTIL_H

#include <check.h>

/* Runs suite s and returns the process exit status (0 when all passed). */
int testutil_run(Suite *s);

/* A fresh empty directory for this test process under OTD_TEST_TMP (or
 * /tmp). Returns a static path; the directory is not removed. */
const char *testutil_tmpdir(void);

#endif
