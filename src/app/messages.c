/* The message templates in use: the embedded defaults, each replaced by a
 * file of the same name in messages.templates_dir. */
#include "app/messages.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/asset.h"
#include "onthedot/mem.h"

#define FIELD "messages.templates_dir"
#define SUFFIX ".tmpl"

/* The files of one load: the built-in ones, some replaced. */
struct files {
	size_t n;
	const char **names;
	const char **texts;
	size_t *lens;
	char **owned;     /* texts read from the directory (to free), by index */
	bool *overridden; /* names[i] came from the directory */
};

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && strcmp(s + n - k, suffix) == 0;
}

/* Reads path into a new NUL-terminated *text of *len bytes. */
static enum otd_status read_file(const char *path, char **text, size_t *len, struct otd_error *err)
{
	*text = NULL;
	FILE *f = fopen(path, "rb");
	if(!f)
		return otd_error_set(err, OTD_EIO, "template_unreadable", FIELD,
		                     "%s: cannot be read (%s)", path, strerror(errno));
	struct otd_buf b;
	otd_buf_init(&b, 0);
	char chunk[8192];
	size_t got;
	enum otd_status st = OTD_OK;
	while((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if(b.len + got > APP_MESSAGES_MAX_FILE) {
			st = otd_error_set(err, OTD_EINVAL, "template_too_big", FIELD,
			                   "%s: larger than %d bytes", path, APP_MESSAGES_MAX_FILE);
			break;
		}
		otd_buf_append(&b, chunk, got);
	}
	if(st == OTD_OK && ferror(f))
		st = otd_error_set(err, OTD_EIO, "template_unreadable", FIELD,
		                   "%s: cannot be read (%s)", path, strerror(errno));
	fclose(f);
	if(st) {
		otd_buf_cleanup(&b);
		return st;
	}
	*len = b.len;
	*text = otd_buf_steal(&b);
	return OTD_OK;
}

/* The index of the built-in file named name, or -1. */
static long find(const struct files *fs, const char *name)
{
	for(size_t i = 0; i < fs->n; i++)
		if(strcmp(fs->names[i], name) == 0)
			return (long)i;
	return -1;
}

/* Replaces the built-in files by those of dir. */
static enum otd_status read_overrides(struct files *fs, const char *dir, struct otd_error *err)
{
	DIR *d = opendir(dir);
	if(!d)
		return otd_error_set(err, OTD_EIO, "template_unreadable", FIELD,
		                     "%s: cannot read the directory (%s)", dir, strerror(errno));
	enum otd_status st = OTD_OK;
	struct dirent *e;
	while(st == OTD_OK && (e = readdir(d)) != NULL) {
		/* Hidden files are an editor's (".apology.tmpl.swp"), not ours. */
		if(e->d_name[0] == '.' || !has_suffix(e->d_name, SUFFIX))
			continue;
		long i = find(fs, e->d_name);
		if(i < 0) {
			st = otd_error_set(
			    err, OTD_EINVAL, "template_name", FIELD,
			    "%s/%s: no message has this template (the names are those "
			    "of contrib/templates, such as apology.tmpl)",
			    dir, e->d_name);
			break;
		}
		char *path = xasprintf("%s/%s", dir, e->d_name);
		size_t len = 0;
		st = read_file(path, &fs->owned[i], &len, err);
		free(path);
		if(st == OTD_OK) {
			fs->texts[i] = fs->owned[i];
			fs->lens[i] = len;
			fs->overridden[i] = true;
		}
	}
	closedir(d);
	return st;
}

/* err's message names a file the way core does ("apology.tmpl line 7:
 * ..."); for a file of dir, puts dir in front so the operator can find it. */
static void name_the_directory(const struct files *fs, const char *dir, struct otd_error *err)
{
	for(size_t i = 0; i < fs->n; i++) {
		size_t k = strlen(fs->names[i]);
		if(!fs->overridden[i] || strncmp(err->message, fs->names[i], k) != 0 ||
		   (err->message[k] != ' ' && err->message[k] != ':'))
			continue;
		struct otd_error was = *err;
		otd_error_set(err, was.status, was.code, FIELD, "%s/%s", dir, was.message);
		return;
	}
	snprintf(err->field, sizeof(err->field), "%s", FIELD);
}

enum otd_status app_messages_load(const struct otd_config *cfg, struct otd_message_set **out,
                                  struct otd_error *err)
{
	*out = NULL;
	struct files fs = {.n = otd_templates_count};
	fs.names = xcalloc(fs.n + 1, sizeof(*fs.names));
	fs.texts = xcalloc(fs.n + 1, sizeof(*fs.texts));
	fs.lens = xcalloc(fs.n + 1, sizeof(*fs.lens));
	fs.owned = xcalloc(fs.n + 1, sizeof(*fs.owned));
	fs.overridden = xcalloc(fs.n + 1, sizeof(*fs.overridden));
	for(size_t i = 0; i < fs.n; i++) {
		fs.names[i] = otd_templates[i].name;
		fs.texts[i] = (const char *)otd_templates[i].data;
		fs.lens[i] = otd_templates[i].len;
	}
	const char *dir = cfg->messages.templates_dir;
	enum otd_status st = OTD_OK;
	if(dir && dir[0])
		st = read_overrides(&fs, dir, err);
	if(st == OTD_OK) {
		st = otd_message_set_parse(fs.names, fs.texts, fs.lens, fs.n, out, err);
		if(st)
			name_the_directory(&fs, dir, err);
	}
	for(size_t i = 0; i < fs.n; i++)
		free(fs.owned[i]);
	free(fs.names);
	free(fs.texts);
	free(fs.lens);
	free(fs.owned);
	free(fs.overridden);
	return st;
}
