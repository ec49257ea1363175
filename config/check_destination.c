/* Rules of destination keys that a row's type cannot say: the http URL and headers, the MQTT
 * topic. Each reports its own errors at the JSON path it is given. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/props.h"

void sl_check_url(struct sl_decode *dc, const char *path, const json_t *value)
{
	const char *s = json_string_value(value);
	const char *rest = strncmp(s, "http://", 7) == 0 ? s + 7 :
			   strncmp(s, "https://", 8) == 0 ? s + 8 : NULL;
	char got[SL_DIAG_QUOTE_MAX + 32];

	if (rest && *rest && *rest != '/' && !strpbrk(s, " \t\r\n"))
		return;
	sl_describe(value, got, sizeof(got));
	sl_diag_add(dc->diag, path, "expected an http:// or https:// URL with a host and no "
		    "spaces, got %s", got);
}

static bool http_token(const char *s)
{
	static const char extra[] = "!#$%&'*+.^_`|~-";

	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= 'a' && *s <= 'z') || strchr(extra, *s)))
			return false;
	return true;
}

void sl_check_http_headers(struct sl_decode *dc, const char *path, const json_t *value)
{
	const char *name;
	const json_t *v;

	json_object_foreach((json_t *)value, name, v) {
		char *sub = sl_path_key(path, name);
		if (!http_token(name))
			sl_diag_add(dc->diag, sub, "expected a header name made of letters, digits "
				    "and !#$%%&'*+.^_`|~-");
		else if (json_is_string(v) && strpbrk(json_string_value(v), "\r\n"))
			sl_diag_add(dc->diag, sub, "expected a header value without line breaks");
		free(sub);
	}
}

void sl_check_mqtt_topic(struct sl_decode *dc, const char *path, const json_t *value)
{
	const char *s = json_string_value(value);

	if (strpbrk(s, "+#"))
		sl_diag_add(dc->diag, path, "expected a topic to publish to, without the wildcards "
			    "+ and #");
	else if (s[0] == '$')
		sl_diag_add(dc->diag, path, "expected a topic that does not start with $ (the "
			    "broker reserves those)");
}
