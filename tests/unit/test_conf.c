/*
 * Unit tests for conf.c: configs that must parse, and hostile ones whose
 * every error is checked word for word, line number included.  Files named
 * by tls blocks live in a temporary directory made by the group setup; a
 * template's @CERT@, @KEY@ and @DIR@ are replaced by their paths.  The tests
 * run as root, for whom access(2) always succeeds, so "unreadable" is
 * tested with a missing file and a directory.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "conf.h"
#include "tls.h"
#include "util.h"

#define L1	"listen smtp 127.0.0.1:25\n"	/* keeps "no listen" away */
#define TLS_USAGE	"tls { [certificate FILE key FILE | acme URL " \
	"[contact MAILTO]] [ciphers LIST] [smtp-ciphers LIST] " \
	"[ciphersuites LIST] }"
#define KX_WHY		"its key exchange is not ECDHE or DHE (no forward " \
	"secrecy, RFC 9325 §4.1)"

static char	tmpdir[64];
static char	certpath[128];
static char	keypath[128];

static int
write_file(const char *path, const char *text, size_t len)
{
	int	fd, rc;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return -1;
	rc = write_full(fd, text, len);
	close(fd);
	return rc;
}

static int
group_setup(void **state)
{
	char	sub[128];

	(void)str_copy(tmpdir, sizeof(tmpdir), "/tmp/test_conf.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(certpath, sizeof(certpath), "%s/cert.pem", tmpdir);
	snprintf(keypath, sizeof(keypath), "%s/key.pem", tmpdir);
	snprintf(sub, sizeof(sub), "%s/dir", tmpdir);
	if (write_file(certpath, "cert\n", 5) == -1 ||
	    write_file(keypath, "key\n", 4) == -1 || mkdir(sub, 0700) == -1)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	char	path[128];

	unlink(certpath);
	unlink(keypath);
	snprintf(path, sizeof(path), "%s/dir", tmpdir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ok.conf", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

/* Replace @CERT@, @KEY@ and @DIR@, writing into out (no leak on failure). */
static const char *
expand(const char *tmpl, char *out, size_t outsz)
{
	static const struct {
		const char	*tag;
		const char	*val;
	} subs[] = {
		{ "@CERT@", certpath },
		{ "@KEY@", keypath },
		{ "@DIR@", tmpdir },
	};
	size_t	 o = 0, i, n;

	while (*tmpl != '\0') {
		for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
			n = strlen(subs[i].tag);
			if (strncmp(tmpl, subs[i].tag, n) == 0)
				break;
		}
		if (i < sizeof(subs) / sizeof(subs[0])) {
			n = strlen(subs[i].val);
			assert_true(o + n < outsz);
			memcpy(out + o, subs[i].val, n);
			o += n;
			tmpl += strlen(subs[i].tag);
		} else {
			assert_true(o + 1 < outsz);
			out[o++] = *tmpl++;
		}
	}
	out[o] = '\0';
	return out;
}

static struct conf *
parse_ok(const char *tmpl)
{
	char		 errs[4096], text[8192];
	struct conf	*c;

	expand(tmpl, text, sizeof(text));
	c = conf_parse("t.conf", text, strlen(text), errs, sizeof(errs));
	if (c == NULL)
		fail_msg("unexpected errors:\n%s", errs);
	return c;
}

static uint16_t
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static const char *
addr_of(const struct sockaddr_storage *ss, char *buf, size_t bufsz)
{
	const void	*a;

	if (ss->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else
		a = &((const struct sockaddr_in *)ss)->sin_addr;
	return inet_ntop(ss->ss_family, a, buf, (socklen_t)bufsz);
}

/* Hostile configs: the exact errors, in order. */

struct bad_case {
	const char	*name;
	const char	*text;
	const char	*errs;
};

static const struct bad_case bad_cases[] = {
	{ "bad_unknown_directive", L1 "frobnicate yes\n",
	  "t.conf:2: unknown directive \"frobnicate\"\n" },
	{ "bad_duplicate_hostname",
	  "hostname a.example\n" L1 "hostname b.example\n",
	  "t.conf:3: duplicate hostname (first on line 1)\n" },
	{ "bad_duplicate_resolver", L1 "resolver 127.0.0.1\nresolver ::1\n",
	  "t.conf:3: duplicate resolver (first on line 2)\n" },
	{ "bad_duplicate_domain",
	  L1 "domain Example.org\ndomain example.ORG\n",
	  "t.conf:3: domain: duplicate example.org (first on line 2)\n" },
	{ "bad_domain_name", L1 "domain exa_mple.org\n",
	  "t.conf:2: domain: bad DNS name \"exa_mple.org\"\n" },
	{ "bad_sts_mode", L1 "mta-sts-policy strict\n",
	  "t.conf:2: mta-sts-policy: expected enforce, testing or none, not "
	  "\"strict\"\n" },
	{ "bad_sts_max_age_over_a_year", L1
	  "mta-sts-policy enforce max-age 31557601\n",
	  "t.conf:2: mta-sts-policy: max-age: \"31557601\" is more than "
	  "31557600s (RFC 8461 §3.2)\n" },
	{ "bad_sts_max_age_word", L1 "mta-sts-policy testing max-age week\n",
	  "t.conf:2: mta-sts-policy: max-age: \"week\" is not a duration "
	  "(N, Ns, Nm, Nh or Nd)\n" },
	{ "bad_sts_max_age_twice", L1
	  "mta-sts-policy testing max-age 1d max-age 2d\n",
	  "t.conf:2: mta-sts-policy: unexpected \"max-age\" (usage: "
	  "mta-sts-policy enforce|testing|none [max-age DURATION] "
	  "[mx PATTERN ...])\n" },
	{ "bad_sts_mx_missing", L1 "mta-sts-policy enforce mx\n",
	  "t.conf:2: mta-sts-policy: mx: missing argument (usage: "
	  "mta-sts-policy enforce|testing|none [max-age DURATION] "
	  "[mx PATTERN ...])\n" },
	{ "bad_sts_mx_without_word", L1
	  "mta-sts-policy enforce mx a.example b.example\n",
	  "t.conf:2: mta-sts-policy: unexpected \"b.example\" (usage: "
	  "mta-sts-policy enforce|testing|none [max-age DURATION] "
	  "[mx PATTERN ...])\n" },
	{ "bad_sts_mx_inner_wildcard", L1
	  "mta-sts-policy enforce mx mx.*.example\n",
	  "t.conf:2: mta-sts-policy: mx: bad pattern \"mx.*.example\" (a "
	  "host name, or *. and one)\n" },
	{ "bad_sts_mx_bare_wildcard", L1 "mta-sts-policy enforce mx *.\n",
	  "t.conf:2: mta-sts-policy: mx: bad pattern \"*.\" (a host name, "
	  "or *. and one)\n" },
	{ "bad_sts_mx_duplicate", L1
	  "mta-sts-policy enforce mx MX.example mx mx.example\n",
	  "t.conf:2: mta-sts-policy: duplicate mx mx.example\n" },
	{ "bad_sts_duplicate", L1 "mta-sts-policy none\n"
	  "mta-sts-policy none\n",
	  "t.conf:3: duplicate mta-sts-policy (first on line 2)\n" },
	{ "bad_rua_scheme", L1 "tlsrpt-rua http://example.org/r\n",
	  "t.conf:2: tlsrpt-rua: bad URI \"http://example.org/r\" "
	  "(mailto:ADDRESS or https://...)\n" },
	{ "bad_rua_bare_address", L1 "tlsrpt-rua tls@example.org\n",
	  "t.conf:2: tlsrpt-rua: bad URI \"tls@example.org\" "
	  "(mailto:ADDRESS or https://...)\n" },
	{ "bad_rua_address", L1 "tlsrpt-rua mailto:tls@@example.org\n",
	  "t.conf:2: tlsrpt-rua: bad URI \"mailto:tls@@example.org\" "
	  "(mailto:ADDRESS or https://...)\n" },
	{ "bad_rua_semicolon", L1 "tlsrpt-rua https://r.example/a;b\n",
	  "t.conf:2: tlsrpt-rua: bad URI \"https://r.example/a;b\" "
	  "(mailto:ADDRESS or https://...)\n" },
	{ "bad_rua_too_long", L1 "tlsrpt-rua "
	  "https://r.example/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
	  "https://r.example/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb "
	  "https://r.example/ccccccccccccccccccccccccccccccccccccccccccccccccc "
	  "https://r.example/ddd\n",
	  "t.conf:2: tlsrpt-rua: longer than 200 octets in all\n" },
	{ "bad_port_zero", "listen smtp 127.0.0.1:0\n",
	  "t.conf:1: listen: port out of range in \"127.0.0.1:0\"\n" },
	{ "bad_port_65536", "listen smtp 127.0.0.1:65536\n",
	  "t.conf:1: listen: port out of range in \"127.0.0.1:65536\"\n" },
	{ "bad_port_long", "listen smtp 127.0.0.1:0000025\n",
	  "t.conf:1: listen: port out of range in \"127.0.0.1:0000025\"\n" },
	{ "bad_port_letters", "listen smtp 127.0.0.1:25x\n",
	  "t.conf:1: listen: bad port in \"127.0.0.1:25x\"\n" },
	{ "bad_port_sign", "listen smtp 127.0.0.1:+25\n",
	  "t.conf:1: listen: bad port in \"127.0.0.1:+25\"\n" },
	{ "bad_port_empty", "listen smtp 127.0.0.1:\n",
	  "t.conf:1: listen: missing port in \"127.0.0.1:\"\n" },
	{ "bad_port_missing", "listen smtp 127.0.0.1\n",
	  "t.conf:1: listen: missing port in \"127.0.0.1\"\n" },
	{ "bad_address_short", "listen smtp 1.2.3:25\n",
	  "t.conf:1: listen: bad address in \"1.2.3:25\"\n" },
	{ "bad_address_name", "listen smtp mail.example.org:25\n",
	  "t.conf:1: listen: bad address in \"mail.example.org:25\"\n" },
	{ "bad_address_v6_unbracketed", "listen smtp ::1:25\n",
	  "t.conf:1: listen: IPv6 address needs brackets in \"::1:25\"\n" },
	{ "bad_address_v6_open_bracket", "listen smtp [::1:25\n",
	  "t.conf:1: listen: missing ] in \"[::1:25\"\n" },
	{ "bad_address_v6_literal", "listen smtp [::g]:25\n",
	  "t.conf:1: listen: bad address in \"[::g]:25\"\n" },
	{ "bad_address_v6_junk", "listen smtp [::1]x25\n",
	  "t.conf:1: listen: bad address in \"[::1]x25\"\n" },
	{ "bad_listen_kind", "listen lmtp 127.0.0.1:24\n",
	  "t.conf:1: listen: unknown kind \"lmtp\" (smtp, submission, "
	  "submissions, imap, imaps, pop3, pop3s, https, http or metrics)\n" },
	{ "bad_listen_duplicate", L1 "listen imap 127.0.0.1:25\n",
	  "t.conf:2: listen: address 127.0.0.1:25 already used on line 1\n" },
	{ "bad_listen_wildcard_overlap", L1 "listen smtp *:25\n",
	  "t.conf:2: listen: address *:25 already used on line 1\n" },
	{ "bad_listen_v6_duplicate",
	  "listen smtp [::1]:25\nlisten smtp [0:0::1]:25\n",
	  "t.conf:2: listen: address [0:0::1]:25 already used on line 1\n" },
	{ "bad_cert_missing",
	  L1 "tls { certificate @DIR@/nope.pem key @KEY@ }\n",
	  "t.conf:2: tls: certificate \"@DIR@/nope.pem\": No such file or "
	  "directory\n" },
	{ "bad_key_directory",
	  L1 "tls {\n\tcertificate @CERT@\n\tkey @DIR@/dir\n}\n",
	  "t.conf:4: tls: key \"@DIR@/dir\": not a regular file\n" },
	{ "bad_tls_missing_key", L1 "tls { certificate @CERT@ }\n",
	  "t.conf:2: tls: missing key\n" },
	{ "bad_tls_empty", L1 "tls {\n}\n",
	  "t.conf:2: tls: missing certificate\nt.conf:2: tls: missing key\n" },
	{ "bad_tls_unknown_setting",
	  L1 "tls {\n certificate @CERT@\n chain @CERT@\n}\n",
	  "t.conf:4: tls: unknown setting \"chain\" (usage: " TLS_USAGE
	  ")\n" },
	{ "bad_tls_duplicate_setting",
	  L1 "tls { key @KEY@ certificate @CERT@ key @KEY@ }\n",
	  "t.conf:2: tls: duplicate key\n" },
	{ "bad_tls_acme_and_certificate",
	  L1 "tls { acme https://acme.test/dir certificate @CERT@ key @KEY@ }\n",
	  "t.conf:2: tls: acme replaces certificate and key: not both\n" },
	{ "bad_tls_acme_http", L1 "tls { acme http://acme.test/dir }\n",
	  "t.conf:2: tls: acme: not an https:// URL of at most 512 "
	  "octets\n" },
	{ "bad_tls_contact_without_acme",
	  L1 "tls { contact mailto:a@b.test }\n",
	  "t.conf:2: tls: contact without acme\n" },
	{ "bad_tls_contact_not_address",
	  L1 "tls { acme https://acme.test/dir contact nobody }\n",
	  "t.conf:2: tls: contact: not an address\n" },
	{ "bad_tls_setting_without_value", L1 "tls { certificate }\n",
	  "t.conf:2: tls: certificate: missing argument\n" },
	{ "bad_tls_without_block", L1 "tls\n",
	  "t.conf:2: tls: missing { block } on the same line (usage: "
	  TLS_USAGE ")\n" },
	{ "bad_tls_brace_on_next_line",
	  L1 "tls\n{ certificate @CERT@ key @KEY@ }\n",
	  "t.conf:2: tls: missing { block } on the same line (usage: "
	  TLS_USAGE ")\nt.conf:3: block without a directive\n" },
	{ "bad_tls_argument", L1 "tls on { certificate @CERT@ key @KEY@ }\n",
	  "t.conf:2: tls: extra argument \"on\" (usage: " TLS_USAGE ")\n" },
	{ "bad_tls_ciphers_unknown_name",
	  L1 "tls { ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-"
	  "GCM-SHA257 }\n",
	  "t.conf:2: tls: ciphers: \"ECDHE-RSA-AES128-GCM-SHA257\" names no "
	  "TLS 1.2 cipher suite\n" },
	{ "bad_tls_ciphers_unknown_after_comma",
	  L1 "tls { smtp-ciphers \"ECDHE+AESGCM,, HIGHEST\" }\n",
	  "t.conf:2: tls: smtp-ciphers: \"HIGHEST\" names no TLS 1.2 cipher "
	  "suite\n" },
	{ "bad_tls_ciphers_tls13_name",
	  L1 "tls { ciphers TLS_AES_128_GCM_SHA256 }\n",
	  "t.conf:2: tls: ciphers: \"TLS_AES_128_GCM_SHA256\" names no TLS "
	  "1.2 cipher suite\n" },
	{ "bad_tls_ciphers_static_rsa",
	  L1 "tls { ciphers ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256 }\n",
	  "t.conf:2: tls: ciphers: selects AES128-GCM-SHA256, but " KX_WHY
	  "\n" },
	{ "bad_tls_ciphers_psk",
	  L1 "tls { smtp-ciphers ECDHE-PSK-CHACHA20-POLY1305 }\n",
	  "t.conf:2: tls: smtp-ciphers: selects ECDHE-PSK-CHACHA20-POLY1305, "
	  "but " KX_WHY "\n" },
	{ "bad_tls_ciphers_anonymous",
	  L1 "tls { smtp-ciphers AECDH-AES128-SHA }\n",
	  "t.conf:2: tls: smtp-ciphers: selects AECDH-AES128-SHA, but it is "
	  "not authenticated by an RSA or ECDSA certificate\n" },
	{ "bad_tls_ciphers_dss",
	  L1 "tls { ciphers DHE-DSS-AES128-GCM-SHA256 }\n",
	  "t.conf:2: tls: ciphers: selects DHE-DSS-AES128-GCM-SHA256, but it "
	  "is not authenticated by an RSA or ECDSA certificate\n" },
	{ "bad_tls_ciphers_null_cipher",
	  L1 "tls { smtp-ciphers ECDHE-RSA-NULL-SHA }\n",
	  "t.conf:2: tls: smtp-ciphers: selects ECDHE-RSA-NULL-SHA, but its "
	  "cipher is not AES, CAMELLIA, ARIA or ChaCha20-Poly1305 (RFC 9325 "
	  "§4.1)\n" },
	{ "bad_tls_ciphers_only_exclusions",
	  L1 "tls { ciphers !aNULL:!eNULL }\n",
	  "t.conf:2: tls: ciphers: selects no TLS 1.2 cipher suite\n" },
	{ "bad_tls_ciphers_excluded_all",
	  L1 "tls { ciphers ECDHE-RSA-AES128-GCM-SHA256:!AESGCM }\n",
	  "t.conf:2: tls: ciphers: selects no TLS 1.2 cipher suite\n" },
	{ "bad_tls_ciphers_empty", L1 "tls { ciphers \"\" }\n",
	  "t.conf:2: tls: ciphers: empty list\n" },
	{ "bad_tls_ciphers_duplicate",
	  L1 "tls {\n ciphers ECDHE+AESGCM\n ciphers ECDHE+CHACHA20\n}\n",
	  "t.conf:4: tls: duplicate ciphers\n" },
	{ "bad_tls_ciphers_missing_argument", L1 "tls { ciphers }\n",
	  "t.conf:2: tls: ciphers: missing argument\n" },
	{ "bad_tls_ciphersuites_unknown",
	  L1 "tls {\n ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_512\n}\n",
	  "t.conf:3: tls: ciphersuites: \"TLS_AES_512\" names no TLS 1.3 "
	  "ciphersuite\n" },
	{ "bad_tls_ciphersuites_tls12_name",
	  L1 "tls { ciphersuites ECDHE-RSA-AES128-GCM-SHA256 }\n",
	  "t.conf:2: tls: ciphersuites: \"ECDHE-RSA-AES128-GCM-SHA256\" names "
	  "no TLS 1.3 ciphersuite\n" },
	{ "bad_tls_ciphersuites_empty", L1 "tls { ciphersuites \"\" }\n",
	  "t.conf:2: tls: ciphersuites: empty list\n" },
	{ "bad_tls_ciphers_and_certificate_without_key",
	  L1 "tls { certificate @CERT@ ciphers ECDHE+AESGCM }\n",
	  "t.conf:2: tls: missing key\n" },
	{ "bad_tls_ciphers_and_key_without_certificate",
	  L1 "tls { smtp-ciphers ECDHE+AESGCM key @KEY@ }\n",
	  "t.conf:2: tls: missing certificate\n" },
	{ "bad_tls_each_bad_list_reported",
	  L1 "tls {\n ciphers AES128-SHA\n smtp-ciphers NOPE\n"
	  " ciphersuites NOPE\n}\n",
	  "t.conf:3: tls: ciphers: selects AES128-SHA, but " KX_WHY "\n"
	  "t.conf:4: tls: smtp-ciphers: \"NOPE\" names no TLS 1.2 cipher "
	  "suite\nt.conf:5: tls: ciphersuites: \"NOPE\" names no TLS 1.3 "
	  "ciphersuite\n" },
	{ "bad_unexpected_block", L1 "hostname a.example { }\n",
	  "t.conf:2: hostname: unexpected block (usage: hostname NAME)\n" },
	{ "bad_unterminated_quote", L1 "hostname \"a.example\n",
	  "t.conf:2: unterminated quoted string\n" },
	{ "bad_unterminated_quote_in_block",
	  L1 "tls {\n certificate \"@CERT@\n key @KEY@\n}\n",
	  "t.conf:3: unterminated quoted string\n" },
	{ "bad_unterminated_block",
	  L1 "tls {\n certificate @CERT@\n key @KEY@\n",
	  "t.conf:2: unterminated block (missing })\n" },
	{ "bad_unterminated_block_swallows_listen",
	  "tls {\n certificate @CERT@\n" L1,
	  "t.conf:1: unterminated block (missing })\n" },
	{ "bad_stray_rbrace", L1 "}\n",
	  "t.conf:2: unexpected }\n" },
	{ "bad_stray_rbrace_after_directive", L1 "hostname a.example }\n",
	  "t.conf:2: unexpected }\n" },
	{ "bad_nested_block", L1 "tls { certificate @CERT@ { key @KEY@ } }\n",
	  "t.conf:2: unexpected {\n" },
	{ "bad_word_after_block",
	  L1 "tls { certificate @CERT@ key @KEY@ } now\n",
	  "t.conf:2: unexpected word after }\n" },
	{ "bad_block_without_directive", L1 "{ }\n",
	  "t.conf:2: block without a directive\n" },
	{ "bad_extra_argument", L1 "hostname a.example b.example\n",
	  "t.conf:2: hostname: extra argument \"b.example\" (usage: hostname "
	  "NAME)\n" },
	{ "bad_extra_argument_listen", "listen smtp 127.0.0.1:25 tls\n",
	  "t.conf:1: listen: extra argument \"tls\" (usage: listen KIND "
	  "ADDRESS:PORT)\n" },
	{ "bad_missing_argument", L1 "hostname\n",
	  "t.conf:2: hostname: missing argument (usage: hostname NAME)\n" },
	{ "bad_missing_argument_listen", "listen smtp\n",
	  "t.conf:1: listen: missing argument (usage: listen KIND "
	  "ADDRESS:PORT)\n" },
	{ "bad_missing_argument_relay", L1 "relay example.net via\n",
	  "t.conf:2: relay: missing argument (usage: relay DOMAIN via "
	  "HOST[:PORT] [tls may|required|verify] [auth USER "
	  "PASSWORD-FILE])\n" },
	{ "bad_no_listen", "hostname a.example\n",
	  "t.conf: no listen directive\n" },
	{ "bad_empty_file", "",
	  "t.conf: no listen directive\n" },
	{ "bad_escape", L1 "hostname \"a\\n\"\n",
	  "t.conf:2: bad escape in quoted string (only \\\" and \\\\)\n" },
	{ "bad_control_character", L1 "hostname a\001b\n",
	  "t.conf:2: control character in line\n" },
	{ "bad_control_character_quoted", L1 "hostname \"a\033b\"\n",
	  "t.conf:2: control character in quoted string\n" },
	{ "bad_hostname", L1 "hostname -mail.example\n",
	  "t.conf:2: hostname: bad DNS name \"-mail.example\"\n" },
	{ "bad_hostname_trailing_dot", L1 "hostname mail.example.\n",
	  "t.conf:2: hostname: bad DNS name \"mail.example.\"\n" },
	{ "bad_hostname_long_label", L1 "hostname "
	  "a234567890123456789012345678901234567890123456789012345678901234"
	  ".example\n",
	  "t.conf:2: hostname: bad DNS name \"a23456789012345678901234567890"
	  "123456789012345678901234567890...\"\n" },
	{ "bad_state_dir_empty", L1 "state-dir \"\"\n",
	  "t.conf:2: state-dir: empty path\n" },
	{ "bad_user", L1 "user -cachet\n",
	  "t.conf:2: user: bad user name \"-cachet\"\n" },
	{ "bad_user_slash", L1 "user ca/chet\n",
	  "t.conf:2: user: bad user name \"ca/chet\"\n" },
	{ "bad_yesno", L1 "smtp-plaintext-auth-loopback maybe\n",
	  "t.conf:2: smtp-plaintext-auth-loopback: expected yes or no, not "
	  "\"maybe\"\n" },
	{ "bad_number_zero", L1 "max-recipients 0\n",
	  "t.conf:2: max-recipients: \"0\" must be at least 1\n" },
	{ "bad_number_negative", L1 "max-errors -1\n",
	  "t.conf:2: max-errors: \"-1\" is not a number\n" },
	{ "bad_number_hex", L1 "max-connections 0x10\n",
	  "t.conf:2: max-connections: \"0x10\" is not a number\n" },
	{ "bad_number_overflow", L1 "max-connections-per-ip "
	  "18446744073709551616\n",
	  "t.conf:2: max-connections-per-ip: \"18446744073709551616\" is too "
	  "large\n" },
	{ "bad_number_suffix_overflow", L1 "message-size 17179869184G\n",
	  "t.conf:2: message-size: \"17179869184G\" is too large\n" },
	{ "bad_number_suffix_only", L1 "message-size M\n",
	  "t.conf:2: message-size: \"M\" is not a number\n" },
	{ "bad_number_bad_suffix", L1 "message-size 10T\n",
	  "t.conf:2: message-size: \"10T\" is not a number\n" },
	{ "bad_number_suffix_not_for_counts", L1 "max-recipients 1K\n",
	  "t.conf:2: max-recipients: \"1K\" is not a number\n" },
	{ "bad_timeout_overflow", L1 "smtp-timeout 4294967296\n",
	  "t.conf:2: smtp-timeout: \"4294967296\" is too large\n" },
	{ "bad_timeout_zero", L1 "data-timeout 0\n",
	  "t.conf:2: data-timeout: \"0\" must be at least 1\n" },
	{ "bad_relay_no_via", L1 "relay example.net to [10.0.0.5]:25\n",
	  "t.conf:2: relay: expected \"via\", not \"to\" (usage: relay DOMAIN "
	  "via HOST[:PORT] [tls may|required|verify] [auth USER "
	  "PASSWORD-FILE])\n" },
	{ "bad_relay_unknown_option", L1 "relay * via [a.example] fast\n",
	  "t.conf:2: relay: unexpected \"fast\" (usage: relay DOMAIN via "
	  "HOST[:PORT] [tls may|required|verify] [auth USER "
	  "PASSWORD-FILE])\n" },
	{ "bad_relay_tls_value", L1 "relay * via [a.example] tls always\n",
	  "t.conf:2: relay: tls: expected may, required or verify, not "
	  "\"always\"\n" },
	{ "bad_relay_tls_missing_value", L1 "relay * via [a.example] tls\n",
	  "t.conf:2: relay: tls: expected may, required or verify\n" },
	{ "bad_relay_tls_twice",
	  L1 "relay * via [a.example] tls required tls verify\n",
	  "t.conf:2: relay: unexpected \"tls\" (usage: relay DOMAIN via "
	  "HOST[:PORT] [tls may|required|verify] [auth USER "
	  "PASSWORD-FILE])\n" },
	{ "bad_relay_auth_missing_file", L1 "relay * via [a.example] auth u\n",
	  "t.conf:2: relay: auth: expected USER PASSWORD-FILE\n" },
	{ "bad_relay_auth_file_absent",
	  L1 "relay * via [a.example] auth u @DIR@/absent\n",
	  "t.conf:2: relay: auth password file \"@DIR@/absent\": No such file "
	  "or directory\n" },
	{ "bad_relay_auth_file_directory",
	  L1 "relay * via [a.example] auth u @DIR@/dir\n",
	  "t.conf:2: relay: auth password file \"@DIR@/dir\": not a regular "
	  "file\n" },
	{ "bad_retry_order", L1 "retry 1h 5m\n",
	  "t.conf:2: retry: the longest wait (300s) is shorter than the "
	  "first (3600s)\n" },
	{ "bad_retry_unit", L1 "retry 5x 1h\n",
	  "t.conf:2: retry: \"5x\" is not a duration (N, Ns, Nm, Nh or "
	  "Nd)\n" },
	{ "bad_retry_missing", L1 "retry 5m\n",
	  "t.conf:2: retry: missing argument (usage: retry FIRST MAX)\n" },
	{ "bad_lifetime_zero", L1 "queue-lifetime 0d\n",
	  "t.conf:2: queue-lifetime: \"0d\" must be at least 1s\n" },
	{ "bad_lifetime_too_long", L1 "queue-lifetime 3651d\n",
	  "t.conf:2: queue-lifetime: \"3651d\" is too long\n" },
	{ "bad_lifetime_huge", L1 "queue-lifetime 99999999999999999999\n",
	  "t.conf:2: queue-lifetime: \"99999999999999999999\" is too long\n" },
	{ "bad_lifetime_unit_only", L1 "queue-lifetime h\n",
	  "t.conf:2: queue-lifetime: \"h\" is not a duration (N, Ns, Nm, Nh "
	  "or Nd)\n" },
	{ "bad_tlsrpt_from", L1 "tlsrpt-from not-an-address\n",
	  "t.conf:2: tlsrpt-from: bad address \"not-an-address\" "
	  "(local@domain)\n" },
	{ "bad_tlsrpt_interval", L1 "tlsrpt-interval daily\n",
	  "t.conf:2: tlsrpt-interval: \"daily\" is not a duration (N, Ns, Nm, "
	  "Nh or Nd)\n" },
	{ "bad_delay_warning_word", L1 "delay-warning never\n",
	  "t.conf:2: delay-warning: \"never\" is not a duration (N, Ns, Nm, "
	  "Nh or Nd)\n" },
	{ "bad_workers_zero", L1 "delivery-workers 0\n",
	  "t.conf:2: delivery-workers: \"0\" must be at least 1 (1 to 64)\n" },
	{ "bad_workers_many", L1 "delivery-workers 65\n",
	  "t.conf:2: delivery-workers: \"65\" is too large (1 to 64)\n" },
	{ "bad_workers_word", L1 "delivery-workers four\n",
	  "t.conf:2: delivery-workers: \"four\" is not a number (1 to 64)\n" },
	{ "bad_procs_zero", L1 "smtp-workers 0\n",
	  "t.conf:2: smtp-workers: \"0\" must be at least 1 (1 to 64, or "
	  "auto)\n" },
	{ "bad_procs_many", L1 "pop3-workers 65\n",
	  "t.conf:2: pop3-workers: \"65\" is too large (1 to 64, or "
	  "auto)\n" },
	{ "bad_procs_word", L1 "imap-workers all\n",
	  "t.conf:2: imap-workers: \"all\" is not a number (1 to 64, or "
	  "auto)\n" },
	{ "bad_procs_twice", L1 "smtp-workers 2\nsmtp-workers 3\n",
	  "t.conf:3: duplicate smtp-workers (first on line 2)\n" },
	{ "bad_outbound_zero", L1 "max-outbound-per-destination 0\n",
	  "t.conf:2: max-outbound-per-destination: \"0\" must be at least "
	  "1\n" },
	{ "bad_relay_domain", L1 "relay example..net via smtp.example.net\n",
	  "t.conf:2: relay: bad domain \"example..net\"\n" },
	{ "bad_relay_host", L1 "relay * via smtp_example.net\n",
	  "t.conf:2: relay: bad host in \"smtp_example.net\"\n" },
	{ "bad_relay_open_bracket", L1 "relay * via [10.0.0.5:25\n",
	  "t.conf:2: relay: missing ] in \"[10.0.0.5:25\"\n" },
	{ "bad_relay_port", L1 "relay * via [10.0.0.5]:0\n",
	  "t.conf:2: relay: port out of range in \"[10.0.0.5]:0\"\n" },
	{ "bad_relay_duplicate",
	  L1 "relay Example.net via a.example\n"
	  "relay example.NET via b.example\n",
	  "t.conf:3: relay: duplicate relay for example.net (first on line "
	  "2)\n" },
	{ "bad_resolver_port", L1 "resolver 127.0.0.1:dns\n",
	  "t.conf:2: resolver: bad port in \"127.0.0.1:dns\"\n" },
	{ "bad_resolver_name", L1 "resolver localhost\n",
	  "t.conf:2: resolver: bad address in \"localhost\"\n" },
	{ "bad_several_errors",
	  "frob\nhostname\nlisten smtp 1.2.3.4:0\nlisten imap 127.0.0.1:143\n"
	  "domain a..b\n\"unterminated\n}\nmax-errors 0\n",
	  "t.conf:1: unknown directive \"frob\"\n"
	  "t.conf:2: hostname: missing argument (usage: hostname NAME)\n"
	  "t.conf:3: listen: port out of range in \"1.2.3.4:0\"\n"
	  "t.conf:5: domain: bad DNS name \"a..b\"\n"
	  "t.conf:6: unterminated quoted string\n"
	  "t.conf:7: unexpected }\n"
	  "t.conf:8: max-errors: \"0\" must be at least 1\n" },
	{ "bad_postmaster_no_domain", L1 "postmaster admin\n",
	  "t.conf:2: postmaster: bad address \"admin\" (local@domain)\n" },
	{ "bad_postmaster_quoted",
	  L1 "postmaster \"\\\"a b\\\"@example.org\"\n",
	  "t.conf:2: postmaster: bad address \"\"a b\"@example.org\" "
	  "(local@domain)\n" },
	{ "bad_postmaster_twice", L1 "postmaster a@example.org\n"
	  "postmaster b@example.org\n",
	  "t.conf:3: duplicate postmaster (first on line 2)\n" },
	{ "bad_delimiter_letter", L1 "recipient-delimiter x\n",
	  "t.conf:2: recipient-delimiter: \"x\": only characters of "
	  "!#$%&'*+-/=?^_`{|}~\n" },
	{ "bad_delimiter_dot", L1 "recipient-delimiter +.\n",
	  "t.conf:2: recipient-delimiter: \"+.\": only characters of "
	  "!#$%&'*+-/=?^_`{|}~\n" },
	{ "bad_delimiter_empty", L1 "recipient-delimiter \"\"\n",
	  "t.conf:2: recipient-delimiter: expected 1 to 8 characters or "
	  "none\n" },
	{ "bad_delimiter_long", L1 "recipient-delimiter +-+-+-+-+\n",
	  "t.conf:2: recipient-delimiter: expected 1 to 8 characters or "
	  "none\n" },
	{ "bad_local_part_case", L1 "local-part-case lower\n",
	  "t.conf:2: local-part-case: expected insensitive or sensitive, not "
	  "\"lower\"\n" },
	{ "bad_quota_exceeded", L1 "quota-exceeded bounce\n",
	  "t.conf:2: quota-exceeded: expected defer or reject, not "
	  "\"bounce\"\n" },
	{ "bad_dmarc_policy", L1 "dmarc-policy quarantine\n",
	  "t.conf:2: dmarc-policy: expected enforce or report-only, not "
	  "\"quarantine\"\n" },
	{ "bad_delivery_hold", L1 "delivery-hold 1\n",
	  "t.conf:2: delivery-hold: expected yes or no, not \"1\"\n" },
	{ "bad_sandbox", L1 "sandbox off\n",
	  "t.conf:2: sandbox: expected yes or no, not \"off\"\n" },
	{ "bad_dane", L1 "dane maybe\n",
	  "t.conf:2: dane: expected yes or no, not \"maybe\"\n" },
	{ "bad_srs", L1 "srs maybe\n",
	  "t.conf:2: srs: expected yes or no, not \"maybe\"\n" },
	{ "bad_srs_domain", L1 "srs-domain bad_domain.example\n",
	  "t.conf:2: srs-domain: bad DNS name \"bad_domain.example\"\n" },
	{ "bad_srs_max_age_zero", L1 "srs-max-age 0\n",
	  "t.conf:2: srs-max-age: \"0\" must be at least 1 (1 to 1000 "
	  "days)\n" },
	{ "bad_srs_max_age_big", L1 "srs-max-age 1024\n",
	  "t.conf:2: srs-max-age: \"1024\" is too large (1 to 1000 days)"
	  "\n" },
	{ "bad_greet_delay_unit", L1 "smtp-greet-delay 1m\n",
	  "t.conf:2: smtp-greet-delay: \"1m\" is not a duration (0, N, Ns "
	  "or Nms)\n" },
	{ "bad_greet_delay_big", L1 "smtp-greet-delay 61s\n",
	  "t.conf:2: smtp-greet-delay: \"61s\" is more than 60s\n" },
	{ "bad_greylist", L1 "greylist maybe\n",
	  "t.conf:2: greylist: expected yes or no, not \"maybe\"\n" },
	{ "bad_greylist_delay", L1 "greylist-delay 0\n",
	  "t.conf:2: greylist-delay: \"0\" must be at least 1s\n" },
	{ "bad_greylist_window_short", L1 "greylist-delay 1h\n"
	  "greylist-window 30m\n",
	  "t.conf: greylist-window (1800s) must be longer than "
	  "greylist-delay (3600s)\n" },
	{ "bad_mta_sts", L1 "mta-sts enforce\n",
	  "t.conf:2: mta-sts: expected yes or no, not \"enforce\"\n" },
	{ "bad_tls_ca_missing", L1 "tls-ca /nonexistent/ca.pem\n",
	  "t.conf:2: tls-ca: file \"/nonexistent/ca.pem\": No such file or "
	  "directory\n" },
	{ "bad_dnsbl_returns", L1 "dnsbl bl.example returns 10.0.0.2\n",
	  "t.conf:2: dnsbl: returns \"10.0.0.2\" is outside 127.0.0.0/8\n" },
	{ "bad_dnsbl_weight", L1 "dnswl wl.example weight -1\n",
	  "t.conf:2: dnswl: weight \"-1\" is not a number of points from 0 "
	  "to 100\n" },
	{ "bad_dnsbl_weight_big", L1 "dnsbl bl.example weight 100.5\n",
	  "t.conf:2: dnsbl: weight \"100.5\" is not a number of points from "
	  "0 to 100\n" },
	{ "bad_dnsbl_option", L1 "dnsbl bl.example weigth 2\n",
	  "t.conf:2: dnsbl: unexpected \"weigth\" (usage: dnsbl ZONE "
	  "[weight POINTS] [returns LIST])\n" },
	{ "bad_dnsbl_dangling", L1 "dnsbl bl.example weight\n",
	  "t.conf:2: dnsbl: unexpected \"weight\" (usage: dnsbl ZONE "
	  "[weight POINTS] [returns LIST])\n" },
	{ "bad_dnsbl_twice", L1 "dnsbl bl.example\ndnswl BL.example\n",
	  "t.conf:3: dnswl: duplicate bl.example (first on line 2)\n" },
	{ "bad_sender_domain_check", L1 "sender-domain-check mark\n",
	  "t.conf:2: sender-domain-check: \"mark\" is not reject, score or "
	  "off\n" },
	{ "bad_too_many_words", L1 "hostname 1 2 3 4 5 6 7 8 9 10 11 12 13 "
	  "14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34\n",
	  "t.conf:2: too many words in one directive (at most 32)\n" },
};
#define NBAD	(sizeof(bad_cases) / sizeof(bad_cases[0]))

static void
run_bad_case(void **state)
{
	const struct bad_case	*bc = *state;
	char			 errs[8192], text[8192], want[8192];
	struct conf		*c;

	expand(bc->text, text, sizeof(text));
	expand(bc->errs, want, sizeof(want));
	c = conf_parse("t.conf", text, strlen(text), errs, sizeof(errs));
	assert_null(c);
	assert_string_equal(errs, want);
}

/* Hostile configs that need bytes a string literal table cannot hold. */

static void
bad_overlong_line(void **state)
{
	char		 errs[1024];
	char		*text;
	size_t		 len, n;
	struct conf	*c;

	len = 4097 + 64;
	text = xmalloc(len + 1);
	n = (size_t)snprintf(text, len + 1, L1 "hostname ");
	memset(text + n, 'a', 4097 - 9);
	n += 4097 - 9;
	snprintf(text + n, len + 1 - n, "\n" L1);
	c = conf_parse("t.conf", text, strlen(text), errs, sizeof(errs));
	assert_null(c);
	assert_string_equal(errs, "t.conf:2: line too long (more than 4096 "
	    "bytes)\nt.conf:3: listen: address 127.0.0.1:25 already used on "
	    "line 1\n");
	free(text);
}

static void
good_line_of_4096_bytes(void **state)
{
	char		 text[4200];
	size_t		 n;
	struct conf	*c;
	char		 errs[1024];

	n = (size_t)snprintf(text, sizeof(text), L1 "hostname a.example ");
	memset(text + n, '#', 4096 - 19);
	n += 4096 - 19;
	text[n++] = '\n';
	c = conf_parse("t.conf", text, n, errs, sizeof(errs));
	if (c == NULL)
		fail_msg("%s", errs);
	assert_string_equal(c->hostname, "a.example");
	conf_free(c);
}

static void
bad_nul_byte(void **state)
{
	static const char	 text[] = L1 "hostname a\0b.example\n"
	    "hostname c.example\n";
	char			 errs[1024];

	assert_null(conf_parse("t.conf", text, sizeof(text) - 1, errs,
	    sizeof(errs)));
	assert_string_equal(errs, "t.conf:2: NUL byte in line\n");
}

static void
bad_file_too_large(void **state)
{
	char	*text, errs[256];

	text = xmalloc(CONF_FILE_MAX + 1);
	memset(text, '\n', CONF_FILE_MAX + 1);
	assert_null(conf_parse("t.conf", text, CONF_FILE_MAX + 1, errs,
	    sizeof(errs)));
	assert_string_equal(errs, "t.conf: file too large (more than 1048576 "
	    "bytes)\n");
	free(text);
}

static void
bad_too_many_listens(void **state)
{
	struct buf	 b;
	char		 errs[1024];
	int		 i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < CONF_LISTENS_MAX + 1; i++)
		assert_int_equal(buf_printf(&b, "listen smtp 127.0.0.1:%d\n",
		    1000 + i), 0);
	assert_null(conf_parse("t.conf", b.data, b.len, errs, sizeof(errs)));
	assert_string_equal(errs, "t.conf:257: listen: too many listen "
	    "directives (at most 256)\n");
	buf_free(&b);
}

static void
bad_too_many_domains(void **state)
{
	struct buf	 b;
	char		 errs[1024];
	int		 i;

	buf_init(&b, 1 << 20);
	assert_int_equal(buf_append_str(&b, L1), 0);
	for (i = 0; i < CONF_DOMAINS_MAX + 1; i++)
		assert_int_equal(buf_printf(&b, "domain d%d.example\n", i), 0);
	assert_null(conf_parse("t.conf", b.data, b.len, errs, sizeof(errs)));
	assert_string_equal(errs, "t.conf:258: domain: too many domain "
	    "directives (at most 256)\n");
	buf_free(&b);
}

static void
bad_too_many_errors(void **state)
{
	struct buf	 b;
	char		 errs[8192];
	char		*last;
	int		 i;

	buf_init(&b, 1 << 20);
	assert_int_equal(buf_append_str(&b, L1), 0);
	for (i = 0; i < CONF_ERRORS_MAX + 6; i++)
		assert_int_equal(buf_append_str(&b, "frob\n"), 0);
	assert_null(conf_parse("t.conf", b.data, b.len, errs, sizeof(errs)));
	/* The 64th error is on line 65, then one summary line. */
	assert_non_null(strstr(errs, "t.conf:65: unknown directive"));
	assert_null(strstr(errs, "t.conf:66:"));
	last = strrchr(errs, ':');
	assert_non_null(last);
	assert_string_equal(last - 6, "t.conf: 6 more errors not shown\n");
	buf_free(&b);
}

static void
bad_errs_buffer_small(void **state)
{
	char	errs[16];

	memset(errs, 'x', sizeof(errs));
	assert_null(conf_parse("t.conf", "frob\nfrob\n", 10, errs,
	    sizeof(errs)));
	assert_string_equal(errs, "t.conf:1: unkno");
	assert_null(conf_parse("t.conf", "frob\n", 5, NULL, 0));
}

/* Configs that parse. */

static void
good_all_directives(void **state)
{
	struct conf	*c;
	char		 a[INET6_ADDRSTRLEN];

	c = parse_ok(
	    "# every directive\n"
	    "hostname  Mail.Example.org   # trailing comment\n"
	    "state-dir /var/lib/cachet-test\n"
	    "mail-dir  \"/srv/mail box\"\n"
	    "user      _mail-user\n"
	    "tls { certificate @CERT@  key @KEY@ }\n"
	    "listen smtp        0.0.0.0:25\n"
	    "listen submission  *:587\n"
	    "listen submissions localhost:465\n"
	    "listen imap        [::1]:143\n"
	    "listen imaps       [::]:993\n"
	    "listen pop3        192.0.2.1:110\n"
	    "listen pop3s       0.0.0.0:995\n"
	    "domain Example.ORG\n"
	    "domain example.net\n"
	    "resolver 127.0.0.1:5353\n"
	    "relay example.net via [10.0.0.5]:2525\n"
	    "relay * via smtp.example.com\n"
	    "smtp-plaintext-auth-loopback no\n"
	    "message-size 50M\n"
	    "max-recipients 100\n"
	    "max-errors 5\n"
	    "smtp-timeout 120\n"
	    "data-timeout 900\n"
	    "max-connections 2000\n"
	    "max-connections-per-ip 7\n"
	    "postmaster Admin@Example.ORG\n"
	    "recipient-delimiter +-\n"
	    "local-part-case sensitive\n"
	    "quota-exceeded reject\n"
	    "dmarc-policy report-only\n"
	    "public-suffix-list /usr/share/publicsuffix/public_suffix_list.dat\n"
	    "delivery-hold yes\n"
	    "delivery-workers 64\n"
	    "retry 30s 1h\n"
	    "queue-lifetime 2d\n"
	    "delay-warning 90m\n"
	    "max-outbound-connections 50\n"
	    "max-outbound-per-destination 4\n"
	    "sandbox no\n"
	    "dnssec-trust-anchor /etc/cachet/anchor.ds\n"
	    "dane no\n"
	    "mta-sts no\n"
	    "tls-ca /etc/passwd\n"
	    "smtp-workers 3\n"
	    "pop3-workers auto\n"
	    "imap-workers 64\n");
	assert_string_equal(c->file, "t.conf");
	assert_string_equal(c->hostname, "Mail.Example.org");
	assert_string_equal(c->state_dir, "/var/lib/cachet-test");
	assert_string_equal(c->mail_dir, "/srv/mail box");
	assert_string_equal(c->user, "_mail-user");
	assert_string_equal(c->tls_cert, certpath);
	assert_string_equal(c->tls_key, keypath);
	assert_false(c->plaintext_auth_loopback);

	assert_int_equal(c->nlistens, 7);
	assert_int_equal(c->listens[0].kind, CONF_LISTEN_SMTP);
	assert_int_equal(c->listens[0].line, 7);
	assert_string_equal(c->listens[0].text, "0.0.0.0:25");
	assert_int_equal(c->listens[0].addrlen, sizeof(struct sockaddr_in));
	assert_int_equal(c->listens[1].kind, CONF_LISTEN_SUBMISSION);
	assert_string_equal(addr_of(&c->listens[1].addr, a, sizeof(a)),
	    "0.0.0.0");
	assert_int_equal(port_of(&c->listens[1].addr), 587);
	assert_string_equal(addr_of(&c->listens[2].addr, a, sizeof(a)),
	    "127.0.0.1");
	assert_int_equal(c->listens[3].kind, CONF_LISTEN_IMAP);
	assert_int_equal(c->listens[3].addr.ss_family, AF_INET6);
	assert_int_equal(c->listens[3].addrlen, sizeof(struct sockaddr_in6));
	assert_string_equal(addr_of(&c->listens[3].addr, a, sizeof(a)),
	    "::1");
	assert_int_equal(port_of(&c->listens[3].addr), 143);
	assert_string_equal(c->listens[3].text, "[::1]:143");
	assert_string_equal(addr_of(&c->listens[4].addr, a, sizeof(a)),
	    "::");
	assert_int_equal(c->listens[6].kind, CONF_LISTEN_POP3S);

	assert_int_equal(c->ndomains, 2);
	assert_string_equal(c->domains[0], "example.org");
	assert_string_equal(c->domains[1], "example.net");

	assert_true(c->has_resolver);
	assert_string_equal(c->resolver_text, "127.0.0.1:5353");
	assert_int_equal(port_of(&c->resolver), 5353);

	assert_int_equal(c->nrelays, 2);
	assert_string_equal(c->relays[0].domain, "example.net");
	assert_string_equal(c->relays[0].host, "10.0.0.5");
	assert_int_equal(c->relays[0].port, 2525);
	assert_false(c->relays[0].mx);
	assert_int_equal(c->relays[0].line, 17);
	assert_string_equal(c->relays[1].domain, "*");
	assert_string_equal(c->relays[1].host, "smtp.example.com");
	assert_int_equal(c->relays[1].port, 25);
	assert_true(c->relays[1].mx);

	assert_int_equal(c->limits.message_size, 50 * 1024 * 1024);
	assert_int_equal(c->limits.recipients, 100);
	assert_int_equal(c->limits.errors, 5);
	assert_int_equal(c->limits.smtp_timeout, 120);
	assert_int_equal(c->limits.data_timeout, 900);
	assert_int_equal(c->limits.connections, 2000);
	assert_int_equal(c->limits.connections_per_ip, 7);

	/* The local part as written, the domain lower-cased. */
	assert_string_equal(c->delivery.postmaster, "Admin@example.org");
	assert_string_equal(c->delivery.delimiters, "+-");
	assert_true(c->delivery.case_sensitive);
	assert_int_equal(c->delivery.quota_exceeded, CONF_QUOTA_REJECT);
	assert_int_equal(c->dmarc_policy, CONF_DMARC_REPORT_ONLY);
	assert_string_equal(c->public_suffix_list,
	    "/usr/share/publicsuffix/public_suffix_list.dat");
	assert_true(c->delivery.hold);
	assert_int_equal(c->delivery.workers, 64);
	assert_int_equal(c->outbound.retry_first, 30);
	assert_int_equal(c->outbound.retry_max, 3600);
	assert_int_equal(c->outbound.lifetime, 2 * 86400);
	assert_int_equal(c->outbound.delay_warning, 90 * 60);
	assert_int_equal(c->outbound.connections, 50);
	assert_int_equal(c->outbound.per_destination, 4);
	assert_false(c->sandbox);
	assert_string_equal(c->trust_anchor, "/etc/cachet/anchor.ds");
	assert_false(c->dane);
	assert_false(c->mta_sts);
	assert_string_equal(c->tls_ca, "/etc/passwd");
	assert_int_equal(c->workers.smtp, 3);
	assert_int_equal(c->workers.pop3, 0);
	assert_int_equal(c->workers.imap, 64);
	assert_int_equal(c->relays[0].tls, CONF_RELAY_TLS_MAY);
	assert_string_equal(c->relays[0].auth_user, "");
	conf_free(c);
}

static void
good_defaults(void **state)
{
	struct conf	*c;

	c = parse_ok("hostname mx.example\n" L1);
	assert_string_equal(c->state_dir, "/var/lib/cachet");
	assert_string_equal(c->mail_dir, "/var/mail/cachet");
	assert_string_equal(c->user, "_cachet");
	assert_string_equal(c->tls_cert, "");
	assert_string_equal(c->tls_key, "");
	assert_string_equal(c->tls_ciphers[CONF_TLS_CLIENTS],
	    TLS_CIPHERS_CLIENTS);
	assert_string_equal(c->tls_ciphers[CONF_TLS_MX], TLS_CIPHERS_MX);
	assert_string_equal(c->tls_ciphersuites, "");
	assert_false(c->plaintext_auth_loopback);
	assert_false(c->has_resolver);
	assert_int_equal(c->ndomains, 0);
	assert_int_equal(c->nrelays, 0);
	assert_int_equal(c->limits.message_size, 36700160);
	assert_int_equal(c->limits.recipients, 1000);
	assert_int_equal(c->limits.errors, 10);
	assert_int_equal(c->limits.smtp_timeout, 300);
	assert_int_equal(c->limits.data_timeout, 600);
	assert_int_equal(c->limits.connections, 1000);
	assert_int_equal(c->limits.connections_per_ip, 20);
	assert_string_equal(c->delivery.postmaster, "");
	assert_string_equal(c->delivery.delimiters, "+");
	assert_false(c->delivery.case_sensitive);
	assert_int_equal(c->delivery.quota_exceeded, CONF_QUOTA_DEFER);
	assert_int_equal(c->dmarc_policy, CONF_DMARC_ENFORCE);
	assert_string_equal(c->public_suffix_list, "");
	assert_false(c->delivery.hold);
	assert_int_equal(c->delivery.workers, 4);
	assert_int_equal(c->outbound.retry_first, 300);
	assert_int_equal(c->outbound.retry_max, 7200);
	assert_int_equal(c->outbound.lifetime, 5 * 86400);
	assert_int_equal(c->outbound.delay_warning, 4 * 3600);
	assert_int_equal(c->outbound.connections, 100);
	assert_int_equal(c->outbound.per_destination, 20);
	assert_true(c->sandbox);
	assert_string_equal(c->trust_anchor, "/usr/share/dns/root.key");
	assert_true(c->dane);
	assert_true(c->mta_sts);
	assert_true(c->srs);
	assert_string_equal(c->srs_domain, "");
	assert_int_equal(c->srs_max_age, 21);
	assert_string_equal(c->tls_ca, "");
	/* auto: proc_workers() makes it one per core */
	assert_int_equal(c->workers.smtp, 0);
	assert_int_equal(c->workers.pop3, 0);
	assert_int_equal(c->workers.imap, 0);
	conf_free(c);
}

static void
good_durations(void **state)
{
	static const struct {
		const char	*line;
		unsigned	 first, max;
	} cases[] = {
		{ L1 "retry 1 2\n", 1, 2 },
		{ L1 "retry 1s 1s\n", 1, 1 },
		{ L1 "retry 2m 3h\n", 120, 3 * 3600 },
		{ L1 "retry 1h 1d\n", 3600, 86400 },
		{ L1 "retry 10s 3650d\n", 10, 3650u * 86400 },
	};
	struct conf	*c;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = parse_ok(cases[i].line);
		assert_int_equal(c->outbound.retry_first, cases[i].first);
		assert_int_equal(c->outbound.retry_max, cases[i].max);
		conf_free(c);
	}
}

static void
good_dnsbl(void **state)
{
	struct conf	*c;

	(void)state;
	c = parse_ok(L1);
	assert_int_equal(c->ndnsbls, 0);
	assert_int_equal(c->dnsbl_timeout, CONF_DNSBL_TIMEOUT_DEFAULT);
	assert_int_equal(c->sender_domain_check, CONF_SENDER_CHECK_SCORE);
	conf_free(c);
	c = parse_ok(L1 "dnsbl Zen.Example\n"
	    "dnsbl bl.example weight 1.25 returns 127.0.0.2,127.0.0.4-11\n"
	    "dnswl wl.example\n"
	    "dnswl wl2.example weight 0.5\n"
	    "dnsbl-timeout 5\n"
	    "sender-domain-check reject\n");
	assert_int_equal(c->ndnsbls, 4);
	assert_string_equal(c->dnsbls[0].zone, "zen.example");
	assert_false(c->dnsbls[0].weighted);
	assert_false(c->dnsbls[0].allow);
	assert_int_equal(c->dnsbls[0].returns.n, 0);
	assert_true(c->dnsbls[1].weighted);
	assert_int_equal(c->dnsbls[1].weight, 1250);
	assert_int_equal(c->dnsbls[1].returns.n, 2);
	assert_true(dnsbl_returns_match(&c->dnsbls[1].returns, 0x7f000007));
	assert_false(dnsbl_returns_match(&c->dnsbls[1].returns, 0x7f000003));
	assert_true(c->dnsbls[2].allow);
	assert_int_equal(c->dnsbls[2].weight, CONF_DNSWL_WEIGHT_DEFAULT * 1000);
	assert_int_equal(c->dnsbls[3].weight, 500);
	assert_int_equal(c->dnsbl_timeout, 5);
	assert_int_equal(c->sender_domain_check, CONF_SENDER_CHECK_REJECT);
	conf_free(c);
}

static void
good_greet_delay_greylist(void **state)
{
	static const struct {
		const char	*text;
		unsigned	 ms;
	} cases[] = {
		{ "0", 0 }, { "2", 2000 }, { "1s", 1000 }, { "250ms", 250 },
		{ "0ms", 0 }, { "60s", 60000 }, { "60000ms", 60000 },
	};
	struct conf	*c;
	char		 text[128];
	size_t		 i;

	(void)state;
	c = parse_ok(L1);
	assert_int_equal(c->smtp_greet_delay, 0);
	assert_false(c->greylist);
	conf_free(c);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		(void)snprintf(text, sizeof(text), L1 "smtp-greet-delay %s\n"
		    "greylist yes\n", cases[i].text);
		c = parse_ok(text);
		assert_int_equal(c->smtp_greet_delay, cases[i].ms);
		assert_true(c->greylist);
		conf_free(c);
	}
}

