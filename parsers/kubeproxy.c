/*
 * kube-proxy: what a bundle says of the component that rewrites
 * nf_conntrack_max at every start on a Kubernetes node.
 *
 * Three kinds of text, all read line by line:
 *   - a KubeProxyConfiguration (the kubeadm ConfigMap's config.conf,
 *     /var/lib/kube-proxy/config.conf): "apiVersion: kubeproxy.config.
 *     k8s.io/v1alpha1", "kind: KubeProxyConfiguration", and under the
 *     "conntrack:" key "maxPerCore: N" and "min: N"
 *     (pkg/proxy/apis/config/v1alpha1 KubeProxyConntrackConfiguration;
 *     a null value means the default, which stays unknown here);
 *   - its flags, in a manifest or in the log's "FLAG:" dump (kube-proxy
 *     -v=1 and up prints every flag): --conntrack-max-per-core=N,
 *     --conntrack-min=N, quoted or not;
 *   - its log: "Setting nf_conntrack_max" and "Setting conntrack
 *     hashsize" with the value written (cmd/kube-proxy/app/conntrack.go
 *     SetMax, klog.InfoS since the structured logs; older releases print
 *     "Setting nf_conntrack_max to N"), also inside the CRI log format of
 *     /var/log/containers and /var/log/pods (the EKS log collector copies
 *     them to var_log/);
 *   - its version from the startup line: "Version info" version="v1.30.0"
 *     (cmd/kube-proxy/app/server.go Run(), structured logs) or
 *     "Version: v1.12.5" (older releases' klog.Infof); the write rule
 *     of nf_conntrack_max depends on it (analyzer/planner.c);
 *   - --config=FILE among the flags (a configuration file is in effect:
 *     its values win over the flags) and the TCP established timeout it
 *     sets at every start (--conntrack-tcp-timeout-established=24h0m0s,
 *     conntrack.tcpEstablishedTimeout: 24h0m0s, a Go duration).
 *
 * Which files: any line once the file was recognised; a file whose path
 * names kube-proxy (a component "kube-proxy..." or "..._kube-proxy...");
 * or a file that starts a KubeProxyConfiguration.  Other lines of such
 * files are counted as "other", never rejected: a log holds anything.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "parsers.h"

#define APIVERSION "apiVersion: kubeproxy.config.k8s.io"
#define KIND "kind: KubeProxyConfiguration"

static int starts_at(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && memcmp(s, lit, n) == 0;
}

/* a path component starting "kube-proxy" or holding "_kube-proxy" */
static int kube_proxy_path(const char *path)
{
	const char *p;

	if (!path || !*path)
		return 0;
	for (p = path; (p = strstr(p, "kube-proxy")) != NULL; p++)
		if (p == path || p[-1] == '/' || p[-1] == '!' || p[-1] == '_')
			return 1;
	return 0;
}

/* the text after leading blanks; *indent gets their count */
static const char *unindent(const char *s, size_t len, size_t *indent)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	*indent = i;
	return s + i;
}

int ctp_kube_proxy_sniff(const ctp_pctx *ctx, const char *s, size_t len)
{
	size_t ind;
	const char *t;

	if (ctx->cur == CTP_FMT_KUBE_PROXY || kube_proxy_path(ctx->path))
		return 1;
	/* the ConfigMap form indents the file under "config.conf: |" */
	t = unindent(s, len, &ind);
	len -= ind;
	return starts_at(t, len, APIVERSION) || starts_at(t, len, KIND);
}

/*
 * The number after key in s: after '=', ':' or " to ", blanks and one
 * quote.  Returns 1 and sets *out, 0 if there is none (a null value, a
 * key without a number), CTP_EINPUT with ctx->err for a number too big.
 */
static int number_after(ctp_pctx *ctx, const char *s, size_t len,
			const char *at, const char *key, uint64_t *out)
{
	const char *p = at + strlen(key), *end = s + len, *tok;
	int rc;

	(void)ctp_cur_lit(&p, end, "\""); /* klog quotes keys with blanks */
	ctp_cur_blank(&p, end);
	if (!ctp_cur_lit(&p, end, "=") && !ctp_cur_lit(&p, end, ":"))
		(void)ctp_cur_lit(&p, end, "to");
	ctp_cur_blank(&p, end);
	(void)(ctp_cur_lit(&p, end, "\"") || ctp_cur_lit(&p, end, "'"));
	tok = p;
	rc = ctp_cur_u64(&p, end, UINT32_MAX, out);
	if (rc == CTP_NUM_RANGE)
		return ctp_pctx_fail(ctx, (size_t)(tok - s),
				     "cannot parse the value of '%s': "
				     "number out of range", key);
	return rc == CTP_NUM_OK;
}

static const char *find(const char *s, size_t len, const char *lit)
{
	return memmem(s, len, lit, strlen(lit));
}

