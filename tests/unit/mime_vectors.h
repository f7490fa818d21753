/*
 * What the unit tests of the header field parsers share: loading a JSON
 * file of test vectors from the shared corpora (tests/data, a verbatim copy of ../shared/testdata, from
 * the repository root, where the tests run, or $CACHET_TESTDATA), and
 * cutting a vector's header text to the field value mime_parse() would
 * hand over.  Include after <cmocka.h> and <jansson.h>.
 */
#ifndef CACHET_MIME_VECTORS_H
#define CACHET_MIME_VECTORS_H

#include <stdio.h>
#include <stdlib.h>

#include "buf.h"

static inline json_t *
mime_vectors_load(const char *name)
{
	const char	*dir = getenv("CACHET_TESTDATA");
	char		 path[512];
	json_error_t	 jerr;
	json_t		*root;

	(void)snprintf(path, sizeof(path),
	    "%s/mime/stalwart-mail-parser/%s",
	    dir != NULL ? dir : "tests/data", name);
	root = json_load_file(path, 0, &jerr);
	if (root == NULL)
		fail_msg("%s: %s", path, jerr.text);
	assert_true(json_is_array(root));
	return root;
}

/*
 * A vector's "header" as a field value: it ends before the first line
 * end that is not folding (a line end followed by SP or HTAB, RFC 5322
 * §2.2.3), as the field does in a message.
 */
static inline struct span
mime_vectors_field(const json_t *header)
{
	const char	*h = json_string_value(header);
	size_t		 len = json_string_length(header), i;

	assert_non_null(h);
	for (i = 0; i < len; i++) {
		if (h[i] != '\n' ||
		    (i + 1 < len && (h[i + 1] == ' ' || h[i + 1] == '\t')))
			continue;
		return span_make(h, i > 0 && h[i - 1] == '\r' ? i - 1 : i);
	}
	return span_make(h, len);
}

/*
 * A vector whose expectation we do not share, on purpose: its index,
 * our answer (written as the test writes answers) and why.
 */
struct mime_vectors_diff {
	size_t		 idx;
	const char	*ours;
	const char	*why;
};

static inline const struct mime_vectors_diff *
mime_vectors_diff(const struct mime_vectors_diff *d, size_t n, size_t idx)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (d[i].idx == idx)
			return &d[i];
	return NULL;
}

/* Print the tally; every one of want vectors must have been judged. */
static inline void
mime_vectors_tally(const char *file, const json_t *root, size_t want,
    size_t agree, size_t documented)
{
	printf("%s: %zu vectors, %zu agree, %zu documented differences\n",
	    file, json_array_size(root), agree, documented);
	assert_int_equal(json_array_size(root), want);
	assert_int_equal(agree + documented, want);
}

#endif
