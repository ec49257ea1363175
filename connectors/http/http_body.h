/* Turning one HTTP request into events (the modes are listed in http_source.c).
 * Validation is complete before anything is stored; the error says which event and attribute.
 */
#ifndef SL_HTTP_BODY_H
#define SL_HTTP_BODY_H

#include <stddef.h>

struct evhttp_request;
struct sl_event;
struct sl_source_config;

struct sl_http_body_error {
	int status;            /* HTTP status to answer */
	const char *type;      /* errorType */
	char message[512];     /* errorMessage */
};

/* 0 with *events (new references; caller unrefs each and frees the array) and *n, or -EINVAL
 * with *error filled. */
int sl_http_body_parse(const struct sl_source_config *cfg, struct evhttp_request *req,
		       struct sl_event ***events, size_t *n, struct sl_http_body_error *error);

#endif