/* one setting: *has, *val, *from; a config file beats flags */
static void keep(int *has, uint64_t *val, unsigned *from, uint64_t v,
		 unsigned kind)
{
	if (*has && *from == CTP_KP_CONFIG && kind != CTP_KP_CONFIG)
		return;
	*has = 1;
	*val = v;
	*from = kind;
}

/* A klog header "I1207 10:00:00.000000" anywhere in the line. */
static int klog_line(const char *s, size_t len)
{
	for (size_t i = 0; i + 9 <= len; i++) {
		char c = s[i];
		if ((c != 'I' && c != 'W' && c != 'E' && c != 'F') ||
		    (i && s[i - 1] != ' '))
			continue;
		size_t d = 0;
		while (d < 4 && (unsigned)(s[i + 1 + d] - '0') <= 9)
			d++;
		if (d == 4 && s[i + 5] == ' ' &&
		    (unsigned)(s[i + 6] - '0') <= 9 &&
		    (unsigned)(s[i + 7] - '0') <= 9 && s[i + 8] == ':')
			return 1;
	}
	return 0;
}

#define TCP_EST_FLAG "--conntrack-tcp-timeout-established="

/*
 * A Go duration ("24h0m0s", "86400s", "1h30m"): whole seconds into *out;
 * 1 when read, 0 when the text is no such duration (left alone).
 */
static int go_duration(const char *p, const char *end, uint64_t *out)
{
	uint64_t total = 0, v;
	int any = 0;

	(void)(ctp_cur_lit(&p, end, "\"") || ctp_cur_lit(&p, end, "'"));
	while (p < end && (unsigned)(*p - '0') <= 9) {
		if (ctp_cur_u64(&p, end, UINT32_MAX, &v) != CTP_NUM_OK ||
		    p >= end)
			return 0;
		if (*p == 'h')
			total += v * 3600;
		else if (*p == 'm' && (p + 1 >= end || p[1] != 's'))
			total += v * 60;
		else if (*p == 's')
			total += v;
		else
			return 0;
		p++;
		any = 1;
	}
	if (any)
		*out = total;
	return any;
}

/* "v1.30.0-eks-036c24b" at p: the numbers and the text into kp */
static void version_at(ctp_kube_proxy *kp, const char *p, const char *end)
{
	uint64_t n[3] = { 0, 0, 0 };
	const char *q = p;
	size_t len;

	if (!ctp_cur_lit(&q, end, "v"))
		return;
	for (int i = 0; i < 3; i++) {
		if (ctp_cur_u64(&q, end, 9999, &n[i]) != CTP_NUM_OK)
			return;
		if (i < 2 && !ctp_cur_lit(&q, end, "."))
			return;
	}
	for (len = 0; p + len < end && p[len] != '"' && p[len] != ' ' &&
		      p[len] != '\t' && p[len] != ',' && p[len] != '}';
	     len++)
		;
	kp->has_version = 1;
	kp->ver_major = (unsigned)n[0];
	kp->ver_minor = (unsigned)n[1];
	kp->ver_patch = (unsigned)n[2];
	snprintf(kp->version, sizeof(kp->version), "%.*s",
		 ctp_cur_clip(len), p);
}

/* the startup line's version, the --config flag, the TCP timeout */
static int kube_extra(ctp_kube_proxy *kp, const char *s, size_t len)
{
	const char *end = s + len, *at;
	uint64_t v;
	int got = 0;

	if ((at = find(s, len, "\"Version info\""))) {
		const char *k = find(at, (size_t)(end - at), "version=\"");
		if (k) {
			version_at(kp, k + 9, end);
			got = kp->has_version;
		}
	} else if ((at = find(s, len, "] Version: "))) {
		version_at(kp, at + 11, end);
		got = kp->has_version;
	}
	if ((at = find(s, len, "--config="))) {
		const char *p = at + 9, *q;
		(void)(ctp_cur_lit(&p, end, "\"") || ctp_cur_lit(&p, end, "'"));
		for (q = p; q < end && *q != '"' && *q != '\'' && *q != ' ' &&
			    *q != '\t' && *q != '\r' && *q != '\n';
		     q++)
			;
		if (q > p) {
			kp->config_flag = 1;
			snprintf(kp->config_path, sizeof(kp->config_path),
				 "%.*s", ctp_cur_clip((size_t)(q - p)), p);
			got = 1;
		}
	}
	if ((at = find(s, len, TCP_EST_FLAG)) &&
	    go_duration(at + sizeof(TCP_EST_FLAG) - 1, end, &v)) {
		if (!(kp->has_tcp_established &&
		      kp->tcp_established_from == CTP_KP_CONFIG)) {
			kp->has_tcp_established = 1;
			kp->tcp_established_s = v;
			kp->tcp_established_from = CTP_KP_FLAGS;
		}
		got = 1;
	}
	return got;
}