static void
good_tlsrpt(void **state)
{
	struct conf	*c;

	c = parse_ok(L1);
	assert_int_equal(c->tlsrpt_interval, 86400);
	assert_string_equal(c->tlsrpt_from, "");
	conf_free(c);
	c = parse_ok(L1 "tlsrpt-interval 6h\ntlsrpt-from TLS@Example.org\n");
	assert_int_equal(c->tlsrpt_interval, 6 * 3600);
	assert_string_equal(c->tlsrpt_from, "TLS@example.org");
	conf_free(c);
}

static void
good_greylist(void **state)
{
	struct conf	*c;

	c = parse_ok(L1);
	assert_false(c->greylist);
	assert_int_equal(c->greylist_delay, 300);
	assert_int_equal(c->greylist_window, 2 * 86400);
	assert_int_equal(c->greylist_whitelist, 35 * 86400);
	conf_free(c);
	c = parse_ok(L1 "greylist yes\ngreylist-delay 2s\n"
	    "greylist-window 4h\ngreylist-whitelist 7d\n");
	assert_true(c->greylist);
	assert_int_equal(c->greylist_delay, 2);
	assert_int_equal(c->greylist_window, 4 * 3600);
	assert_int_equal(c->greylist_whitelist, 7 * 86400);
	conf_free(c);
}

