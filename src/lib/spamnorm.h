/*
 * spamnorm: the text the keyword rules of spamrules.h read, with the
 * usual obfuscations of spam undone (issue 15).  Text in UTF-8 (possibly
 * invalid) becomes lower-case ASCII words separated by single spaces:
 *
 *   - zero-width characters (U+200B..U+200D, U+2060, U+FEFF, U+00AD soft
 *     hyphen, the bidi marks) are dropped: "vi<U+200B>agra";
 *   - look-alikes become the Latin letter they imitate: Cyrillic and
 *     Greek confusables (facts from Unicode's confusables list),
 *     fullwidth forms, mathematical and circled letters, Latin letters
 *     with diacritics ("Vïagra");
 *   - leetspeak inside a word: 0 o, 1 i, 3 e, 4 a, 5 s, 7 t, 8 b and
 *     @ a, $ s, ! i, | i, "\/" v ("V1agra", "v!agra", "\/iagra");
 *   - letters spelt apart, "v i a g r a" and "v.i.a.g.r.a": runs of
 *     single letters with at most three separators between them are
 *     joined;
 *   - a word cut by one punctuation mark ("vi-agra", "vi.agra") is
 *     given both as its pieces and joined.
 *
 * Other letters (CJK, Arabic, Cyrillic without a Latin twin, ...) become
 * '~', so that a word is only readable as ASCII when every letter of it
 * imitates one.  Pure; output bounded by out's max.
 */
#ifndef CACHET_SPAMNORM_H
#define CACHET_SPAMNORM_H

#include <stddef.h>

#include "buf.h"

/* Most bytes of input one call reads (the rest is not normalised). */
#define SPAM_NORM_IN_MAX	(256 * 1024)

/*
 * Append the normalised form of in[0..len) to out, each word preceded
 * by a space.  -1 (EMSGSIZE) when out's ceiling was reached; what fit is
 * there.
 */
int	spam_norm(const char *in, size_t len, struct buf *out);

#endif
