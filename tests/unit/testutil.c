#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int testutil_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

const char *testutil_tmpdir(void)
{
	static char path[512];
	if(path[0])
		return path;
	const char *base = getenv("OTD_TEST_TMP");
	if(!base || !*base)
		base = "/tmp";
	mkdir(base, 0700);
	snprintf(path, sizeof(path), "%s/unit-%ld-XXXXXX", base, (long)getpid());
	if(!mkdtemp(path)) {
		perror("mkdtemp");
		abort();
	}
	return path;
}
