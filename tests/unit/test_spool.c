/* Spool: round trips, durability watermark, checkpoints, recovery, caps, deletion, concurrency.
 *
 * Every test works in its own mkdtemp() directory under /tmp and removes it. Sizes are exact:
 * a record takes 20 header bytes plus its payload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/spool.h"
#include "log_capture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HDR 20u
#define SEG1 "00000000000000000001.seg"

/* ---- helpers --------------------------------------------------------------------------- */

static char *make_dir(void)
{
	char *dir = strdup("/tmp/sluice-spool-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void remove_dir(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *p = NULL;
		assert_true(asprintf(&p, "%s/%s", dir, e->d_name) > 0);
		assert_int_equal(unlink(p), 0);
		free(p);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static char *path_of(const char *dir, const char *name)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

/* Size of dir/name, -1 if it does not exist. */
static long long file_size(const char *dir, const char *name)
{
	char *p = path_of(dir, name);
	struct stat sb;
	long long n = stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
	free(p);
	return n;
}

static struct sl_spool *open_spool(const char *dir, uint64_t max, uint64_t seg)
{
	struct sl_spool_options o = { .dir = dir, .name = "test", .max_bytes = max,
				      .segment_bytes = seg };
	struct sl_spool *s = NULL;
	assert_int_equal(sl_spool_open(&o, &s), 0);
	assert_non_null(s);
	return s;
}

static uint64_t append_str(struct sl_spool *s, const char *text)
{
	uint64_t seq = 0;
	assert_int_equal(sl_spool_append(s, text, strlen(text), &seq), 0);
	return seq;
}

/* Read the next record and check it is (seq, text). */
static void expect_record(struct sl_spool_reader *r, uint64_t seq, const char *text)
{
	void *data = NULL;
	size_t len = 0;
	uint64_t got = 0;
	assert_int_equal(sl_spool_read(r, &data, &len, &got), 1);
	assert_int_equal(got, seq);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(data, text, len);
	free(data);
}

static void expect_nothing(struct sl_spool_reader *r)
{
	void *data = NULL;
	size_t len = 0;
	uint64_t seq = 0;
	assert_int_equal(sl_spool_read(r, &data, &len, &seq), 0);
	assert_null(data);
}

static void fill(char *buf, size_t n, char c)
{
	memset(buf, c, n);
	buf[n] = '\0';
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_round_trip(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct sl_spool *s = open_spool(dir, 0, 0);
	struct sl_spool_reader *r = NULL;
	size_t big_len = 200000;
	unsigned char *big = malloc(big_len);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (unsigned char)(i * 7 + 3);
	uint64_t seq = 0;

	assert_int_equal(sl_spool_durable(s), 0);
	assert_int_equal(append_str(s, "alpha"), 1);
	assert_int_equal(append_str(s, ""), 2);
	assert_int_equal(sl_spool_append(s, big, big_len, &seq), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(sl_spool_wait_durable(s, 3), 0);
	assert_int_equal(sl_spool_durable(s), 3);
	assert_int_equal(sl_spool_bytes(s), 3 * HDR + 5 + big_len);
	assert_int_equal(file_size(dir, SEG1), 3 * HDR + 5 + big_len);

	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	expect_record(r, 1, "alpha");
	expect_record(r, 2, "");
	void *data = NULL;
	size_t len = 0;
	assert_int_equal(sl_spool_read(r, &data, &len, &seq), 1);
	assert_int_equal(seq, 3);
	assert_int_equal(len, big_len);
	assert_memory_equal(data, big, big_len);
	free(data);
	expect_nothing(r);
	assert_int_equal(sl_spool_wait_durable(s, 4), -EINVAL);    /* never appended */
	sl_spool_reader_close(r);
	sl_spool_close(s);
	free(big);
	remove_dir(dir);
}

/* Records of many sizes straddle the reader's 64 KiB buffer at every kind of offset; the first
 * one leaves exactly 10 bytes of the second's header in the first buffer fill. */
static size_t boundary_len(int i)
{
	return i == 1 ? 65536 - 20 - 10 : (size_t)(i * 7919) % (i % 50 == 0 ? 70000 : 3001);
}

static void test_reader_buffer_boundaries(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct sl_spool *s = open_spool(dir, 0, 0);
	struct sl_spool_reader *r = NULL;
	unsigned char *rec = malloc(70000);
	uint64_t seq = 0;
	size_t total = 0;

	for (int i = 1; i <= 300; i++) {
		size_t len = boundary_len(i);
		for (size_t k = 0; k < len; k++)
			rec[k] = (unsigned char)(i + k);
		assert_int_equal(sl_spool_append(s, rec, len, &seq), 0);
		assert_int_equal(seq, i);
		total += HDR + len;
	}
	assert_int_equal(sl_spool_bytes(s), total);
	assert_int_equal(sl_spool_wait_durable(s, 300), 0);
	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	for (int i = 1; i <= 300; i++) {
		size_t want = boundary_len(i);
		void *data = NULL;
		size_t len = 0;
		for (size_t k = 0; k < want; k++)
			rec[k] = (unsigned char)(i + k);
		assert_int_equal(sl_spool_read(r, &data, &len, &seq), 1);
		assert_int_equal(seq, i);
		assert_int_equal(len, want);
		assert_memory_equal(data, rec, want);
		free(data);
		if (i == 150) {                   /* reopen mid-segment: skips by headers */
			assert_int_equal(sl_spool_commit(r, 150), 0);
			sl_spool_reader_close(r);
			assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
		}
	}
	expect_nothing(r);
	sl_spool_reader_close(r);
	sl_spool_close(s);
	free(rec);
	remove_dir(dir);
}

/* on_durable blocks on the syncer thread, so the test decides when the next sync happens. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t seen;      /* last watermark reported */
	int calls;
	int backwards;      /* reports that did not move forward (asserted on the test thread) */
	bool hold;          /* while true, the callback does not return */
};

static void gate_cb(void *arg, uint64_t durable)
{
	struct gate *g = arg;
	pthread_mutex_lock(&g->lock);
	if (durable <= g->seen)
		g->backwards++;
	g->seen = durable;
	g->calls++;
	pthread_cond_broadcast(&g->cond);
	while (g->hold)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void gate_wait(struct gate *g, uint64_t seq)
{
	pthread_mutex_lock(&g->lock);
	while (g->seen < seq)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void test_durable_watermark_and_callback(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, true };
	struct sl_spool_options o = { .dir = dir, .name = "test", .on_durable = gate_cb,
				      .on_durable_arg = &g };
	struct sl_spool *s = NULL;
	struct sl_spool_reader *r = NULL;

	assert_int_equal(sl_spool_open(&o, &s), 0);
	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	assert_int_equal(append_str(s, "one"), 1);
	gate_wait(&g, 1);                 /* syncer now parked inside the callback */
	assert_int_equal(g.seen, 1);
	assert_int_equal(append_str(s, "two"), 2);
	assert_int_equal(append_str(s, "three"), 3);
	assert_int_equal(sl_spool_durable(s), 1);
	expect_record(r, 1, "one");
	expect_nothing(r);                /* 2 and 3 are written but not durable */

	pthread_mutex_lock(&g.lock);
	g.hold = false;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	gate_wait(&g, 3);
	assert_int_equal(g.seen, 3);
	assert_int_equal(g.calls, 2);     /* 2 and 3 were synced together */
	assert_int_equal(g.backwards, 0);
	assert_int_equal(sl_spool_durable(s), 3);
	expect_record(r, 2, "two");
	expect_record(r, 3, "three");
	expect_nothing(r);
	sl_spool_reader_close(r);
	sl_spool_close(s);
	remove_dir(dir);
}

static void test_checkpoint_resume(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct sl_spool *s = open_spool(dir, 0, 0);
	struct sl_spool_reader *r = NULL;
	char text[16];

	for (int i = 1; i <= 10; i++) {
		snprintf(text, sizeof(text), "r%d", i);
		assert_int_equal(append_str(s, text), i);
	}
	assert_int_equal(sl_spool_wait_durable(s, 10), 0);
	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	assert_int_equal(sl_spool_committed(r), 0);
	for (int i = 1; i <= 10; i++) {
		snprintf(text, sizeof(text), "r%d", i);
		expect_record(r, (uint64_t)i, text);
	}
	assert_int_equal(sl_spool_commit(r, 4), 0);
	assert_int_equal(sl_spool_commit(r, 3), -EINVAL);    /* backwards */
	assert_int_equal(sl_spool_commit(r, 11), -EINVAL);   /* never read */
	assert_int_equal(sl_spool_committed(r), 4);
	struct sl_spool_reader *dup = NULL;
	assert_int_equal(sl_spool_reader_open(s, "t", &dup), -EBUSY);
	assert_int_equal(sl_spool_reader_open(s, "../x", &dup), -EINVAL);
	sl_spool_reader_close(r);
	sl_spool_close(s);

	char *p = path_of(dir, "t.ckpt");
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	char line[32] = "";
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	free(p);
	assert_string_equal(line, "4\n");

	s = open_spool(dir, 0, 0);
	assert_int_equal(sl_spool_durable(s), 10);
	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	assert_int_equal(sl_spool_committed(r), 4);
	for (int i = 5; i <= 10; i++) {
		snprintf(text, sizeof(text), "r%d", i);
		expect_record(r, (uint64_t)i, text);
	}
	expect_nothing(r);
	assert_int_equal(append_str(s, "after"), 11);         /* numbering continues */
	assert_int_equal(sl_spool_wait_durable(s, 11), 0);
	expect_record(r, 11, "after");
	sl_spool_reader_close(r);
	sl_spool_close(s);
	remove_dir(dir);
}

static void write_three(const char *dir)
{
	struct sl_spool *s = open_spool(dir, 0, 0);
	assert_int_equal(append_str(s, "one"), 1);
	assert_int_equal(append_str(s, "two"), 2);
	assert_int_equal(append_str(s, "three"), 3);
	sl_spool_close(s);
	assert_int_equal(file_size(dir, SEG1), 3 * HDR + 11);
}

/* Reopen after damage: the warning is checked, records 1 and 2 survive, 3 is gone. */
static void reopen_expect_two(char *dir, const char *warning)
{
	capture_begin();
	struct sl_spool *s = open_spool(dir, 0, 0);
	char *log = capture_end();
	struct sl_spool_reader *r = NULL;

	assert_non_null(strstr(log, warning));
	assert_int_equal(file_size(dir, SEG1), 2 * HDR + 6);
	assert_int_equal(sl_spool_bytes(s), 2 * HDR + 6);
	assert_int_equal(sl_spool_durable(s), 2);
	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	expect_record(r, 1, "one");
	expect_record(r, 2, "two");
	expect_nothing(r);
	assert_int_equal(append_str(s, "new"), 3);
	assert_int_equal(sl_spool_wait_durable(s, 3), 0);
	expect_record(r, 3, "new");
	sl_spool_reader_close(r);
	sl_spool_close(s);
}

static void test_recovery_torn_tail(void **state)
{
	(void)state;
	char *dir = make_dir();
	write_three(dir);
	char *p = path_of(dir, SEG1);
	assert_int_equal(truncate(p, 3 * HDR + 11 - 3), 0);   /* cut "three" to "th" */
	free(p);
	char *want = NULL;
	assert_true(asprintf(&want, "truncated 22 bytes of torn tail in %s/%s (short payload", dir,
			     SEG1) > 0);
	reopen_expect_two(dir, want);
	free(want);
	remove_dir(dir);
}

static void test_recovery_corrupt_tail(void **state)
{
	(void)state;
	char *dir = make_dir();
	write_three(dir);
	char *p = path_of(dir, SEG1);
	int fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	off_t at = 2 * HDR + 6 + HDR + 2;                     /* the 'r' of "three" */
	char c = 0;
	assert_int_equal(pread(fd, &c, 1, at), 1);
	assert_int_equal(c, 'r');
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
	free(p);
	char *want = NULL;
	assert_true(asprintf(&want, "truncated 25 bytes of torn tail in %s/%s (CRC mismatch", dir,
			     SEG1) > 0);
	reopen_expect_two(dir, want);
	free(want);
	remove_dir(dir);
}

/* A bad tail in an older segment is cut too; the newer segment is still read. */
static void test_recovery_older_segment(void **state)
{
	(void)state;
	char *dir = make_dir();
	char rec[31];
	fill(rec, 30, 'a');                           /* 50 bytes a record, 2 per segment */
	struct sl_spool *s = open_spool(dir, 0, 100);
	for (int i = 1; i <= 4; i++)
		assert_int_equal(append_str(s, rec), i);
	sl_spool_close(s);
	char *p = path_of(dir, SEG1);
	assert_int_equal(truncate(p, 60), 0);          /* record 2 torn */
	free(p);

	capture_begin();
	s = open_spool(dir, 0, 100);
	char *log = capture_end();
	assert_non_null(strstr(log, "truncated 10 bytes of torn tail in"));
	assert_non_null(strstr(log, SEG1));
	assert_int_equal(sl_spool_bytes(s), 150);
	struct sl_spool_reader *r = NULL;
	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	expect_record(r, 1, rec);
	expect_record(r, 3, rec);
	expect_record(r, 4, rec);
	expect_nothing(r);
	assert_int_equal(append_str(s, "x"), 5);
	sl_spool_reader_close(r);
	sl_spool_close(s);
	remove_dir(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *p = path_of(dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

/* A garbled checkpoint means "from the oldest record"; one past the records moves numbering on. */
static void test_checkpoint_damage(void **state)
{
	(void)state;
	char *dir = make_dir();
	write_three(dir);
	write_file(dir, "t.ckpt", "2");                 /* no newline: torn */
	capture_begin();
	struct sl_spool *s = open_spool(dir, 0, 0);
	char *log = capture_end();
	assert_non_null(strstr(log, "t.ckpt is unreadable; reader t starts from the oldest record"));
	struct sl_spool_reader *r = NULL;
	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	assert_int_equal(sl_spool_committed(r), 0);
	expect_record(r, 1, "one");
	sl_spool_reader_close(r);
	sl_spool_close(s);

	write_file(dir, "t.ckpt", "40\n");              /* records were lost behind the reader */
	capture_begin();
	s = open_spool(dir, 0, 0);
	log = capture_end();
	assert_non_null(strstr(log, "checkpoints reach seq 40 but records end at 3"));
	assert_int_equal(append_str(s, "next"), 41);
	assert_int_equal(file_size(dir, "00000000000000000041.seg"), HDR + 4);
	assert_int_equal(sl_spool_wait_durable(s, 41), 0);
	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	expect_record(r, 41, "next");
	assert_int_equal(sl_spool_commit(r, 41), 0);
	assert_int_equal(file_size(dir, SEG1), -1);       /* consumed: deleted */
	assert_int_equal(sl_spool_bytes(s), HDR + 4);
	sl_spool_reader_close(r);
	sl_spool_close(s);
	remove_dir(dir);
}

static void test_full_spool_refused(void **state)
{
	(void)state;
	char *dir = make_dir();
	char rec[101];
	fill(rec, 100, 'f');
	struct sl_spool *s = open_spool(dir, 3 * (HDR + 100), 1 << 20);
	uint64_t seq = 99;

	for (int i = 1; i <= 3; i++)
		assert_int_equal(append_str(s, rec), i);
	assert_int_equal(sl_spool_append(s, rec, 100, &seq), -ENOSPC);
	assert_int_equal(sl_spool_append(s, "", 0, &seq), -ENOSPC);
	assert_int_equal(seq, 99);
	assert_int_equal(sl_spool_bytes(s), 360);
	assert_int_equal(sl_spool_wait_durable(s, 3), 0);
	assert_int_equal(file_size(dir, SEG1), 360);
	sl_spool_close(s);

	s = open_spool(dir, 3 * (HDR + 100), 1 << 20);         /* nothing of them on disk */
	assert_int_equal(sl_spool_durable(s), 3);
	assert_int_equal(sl_spool_append(s, rec, 100, &seq), -ENOSPC);
	sl_spool_close(s);
	remove_dir(dir);
}

static void test_consumption_frees_segments(void **state)
{
	(void)state;
	char *dir = make_dir();
	char rec[101];
	fill(rec, 100, 'c');                          /* 120 bytes; 2 records a segment */
	struct sl_spool *s = open_spool(dir, 1000, 240);
	struct sl_spool_reader *r = NULL;
	uint64_t seq = 0;

	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	for (int i = 1; i <= 8; i++)
		assert_int_equal(append_str(s, rec), i);
	assert_int_equal(sl_spool_append(s, rec, 100, &seq), -ENOSPC);
	assert_int_equal(sl_spool_bytes(s), 960);
	assert_int_equal(sl_spool_wait_durable(s, 8), 0);
	for (int i = 1; i <= 5; i++)
		expect_record(r, (uint64_t)i, rec);
	assert_int_equal(sl_spool_commit(r, 5), 0);   /* segments 1-2 and 3-4 are done */
	assert_int_equal(sl_spool_bytes(s), 480);
	assert_int_equal(file_size(dir, SEG1), -1);
	assert_int_equal(file_size(dir, "00000000000000000003.seg"), -1);
	assert_int_equal(file_size(dir, "00000000000000000005.seg"), 240);
	assert_int_equal(append_str(s, rec), 9);
	assert_int_equal(sl_spool_bytes(s), 600);
	sl_spool_reader_close(r);
	sl_spool_close(s);

	s = open_spool(dir, 1000, 240);               /* the accounting survives a restart */
	assert_int_equal(sl_spool_bytes(s), 600);
	sl_spool_close(s);
	remove_dir(dir);
}

/* The cap is below one segment: the consumed active segment is rolled away to make room. */
static void test_consumed_active_segment_reclaimed(void **state)
{
	(void)state;
	char *dir = make_dir();
	char rec[101];
	fill(rec, 100, 'r');
	struct sl_spool *s = open_spool(dir, 500, 1 << 20);
	struct sl_spool_reader *r = NULL;
	uint64_t seq = 0;

	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	for (int i = 1; i <= 4; i++)
		assert_int_equal(append_str(s, rec), i);
	assert_int_equal(sl_spool_append(s, rec, 100, &seq), -ENOSPC);
	assert_int_equal(sl_spool_wait_durable(s, 4), 0);
	for (int i = 1; i <= 4; i++)
		expect_record(r, (uint64_t)i, rec);
	assert_int_equal(sl_spool_commit(r, 3), 0);
	assert_int_equal(sl_spool_append(s, rec, 100, &seq), -ENOSPC);   /* 4 not consumed */
	assert_int_equal(sl_spool_commit(r, 4), 0);
	assert_int_equal(sl_spool_bytes(s), 480);     /* the active segment stays until needed */
	assert_int_equal(append_str(s, rec), 5);
	assert_int_equal(sl_spool_bytes(s), 120);
	assert_int_equal(file_size(dir, SEG1), -1);
	assert_int_equal(file_size(dir, "00000000000000000005.seg"), 120);
	assert_int_equal(sl_spool_wait_durable(s, 5), 0);
	expect_record(r, 5, rec);
	sl_spool_reader_close(r);
	sl_spool_close(s);
	remove_dir(dir);
}

static void test_segment_rollover(void **state)
{
	(void)state;
	char *dir = make_dir();
	char rec[31], name[32];
	struct sl_spool *s = open_spool(dir, 0, 100);  /* 50-byte records: 2 a segment */
	struct sl_spool_reader *r = NULL;

	for (int i = 1; i <= 5; i++) {
		snprintf(rec, sizeof(rec), "record-%023d", i);
		assert_int_equal(append_str(s, rec), i);
	}
	assert_int_equal(file_size(dir, SEG1), 100);
	assert_int_equal(file_size(dir, "00000000000000000003.seg"), 100);
	assert_int_equal(file_size(dir, "00000000000000000005.seg"), 50);
	assert_int_equal(sl_spool_bytes(s), 250);
	assert_int_equal(sl_spool_wait_durable(s, 5), 0);
	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	for (int i = 1; i <= 5; i++) {
		snprintf(rec, sizeof(rec), "record-%023d", i);
		expect_record(r, (uint64_t)i, rec);
	}
	sl_spool_reader_close(r);
	sl_spool_close(s);

	s = open_spool(dir, 0, 100);                  /* the last segment is reused */
	snprintf(rec, sizeof(rec), "record-%023d", 6);
	assert_int_equal(append_str(s, rec), 6);
	snprintf(name, sizeof(name), "%020d.seg", 5);
	assert_int_equal(file_size(dir, name), 100);
	assert_int_equal(file_size(dir, "00000000000000000006.seg"), -1);
	assert_int_equal(append_str(s, "x"), 7);       /* would pass 100: new segment */
	assert_int_equal(file_size(dir, "00000000000000000007.seg"), HDR + 1);
	sl_spool_close(s);
	remove_dir(dir);
}

static void test_oversize_record(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct sl_spool *s = open_spool(dir, 64ull << 20, 64ull << 20);
	size_t max = SL_SPOOL_MAX_RECORD;
	unsigned char *big = malloc(max + 1);
	uint64_t seq = 0;
	for (size_t i = 0; i <= max; i++)
		big[i] = (unsigned char)(i >> 3);

	assert_int_equal(sl_spool_append(s, big, max + 1, &seq), -EMSGSIZE);
	assert_int_equal(sl_spool_bytes(s), 0);
	assert_int_equal(file_size(dir, SEG1), 0);
	assert_int_equal(sl_spool_append(s, big, max, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(sl_spool_bytes(s), HDR + max);
	assert_int_equal(sl_spool_wait_durable(s, 1), 0);
	struct sl_spool_reader *r = NULL;
	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	void *data = NULL;
	size_t len = 0;
	assert_int_equal(sl_spool_read(r, &data, &len, &seq), 1);
	assert_int_equal(len, max);
	assert_memory_equal(data, big, max);
	free(data);
	sl_spool_reader_close(r);
	sl_spool_close(s);
	free(big);
	remove_dir(dir);
}

static void test_two_readers(void **state)
{
	(void)state;
	char *dir = make_dir();
	char rec[31];
	fill(rec, 30, 'x');                           /* 50 bytes, 2 a segment */
	struct sl_spool *s = open_spool(dir, 0, 100);
	struct sl_spool_reader *a = NULL, *b = NULL;

	assert_int_equal(sl_spool_reader_open(s, "a", &a), 0);
	assert_int_equal(sl_spool_reader_open(s, "b", &b), 0);
	for (int i = 1; i <= 6; i++)
		assert_int_equal(append_str(s, rec), i);
	assert_int_equal(sl_spool_wait_durable(s, 6), 0);
	for (int i = 1; i <= 6; i++)
		expect_record(a, (uint64_t)i, rec);
	expect_nothing(a);
	assert_int_equal(sl_spool_commit(a, 6), 0);
	assert_int_equal(sl_spool_bytes(s), 300);     /* b still needs everything */
	for (int i = 1; i <= 3; i++)
		expect_record(b, (uint64_t)i, rec);
	assert_int_equal(sl_spool_commit(b, 2), 0);
	assert_int_equal(sl_spool_bytes(s), 200);     /* segment 1-2 gone */
	assert_int_equal(file_size(dir, SEG1), -1);
	sl_spool_reader_close(a);
	sl_spool_reader_close(b);
	sl_spool_close(s);

	s = open_spool(dir, 0, 100);
	assert_int_equal(sl_spool_reader_open(s, "a", &a), 0);
	assert_int_equal(sl_spool_reader_open(s, "b", &b), 0);
	assert_int_equal(sl_spool_committed(a), 6);
	assert_int_equal(sl_spool_committed(b), 2);
	expect_nothing(a);
	for (int i = 3; i <= 6; i++)
		expect_record(b, (uint64_t)i, rec);
	expect_nothing(b);
	sl_spool_reader_close(b);
	assert_int_equal(sl_spool_reader_remove(s, "a"), -EBUSY);
	assert_int_equal(sl_spool_reader_remove(s, "b"), 0);     /* a alone decides now */
	assert_int_equal(sl_spool_reader_remove(s, "b"), -ENOENT);
	assert_int_equal(sl_spool_bytes(s), 100);     /* only the active segment (5-6) left */
	assert_int_equal(file_size(dir, "00000000000000000003.seg"), -1);
	assert_int_equal(file_size(dir, "b.ckpt"), -1);
	sl_spool_reader_close(a);
	sl_spool_close(s);
	remove_dir(dir);
}

#define THREADS 4
#define PER_THREAD 2500

struct writer {
	struct sl_spool *spool;
	int id;
	uint64_t last_seq;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char text[32];
	for (int i = 0; i < PER_THREAD; i++) {
		uint64_t seq = 0;
		int n = snprintf(text, sizeof(text), "%d:%d", w->id, i);
		if (sl_spool_append(w->spool, text, (size_t)n, &seq) != 0 || seq <= w->last_seq)
			return (void *)1;
		w->last_seq = seq;
	}
	return NULL;
}

static void test_concurrent_appends(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct sl_spool *s = open_spool(dir, 0, 4096);
	struct sl_spool_reader *r = NULL;
	struct writer w[THREADS];
	pthread_t t[THREADS];
	int next[THREADS] = { 0 };
	uint64_t expect = 1;

	assert_int_equal(sl_spool_reader_open(s, "t", &r), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct writer){ s, i, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	/* Read while the writers run; each thread's records come back in its own order. */
	while (expect <= THREADS * PER_THREAD) {
		void *data = NULL;
		size_t len = 0;
		uint64_t seq = 0;
		int rc = sl_spool_read(r, &data, &len, &seq);
		assert_true(rc >= 0);
		if (rc == 0) {
			usleep(100);
			continue;
		}
		assert_int_equal(seq, expect);
		int id = -1, i = -1;
		char text[32];
		snprintf(text, sizeof(text), "%.*s", (int)len, (char *)data);
		assert_int_equal(sscanf(text, "%d:%d", &id, &i), 2);
		assert_true(id >= 0 && id < THREADS);
		assert_int_equal(i, next[id]);
		next[id]++;
		free(data);
		if (expect % 1000 == 0)
			assert_int_equal(sl_spool_commit(r, expect), 0);
		expect++;
	}
	for (int i = 0; i < THREADS; i++) {
		void *ret = (void *)2;
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
		assert_int_equal(next[i], PER_THREAD);
	}
	expect_nothing(r);
	assert_int_equal(sl_spool_durable(s), THREADS * PER_THREAD);
	sl_spool_reader_close(r);
	sl_spool_close(s);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_reader_buffer_boundaries),
		cmocka_unit_test(test_durable_watermark_and_callback),
		cmocka_unit_test(test_checkpoint_resume),
		cmocka_unit_test(test_recovery_torn_tail),
		cmocka_unit_test(test_recovery_corrupt_tail),
		cmocka_unit_test(test_recovery_older_segment),
		cmocka_unit_test(test_checkpoint_damage),
		cmocka_unit_test(test_full_spool_refused),
		cmocka_unit_test(test_consumption_frees_segments),
		cmocka_unit_test(test_consumed_active_segment_reclaimed),
		cmocka_unit_test(test_segment_rollover),
		cmocka_unit_test(test_oversize_record),
		cmocka_unit_test(test_two_readers),
		cmocka_unit_test(test_concurrent_appends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
