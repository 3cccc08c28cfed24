/*
 * kube-proxy's configuration, flags and log (parsers/kubeproxy.c): rows
 * of one input each, fed line by line as input.c would (sniff, then the
 * line function, the section kept), with the values the snapshot then
 * holds; and the errors, with their column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/parse.h"
#include "parsers.h"
#include "fixture.h"

static const struct {
	const char *path;
	const char *text; /* lines separated by '\n' */
	unsigned seen;
	long long per_core, min; /* -1: not read */
	unsigned per_core_from;
	long long set_max, set_hashsize;
} rows[] = {
	/* kubeadm's ConfigMap (kubectl get cm kube-proxy -o yaml), by its
	 * name: its first lines are not kube-proxy's own */
	{ "kube-proxy-cm.yaml",
	  "apiVersion: v1\n"
	  "data:\n"
	  "  config.conf: |-\n"
	  "    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
	  "    conntrack:\n"
	  "      maxPerCore: 65536\n"
	  "      min: 262144\n"
	  "      tcpCloseWaitTimeout: 1h0m0s\n"
	  "    mode: iptables\n"
	  "    min: 7\n",
	  CTP_KP_CONFIG | CTP_KP_FILE, 65536, 262144, CTP_KP_CONFIG, -1,
	  -1 },
	/* /var/lib/kube-proxy/config.conf; null is the default */
	{ "var/lib/kube-proxy/config.conf",
	  "apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
	  "kind: KubeProxyConfiguration\n"
	  "conntrack:\n"
	  "  maxPerCore: 0\n"
	  "  min: null\n",
	  CTP_KP_CONFIG | CTP_KP_FILE, 0, -1, CTP_KP_CONFIG, -1, -1 },
	/* the log's FLAG dump and what it set (structured klog) */
	{ "var_log/kube-proxy.log",
	  "I1126 18:58:02.114321       1 flags.go:64] FLAG: "
	  "--conntrack-max-per-core=\"32768\"\n"
	  "I1126 18:58:02.114325       1 flags.go:64] FLAG: "
	  "--conntrack-min=\"131072\"\n"
	  "I1126 18:58:02.153480       1 conntrack.go:58] \"Setting "
	  "nf_conntrack_max\" nfConntrackMax=131072\n"
	  "I1126 18:58:02.153490       1 conntrack.go:83] \"Setting "
	  "conntrack hashsize\" \"conntrack hashsize\"=32768\n",
	  CTP_KP_FLAGS | CTP_KP_LOG | CTP_KP_FILE, 32768, 131072,
	  CTP_KP_FLAGS, 131072, 32768 },
	/* an old release's words, in the CRI log format of
	 * /var/log/containers */
	{ "var_log/kube-proxy-x7k2p_kube-system_kube-proxy-0a1b.log",
	  "2026-03-01T10:00:00.000000001Z stderr F I0301 10:00:00.000000"
	  "       1 conntrack.go:52] Setting nf_conntrack_max to 262144\n"
	  "2026-03-01T10:00:00.000000002Z stderr F I0301 10:00:00.000000"
	  "       1 conntrack.go:83] Setting conntrack hashsize to 65536\n"
	  "2026-03-01T10:00:00.000000003Z stderr F anything else\n",
	  CTP_KP_LOG | CTP_KP_FILE, -1, -1, 0, 262144, 65536 },
	/* a manifest's command line: unquoted flags */
	{ "etc/kubernetes/manifests/kube-proxy.yaml",
	  "    - --conntrack-max-per-core=0\n"
	  "    - --conntrack-min=0\n",
	  CTP_KP_FLAGS | CTP_KP_FILE, 0, 0, CTP_KP_FLAGS, -1, -1 },
};

static void feed(fixture *fx, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		int rc;

		if (!ctp_kube_proxy_sniff(&fx->ctx, p, len))
			fail_msg("line %zu not sniffed: %.*s", fx->ctx.line,
				 (int)len, p);
		rc = ctp_kube_proxy_line(&fx->ctx, p, len);
		if (rc < 0)
			fail_msg("line %zu: %s", fx->ctx.line, fx->err.msg);
		fx->ctx.cur = CTP_FMT_KUBE_PROXY;
		fx->ctx.line++;
		p += len + (nl != NULL);
	}
}

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fixture fx;
		const ctp_kube_proxy *kp;

		fx_open_path(&fx, rows[i].path);
		feed(&fx, rows[i].text);
		kp = ctp_snapshot_kube_proxy(fx.snap);
		if (kp->seen != rows[i].seen)
			fail_msg("row %zu: seen %#x, want %#x", i, kp->seen,
				 rows[i].seen);
		assert_int_equal(kp->has_per_core, rows[i].per_core >= 0);
		if (rows[i].per_core >= 0) {
			assert_int_equal(kp->per_core, rows[i].per_core);
			assert_int_equal(kp->per_core_from,
					 rows[i].per_core_from);
		}
		assert_int_equal(kp->has_min, rows[i].min >= 0);
		if (rows[i].min >= 0)
			assert_int_equal(kp->min, rows[i].min);
		assert_int_equal(kp->has_set_max, rows[i].set_max >= 0);
		if (rows[i].set_max >= 0)
			assert_int_equal(kp->set_max, rows[i].set_max);
		assert_int_equal(kp->has_set_hashsize,
				 rows[i].set_hashsize >= 0);
		if (rows[i].set_hashsize >= 0)
			assert_int_equal(kp->set_hashsize,
					 rows[i].set_hashsize);
		fx_close(&fx);
	}
}

