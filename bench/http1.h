/* http1.h: a minimal blocking HTTP/1.1 client over one keep-alive TCP connection, for the
 * benchmark programs (bench/c_runtime.c, bench/invoke_client.c). Requests carry Content-Length;
 * responses may use Content-Length or chunked encoding. IPv4 only; errors end the process
 * (die), except a connection the server closed, which exchange() reopens once.
 */
#ifndef SL_BENCH_HTTP1_H
#define SL_BENCH_HTTP1_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HEAD 16384

struct conn {
	int fd;
	char host[256];
	int port;
	char buf[65536];   /* bytes read past the current response */
	size_t len;
};

struct response {
	int status;
	int close;
	int function_error;   /* X-Amz-Function-Error present */
	char request_id[128];
	char *body;
	size_t body_len;
};

__attribute__((noreturn)) static inline void die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, errno ? strerror(errno) : "protocol error");
	exit(1);
}

static inline void conn_open(struct conn *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)c->port) };
	if (inet_pton(AF_INET, c->host, &sa.sin_addr) != 1)
		die("AWS_LAMBDA_RUNTIME_API must be IPv4:port");
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->len = 0;
}

static inline int write_all(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(c->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read more into c->buf; 0 on EOF or a reset connection. */
static inline size_t fill(struct conn *c)
{
	if (c->len == sizeof(c->buf))
		die("response head too large");
	for (;;) {
		ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		c->len += (size_t)r;
		return (size_t)r;
	}
}

static inline void consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Copy n body bytes (some may already be buffered) into dst. */
static inline void read_exact(struct conn *c, char *dst, size_t n)
{
	size_t have = c->len < n ? c->len : n;
	memcpy(dst, c->buf, have);
	consume(c, have);
	while (have < n) {
		ssize_t r = read(c->fd, dst + have, n - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("read body");
		have += (size_t)r;
	}
}

/* A line (without CRLF) from the buffer; NULL at EOF. */
static inline char *read_line(struct conn *c, char *line, size_t cap)
{
	char *nl;
	while (!(nl = memchr(c->buf, '\n', c->len)))
		if (fill(c) == 0)
			return NULL;
	size_t n = (size_t)(nl - c->buf);
	if (n >= cap)
		die("header line too long");
	memcpy(line, c->buf, n);
	line[n] = 0;
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = 0;
	consume(c, n + 1);
	return line;
}

/* Read one response: 0, or -1 when the connection was closed before a status line. */
static inline int read_response(struct conn *c, struct response *res)
{
	char line[MAX_HEAD];
	long content_length = -1;
	int chunked = 0;

	memset(res, 0, sizeof(*res));
	if (!read_line(c, line, sizeof(line)))
		return -1;
	if (sscanf(line, "HTTP/1.%*d %d", &res->status) != 1)
		die("bad status line");
	for (;;) {
		if (!read_line(c, line, sizeof(line)))
			die("headers cut off");
		if (!line[0])
			break;
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = 0;
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!strcasecmp(line, "Content-Length"))
			content_length = atol(v);
		else if (!strcasecmp(line, "Transfer-Encoding") && strcasestr(v, "chunked"))
			chunked = 1;
		else if (!strcasecmp(line, "Connection") && strcasestr(v, "close"))
			res->close = 1;
		else if (!strcasecmp(line, "X-Amz-Function-Error"))
			res->function_error = 1;
		else if (!strcasecmp(line, "Lambda-Runtime-Aws-Request-Id"))
			snprintf(res->request_id, sizeof(res->request_id), "%s", v);
	}
	if (chunked) {
		size_t cap = 0;
		for (;;) {
			if (!read_line(c, line, sizeof(line)))
				die("chunk cut off");
			size_t n = strtoul(line, NULL, 16);
			if (n == 0) {
				while (read_line(c, line, sizeof(line)) && line[0])
					;   /* trailers */
				break;
			}
			if (res->body_len + n + 1 > cap) {
				cap = (res->body_len + n + 1) * 2;
				res->body = realloc(res->body, cap);
				if (!res->body)
					die("realloc");
			}
			read_exact(c, res->body + res->body_len, n);
			res->body_len += n;
			read_line(c, line, sizeof(line));
		}
	} else if (content_length >= 0) {
		res->body = malloc((size_t)content_length + 1);
		if (!res->body)
			die("malloc");
		read_exact(c, res->body, (size_t)content_length);
		res->body_len = (size_t)content_length;
	}
	if (!res->body && !(res->body = calloc(1, 1)))
		die("calloc");
	res->body[res->body_len] = 0;
	return 0;
}

static inline int request(struct conn *c, const char *method, const char *path,
			  const char *content_type, const char *body, size_t body_len)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "%s %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\n\r\n", method, path, c->host, c->port,
			 content_type, body_len);
	if (write_all(c, head, (size_t)n) < 0)
		return -1;
	return body_len ? write_all(c, body, body_len) : 0;
}

/* One request/response exchange; reconnects once when the server closed the idle connection. */
static inline void exchange(struct conn *c, const char *method, const char *path,
			    const char *content_type, const char *body, size_t body_len,
			    struct response *res)
{
	for (int attempt = 0;; attempt++) {
		if (c->fd < 0)
			conn_open(c);
		if (request(c, method, path, content_type, body, body_len) == 0 &&
		    read_response(c, res) == 0)
			break;
		close(c->fd);
		c->fd = -1;
		if (attempt == 1)
			die("server closed the connection");
	}
	if (res->close) {
		close(c->fd);
		c->fd = -1;
	}
}

/* Parse "HOST:PORT" into c (not connected yet). */
static inline int conn_init(struct conn *c, const char *hostport)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	signal(SIGPIPE, SIG_IGN);
	return sscanf(hostport, "%255[^:]:%d", c->host, &c->port) == 2 ? 0 : -1;
}

#endif