static void
good_delay_warning_none(void **state)
{
	struct conf	*c;

	c = parse_ok(L1 "delay-warning none\n");
	assert_int_equal(c->outbound.delay_warning, 0);
	conf_free(c);
}

static void
good_relay_options(void **state)
{
	struct conf	*c;

	c = parse_ok(L1 "relay * via [smtp.example.net]:587 auth "
	    "me@example.org @KEY@ tls verify\n"
	    "relay example.com via [10.0.0.5] tls required\n"
	    "relay example.net via mx.example.net tls may\n");
	assert_int_equal(c->nrelays, 3);
	assert_int_equal(c->relays[0].tls, CONF_RELAY_TLS_VERIFY);
	assert_string_equal(c->relays[0].auth_user, "me@example.org");
	assert_string_equal(c->relays[0].auth_file, keypath);
	assert_int_equal(c->relays[0].port, 587);
	assert_int_equal(c->relays[1].tls, CONF_RELAY_TLS_REQUIRED);
	assert_string_equal(c->relays[1].auth_user, "");
	assert_string_equal(c->relays[1].auth_file, "");
	assert_int_equal(c->relays[2].tls, CONF_RELAY_TLS_MAY);
	assert_true(c->relays[2].mx);
	conf_free(c);
}

static void
good_recipient_delimiter_none(void **state)
{
	struct conf	*c;

	c = parse_ok(L1 "recipient-delimiter none\n");
	assert_string_equal(c->delivery.delimiters, "");
	conf_free(c);
}