/* the startup line's version (both forms), --config, the TCP timeout
 * from flags (a Go duration) and from a configuration (which wins) */
static void test_version_config(void **state)
{
	fixture fx;
	const ctp_kube_proxy *kp;

	(void)state;
	fx_open_path(&fx, "var_log/kube-proxy.log");
	feed(&fx, "I1126 18:58:02.114316       1 flags.go:64] FLAG: "
		  "--config=\"/var/lib/kube-proxy-config/config\"\n"
		  "I1126 18:58:02.114334       1 flags.go:64] FLAG: "
		  "--conntrack-tcp-timeout-established=\"24h0m0s\"\n"
		  "I1126 18:58:02.161902       1 server.go:846] \"Version "
		  "info\" version=\"v1.30.0-eks-036c24b\"\n");
	kp = ctp_snapshot_kube_proxy(fx.snap);
	assert_true(kp->has_version);
	assert_int_equal(kp->ver_major, 1);
	assert_int_equal(kp->ver_minor, 30);
	assert_int_equal(kp->ver_patch, 0);
	assert_string_equal(kp->version, "v1.30.0-eks-036c24b");
	assert_true(kp->config_flag);
	assert_string_equal(kp->config_path,
			    "/var/lib/kube-proxy-config/config");
	assert_true(kp->has_tcp_established);
	assert_int_equal(kp->tcp_established_s, 86400);
	assert_int_equal(kp->tcp_established_from, CTP_KP_FLAGS);
	fx_close(&fx);

	/* an old release's words; an empty --config is none */
	fx_open_path(&fx, "var_log/kube-proxy.log");
	feed(&fx, "I0322 02:18:37.187902       1 server.go:447] Version: "
		  "v1.12.5\n"
		  "I0322 02:18:37.114316       1 flags.go:64] FLAG: "
		  "--config=\"\"\n");
	kp = ctp_snapshot_kube_proxy(fx.snap);
	assert_true(kp->has_version);
	assert_int_equal(kp->ver_minor, 12);
	assert_string_equal(kp->version, "v1.12.5");
	assert_false(kp->config_flag);
	fx_close(&fx);

	fx_open_path(&fx, "var/lib/kube-proxy/config.conf");
	feed(&fx, "apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
		  "conntrack:\n"
		  "  tcpEstablishedTimeout: 2h30m0s\n"
		  "kind: KubeProxyConfiguration\n"
		  "--conntrack-tcp-timeout-established=24h0m0s\n");
	kp = ctp_snapshot_kube_proxy(fx.snap);
	assert_int_equal(kp->tcp_established_s, 9000);
	assert_int_equal(kp->tcp_established_from, CTP_KP_CONFIG);
	assert_false(kp->has_version);
	fx_close(&fx);

	/* an unquoted flag value is read from its first digit (it was
	 * read one byte late: 24h0m0s as 4h0m0s), and a flag that ends
	 * the line is no value (fuzz_kube_proxy: a read past the line) */
	fx_open_path(&fx, "var_log/kube-proxy.log");
	feed(&fx, "I1126 18:58:02.114334       1 flags.go:64] FLAG: "
		  "--conntrack-tcp-timeout-established=24h0m0s\n"
		  "I1126 18:58:02.114335       1 flags.go:64] FLAG: "
		  "--conntrack-tcp-timeout-established=\n");
	kp = ctp_snapshot_kube_proxy(fx.snap);
	assert_true(kp->has_tcp_established);
	assert_int_equal(kp->tcp_established_s, 86400);
	fx_close(&fx);
}

/* a file not named for kube-proxy is only taken from its first lines */
static void test_sniff(void **state)
{
	fixture fx;

	(void)state;
	fx_open_path(&fx, "system/ps.txt");
	assert_false(ctp_kube_proxy_sniff(
		&fx.ctx, L("root 1 kube-proxy --conntrack-min=1")));
	assert_true(ctp_kube_proxy_sniff(
		&fx.ctx, L("kind: KubeProxyConfiguration")));
	assert_true(ctp_kube_proxy_sniff(
		&fx.ctx, L("  apiVersion: kubeproxy.config.k8s.io/v1alpha1")));
	/* a NUL is not a klog letter */
	assert_int_equal(ctp_kube_proxy_line(&fx.ctx, L("\0" "1126 18:58:"
							"02 x")),
			 CTP_LINE_OTHER);
	assert_false(ctp_snapshot_kube_proxy(fx.snap)->seen & CTP_KP_LOG);
	fx_close(&fx);
}

static const struct {
	const char *line;
	size_t len;
	const char *msg;
	size_t col;
} bad[] = {
	{ L("FLAG: --conntrack-max-per-core=\"99999999999\""),
	  "cannot parse the value of '--conntrack-max-per-core': number out "
	  "of range",
	  33 },
	{ L("\"Setting nf_conntrack_max\" nfConntrackMax=4294967296"),
	  "cannot parse the value of 'nfConntrackMax': number out of range",
	  43 },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fixture fx;

		fx_open_path(&fx, "kube-proxy.log");
		assert_int_equal(ctp_kube_proxy_line(&fx.ctx, bad[i].line,
						     bad[i].len),
				 CTP_EINPUT);
		if (strcmp(fx.err.msg, bad[i].msg) != 0)
			fail_msg("row %zu: '%s'", i, fx.err.msg);
		if (fx.err.col != bad[i].col)
			fail_msg("row %zu: col %zu, want %zu", i, fx.err.col,
				 bad[i].col);
		fx_close(&fx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_version_config),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests_name("kubeproxy", tests, NULL, NULL);
}
