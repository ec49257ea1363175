/* Allocation wrappers; see mem.h for the policy. */
#include "core/mem.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void out_of_memory(size_t size)
{
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "sluice: out of memory allocating %zu bytes\n", size);
	if (write(STDERR_FILENO, msg, (size_t)n) < 0) { /* nothing left to do */ }
	abort();
}

void *sl_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		out_of_memory(size);
	return p;
}

void *sl_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *sl_xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		out_of_memory(size);
	return p;
}

char *sl_xstrdup(const char *s)
{
	return s ? sl_xstrndup(s, strlen(s)) : NULL;
}

char *sl_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		out_of_memory(n + 1);
	return p;
}

char *sl_xvasprintf(const char *fmt, va_list ap)
{
	char *out;
	if (vasprintf(&out, fmt, ap) < 0)
		out_of_memory(0);
	return out;
}

char *sl_xasprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *out = sl_xvasprintf(fmt, ap);
	va_end(ap);
	return out;
}

void *sl_check_alloc(void *ptr)
{
	if (!ptr)
		out_of_memory(0);
	return ptr;
}

void sl_mem_tune(void)
{
	mallopt(M_MMAP_THRESHOLD, SL_MEM_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, SL_MEM_TRIM_THRESHOLD);
}
