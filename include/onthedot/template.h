/* onthedot message templates, pure: parsed once, rendered per message.
 *
 * A template file holds named sections, each starting with a line
 * "[name]": [subject], [text], [html] and [sms] (a line that is only a
 * bracketed word always starts a section). Before the first section,
 * lines starting with '#' are comments and blank lines are ignored. In a
 * section:
 *
 *   {{var}}              inserts the value of var
 *   {{#var}}...{{/var}}  keeps what is inside only when var is set and not ""
 *   {{^var}}...{{/var}}  keeps it only when var is unset or ""
 *
 * Blocks nest and must close in order; a tag never spans lines, and
 * spaces inside the braces are allowed ("{{ var }}"). A line holding only
 * a block tag ({{#x}}, {{^x}} or {{/x}}) and blanks leaves no line behind,
 * so blocks may sit on lines of their own (as in Mustache). Only the
 * variables the caller names are allowed, so a misspelt name is an error
 * when the template is loaded, not an empty gap in a customer's message.
 *
 * Rendering trims the section's trailing newlines. [subject] and [sms] come
 * out as one line: their lines (after inserting values) are stripped of
 * surrounding blanks, empty ones dropped, the rest joined with one space,
 * so an SMS may be wrapped in the file and no value can add a header line
 * to a subject. In [html] every inserted value is HTML-escaped (text and
 * quoted attribute values; a URL's scheme is the caller's to check); in
 * the other sections values go in as given, and the caller escapes for
 * SMS or text. */
#ifndef ONTHEDOT_TEMPLATE_H
#define ONTHEDOT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "onthedot/status.h"

/* Blocks nested deeper than this are an error. */
#define OTD_TEMPLATE_MAX_DEPTH 16

struct otd_template;

/* Parses the len bytes of text (a template file; a leading UTF-8 byte
 * order mark and CRLF line ends are accepted) and checks it against the
 * n_known variable names in known_vars. name (the file name,
 * "at_risk.tmpl") is used in messages only. On success *out is a template
 * the caller frees with otd_template_free; it copies what it needs, so
 * text and known_vars may go. Fails with OTD_EINVAL, *out NULL and err
 * filled with a message "NAME line N: what is wrong" for: invalid UTF-8 or
 * a NUL byte (code template_encoding); text before the first section, an
 * unknown or repeated section, or no section at all (template_section); a
 * tag naming no variable or one not in known_vars (template_variable); a
 * "{{" without "}}" on its line, a {{/x}} closing nothing or another
 * block, a block left open at the end of its section, or blocks nested
 * deeper than OTD_TEMPLATE_MAX_DEPTH (template_syntax), for example
 * "at_risk.tmpl line 7: {{/window}} closes {{#held}}". */
enum otd_status otd_template_parse(const char *name, const char *text, size_t len,
                                   const char *const *known_vars, size_t n_known,
                                   struct otd_template **out, struct otd_error *err);

/* True when t has the section named ("subject", "text", "html", "sms"). */
bool otd_template_has(const struct otd_template *t, const char *section);

/* Renders section of t with the n variables names[i]=values[i] (a NULL
 * value reads as unset; a variable not given renders empty and counts as
 * unset in blocks). Returns a heap string the caller frees, or NULL when t
 * has no such section. */
char *otd_template_render(const struct otd_template *t, const char *section,
                          const char *const *names, const char *const *values, size_t n);

/* Frees t; NULL is allowed. */
void otd_template_free(struct otd_template *t);

#endif
