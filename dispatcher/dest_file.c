/* File destination: one JSON line per record, appended and fdatasync'd before done(0).
 *
 * Threads. deliver() runs on the loop: it serializes the record and queues a job. One worker
 * thread per destination takes every queued job at once, appends their lines, syncs once and
 * moves the jobs to the finished list (group commit); it then signals an eventfd, and the loop
 * side (on_wake) calls each job's done in delivery order. So done is always called later, on the
 * loop, and a slow disk stalls only this worker.
 *
 * Durability. The file is opened O_APPEND (created, with missing parent directories, on first
 * use). A group that fails to write is cut off again (ftruncate to where it began), so a failed
 * record never leaves half a line behind; a failed sync closes the file (its page-cache state is
 * unknown) and fails the group: the caller retries, which may duplicate a record (at least once).
 * A file whose last line was torn by a crash gets a newline before the next record.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatcher/destination_kinds.h"

struct file_job {
	struct file_job *next;
	char *line;                  /* serialized record + '\n' */
	size_t len;
	sl_destination_done_cb done;
	void *arg;
	int status;
};

struct job_list {
	struct file_job *head, **tail;
};

struct dest_file {
	char *path;
	char *tag;                   /* "destination:<name>" */
	int efd;                     /* worker -> loop wake-up */
	struct event *wake;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job_list todo;        /* under mu */
	struct job_list finished;    /* under mu */
	bool stop;                   /* under mu */
	bool started;                /* the worker thread runs */
	int fd;                      /* worker only */
};

/* The sync call; a test that includes this file may replace it. */
static int (*dest_file_sync)(int fd) = fdatasync;

static void list_init(struct job_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
}

static void list_append(struct job_list *l, struct file_job *head, struct file_job **tail)
{
	if (!head)
		return;
	*l->tail = head;
	l->tail = tail;
}

/* mkdir -p of the directory part of path. */
static int make_parents(const char *path)
{
	char *dir = sl_xstrdup(path);
	int rc = 0;

	for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*p = '/';
	}
	free(dir);
	return rc;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void close_file(struct dest_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* Open the file if needed; end a torn last line so the next record starts on its own line. */
static int ensure_open(struct dest_file *f)
{
	char last;
	int rc;

	if (f->fd >= 0)
		return 0;
	rc = make_parents(f->path);
	if (rc < 0)
		return rc;
	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (f->fd < 0)
		return -errno;
	off_t end = lseek(f->fd, 0, SEEK_END);
	int rfd = end > 0 ? open(f->path, O_RDONLY | O_CLOEXEC) : -1;
	if (rfd >= 0 && pread(rfd, &last, 1, end - 1) == 1 && last != '\n')
		rc = write_all(f->fd, "\n", 1);
	if (rfd >= 0)
		close(rfd);
	if (rc < 0)
		close_file(f);
	return rc;
}

/* Append and sync one group; returns the status for all of its jobs. */
static int store_group(struct dest_file *f, struct file_job *jobs)
{
	int rc = ensure_open(f);
	if (rc < 0)
		goto out;
	off_t start = lseek(f->fd, 0, SEEK_END);
	for (struct file_job *j = jobs; j && rc == 0; j = j->next)
		rc = write_all(f->fd, j->line, j->len);
	if (rc < 0) {
		if (start >= 0 && ftruncate(f->fd, start) < 0)
			close_file(f);
		goto out;
	}
	if (dest_file_sync(f->fd) < 0) {
		rc = errno ? -errno : -EIO;
		close_file(f);
	}
out:
	if (rc < 0)
		sl_warn(f->tag, "cannot store to %s: %s", f->path, strerror(-rc));
	return rc;
}

static void *worker(void *arg)
{
	struct dest_file *f = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->todo.head && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop)
			break;
		struct file_job *jobs = f->todo.head, **tail = f->todo.tail;
		list_init(&f->todo);
		pthread_mutex_unlock(&f->mu);

		int status = store_group(f, jobs);
		for (struct file_job *j = jobs; j; j = j->next)
			j->status = status;

		pthread_mutex_lock(&f->mu);
		list_append(&f->finished, jobs, tail);
		if (write(f->efd, &one, sizeof(one)) < 0) { /* counter saturated: already woken */ }
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Call done for every job of the list, in order, and free them. */
static void finish_jobs(struct file_job *j)
{
	while (j) {
		struct file_job *next = j->next;
		j->done(j->arg, j->status);
		free(j->line);
		free(j);
		j = next;
	}
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct dest_file *f = arg;
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) < 0) { /* EAGAIN: nothing new */ }
	pthread_mutex_lock(&f->mu);
	struct file_job *jobs = f->finished.head;
	list_init(&f->finished);
	pthread_mutex_unlock(&f->mu);
	finish_jobs(jobs);
}

static void file_destroy(void *ctx);

static int file_create(struct event_base *base, const struct sl_destination_config *cfg,
		       void **ctx)
{
	if (!cfg->path || cfg->path[0] != '/') {
		sl_error("sluice", "destination %s: file needs an absolute path", cfg->name);
		return -EINVAL;
	}
	struct dest_file *f = sl_xcalloc(1, sizeof(*f));
	int rc = 0;

	f->path = sl_xstrdup(cfg->path);
	f->tag = sl_xasprintf("destination:%s", cfg->name ? cfg->name : "file");
	f->fd = -1;
	list_init(&f->todo);
	list_init(&f->finished);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (f->efd < 0) {
		rc = -errno;
		goto fail;
	}
	f->wake = sl_check_alloc(event_new(base, f->efd, EV_READ | EV_PERSIST, on_wake, f));
	event_add(f->wake, NULL);
	rc = -pthread_create(&f->thread, NULL, worker, f);
	if (rc == 0) {
		f->started = true;
		*ctx = f;
		return 0;
	}
fail:
	sl_error(f->tag, "cannot start: %s", strerror(-rc));
	file_destroy(f);
	return rc;
}

static void file_deliver(void *ctx, const json_t *record, sl_destination_done_cb done, void *arg)
{
	struct dest_file *f = ctx;
	struct file_job *j = sl_xcalloc(1, sizeof(*j));
	char *text = sl_check_alloc(json_dumps(record, JSON_COMPACT));

	j->len = strlen(text) + 1;
	j->line = sl_xmalloc(j->len);
	memcpy(j->line, text, j->len - 1);
	j->line[j->len - 1] = '\n';
	free(text);
	j->done = done;
	j->arg = arg;

	pthread_mutex_lock(&f->mu);
	list_append(&f->todo, j, &j->next);
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void file_destroy(void *ctx)
{
	struct dest_file *f = ctx;

	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (f->started)
		pthread_join(f->thread, NULL);

	for (struct file_job *j = f->todo.head; j; j = j->next)
		j->status = -ECANCELED;
	struct file_job *finished = f->finished.head, *todo = f->todo.head;
	list_init(&f->finished);
	list_init(&f->todo);
	finish_jobs(finished);
	finish_jobs(todo);

	if (f->wake)
		event_free(f->wake);
	if (f->efd >= 0)
		close(f->efd);
	close_file(f);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f->tag);
	free(f->path);
	free(f);
}

const struct sl_destination_ops sl_dest_file_ops = {
	.kind = "file",
	.create = file_create,
	.deliver = file_deliver,
	.destroy = file_destroy,
};
