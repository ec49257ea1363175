/* Request body -> events for the http source; see http_body.h. */
#include "connectors/http/http_body.h"

#include "config/config.h"
#include "core/event.h"
#include "core/mem.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PLAIN_EVENT_TYPE "sluice.http.event"

static int fail(struct sl_http_body_error *error, int status, const char *type, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));
static int fail(struct sl_http_body_error *error, int status, const char *type, const char *fmt,
		...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(error->message, sizeof(error->message), fmt, ap);
	va_end(ap);
	error->status = status;
	error->type = type;
	return -EINVAL;
}

/* The media type without parameters, lower-cased, in buf. */
static const char *media_type(struct evhttp_request *req, char *buf, size_t len)
{
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	size_t n = 0;

	if (!ct)
		return NULL;
	while (ct[n] && ct[n] != ';' && ct[n] != ' ' && n + 1 < len) {
		buf[n] = (char)(ct[n] >= 'A' && ct[n] <= 'Z' ? ct[n] + 32 : ct[n]);
		n++;
	}
	buf[n] = '\0';
	return buf;
}

static int is_json_type(const char *type)
{
	if (!type)
		return 1;
	size_t n = strlen(type);
	return strcmp(type, "application/json") == 0 || strcmp(type, "text/json") == 0 ||
	       (n > 5 && strcmp(type + n - 5, "+json") == 0);
}

static json_t *parse_json(const unsigned char *body, size_t len, struct sl_http_body_error *error)
{
	json_error_t jerr;
	json_t *v = json_loadb((const char *)body, len, JSON_DECODE_ANY, &jerr);
	if (!v)
		fail(error, 400, "InvalidRequestContentException",
		     "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
	return v;
}

static struct sl_event *decode_event(json_t *obj, const char *where,
				     struct sl_http_body_error *error)
{
	char err[256];
	struct sl_event *ev = sl_event_from_cloudevent(obj, 1, err, sizeof(err));
	if (!ev)
		fail(error, 400, "InvalidEventException", "%s%s", where, err);
	return ev;
}

static int parse_structured(json_t *doc, int batch, struct sl_event ***events, size_t *n,
			    struct sl_http_body_error *error)
{
	char where[48];

	if (!batch) {
		struct sl_event *ev = decode_event(doc, "", error);
		if (!ev)
			return -EINVAL;
		*events = sl_xmalloc(sizeof(**events));
		(*events)[0] = ev;
		*n = 1;
		return 0;
	}
	if (!json_is_array(doc))
		return fail(error, 400, "InvalidEventException",
			    "a cloudevents-batch body must be a JSON array of events");
	size_t count = json_array_size(doc);
	struct sl_event **out = sl_xcalloc(count ? count : 1, sizeof(*out));
	for (size_t i = 0; i < count; i++) {
		snprintf(where, sizeof(where), "events[%zu]: ", i);
		out[i] = decode_event(json_array_get(doc, i), where, error);
		if (!out[i]) {
			while (i-- > 0)
				sl_event_unref(out[i]);
			free(out);
			return -EINVAL;
		}
	}
	*events = out;
	*n = count;
	return 0;
}

/* Binary mode: every ce-* header is an attribute (percent-decoded), the body the data. */
static json_t *binary_attributes(struct evhttp_request *req, const char *type)
{
	json_t *obj = sl_check_alloc(json_object());
	struct evkeyval *h;

	TAILQ_FOREACH(h, evhttp_request_get_input_headers(req), next) {
		if (strncasecmp(h->key, "ce-", 3) != 0 || !h->key[3])
			continue;
		char *name = sl_xstrdup(h->key + 3);
		for (char *c = name; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		char *value = evhttp_decode_uri(h->value);
		json_object_set_new(obj, name, json_string(value ? value : h->value));
		free(value);
		free(name);
	}
	if (type)
		json_object_set_new(obj, "datacontenttype", json_string(type));
	return obj;
}

static struct sl_event *plain_event(const struct sl_source_config *cfg, const char *type)
{
	struct sl_event *ev = sl_event_new();
	char *source = sl_xasprintf("/sluice/sources/%s", cfg->name);
	sl_event_set(ev, &ev->source, source);
	sl_event_set(ev, &ev->type, PLAIN_EVENT_TYPE);
	sl_event_set(ev, &ev->datacontenttype, type ? type : "application/json");
	free(source);
	return ev;
}

static int one_event(struct sl_event *ev, struct sl_event ***events, size_t *n)
{
	*events = sl_xmalloc(sizeof(**events));
	(*events)[0] = ev;
	*n = 1;
	return 0;
}

/* Binary and plain modes: one event whose data is the body. */
static int parse_single(const struct sl_source_config *cfg, struct evhttp_request *req,
			const char *type, const unsigned char *body, size_t len,
			struct sl_event ***events, size_t *n, struct sl_http_body_error *error)
{
	json_t *data = NULL;
	struct sl_event *ev;

	if (is_json_type(type) && !(data = parse_json(body, len, error)))
		return -EINVAL;
	if (evhttp_find_header(evhttp_request_get_input_headers(req), "ce-specversion")) {
		json_t *attrs = binary_attributes(req, type);
		ev = decode_event(attrs, "", error);
		json_decref(attrs);
		if (!ev) {
			json_decref(data);
			return -EINVAL;
		}
	} else {
		ev = plain_event(cfg, type);
	}
	if (data)
		sl_event_set_data_json(ev, data);
	else
		sl_event_set_data_bytes(ev, body, len);
	return one_event(ev, events, n);
}

int sl_http_body_parse(const struct sl_source_config *cfg, struct evhttp_request *req,
		       struct sl_event ***events, size_t *n, struct sl_http_body_error *error)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char typebuf[128];

	if (len > cfg->max_body_bytes)
		return fail(error, 413, "RequestEntityTooLargeException",
			    "body of %zu bytes exceeds the limit of %llu bytes for source %s", len,
			    (unsigned long long)cfg->max_body_bytes, cfg->name);
	const unsigned char *body = len ? evbuffer_pullup(in, -1) : (const unsigned char *)"";
	const char *type = media_type(req, typebuf, sizeof(typebuf));
	int batch = type && strcmp(type, "application/cloudevents-batch+json") == 0;
	if (batch || (type && strcmp(type, "application/cloudevents+json") == 0)) {
		json_t *doc = parse_json(body, len, error);
		if (!doc)
			return -EINVAL;
		int rc = parse_structured(doc, batch, events, n, error);
		json_decref(doc);
		return rc;
	}
	return parse_single(cfg, req, type, body, len, events, n, error);
}
