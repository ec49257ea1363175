/* Memory policy: allocation failure aborts the process (as h2o does).
 *
 * Sluice is a daemon whose state can be rebuilt from its sources and its spool after a restart;
 * running on after a failed allocation would trade a clean crash (and at-least-once redelivery)
 * for half-updated state. So every allocation goes through these wrappers, which never return
 * NULL, and no caller carries -ENOMEM paths. Hard limits on every growable buffer (core/limits.h)
 * are what keeps memory bounded, not allocation failures.
 */
#ifndef SL_MEM_H
#define SL_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *sl_xmalloc(size_t size);
void *sl_xcalloc(size_t n, size_t size);
void *sl_xrealloc(void *ptr, size_t size);
char *sl_xstrdup(const char *s);              /* NULL stays NULL */
char *sl_xstrndup(const char *s, size_t n);
char *sl_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *sl_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Abort with a message when a library allocation (e.g. jansson) returned NULL. */
void *sl_check_alloc(void *ptr);
/* The daemon's allocator settings (call once at start): buffers up to SL_MEM_MMAP_THRESHOLD come
 * from the heap, and up to SL_MEM_TRIM_THRESHOLD of freed heap stays with the process. A batch's
 * payload (hundreds of KB) and a Redis reply's blocks are allocated and freed over and over;
 * with glibc's defaults each cycle returned the pages to the kernel and faulted them in again
 * (a quarter of the daemon's time on a Redis stream, bench/RESULTS.md, Streams). */
void sl_mem_tune(void);
#define SL_MEM_MMAP_THRESHOLD (8 << 20)
#define SL_MEM_TRIM_THRESHOLD (32 << 20)

#endif