static void
good_hostname_from_system(void **state)
{
	struct conf	*c;
	char		 hn[256];

	memset(hn, 0, sizeof(hn));
	assert_int_equal(gethostname(hn, sizeof(hn) - 1), 0);
	c = parse_ok(L1);
	assert_string_equal(c->hostname, hn);
	conf_free(c);
}

static void
good_tls_block_over_lines(void **state)
{
	struct conf	*c;

	c = parse_ok(L1
	    "tls {   # the block may span lines\n"
	    "\n"
	    "\tcertificate @CERT@\n"
	    "  # a comment { with \" braces }\n"
	    "\tkey\n"
	    "\t\t@KEY@\n"
	    "}   # done\n"
	    "hostname a.example\n");
	assert_string_equal(c->tls_cert, certpath);
	assert_string_equal(c->tls_key, keypath);
	conf_free(c);
}

static void
good_tls_cipher_lists(void **state)
{
	struct conf	*c;

	c = parse_ok(L1
	    "tls {\n"
	    "\tcertificate @CERT@\n"
	    "\tkey @KEY@\n"
	    "\tciphers ECDHE+AESGCM:!ECDSA:@STRENGTH\n"
	    "\tsmtp-ciphers \"ECDHE+AESGCM ECDHE+AES DHE-RSA-AES256-GCM-SHA384"
	    "\"\n"
	    "\tciphersuites TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
	    "\n"
	    "}\n");
	assert_string_equal(c->tls_cert, certpath);
	assert_string_equal(c->tls_key, keypath);
	assert_string_equal(c->tls_ciphers[CONF_TLS_CLIENTS],
	    "ECDHE+AESGCM:!ECDSA:@STRENGTH");
	assert_string_equal(c->tls_ciphers[CONF_TLS_MX],
	    "ECDHE+AESGCM ECDHE+AES DHE-RSA-AES256-GCM-SHA384");
	assert_string_equal(c->tls_ciphersuites,
	    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
	conf_free(c);
}

/* Cipher lists alone keep the self-signed certificate made at start. */
static void
good_tls_ciphers_without_certificate(void **state)
{
	struct conf	*c;

	c = parse_ok(L1 "tls { smtp-ciphers ECDHE-RSA-AES128-SHA }\n");
	assert_string_equal(c->tls_cert, "");
	assert_string_equal(c->tls_key, "");
	assert_string_equal(c->tls_ciphers[CONF_TLS_CLIENTS],
	    TLS_CIPHERS_CLIENTS);
	assert_string_equal(c->tls_ciphers[CONF_TLS_MX],
	    "ECDHE-RSA-AES128-SHA");
	conf_free(c);
}

static void
good_tls_acme(void **state)
{
	struct conf	*c;

	c = parse_ok(L1 "listen http 127.0.0.1:80\n"
	    "listen metrics 127.0.0.1:9187\n"
	    "tls { acme https://127.0.0.2:14000/dir contact "
	    "mailto:postmaster@example.org }\n");
	assert_string_equal(c->tls_cert, "");
	assert_string_equal(c->acme_url, "https://127.0.0.2:14000/dir");
	assert_string_equal(c->acme_contact, "postmaster@example.org");
	assert_int_equal(c->nlistens, 3);
	assert_int_equal(c->listens[1].kind, CONF_LISTEN_HTTP);
	assert_int_equal(c->listens[2].kind, CONF_LISTEN_METRICS);
	assert_false(conf_listen_implicit_tls(CONF_LISTEN_HTTP));
	assert_false(conf_listen_implicit_tls(CONF_LISTEN_METRICS));
	conf_free(c);
}

static void
bad_tls_ciphers_too_long(void **state)
{
	struct buf	 b;
	char		 errs[1024];
	size_t		 n;

	buf_init(&b, 1 << 16);
	assert_int_equal(buf_append_str(&b, L1 "tls { ciphers "), 0);
	/* 2049 octets: ":" items, then one more, all valid names. */
	for (n = 0; n + 12 <= CONF_CIPHERS_MAX; n += 12)
		assert_int_equal(buf_append_str(&b, "ECDHE+AESGCM"), 0);
	while (n++ <= CONF_CIPHERS_MAX)
		assert_int_equal(buf_append_str(&b, ":"), 0);
	assert_int_equal(buf_append_str(&b, " }\n"), 0);
	assert_null(conf_parse("t.conf", b.data, b.len, errs, sizeof(errs)));
	assert_string_equal(errs, "t.conf:2: tls: ciphers: longer than 2048 "
	    "octets\n");
	buf_free(&b);
}

static void
good_quoted_strings(void **state)
{
	struct conf	*c;

	c = parse_ok(L1
	    "state-dir \"/var/lib/with space/#not a comment\"\n"
	    "mail-dir \"/q\\\"uo\\\\te{d}\"\n"
	    "\"hostname\" \"a.example\"\n"
	    "tls { \"certificate\" \"@CERT@\" key \"@KEY@\" }\n");
	assert_string_equal(c->state_dir, "/var/lib/with space/#not a comment");
	assert_string_equal(c->mail_dir, "/q\"uo\\te{d}");
	assert_string_equal(c->hostname, "a.example");
	conf_free(c);
}

static void
good_crlf_and_no_final_newline(void **state)
{
	struct conf	*c;

	c = parse_ok("hostname a.example\r\n"
	    "listen smtp 127.0.0.1:25\r\n"
	    "domain b.example");
	assert_string_equal(c->hostname, "a.example");
	assert_int_equal(c->ndomains, 1);
	assert_string_equal(c->domains[0], "b.example");
	conf_free(c);
}

static void
good_v4_and_v6_wildcards_coexist(void **state)
{
	struct conf	*c;

	c = parse_ok("listen smtp *:25\nlisten smtp [::]:25\n"
	    "listen imap 127.0.0.1:143\nlisten imap 127.0.0.2:143\n");
	assert_int_equal(c->nlistens, 4);
	conf_free(c);
}

static void
good_resolver_forms(void **state)
{
	static const struct {
		const char	*line;
		const char	*addr;
		uint16_t	 port;
	} cases[] = {
		{ L1 "resolver 127.0.0.1\n", "127.0.0.1", 53 },
		{ L1 "resolver 192.0.2.53:5353\n", "192.0.2.53", 5353 },
		{ L1 "resolver [::1]:5353\n", "::1", 5353 },
		{ L1 "resolver [2001:db8::53]\n", "2001:db8::53", 53 },
		{ L1 "resolver ::1\n", "::1", 53 },
	};
	struct conf	*c;
	char		 a[INET6_ADDRSTRLEN];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = parse_ok(cases[i].line);
		assert_true(c->has_resolver);
		assert_string_equal(addr_of(&c->resolver, a, sizeof(a)),
		    cases[i].addr);
		assert_int_equal(port_of(&c->resolver), cases[i].port);
		conf_free(c);
	}
}

