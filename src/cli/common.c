/* Helpers shared by the subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"

extern char **environ;

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "onthedot %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void cli_config_set(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

int cli_wants_help(int argc, char **argv)
{
	for(int i = 1; i < argc; i++)
		if(strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int cli_config_load(const char *cmd, const char *config_path, const char *db,
                    struct otd_config *cfg)
{
	otd_config_defaults(cfg);
	struct otd_error err;
	otd_error_clear(&err);
	if(!config_path)
		config_path = getenv("ONTHEDOT_CONFIG");
	if(config_path && *config_path && otd_config_load_file(cfg, config_path, &err) != OTD_OK) {
		cli_error(cmd, "%s", err.message);
		otd_config_cleanup(cfg);
		return 1;
	}
	if(otd_config_apply_env(cfg, environ, &err) != OTD_OK) {
		cli_error(cmd, "%s", err.message);
		otd_config_cleanup(cfg);
		return 1;
	}
	if(db)
		cli_config_set(&cfg->database, db);
	return 0;
}

char *cli_read_file(const char *path, size_t max, size_t *len, char *why, size_t why_size)
{
	FILE *f = fopen(path, "rb");
	if(!f) {
		snprintf(why, why_size, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat sb;
	if(fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(why, why_size, "%s is not a regular file", path);
		fclose(f);
		return NULL;
	}
	if((size_t)sb.st_size > max) {
		snprintf(why, why_size, "%s is %lld bytes; the limit is %zu", path,
		         (long long)sb.st_size, max);
		fclose(f);
		return NULL;
	}
	char *data = xmalloc((size_t)sb.st_size + 1);
	size_t n = fread(data, 1, (size_t)sb.st_size, f);
	bool failed = ferror(f);
	fclose(f);
	if(failed || n != (size_t)sb.st_size) {
		snprintf(why, why_size, "cannot read %s", path);
		free(data);
		return NULL;
	}
	data[n] = '\0';
	*len = n;
	return data;
}
