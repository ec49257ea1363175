/* echo_server: the baseline peer of the warm-invoke benchmark. A libevent evhttp server on
 * HOST:PORT that answers every request 200 with the request body, on one thread: the cost of a
 * loopback HTTP/1.1 keep-alive round trip through the same HTTP library the daemon uses, with no
 * work behind it. Runs until SIGTERM/SIGINT.
 *
 *   echo_server HOST PORT
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static void echo(struct evhttp_request *req, void *arg)
{
	(void)arg;
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	evbuffer_add_buffer(out, evhttp_request_get_input_buffer(req));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evhttp_send_reply(req, 200, "OK", NULL);
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: echo_server HOST PORT\n");
		return 2;
	}
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	if (!base || !http || evhttp_bind_socket(http, argv[1], (ev_uint16_t)atoi(argv[2])) < 0) {
		fprintf(stderr, "echo_server: cannot listen on %s:%s\n", argv[1], argv[2]);
		return 1;
	}
	evhttp_set_gencb(http, echo, NULL);
	struct event *term = evsignal_new(base, SIGTERM, on_signal, base);
	struct event *intr = evsignal_new(base, SIGINT, on_signal, base);
	event_add(term, NULL);
	event_add(intr, NULL);
	printf("listening on http://%s:%s\n", argv[1], argv[2]);
	fflush(stdout);
	event_base_dispatch(base);
	event_free(term);
	event_free(intr);
	evhttp_free(http);
	event_base_free(base);
	return 0;
}