static void
good_relay_forms(void **state)
{
	static const struct {
		const char	*line;
		const char	*host;
		uint16_t	 port;
		bool		 mx;
	} cases[] = {
		{ L1 "relay * via [smtp.example.net]:587\n", "smtp.example.net",
		  587, false },
		{ L1 "relay * via [smtp.example.net]\n", "smtp.example.net",
		  25, false },
		{ L1 "relay * via smtp.example.net:2525\n", "smtp.example.net",
		  2525, true },
		{ L1 "relay * via example.net\n", "example.net", 25, true },
		{ L1 "relay * via 10.0.0.5\n", "10.0.0.5", 25, false },
		{ L1 "relay * via [2001:db8::25]:26\n", "2001:db8::25", 26,
		  false },
	};
	struct conf	*c;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = parse_ok(cases[i].line);
		assert_int_equal(c->nrelays, 1);
		assert_string_equal(c->relays[0].host, cases[i].host);
		assert_int_equal(c->relays[0].port, cases[i].port);
		assert_int_equal(c->relays[0].mx, cases[i].mx);
		conf_free(c);
	}
}

static void
good_message_size_suffixes(void **state)
{
	static const struct {
		const char	*line;
		size_t		 size;
	} cases[] = {
		{ L1 "message-size 1000\n", 1000 },
		{ L1 "message-size 10K\n", 10240 },
		{ L1 "message-size 10k\n", 10240 },
		{ L1 "message-size 3m\n", 3 * 1024 * 1024 },
		{ L1 "message-size 2G\n", 2ULL * 1024 * 1024 * 1024 },
	};
	struct conf	*c;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = parse_ok(cases[i].line);
		assert_int_equal(c->limits.message_size, cases[i].size);
		conf_free(c);
	}
}

