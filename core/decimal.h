/* Integers in decimal without printf: what hot paths (event ids, payload encoders) write per
 * record. */
#ifndef SL_DECIMAL_H
#define SL_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#define SL_DECIMAL_MAX 21            /* "-9223372036854775808" and its NUL */

/* v in decimal at buf (SL_DECIMAL_MAX bytes), NUL-terminated; its length. */
size_t sl_decimal(int64_t v, char *buf);

#endif
