/*
 * lookup_dmarc: the DMARC module's own calls beside msgauth.h's.  The
 * Public Suffix List is a file outside lookup's chroot, so lookup_main()
 * loads it before proc_drop() and hands it to the module made after.
 */
#ifndef CACHET_LOOKUP_DMARC_H
#define CACHET_LOOKUP_DMARC_H

struct conf;
struct lookup_dmarc;
struct psl;

/*
 * The list at `public-suffix-list` (default PSL_FILE_DEFAULT).  Never
 * NULL: when the file cannot be read it logs why and returns an empty
 * list, whose only rule is "*" (the organisational domain is then the
 * last two labels of a name).
 */
struct psl	*lookup_dmarc_psl_load(const struct conf *);

/* Give the module the list (it owns it from now on). */
void		 lookup_dmarc_set_psl(struct lookup_dmarc *, struct psl *);

#endif
