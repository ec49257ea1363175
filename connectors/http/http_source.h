/* The http source's programmatic intake, beside POST /events/{source} (http_source.c). */
#ifndef SL_HTTP_SOURCE_H
#define SL_HTTP_SOURCE_H

struct sl_event;
struct sl_source;

/* Spool one event (borrowed) on an http source as if it had been POSTed: 0, then done(arg, 0)
 * later on the loop once it is durable, or done(arg, -ESHUTDOWN) if the source closes first;
 * or a negative errno and no callback (-ESHUTDOWN: stopped; -ENOSPC: spool full; -EMSGSIZE:
 * too large). */
int sl_http_source_accept(struct sl_source *src, struct sl_event *ev,
			  void (*done)(void *arg, int status), void *arg);

#endif
