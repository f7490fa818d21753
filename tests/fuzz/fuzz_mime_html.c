/*
 * libFuzzer target for mime_html_text(): any document, from a heap copy
 * of exactly its length.  The text never starts or ends with whitespace
 * and never holds "  ", "\n\n", " \n" or "\n " (whitespace is collapsed
 * and no blank line written); every link line is non-empty.
 */
#include <stdbool.h>

#include "fuzz_mime.h"

static bool
bad_pair(char a, char b)
{
	return (a == ' ' || a == '\n') && (b == ' ' || b == '\n');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 text, links;
	char		*copy;
	size_t		 i;

	copy = fuzz_mime_copy(data, size);
	buf_init(&text, 1 << 22);
	buf_init(&links, 1 << 22);
	if (mime_html_text(span_make(copy, size), &text, &links) != 0)
		abort();
	if (text.len > 0 && (text.data[0] == ' ' || text.data[0] == '\n' ||
	    text.data[text.len - 1] == ' ' || text.data[text.len - 1] == '\n'))
		abort();
	for (i = 0; i + 1 < text.len; i++)
		if (bad_pair(text.data[i], text.data[i + 1]))
			abort();
	for (i = 0; i < links.len; i++)
		if (links.data[i] == '\n' && (i == 0 ||
		    links.data[i - 1] == '\n'))
			abort();
	if (links.len > 0 && links.data[links.len - 1] != '\n')
		abort();
	buf_free(&text);
	buf_free(&links);
	free(copy);
	return 0;
}
