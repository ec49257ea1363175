/* A Redis connection on the loop that comes back after failures: what the redis destination and
 * the Redis sources share.
 *
 * hiredis's async API runs on the caller's libevent loop (adapters/libevent.h); nothing blocks
 * except hiredis's getaddrinfo() for a host name that needs DNS (an IP address or a name in
 * /etc/hosts keeps connects instant). A link owns at most one redisAsyncContext at a time.
 *
 * Connecting. sl_redis_link_get() returns the context, connecting first when there is none and
 * no reconnect is scheduled; commands may be queued at once (they follow AUTH when a password
 * is set). `up` is called when the connection is usable: once AUTH was accepted, or on connect
 * without a password.
 *
 * Failures. A connect that fails, a connection lost (a reply callback got a NULL reply: the
 * caller reports it with sl_redis_link_lost), AUTH refused (-EACCES, why "authentication
 * failed: <Redis's message>") or a connection the owner gives up on (sl_redis_link_drop) all end
 * the same way: the context is forgotten, `down` gets the status and a reason for the log, and a
 * timer connects again after a capped backoff (100 ms doubling to 5 s; reset by
 * sl_redis_link_ok once a command succeeded, so a server that accepts connections and refuses
 * the work is not hammered).
 * hiredis calls every pending reply callback once with a NULL reply while the context ends, so
 * callers see each command end exactly once. A server closing an idle connection (its timeout,
 * a restart) is a failure only for a persistent link; otherwise the next get connects again.
 *
 * Statuses: the connect's errno (-ECONNREFUSED, ...), -ECONNRESET (lost), -EACCES (AUTH
 * refused), or what the owner passes to drop. Logging is the owner's: it knows what it was doing.
 *
 * The context's `data` belongs to the link: pass your own state as each command's privdata.
 * The process must ignore SIGPIPE (the daemon does).
 */
#ifndef SL_REDIS_LINK_H
#define SL_REDIS_LINK_H

#include <stdbool.h>

#include <hiredis/async.h>

struct event_base;
struct sl_redis_link;

struct sl_redis_link_options {
	const char *address;         /* "HOST:PORT" or "[V6]:PORT" */
	const char *password;        /* AUTH after connecting, or NULL */
	bool persistent;             /* an idle connection closed by the server is reconnected */
	void (*up)(void *arg);       /* optional */
	void (*down)(void *arg, int status, const char *why);   /* optional */
	void *arg;
};

/* 0, or -EINVAL when the address is not HOST:PORT. Strings are copied. */
int sl_redis_link_new(struct event_base *base, const struct sl_redis_link_options *opts,
		      struct sl_redis_link **out);
/* The context (connecting first when idle), or NULL while waiting to reconnect or freeing. */
redisAsyncContext *sl_redis_link_get(struct sl_redis_link *link);
/* A command succeeded: the next failure starts the backoff from its base again. */
void sl_redis_link_ok(struct sl_redis_link *link);
/* True while connected and usable (after `up`, before `down`). */
bool sl_redis_link_ready(const struct sl_redis_link *link);
/* Send argv[0..argc) (C strings) with reply callback cb on a ready link; false (nothing sent,
 * cb never called) when it is not ready. */
bool sl_redis_link_send(struct sl_redis_link *link, redisCallbackFn *cb, void *privdata, int argc,
			const char **argv);
/* Why the last connection ended (0 before any failure). */
int sl_redis_link_status(const struct sl_redis_link *link);
const char *sl_redis_link_address(const struct sl_redis_link *link);
/* A reply callback got a NULL reply from ac: if ac is the link's, it is lost (status, usually
 * -ECONNRESET). Other contexts (already ended) are ignored. */
void sl_redis_link_lost(struct sl_redis_link *link, const redisAsyncContext *ac, int status);
/* End the current connection (if any) as a failure; safe inside a reply callback. */
void sl_redis_link_drop(struct sl_redis_link *link, int status, const char *why);
/* An error reply to a command that cannot go on without it: drop the connection with the
 * reply's status (sl_redis_error_status) and why "authentication failed: <message>" for -EACCES,
 * else "<what>: <message>". */
void sl_redis_link_refused(struct sl_redis_link *link, const char *what, const char *message);
/* End the connection without `down`; pending callbacks get NULL replies inside this call, so
 * call it outside reply callbacks, while their privdata is still alive. NULL is a no-op. */
void sl_redis_link_free(struct sl_redis_link *link);

/* The status of an error reply: -EACCES for NOAUTH, WRONGPASS and NOPERM, else -EPROTO. */
int sl_redis_error_status(const char *message);

#endif
