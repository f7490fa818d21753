/*
 * Unit tests for lookup_tls.c: lookup's TLS key and its change while
 * running.  A fake smtp worker (a channel to it, and a key channel from
 * it, both socketpairs driven by a real event loop) sees what a role
 * sees: the chain sent when it gives lookup a key channel and again at
 * each change, and key operations answered for the key each names (the
 * one in use, or the one before), never for another.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc.h"
#include "lookup/lookup_tls.h"
#include "proc.h"
#include "testutil.h"
#include "tls.h"

struct pair {
	char	*chain;
	size_t	 chain_len;
	char	*key;
	size_t	 key_len;
};

struct fixture {
	char			 dir[64];
	struct pair		 a, b;
	struct event_base	*base;
	struct proc_self	 self;
	int			 role_end;	/* the worker's end of its channel */
	int			 parent_end;	/* the parent's end of its channel */
	int			 key_end;	/* the worker's end of its key channel */
};

static void
read_pem(const char *path, char **out, size_t *len_out)
{
	const char	*err = NULL;

	if (tls_pem_read(path, out, len_out, &err) == -1)
		fail_msg("%s", err);
}

static void
make_pair(struct fixture *f, const char *name, struct pair *p)
{
	char		 cert[128], key[128];
	const char	*err = NULL;

	snprintf(cert, sizeof(cert), "%s/%s-cert.pem", f->dir, name);
	snprintf(key, sizeof(key), "%s/%s-key.pem", f->dir, name);
	if (tls_selfsigned_create("mx.example.org", cert, key, &err) != 0)
		fail_msg("tls_selfsigned_create: %s", err);
	read_pem(cert, &p->chain, &p->chain_len);
	read_pem(key, &p->key, &p->key_len);
}

static void
noop_msg(struct ipc_chan *c, struct msg *m, void *arg)
{
	(void)c;
	(void)arg;
	msg_free(m);
}

static void
noop_close(struct ipc_chan *c, void *arg)
{
	(void)c;
	(void)arg;
}

/* The test's ends wait at most 5 s: a missing answer fails, not hangs. */
static void
timeout_5s(int fd)
{
	struct timeval	tv = { 5, 0 };

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
}

static int
setup(void **state)
{
	struct fixture	*f;
	int		 sv[2];

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_lookup_tls.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	make_pair(f, "a", &f->a);
	make_pair(f, "b", &f->b);
	assert_non_null(f->base = event_base_new());
	f->self.base = f->base;
	/* lookup's channel to smtp/0 */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->self.peer[PROC_SMTP][0] = ipc_chan_new(f->base, sv[0], "smtp",
	    noop_msg, noop_close, NULL);
	f->role_end = sv[1];
	timeout_5s(f->role_end);
	/* and to the parent */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->self.peer[PROC_PARENT][0] = ipc_chan_new(f->base, sv[0], "parent",
	    noop_msg, noop_close, NULL);
	f->parent_end = sv[1];
	timeout_5s(f->parent_end);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	ipc_chan_free(f->self.peer[PROC_SMTP][0]);
	ipc_chan_free(f->self.peer[PROC_PARENT][0]);
	close(f->role_end);
	close(f->parent_end);
	if (f->key_end != 0)
		close(f->key_end);
	event_base_free(f->base);
	free(f->a.chain);
	free(f->a.key);
	free(f->b.chain);
	free(f->b.key);
	testutil_rmtree(f->dir);
	free(f);
	return 0;
}

