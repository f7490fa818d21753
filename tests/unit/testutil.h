/*
 * What several unit tests need: removing a test's directory tree and a
 * message in a memfd, as the queue hands one to the mda.  Include after
 * <cmocka.h>.
 */
#ifndef CACHET_TESTUTIL_H
#define CACHET_TESTUTIL_H

#include <sys/mman.h>
#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>

#include "util.h"

static inline int
testutil_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf dir; what cannot be removed is left. */
static inline void
testutil_rmtree(const char *dir)
{
	(void)nftw(dir, testutil_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * A descriptor holding len bytes of p, its offset left at the end:
 * readers must not depend on it.
 */
static inline int
testutil_memfd(const char *p, size_t len)
{
	int	fd;

	fd = memfd_create("msg", MFD_CLOEXEC);
	assert_true(fd != -1);
	assert_int_equal(write_full(fd, p, len), 0);
	return fd;
}

#endif