static void
good_embedded_default(void **state)
{
	struct conf	*c;
	static const struct {
		enum conf_listen_kind	 kind;
		uint16_t		 port;
	} want[] = {
		{ CONF_LISTEN_SMTP, 2525 }, { CONF_LISTEN_SUBMISSION, 2587 },
		{ CONF_LISTEN_SUBMISSIONS, 2465 }, { CONF_LISTEN_IMAP, 2143 },
		{ CONF_LISTEN_IMAPS, 2993 }, { CONF_LISTEN_POP3, 2110 },
		{ CONF_LISTEN_POP3S, 2995 }, { CONF_LISTEN_HTTPS, 2443 },
		{ CONF_LISTEN_METRICS, 2999 },
	};
	char		 a[INET6_ADDRSTRLEN];
	size_t		 i;

	assert_non_null(strstr(conf_default_text(), "hostname"));
	c = conf_default();
	assert_string_equal(c->file, "(default)");
	assert_string_equal(c->hostname, "localhost");
	assert_string_equal(c->state_dir, "./var/state");
	assert_string_equal(c->mail_dir, "./var/mail");
	assert_string_equal(c->tls_cert, "");
	assert_true(c->plaintext_auth_loopback);
	assert_int_equal(c->ndomains, 1);
	assert_string_equal(c->domains[0], "demo.cachet.test");
	assert_true(c->sts_policy.set);
	assert_int_equal(c->sts_policy.mode, CONF_STS_TESTING);
	assert_int_equal(c->nlistens, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < c->nlistens; i++) {
		assert_int_equal(c->listens[i].kind, want[i].kind);
		assert_int_equal(port_of(&c->listens[i].addr), want[i].port);
		assert_string_equal(addr_of(&c->listens[i].addr, a, sizeof(a)),
		    "127.0.0.1");
	}
	conf_free(c);
}