int ctp_kube_proxy_line(ctp_pctx *ctx, const char *s, size_t len)
{
	ctp_kube_proxy *kp = ctp_snapshot_kube_proxy_mut(ctx->snap);
	const char *t, *at;
	size_t ind, tlen;
	uint64_t v;
	int rc, got = 0, extra;

	if (kube_proxy_path(ctx->path) && !(kp->seen & CTP_KP_FILE))
		kp->seen |= CTP_KP_FILE;
	t = unindent(s, len, &ind);
	tlen = len - ind;
	if (starts_at(t, tlen, APIVERSION) || starts_at(t, tlen, KIND)) {
		if (!(kp->seen & CTP_KP_CONFIG))
			kp->config_input = ctx->input;
		kp->seen |= CTP_KP_CONFIG;
		ctx->kp_block = 0;
		return CTP_LINE_RECORD;
	}
	/* the conntrack block of a configuration: its keys sit deeper */
	if (ctx->kp_block && tlen && t[0] != '#' && ind + 1 <= ctx->kp_block)
		ctx->kp_block = 0;
	if (starts_at(t, tlen, "conntrack:") && (kp->seen & CTP_KP_CONFIG)) {
		ctx->kp_block = ind + 1;
		return CTP_LINE_OTHER;
	}
	if (ctx->kp_block) {
		static const char *const keys[] = { "maxPerCore:", "min:" };
		if (starts_at(t, tlen, "tcpEstablishedTimeout:")) {
			const char *p = t + 22;
			ctp_cur_blank(&p, t + tlen);
			if (!go_duration(p, t + tlen, &v))
				return CTP_LINE_OTHER; /* null: the default */
			kp->has_tcp_established = 1;
			kp->tcp_established_s = v;
			kp->tcp_established_from = CTP_KP_CONFIG;
			return CTP_LINE_RECORD;
		}
		for (size_t k = 0; k < 2; k++) {
			if (!starts_at(t, tlen, keys[k]))
				continue;
			rc = number_after(ctx, s, len, t, keys[k], &v);
			if (rc < 0)
				return rc;
			if (rc == 0)
				return CTP_LINE_OTHER; /* null: the default */
			if (k == 0)
				keep(&kp->has_per_core, &kp->per_core,
				     &kp->per_core_from, v, CTP_KP_CONFIG);
			else
				keep(&kp->has_min, &kp->min, &kp->min_from, v,
				     CTP_KP_CONFIG);
			return CTP_LINE_RECORD;
		}
		return CTP_LINE_OTHER;
	}
	if (klog_line(s, len)) {
		if (!(kp->seen & CTP_KP_LOG))
			kp->log_input = ctx->input;
		kp->seen |= CTP_KP_LOG;
	}
	if ((at = find(s, len, "--conntrack-max-per-core"))) {
		rc = number_after(ctx, s, len, at, "--conntrack-max-per-core",
				  &v);
		if (rc < 0)
			return rc;
		if (rc) {
			keep(&kp->has_per_core, &kp->per_core,
			     &kp->per_core_from, v, CTP_KP_FLAGS);
			got = 1;
		}
	} else if ((at = find(s, len, "--conntrack-min"))) {
		rc = number_after(ctx, s, len, at, "--conntrack-min", &v);
		if (rc < 0)
			return rc;
		if (rc) {
			keep(&kp->has_min, &kp->min, &kp->min_from, v,
			     CTP_KP_FLAGS);
			got = 1;
		}
	}
	extra = kube_extra(kp, s, len);
	if (got && !(kp->seen & CTP_KP_FLAGS)) {
		kp->flags_input = ctx->input;
		kp->seen |= CTP_KP_FLAGS;
	}
	if ((at = find(s, len, "Setting nf_conntrack_max"))) {
		/* "... nf_conntrack_max=N", "nfConntrackMax=N", "to N" */
		const char *k = find(at + 24, len - (size_t)(at + 24 - s),
				     "nf_conntrack_max");
		const char *k2 = find(at + 24, len - (size_t)(at + 24 - s),
				      "nfConntrackMax");
		rc = k    ? number_after(ctx, s, len, k, "nf_conntrack_max", &v)
		     : k2 ? number_after(ctx, s, len, k2, "nfConntrackMax", &v)
			  : number_after(ctx, s, len, at,
					 "Setting nf_conntrack_max", &v);
		if (rc < 0)
			return rc;
		if (rc) {
			kp->has_set_max = 1;
			kp->set_max = v;
			got = 1;
		}
	}
	if ((at = find(s, len, "Setting conntrack hashsize"))) {
		const char *k = find(at + 26, len - (size_t)(at + 26 - s),
				     "conntrack hashsize");
		rc = k ? number_after(ctx, s, len, k, "conntrack hashsize", &v)
		       : number_after(ctx, s, len, at,
				      "Setting conntrack hashsize", &v);
		if (rc < 0)
			return rc;
		if (rc) {
			kp->has_set_hashsize = 1;
			kp->set_hashsize = v;
			got = 1;
		}
	}
	return got || extra ? CTP_LINE_RECORD : CTP_LINE_OTHER;
}
