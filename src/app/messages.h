/* onthedot: the message templates in use, read once at startup.
 *
 * The built-in templates (contrib/templates, embedded into the binary),
 * each replaced by the file of the same name in messages.templates_dir
 * when there is one. Core parses and checks them (onthedot/message.h);
 * this file only reads them. */
#ifndef OTD_APP_MESSAGES_H
#define OTD_APP_MESSAGES_H

#include "app/config.h"
#include "onthedot/message.h"
#include "onthedot/status.h"

/* A template file larger than this is refused. */
#define APP_MESSAGES_MAX_FILE (256 * 1024)

/* Makes the set of templates cfg asks for into *out, which the caller
 * frees with otd_message_set_free: the built-in ones, each replaced by
 * DIR/NAME.tmpl when cfg->messages.templates_dir (DIR) is not "" and holds
 * that file. Fails, with *out NULL and err's field "messages.templates_dir"
 * and a message naming the file (and the line, for a mistake in it), when
 * DIR cannot be read, when a *.tmpl file in it cannot be read, is larger
 * than APP_MESSAGES_MAX_FILE or is named for no message (OTD_EINVAL or
 * OTD_EIO), or when a template does not parse (otd_message_set_parse). */
enum otd_status app_messages_load(const struct otd_config *cfg, struct otd_message_set **out,
                                  struct otd_error *err);

#endif
