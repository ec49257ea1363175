/* Base64 wrappers over libcrypto's EVP_EncodeBlock/EVP_DecodeBlock. */
#include "core/base64.h"

#include "core/mem.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>

char *sl_base64_encode(const void *data, size_t len)
{
	char *out = sl_xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

int sl_base64_decode(const char *text, size_t text_len, unsigned char **out, size_t *out_len)
{
	if (text_len % 4 != 0 || text_len > (size_t)1 << 30)
		return -EINVAL;
	unsigned char *buf = sl_xmalloc(text_len / 4 * 3 + 1);
	int n = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)text_len);
	if (n < 0) {
		free(buf);
		return -EINVAL;
	}
	/* EVP_DecodeBlock counts padding as zero bytes: take them back off. */
	for (size_t i = text_len; i > 0 && text[i - 1] == '=' && n > 0; i--)
		n--;
	*out = buf;
	*out_len = (size_t)n;
	return 0;
}
