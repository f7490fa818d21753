/*
 * libFuzzer target for mime_charset_to_utf8(): the first byte picks a
 * charset (iconv's stateful and multi-byte ones among them), the rest is
 * converted from a heap copy of exactly its length; the result must be
 * well-formed UTF-8 and every charset listed must be known.
 */
#include "fuzz_mime.h"

static const char *const charsets[] = {
	"utf-8", "us-ascii", "iso-8859-1", "iso-8859-2", "iso-8859-15",
	"windows-1252", "windows-1251", "koi8-r", "utf-7", "utf-16",
	"utf-16le", "utf-16be", "unicode", "gb2312", "big5", "euc-jp",
	"iso-2022-jp", "shift_jis", "ks_c_5601-1987", "euc-kr",
	"x-mac-roman", "unicode-1-1-utf-7", "tis-620", "iso-8859-8-i",
	"utf-32", "",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 out;
	char		*copy;
	const char	*cs;

	if (size < 1)
		return 0;
	cs = charsets[data[0] % (sizeof(charsets) / sizeof(charsets[0]))];
	copy = fuzz_mime_copy(data + 1, size - 1);
	buf_init(&out, 1 << 20);
	if (mime_charset_to_utf8(span_str(cs), span_make(copy, size - 1),
	    &out) != 0)
		abort();
	fuzz_mime_utf8_done(&out);
	free(copy);
	return 0;
}
