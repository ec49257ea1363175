/* Real servers for unit tests (included by tests/unit/test_*.c that talk to Redis, Mosquitto, an
 * HTTP server, ...): a free loopback port, a temp dir, a server started from its Debian binary
 * in the background and stopped by its pid.
 *
 *   int port = svc_free_port();
 *   char *dir = svc_temp_dir("redis");
 *   pid_t pid = svc_spawn((char *[]){ "redis-server", "--port", ..., NULL }, log_path);
 *   svc_wait_port(port, 5000);        // until it accepts connections
 *   ...
 *   svc_stop(pid);                    // SIGTERM, wait; SIGKILL after 10 s
 *   svc_remove_dir(dir);
 *
 * Clients run to completion the same way: svc_spawn, then svc_wait_exit(pid, timeout_ms).
 *
 * A server that cannot be started fails the test (fail_msg): a test that silently skips its
 * server cannot fail. Static inline functions: each test binary is one translation unit, and
 * one that uses only some of them gets no unused-function warning.
 */
#ifndef SL_TEST_SERVICE_PROC_H
#define SL_TEST_SERVICE_PROC_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"

/* A loopback TCP port that was free a moment ago (bound to port 0, then closed). */
static inline int svc_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* A new directory /tmp/sluice-<what>.XXXXXX; caller frees the string. */
static inline char *svc_temp_dir(const char *what)
{
	char *dir = NULL;

	assert_true(asprintf(&dir, "/tmp/sluice-%s.XXXXXX", what) > 0);
	if (!mkdtemp(dir))
		fail_msg("mkdtemp %s: %s", dir, strerror(errno));
	return dir;
}

static inline void svc_remove_dir(char *dir)
{
	sl_rm_tree(dir);
	free(dir);
}

/* Start argv[0] (looked up in PATH) with stdin from /dev/null and stdout+stderr appended to
 * log_path. The pid is the server's own (exec, no shell in between). */
static inline pid_t svc_spawn(char *const argv[], const char *log_path)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (in < 0 || out < 0)
			_exit(127);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		setpgid(0, 0);   /* a ^C on the test does not reach it; svc_stop does */
		execvp(argv[0], argv);
		dprintf(out, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static inline void svc_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Wait until 127.0.0.1:port accepts a connection; fails the test after timeout_ms or when pid
 * exited first. */
static inline void svc_wait_port(pid_t pid, int port, long timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	for (long waited = 0; waited <= timeout_ms; waited += 20) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fd >= 0);
		int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (rc == 0)
			return;
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid)
			fail_msg("server pid %d exited (status %#x) before listening on %d", (int)pid,
				 status, port);
		svc_sleep_ms(20);
	}
	fail_msg("server pid %d not listening on %d after %ld ms", (int)pid, port, timeout_ms);
}

/* SIGTERM and wait for it to exit; SIGKILL when it has not after 10 s. Returns its status. */
static inline int svc_stop(pid_t pid)
{
	int status = 0;

	if (pid <= 0)
		return 0;
	kill(pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		svc_sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return status;
}

/* Wait for a program that ends by itself (a client run to completion); fails the test, killing
 * it, when it runs longer than timeout_ms. Returns its wait status. */
static inline int svc_wait_exit(pid_t pid, long timeout_ms)
{
	int status = 0;

	for (long waited = 0; waited <= timeout_ms; waited += 20) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		svc_sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fail_msg("pid %d still running after %ld ms", (int)pid, timeout_ms);
	return -1;
}

/* kill -9 and reap: the server goes away without a goodbye. */
static inline void svc_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

#endif
