/* Decimal integers; see decimal.h. */
#include "core/decimal.h"

#include <string.h>

size_t sl_decimal(int64_t v, char *buf)
{
	char digits[SL_DECIMAL_MAX], *d = digits + sizeof(digits);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	*--d = '\0';
	do
		*--d = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--d = '-';
	size_t n = (size_t)(digits + sizeof(digits) - 1 - d);
	memcpy(buf, d, n + 1);
	return n;
}