static void
good_load_file(void **state)
{
	char		 path[128], errs[512];
	const char	*text = "hostname f.example\n" L1;
	struct conf	*c;

	snprintf(path, sizeof(path), "%s/ok.conf", tmpdir);
	assert_int_equal(write_file(path, text, strlen(text)), 0);
	c = conf_load(path, errs, sizeof(errs));
	if (c == NULL)
		fail_msg("%s", errs);
	assert_string_equal(c->file, path);
	assert_string_equal(c->hostname, "f.example");
	conf_free(c);
}

static void
bad_load_missing_file(void **state)
{
	char	path[128], want[256], errs[512];

	snprintf(path, sizeof(path), "%s/none.conf", tmpdir);
	snprintf(want, sizeof(want), "%s: No such file or directory\n", path);
	assert_null(conf_load(path, errs, sizeof(errs)));
	assert_string_equal(errs, want);
}

static void
bad_load_directory(void **state)
{
	char	want[256], errs[512];

	snprintf(want, sizeof(want), "%s: Is a directory\n", tmpdir);
	assert_null(conf_load(tmpdir, errs, sizeof(errs)));
	assert_string_equal(errs, want);
}

static void
bad_load_file_too_large(void **state)
{
	char	 path[128], want[256], errs[512];
	char	*text;

	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	text = xmalloc(CONF_FILE_MAX + 1);
	memset(text, '#', CONF_FILE_MAX + 1);
	assert_int_equal(write_file(path, text, CONF_FILE_MAX + 1), 0);
	free(text);
	snprintf(want, sizeof(want), "%s: file too large (more than 1048576 "
	    "bytes)\n", path);
	assert_null(conf_load(path, errs, sizeof(errs)));
	assert_string_equal(errs, want);
}

