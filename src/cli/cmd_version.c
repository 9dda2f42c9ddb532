/* onthedot version */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "onthedot/version.h"

int cmd_version(int argc, char **argv)
{
	if(argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: onthedot version\n\nPrints the version and the schema version it "
		       "knows.\n");
		return 0;
	}
	if(argc > 1) {
		cli_error("version", "takes no arguments (got \"%s\")", argv[1]);
		return 2;
	}
	printf("onthedot %s\n", OTD_VERSION);
	return 0;
}
