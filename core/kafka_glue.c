/* librdkafka glue; see kafka_glue.h. */
#include "core/kafka_glue.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"

int sl_kafka_conf_set(rd_kafka_conf_t *conf, const char *tag, const char *name,
		      const char *value)
{
	char err[512];

	if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		sl_error(tag, "property %s: %s", name, err);
		return -EINVAL;
	}
	return 0;
}

int sl_kafka_conf_set_user(rd_kafka_conf_t *conf, const char *tag, char *const *props,
			   const struct sl_reserved_name *owned)
{
	for (size_t i = 0; props && props[i]; i++) {
		const char *eq = strchr(props[i], '=');
		if (!eq) {
			sl_error(tag, "property %s: expected key=value", props[i]);
			return -EINVAL;
		}
		char *name = sl_xstrndup(props[i], (size_t)(eq - props[i]));
		const char *why = sl_reserved_why(owned, name);
		int rc = -EINVAL;
		if (why)
			sl_error(tag, "property %s: not allowed here: %s", name, why);
		else
			rc = sl_kafka_conf_set(conf, tag, name, eq + 1);
		free(name);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void sl_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	const char *const *tag = rd_kafka_opaque(rk);

	(void)level;
	if (strcmp(fac, "CONFWARN") == 0)
		sl_warn(*tag, "%s", buf);
	else
		sl_debug(*tag, "librdkafka %s: %s", fac, buf);
}

struct wake_call {
	void (*cb)(void *arg);
	void *arg;
};

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	const struct wake_call *call = arg;
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) < 0) { /* EAGAIN: the safety-net timeout */ }
	call->cb(call->arg);
}

int sl_kafka_wake_open(struct sl_kafka_wake *w, struct event_base *base, rd_kafka_queue_t *q,
		       const struct timeval *tick, void (*cb)(void *arg), void *arg)
{
	static const uint64_t one = 1;
	struct wake_call *call;

	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		return -errno;
	call = sl_xmalloc(sizeof(*call));
	call->cb = cb;
	call->arg = arg;
	w->ev = sl_check_alloc(event_new(base, w->efd, EV_READ | EV_PERSIST, on_wake, call));
	event_add(w->ev, tick);
	rd_kafka_queue_io_event_enable(q, w->efd, &one, sizeof(one));
	return 0;
}

void sl_kafka_wake_close(struct sl_kafka_wake *w)
{
	if (w->ev) {
		free(event_get_callback_arg(w->ev));
		event_free(w->ev);
		w->ev = NULL;
	}
	if (w->efd > 0)
		close(w->efd);
	w->efd = -1;
}
