/* Base64 (RFC 4648, with padding) through OpenSSL's libcrypto. */
#ifndef SL_BASE64_H
#define SL_BASE64_H

#include <stddef.h>

/* Encode len bytes; returns a NUL-terminated string the caller frees. */
char *sl_base64_encode(const void *data, size_t len);
/* Decode; returns 0 with *out (caller frees) and *out_len, or -EINVAL on malformed input. */
int sl_base64_decode(const char *text, size_t text_len, unsigned char **out, size_t *out_len);

#endif
