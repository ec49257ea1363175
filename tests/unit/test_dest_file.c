/* Unit tests for dispatcher/dest_file.c (and the registry in destination.c): records appended as
 * lines, the sync before done, parent directories, failures reported through done(<0).
 * Includes the .c to replace its sync call (STYLE 17). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dispatcher/dest_file.c"
#include "core/loop.h"

#include <stdio.h>
#include <sys/stat.h>

#include <event2/event.h>

struct fixture {
	struct event_base *base;
	char dir[64];
	int done_calls;
	int statuses[16];
};

static int sync_calls;
static int sync_fail_errno;
static int64_t size_at_sync;

static int fake_sync(int fd)
{
	struct stat st;

	sync_calls++;
	fstat(fd, &st);
	size_at_sync = st.st_size;
	if (sync_fail_errno) {
		errno = sync_fail_errno;
		return -1;
	}
	return fdatasync(fd);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	fx->base = sl_loop_new();
	strcpy(fx->dir, "/tmp/sl-dest-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	sync_calls = 0;
	sync_fail_errno = 0;
	dest_file_sync = fake_sync;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static void on_done(void *arg, int status)
{
	struct fixture *fx = arg;
	fx->statuses[fx->done_calls++] = status;
}

static struct sl_destination *make(struct fixture *fx, const char *path)
{
	struct sl_destination_config cfg = { .name = "dlq", .kind = SL_DEST_FILE,
					     .path = (char *)path };
	struct sl_destination *d = NULL;
	assert_int_equal(sl_destination_new(fx->base, &cfg, &d), 0);
	assert_string_equal(sl_destination_name(d), "dlq");
	return d;
}

static void run_until(struct fixture *fx, int calls)
{
	for (int i = 0; i < 5000 && fx->done_calls < calls; i++)
		event_base_loop(fx->base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(1000);
	assert_int_equal(fx->done_calls, calls);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[8192];
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_records_appended_as_lines(void **state)
{
	struct fixture *fx = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/a/b/dead.jsonl", fx->dir);  /* parents missing */
	struct sl_destination *d = make(fx, path);
	for (int i = 0; i < 3; i++) {
		json_t *rec = json_pack("{s:i, s:s}", "n", i, "text", "line\nbreak");
		sl_destination_deliver(d, rec, on_done, fx);
		json_decref(rec);
	}
	assert_int_equal(fx->done_calls, 0);          /* never inside deliver */
	run_until(fx, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx->statuses[i], 0);
	assert_true(sync_calls >= 1 && sync_calls <= 3);
	assert_string_equal(slurp(path),
			    "{\"n\":0,\"text\":\"line\\nbreak\"}\n"
			    "{\"n\":1,\"text\":\"line\\nbreak\"}\n"
			    "{\"n\":2,\"text\":\"line\\nbreak\"}\n");
	/* The last sync saw every line already written. */
	assert_int_equal(size_at_sync, (int64_t)strlen(slurp(path)));
	sl_destination_free(d);

	/* A second instance appends; a torn last line is ended first. */
	FILE *f = fopen(path, "a");
	fputs("{\"torn", f);
	fclose(f);
	d = make(fx, path);
	json_t *rec = json_pack("{s:i}", "n", 3);
	sl_destination_deliver(d, rec, on_done, fx);
	json_decref(rec);
	run_until(fx, 4);
	assert_int_equal(fx->statuses[3], 0);
	assert_non_null(strstr(slurp(path), "break\"}\n{\"torn\n{\"n\":3}\n"));
	sl_destination_free(d);
}

static void test_sync_failure_reported_then_recovers(void **state)
{
	struct fixture *fx = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/dead.jsonl", fx->dir);
	struct sl_destination *d = make(fx, path);
	json_t *rec = json_pack("{s:s}", "k", "v");
	sync_fail_errno = EIO;
	sl_destination_deliver(d, rec, on_done, fx);
	run_until(fx, 1);
	assert_int_equal(fx->statuses[0], -EIO);
	sync_fail_errno = 0;
	sl_destination_deliver(d, rec, on_done, fx);
	run_until(fx, 2);
	assert_int_equal(fx->statuses[1], 0);
	assert_int_equal(sync_calls, 2);
	json_decref(rec);
	sl_destination_free(d);
}

static void test_unwritable_paths(void **state)
{
	struct fixture *fx = *state;
	char path[128];

	/* A parent that is a regular file: mkdir fails even for root. */
	snprintf(path, sizeof(path), "%s/plain", fx->dir);
	fclose(fopen(path, "w"));
	strcat(path, "/sub/dead.jsonl");
	struct sl_destination *d = make(fx, path);
	json_t *rec = json_pack("{s:s}", "k", "v");
	sl_destination_deliver(d, rec, on_done, fx);
	run_until(fx, 1);
	assert_int_equal(fx->statuses[0], -ENOTDIR);
	sl_destination_free(d);

	/* A device that refuses writes: the failed record is not synced. */
	d = make(fx, "/dev/full");
	sl_destination_deliver(d, rec, on_done, fx);
	run_until(fx, 2);
	assert_int_equal(fx->statuses[1], -ENOSPC);
	assert_int_equal(sync_calls, 0);
	sl_destination_free(d);
	json_decref(rec);
}

static void test_free_reports_outstanding(void **state)
{
	struct fixture *fx = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/dead.jsonl", fx->dir);
	struct sl_destination *d = make(fx, path);
	json_t *rec = json_pack("{s:s}", "k", "v");
	sl_destination_deliver(d, rec, on_done, fx);
	sl_destination_deliver(d, rec, on_done, fx);
	json_decref(rec);
	sl_destination_free(d);             /* every done called, stored or cancelled */
	assert_int_equal(fx->done_calls, 2);
	for (int i = 0; i < 2; i++)
		assert_true(fx->statuses[i] == 0 || fx->statuses[i] == -ECANCELED);
}

static void test_bad_configs(void **state)
{
	struct fixture *fx = *state;
	struct sl_destination *d = (struct sl_destination *)1;
	struct sl_destination_config rel = { .name = "x", .kind = SL_DEST_FILE,
					     .path = "relative.jsonl" };
	struct sl_destination_config unknown = { .name = "y", .kind = (enum sl_destination_kind)7,
						 .path = "/tmp/x" };

	assert_int_equal(sl_destination_new(fx->base, &rel, &d), -EINVAL);
	assert_null(d);
	assert_int_equal(sl_destination_new(fx->base, &unknown, &d), -ENOTSUP);
	assert_null(d);
	assert_ptr_equal(sl_destination_kind("file"), &sl_dest_file_ops);
	assert_null(sl_destination_kind("no-such-kind"));
	sl_destination_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records_appended_as_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_failure_reported_then_recovers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_reports_outstanding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_configs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