static void
good_is_local_domain(void **state)
{
	struct conf	*c;

	c = parse_ok(L1 "domain Example.org\ndomain b.example\n");
	assert_true(conf_is_local_domain(c, "example.org"));
	assert_true(conf_is_local_domain(c, "EXAMPLE.ORG"));
	assert_true(conf_is_local_domain(c, "B.Example"));
	assert_false(conf_is_local_domain(c, "example.org.evil"));
	assert_false(conf_is_local_domain(c, "sub.example.org"));
	assert_false(conf_is_local_domain(c, "example.or"));
	assert_false(conf_is_local_domain(c, ""));
	conf_free(c);
}

static void
good_kind_names_and_tls(void **state)
{
	static const struct {
		enum conf_listen_kind	 kind;
		const char		*name;
		bool			 tls;
		enum conf_tls_profile	 profile;
	} cases[] = {
		{ CONF_LISTEN_SMTP, "smtp", false, CONF_TLS_MX },
		{ CONF_LISTEN_SUBMISSION, "submission", false,
		    CONF_TLS_CLIENTS },
		{ CONF_LISTEN_SUBMISSIONS, "submissions", true,
		    CONF_TLS_CLIENTS },
		{ CONF_LISTEN_IMAP, "imap", false, CONF_TLS_CLIENTS },
		{ CONF_LISTEN_IMAPS, "imaps", true, CONF_TLS_CLIENTS },
		{ CONF_LISTEN_POP3, "pop3", false, CONF_TLS_CLIENTS },
		{ CONF_LISTEN_POP3S, "pop3s", true, CONF_TLS_CLIENTS },
		{ CONF_LISTEN_HTTPS, "https", true, CONF_TLS_CLIENTS },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(conf_listen_kind_name(cases[i].kind),
		    cases[i].name);
		assert_int_equal(conf_listen_implicit_tls(cases[i].kind),
		    cases[i].tls);
		assert_int_equal(conf_listen_tls_profile(cases[i].kind),
		    cases[i].profile);
	}
	assert_string_equal(conf_listen_kind_name((enum conf_listen_kind)99),
	    "unknown");
}

/* mta-sts-policy and tlsrpt-rua as the http role reads them. */
static void
good_sts_policy_and_rua(void **state)
{
	static const char	 text[] = L1
	    "listen https [::1]:8443\n"
	    "mta-sts-policy enforce max-age 31557600 mx Mail.Example.org "
	    "mx *.backup.example.net\n"
	    "tlsrpt-rua mailto:tls@example.org https://r.example/v1\n";
	static const char	 bare[] = "hostname MX.Example.org\n" L1
	    "mta-sts-policy testing\n";
	struct conf		*c;
	char			 errs[1024];

	c = conf_parse("t.conf", text, sizeof(text) - 1, errs, sizeof(errs));
	assert_non_null(c);
	assert_int_equal(c->listens[1].kind, CONF_LISTEN_HTTPS);
	assert_true(c->sts_policy.set);
	assert_int_equal(c->sts_policy.mode, CONF_STS_ENFORCE);
	assert_int_equal(c->sts_policy.max_age, 31557600);
	assert_int_equal(c->sts_policy.nmx, 2);
	assert_string_equal(c->sts_policy.mx[0], "mail.example.org");
	assert_string_equal(c->sts_policy.mx[1], "*.backup.example.net");
	assert_string_equal(c->tlsrpt_rua,
	    "mailto:tls@example.org,https://r.example/v1");
	conf_free(c);

	/* Defaults: a week, the hostname (lower case) as the one mx. */
	c = conf_parse("t.conf", bare, sizeof(bare) - 1, errs, sizeof(errs));
	assert_non_null(c);
	assert_int_equal(c->sts_policy.mode, CONF_STS_TESTING);
	assert_int_equal(c->sts_policy.max_age, 604800);
	assert_int_equal(c->sts_policy.nmx, 1);
	assert_string_equal(c->sts_policy.mx[0], "mx.example.org");
	assert_string_equal(c->tlsrpt_rua, "");
	assert_string_equal(conf_sts_mode_name(c->sts_policy.mode), "testing");
	conf_free(c);

	/* Without the directive: no policy. */
	c = conf_parse("t.conf", L1, sizeof(L1) - 1, errs, sizeof(errs));
	assert_non_null(c);
	assert_false(c->sts_policy.set);
	assert_int_equal(c->sts_policy.nmx, 0);
	conf_free(c);
}

static void
good_free_null(void **state)
{
	conf_free(NULL);
}

static struct CMUnitTest tests[NBAD + 40];

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(bad_overlong_line),
		cmocka_unit_test(good_line_of_4096_bytes),
		cmocka_unit_test(bad_nul_byte),
		cmocka_unit_test(bad_file_too_large),
		cmocka_unit_test(bad_too_many_listens),
		cmocka_unit_test(bad_too_many_domains),
		cmocka_unit_test(bad_too_many_errors),
		cmocka_unit_test(bad_errs_buffer_small),
		cmocka_unit_test(good_all_directives),
		cmocka_unit_test(good_defaults),
		cmocka_unit_test(good_durations),
		cmocka_unit_test(good_delay_warning_none),
		cmocka_unit_test(good_greylist),
		cmocka_unit_test(good_tlsrpt),
		cmocka_unit_test(good_relay_options),
		cmocka_unit_test(good_recipient_delimiter_none),
		cmocka_unit_test(good_hostname_from_system),
		cmocka_unit_test(good_tls_block_over_lines),
		cmocka_unit_test(good_tls_cipher_lists),
		cmocka_unit_test(good_tls_ciphers_without_certificate),
		cmocka_unit_test(good_tls_acme),
		cmocka_unit_test(bad_tls_ciphers_too_long),
		cmocka_unit_test(good_quoted_strings),
		cmocka_unit_test(good_crlf_and_no_final_newline),
		cmocka_unit_test(good_v4_and_v6_wildcards_coexist),
		cmocka_unit_test(good_resolver_forms),
		cmocka_unit_test(good_relay_forms),
		cmocka_unit_test(good_message_size_suffixes),
		cmocka_unit_test(good_embedded_default),
		cmocka_unit_test(good_load_file),
		cmocka_unit_test(bad_load_missing_file),
		cmocka_unit_test(bad_load_directory),
		cmocka_unit_test(bad_load_file_too_large),
		cmocka_unit_test(good_is_local_domain),
		cmocka_unit_test(good_kind_names_and_tls),
		cmocka_unit_test(good_sts_policy_and_rua),
		cmocka_unit_test(good_free_null),
		cmocka_unit_test(good_dnsbl),
		cmocka_unit_test(good_greet_delay_greylist),
	};
	size_t	i, n = 0;

	_Static_assert(sizeof(fixed) / sizeof(fixed[0]) <= 40,
	    "tests[] too small");
	for (i = 0; i < NBAD; i++) {
		tests[n].name = bad_cases[i].name;
		tests[n].test_func = run_bad_case;
		tests[n].initial_state = (void *)&bad_cases[i];
		n++;
	}
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("conf", tests, n, group_setup,
	    group_teardown);
}
