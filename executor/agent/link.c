/* sluice-init: the channel to the executor and the invocation it hands us. See agent.h. */
#include "executor/agent/agent.h"
#include "core/clock.h"

#include "core/log.h"
#include "core/mem.h"
#include "executor/channel.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#define TAG "sluice-init"

void sl_agent_send(struct sl_agent *a, int type, json_t *meta_stolen, const void *payload,
		   size_t len)
{
	if (a->chan && sl_channel_send(a->chan, type, meta_stolen, payload, len) != 0)
		sl_error(TAG, "dropped an oversized %s frame", sl_frame_type_name(type));
	json_decref(meta_stolen);
}

void sl_agent_send_buffer(struct sl_agent *a, int type, json_t *meta_stolen,
			  struct evbuffer *payload)
{
	if (a->chan && sl_channel_send_buffer(a->chan, type, meta_stolen, payload) != 0)
		sl_error(TAG, "dropped an oversized %s frame", sl_frame_type_name(type));
	json_decref(meta_stolen);
}

void sl_agent_end_invocation(struct sl_agent *a)
{
	evtimer_del(a->deadline);
	memcpy(a->last_id, a->inv_id, sizeof(a->last_id));
	a->inv_active = false;
	a->inv_delivered = false;
	json_decref(a->inv_meta);
	a->inv_meta = NULL;
	evbuffer_drain(a->inv_event, evbuffer_get_length(a->inv_event));
}

void sl_agent_fail_invocation(struct sl_agent *a, const char *cause, const char *error_type,
			      const char *payload, size_t len)
{
	json_t *meta = json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", a->inv_id, "cause", cause,
				 "error_type", error_type, "max_rss_kb",
				 (json_int_t)sl_agent_runtime_rss_kb(a), "content_type",
				 "application/json");

	sl_agent_send(a, SL_FRAME_ERROR, sl_check_alloc(meta), payload, len);
	sl_agent_end_invocation(a);
}

void sl_agent_fail_invocation_msg(struct sl_agent *a, const char *cause, const char *error_type,
				  const char *msg)
{
	char text[1024], body[2048];

	snprintf(text, sizeof(text), "RequestId: %s Error: %s", a->inv_id, msg);
	json_t *err = sl_check_alloc(json_pack("{s:s, s:s}", "errorType", error_type,
					       "errorMessage", text));
	size_t n = json_dumpb(err, body, sizeof(body), JSON_COMPACT);
	json_decref(err);
	sl_agent_fail_invocation(a, cause, error_type, body, n <= sizeof(body) ? n : 0);
}

void sl_agent_maybe_exit(struct sl_agent *a)
{
	if (!a->exiting || a->pid > 0)
		return;
	if (a->chan && evbuffer_get_length(bufferevent_get_output(a->chan)) > 0)
		return;
	event_base_loopexit(a->base, NULL);
}

static void on_invoke(struct sl_agent *a, struct sl_frame *f, struct evbuffer *in)
{
	const char *id = sl_meta_str(f, "id");

	if (!id || strlen(id) >= sizeof(a->inv_id) || a->inv_active) {
		sl_error(TAG, "unexpected INVOKE (id %s)", id ? id : "missing");
		return;
	}
	snprintf(a->inv_id, sizeof(a->inv_id), "%s", id);
	a->inv_meta = json_incref(f->meta);
	evbuffer_remove_buffer(in, a->inv_event, f->payload_len);
	a->inv_timeout_ms = sl_meta_int(f, "timeout_ms", 3000);
	a->inv_deadline_ms = sl_wall_ms() + a->inv_timeout_ms;
	struct timeval tv = { .tv_sec = a->inv_timeout_ms / 1000,
			      .tv_usec = (a->inv_timeout_ms % 1000) * 1000 };
	evtimer_add(a->deadline, &tv);
	a->inv_active = true;
	a->inv_delivered = false;
	sl_agent_rapi_deliver(a);
}

/* The function ran out of time: kill the runtime's group, answer, and go. */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_agent *a = arg;
	char msg[128];

	(void)fd;
	(void)what;
	if (!a->inv_active)
		return;
	sl_agent_logs_flush(a);
	sl_agent_runtime_kill(a);
	snprintf(msg, sizeof(msg), "Task timed out after %.2f seconds",
		 (double)a->inv_timeout_ms / 1000.0);
	sl_agent_fail_invocation_msg(a, "timeout", "Sandbox.Timedout", msg);
	a->state = SL_RT_GONE;
	a->exiting = true;
	sl_agent_maybe_exit(a);
}

static void channel_lost(struct sl_agent *a)
{
	if (a->chan) {
		bufferevent_free(a->chan);
		a->chan = NULL;
	}
	sl_agent_runtime_kill(a);
	a->exiting = true;
	sl_agent_maybe_exit(a);
}

static void chan_read_cb(struct bufferevent *bev, void *arg)
{
	struct sl_agent *a = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct sl_frame f;
	int rc;

	while ((rc = sl_channel_read(in, &f)) > 0) {
		if (f.type == SL_FRAME_INVOKE)
			on_invoke(a, &f, in);
		else
			sl_warn(TAG, "ignoring a %s frame", sl_frame_type_name(f.type));
		sl_frame_done(in, &f);
	}
	if (rc < 0) {
		sl_error(TAG, "malformed frame on the channel");
		channel_lost(a);
	}
}

static void chan_write_cb(struct bufferevent *bev, void *arg)
{
	struct sl_agent *a = arg;

	(void)bev;
	sl_agent_logs_resume(a);
	sl_agent_maybe_exit(a);
}

static void chan_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		channel_lost(arg);
}

int sl_agent_link_open(struct sl_agent *a, int fd)
{
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	a->chan = bufferevent_socket_new(a->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!a->chan)
		return -EINVAL;
	a->deadline = sl_check_alloc(evtimer_new(a->base, deadline_cb, a));
	a->inv_event = sl_check_alloc(evbuffer_new());
	bufferevent_setcb(a->chan, chan_read_cb, chan_write_cb, chan_event_cb, a);
	bufferevent_enable(a->chan, EV_READ);
	return 0;
}
