/* Executor: the listening end of a container sandbox's channel.
 *
 * A container sandbox's agent reaches the executor through a unix socket bound into the
 * container: DIR/channel.sock on the host, DIR bound read-write at /run/sluice (the oci driver's
 * bundle and the docker driver's sandbox dir each have their own DIR, holding nothing else).
 * sluice-init --channel-path connects to it; the first connection becomes the sandbox's channel
 * (sl_sandbox_attach) and the socket is closed and removed. DIR is 0755 and the socket 0666, so
 * uid 993, or the root of a user namespace, can connect; nothing else is in DIR.
 */
#include "executor/pool.h"

#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct sl_sandbox *sb = arg;
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	(void)what;
	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR)
			sl_warn(sb->pool->tag, "sandbox channel %s: accept: %s", sb->chan_sock,
				strerror(errno));
		return;
	}
	sl_chan_unlisten(sb);
	sl_sandbox_attach(sb, conn);
}

int sl_chan_listen(struct sl_sandbox *sb, const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *path = sl_xasprintf("%s/channel.sock", dir);
	int fd = -1, rc = 0;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		rc = -ENAMETOOLONG;
		goto fail;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((mkdir(dir, 0755) != 0 && errno != EEXIST) || chmod(dir, 0755) != 0 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		rc = -errno;
		goto fail;
	}
	unlink(path);   /* a stale one, left by a daemon that had our pid */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0666) != 0 ||
	    listen(fd, 1) != 0) {
		rc = -errno;
		goto fail;
	}
	sb->listen_fd = fd;
	sb->chan_sock = path;
	sb->accept_ev = sl_check_alloc(event_new(sb->pool->ex->base, fd, EV_READ | EV_PERSIST,
						 on_accept, sb));
	event_add(sb->accept_ev, NULL);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

void sl_chan_unlisten(struct sl_sandbox *sb)
{
	if (!sb->chan_sock)
		return;
	event_free(sb->accept_ev);
	close(sb->listen_fd);
	unlink(sb->chan_sock);
	free(sb->chan_sock);
	sb->accept_ev = NULL;
	sb->listen_fd = -1;
	sb->chan_sock = NULL;
}
