/*
 * authres: see authres.h.
 */
#include <string.h>
#include <strings.h>

#include "authres.h"

#define AUTHRES_NAME		"Authentication-Results"
#define AUTHRES_DEPTH_MAX	64	/* nested comments, as a bound */

static bool
authres_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 2045 §5.1 token characters: CHAR but SPACE, CTLs and tspecials. */
static bool
authres_tchar(char c)
{
	unsigned char	u = (unsigned char)c;

	if (u <= 0x20 || u >= 0x7f)
		return false;
	return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/*
 * Skip CFWS from *pos.  Returns 1 when something else follows, 0 at the
 * end (inside a comment or not), -1 when comments nest too deep.
 */
static int
authres_cfws(struct span v, size_t *pos)
{
	size_t	i = *pos;
	int	depth = 0;

	while (i < v.len) {
		if (depth == 0 && authres_wsp(v.ptr[i])) {
			i++;
			continue;
		}
		if (v.ptr[i] == '(') {
			if (++depth > AUTHRES_DEPTH_MAX)
				return -1;
			i++;
			continue;
		}
		if (depth == 0)
			break;
		if (v.ptr[i] == '\\')
			i++;		/* quoted-pair: the next octet */
		else if (v.ptr[i] == ')')
			depth--;
		i++;
	}
	*pos = i;
	return i < v.len && depth == 0 ? 1 : 0;
}

int
authres_authserv_id(struct span value, bool whole, struct span *id,
    bool *quoted_out)
{
	size_t	pos = 0, start;
	int	rc;

	*quoted_out = false;
	if ((rc = authres_cfws(value, &pos)) != 1)
		return rc;
	if (value.ptr[pos] == '"') {
		start = ++pos;
		while (pos < value.len && value.ptr[pos] != '"') {
			if (value.ptr[pos] == '\\')
				pos++;
			pos++;
		}
		if (pos >= value.len)
			return 0;
		*id = span_make(value.ptr + start, pos - start);
		*quoted_out = true;
		return 1;
	}
	start = pos;
	while (pos < value.len && authres_tchar(value.ptr[pos]))
		pos++;
	if (pos == start)
		return -1;
	/* Unless value is whole, the token must be seen to end. */
	if (pos == value.len && !whole)
		return 0;
	*id = span_make(value.ptr + start, pos - start);
	return 1;
}

/* id (quoted-pairs undone when quoted) equals name, any ASCII case. */
static bool
authres_id_eq(struct span id, bool quoted, const char *name)
{
	size_t	i, j = 0, n = strlen(name);
	char	a, b;

	for (i = 0; i < id.len; i++, j++) {
		if (quoted && id.ptr[i] == '\\' && i + 1 < id.len)
			i++;
		if (j >= n)
			return false;
		a = id.ptr[i];
		b = name[j];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return j == n;
}

bool
authres_is_ours(struct span field, const char *hostname)
{
	struct span	id;
	size_t		i, n = sizeof(AUTHRES_NAME) - 1;
	bool		quoted;

	if (field.len <= n || strncasecmp(field.ptr, AUTHRES_NAME, n) != 0)
		return false;
	/* RFC 5322 §4.5.3 (obsolete syntax): WSP before the colon */
	for (i = n; i < field.len && (field.ptr[i] == ' ' ||
	    field.ptr[i] == '\t'); i++)
		;
	if (i >= field.len || field.ptr[i] != ':')
		return false;
	i++;
	if (authres_authserv_id(span_make(field.ptr + i, field.len - i), true,
	    &id, &quoted) != 1)
		return false;
	return authres_id_eq(id, quoted, hostname);
}