/* Let lookup's loop read and write what is pending. */
static void
pump(struct fixture *f)
{
	int	i;

	for (i = 0; i < 20; i++) {
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		(void)nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
}

/* The next message of type on fd holds p's chain. */
static void
expect_chain_on(struct fixture *f, int fd, uint32_t type,
    const struct pair *p)
{
	struct msg	*m;
	struct span	 s;

	pump(f);
	assert_non_null(m = ipc_read_blocking(fd));
	assert_int_equal(m->type, type);
	assert_int_equal(msg_get_span(m, &s), 0);
	assert_int_equal(msg_end(m), 0);
	assert_int_equal(s.len, p->chain_len);
	assert_memory_equal(s.ptr, p->chain, p->chain_len);
	msg_free(m);
}

/* The worker got p's chain. */
static void
expect_chain(struct fixture *f, const struct pair *p)
{
	expect_chain_on(f, f->role_end, MSG_KEYPROXY_CHAIN, p);
}

/* A change: the worker and the parent (for roles it starts) got it. */
static void
expect_change(struct fixture *f, const struct pair *p)
{
	expect_chain(f, p);
	expect_chain_on(f, f->parent_end, MSG_PARENT_TLS_CHAIN, p);
}

/* Nothing more for the worker or the parent. */
static void
expect_no_chain(struct fixture *f)
{
	char	c;

	pump(f);
	assert_int_equal(recv(f->role_end, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(recv(f->parent_end, &c, 1, MSG_DONTWAIT), -1);
}

/* An ECDSA signature asked for the key named spki: lookup's ok. */
static uint32_t
key_op(struct fixture *f, const uint8_t *spki)
{
	unsigned char	 digest[32];
	struct msg	*m;
	struct span	 out;
	uint64_t	 seq;
	uint32_t	 ok;

	memset(digest, 7, sizeof(digest));
	m = msg_new(MSG_LOOKUP_KEY_OP);
	msg_put_u64(m, 42);
	msg_put_u32(m, TLS_KEY_ECDSA_SIGN);
	msg_put_u32(m, 0);
	msg_put_data(m, spki, TLS_SPKI_LEN);
	msg_put_data(m, digest, sizeof(digest));
	assert_int_equal(ipc_write_blocking(f->key_end, m), 0);
	pump(f);
	assert_non_null(m = ipc_read_blocking(f->key_end));
	assert_int_equal(m->type, MSG_LOOKUP_KEY_RESULT);
	assert_int_equal(msg_get_u64(m, &seq), 0);
	assert_int_equal(msg_get_u32(m, &ok), 0);
	assert_int_equal(msg_get_span(m, &out), 0);
	assert_int_equal(seq, 42);
	assert_true(ok == 0 ? out.len == 0 : out.len > 0);
	msg_free(m);
	return ok;
}

/* smtp/0 gives lookup its key channel. */
static void
connect_worker(struct fixture *f, struct lookup_tls *t)
{
	struct proc_peer	smtp0 = { PROC_SMTP, 0 };
	int			sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->key_end = sv[1];
	timeout_5s(f->key_end);
	lookup_tls_channel(t, smtp0, sv[0]);
}

static struct tls_key *
key_of(const struct pair *p)
{
	struct tls_key	*k;
	const char	*err = NULL;

	if ((k = tls_key_new_pem(p->chain, p->chain_len, p->key, p->key_len,
	    &err)) == NULL)
		fail_msg("tls_key_new_pem: %s", err);
	return k;
}

static void
test_install_swaps_and_keeps_the_previous_key(void **state)
{
	struct fixture		*f = *state;
	struct lookup_tls	*t;
	struct tls_key		*ka, *kb;
	uint8_t			 spki_a[TLS_SPKI_LEN], spki_b[TLS_SPKI_LEN];
	uint8_t			 other[TLS_SPKI_LEN], got[32];
	const char		*err = NULL;

	ka = key_of(&f->a);
	kb = key_of(&f->b);
	memcpy(spki_a, tls_key_spki(ka), TLS_SPKI_LEN);
	memcpy(spki_b, tls_key_spki(kb), TLS_SPKI_LEN);
	tls_key_free(kb);
	assert_memory_not_equal(spki_a, spki_b, TLS_SPKI_LEN);
	memset(other, 0xa5, sizeof(other));

	t = lookup_tls_new(&f->self, ka);
	assert_int_equal(lookup_tls_spki_sha256(t, got), 0);
	assert_memory_equal(got, spki_a, TLS_SPKI_LEN);
	/* A worker that gives its key channel gets the chain in use. */
	connect_worker(f, t);
	expect_chain(f, &f->a);
	assert_int_equal(key_op(f, spki_a), 1);
	assert_int_equal(key_op(f, spki_b), 0);

	/* The change: the worker gets B's chain, B's key signs. */
	assert_int_equal(lookup_tls_install(t, f->b.chain, f->b.chain_len,
	    f->b.key, f->b.key_len, &err), 0);
	expect_change(f, &f->b);
	assert_int_equal(lookup_tls_spki_sha256(t, got), 0);
	assert_memory_equal(got, spki_b, TLS_SPKI_LEN);
	assert_int_equal(key_op(f, spki_b), 1);
	/* A handshake begun with A is still signed with A's key. */
	assert_int_equal(key_op(f, spki_a), 1);
	assert_ptr_equal(lookup_tls_find(t, spki_a) != NULL, true);
	/* A key lookup never held is not found. */
	assert_int_equal(key_op(f, other), 0);
	assert_null(lookup_tls_find(t, other));

	/* Back to A: B is the previous now, and the one before is gone. */
	assert_int_equal(lookup_tls_install(t, f->a.chain, f->a.chain_len,
	    f->a.key, f->a.key_len, &err), 0);
	expect_change(f, &f->a);
	assert_int_equal(key_op(f, spki_a), 1);
	assert_int_equal(key_op(f, spki_b), 1);
	lookup_tls_free(t);
}

static void
test_install_refuses_a_bad_pair(void **state)
{
	struct fixture		*f = *state;
	struct lookup_tls	*t;
	uint8_t			 spki_a[TLS_SPKI_LEN], got[32];
	const char		*err = NULL;
	static const char	 junk[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n";

	t = lookup_tls_new(&f->self, key_of(&f->a));
	assert_int_equal(lookup_tls_spki_sha256(t, spki_a), 0);
	connect_worker(f, t);
	expect_chain(f, &f->a);
	/* B's chain with A's key */
	assert_int_equal(lookup_tls_install(t, f->b.chain, f->b.chain_len,
	    f->a.key, f->a.key_len, &err), -1);
	assert_non_null(strstr(err, "does not match"));
	/* a key that is no key, and no chain */
	assert_int_equal(lookup_tls_install(t, f->a.chain, f->a.chain_len,
	    junk, sizeof(junk) - 1, &err), -1);
	assert_non_null(strstr(err, "private key"));
	assert_int_equal(lookup_tls_install(t, f->a.key, f->a.key_len,
	    f->a.key, f->a.key_len, &err), -1);
	assert_int_equal(lookup_tls_install(t, "", 0, f->a.key, f->a.key_len,
	    &err), -1);
	/* A stays, and nobody was told of a change. */
	assert_int_equal(lookup_tls_spki_sha256(t, got), 0);
	assert_memory_equal(got, spki_a, TLS_SPKI_LEN);
	expect_no_chain(f);
	assert_int_equal(key_op(f, spki_a), 1);
	lookup_tls_free(t);
}

static void
test_no_key(void **state)
{
	struct fixture		*f = *state;
	struct lookup_tls	*t;
	uint8_t			 got[32];
	const char		*err = NULL;

	/* No key could be read at start: no TLSA, nothing to send. */
	t = lookup_tls_new(&f->self, NULL);
	assert_null(lookup_tls_key(t));
	assert_int_equal(lookup_tls_spki_sha256(t, got), -1);
	connect_worker(f, t);
	expect_no_chain(f);
	/* A pair installed later is sent and used. */
	assert_int_equal(lookup_tls_install(t, f->a.chain, f->a.chain_len,
	    f->a.key, f->a.key_len, &err), 0);
	expect_change(f, &f->a);
	assert_int_equal(lookup_tls_spki_sha256(t, got), 0);
	assert_int_equal(key_op(f, got), 1);
	lookup_tls_free(t);
	lookup_tls_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_install_swaps_and_keeps_the_previous_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_install_refuses_a_bad_pair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_key, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
