/* stderr capture for unit tests that check what was logged (core/log.c writes every record to
 * fd 2 with one write):
 *
 *   capture_begin();
 *   ...                                  // code that logs
 *   const char *log = capture_end();     // what fd 2 received, up to 64 KiB
 *
 * The text stays valid until the next capture_end. A teardown calls capture_abandon() so that a
 * test failing inside a capture still shows its failure. Static inline functions, as in
 * service_proc.h: each test binary is one translation unit.
 */
#ifndef SL_TEST_LOG_CAPTURE_H
#define SL_TEST_LOG_CAPTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAPTURE_TEMPLATE "/tmp/sluice-log-XXXXXX"

static int capture_saved_fd = -1;
static char capture_path[] = CAPTURE_TEMPLATE;

static inline char *capture_end(void)
{
	static char text[65536];
	fflush(stderr);
	assert_true(dup2(capture_saved_fd, STDERR_FILENO) >= 0);
	close(capture_saved_fd);
	capture_saved_fd = -1;
	FILE *f = fopen(capture_path, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(capture_path);
	strcpy(capture_path, CAPTURE_TEMPLATE);
	return text;
}

/* After a test failed inside its capture (cmocka jumped out of it): restore stderr and show what
 * the capture got, the failure message included. A no-op otherwise. */
static inline void capture_abandon(void)
{
	if (capture_saved_fd >= 0)
		fputs(capture_end(), stderr);
}

static inline void capture_begin(void)
{
	capture_abandon();
	int fd = mkstemp(capture_path);
	assert_true(fd >= 0);
	fflush(stderr);
	capture_saved_fd = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
}

#endif
