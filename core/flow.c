#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ctplan/flow.h"

/*
 * Protocol names as libnetfilter_conntrack prints them (the l4 part of
 * "%-8s %u"); any other number prints as "unknown".
 */
static const struct {
	uint8_t num;
	const char *name;
} protos[] = {
	{ CTP_P_ICMP, "icmp" },       { CTP_P_TCP, "tcp" },
	{ CTP_P_UDP, "udp" },         { CTP_P_DCCP, "dccp" },
	{ CTP_P_GRE, "gre" },         { CTP_P_ICMPV6, "icmpv6" },
	{ CTP_P_SCTP, "sctp" },       { CTP_P_UDPLITE, "udplite" },
};

const char *ctp_proto_name(uint8_t proto)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].num == proto)
			return protos[i].name;
	return "unknown";
}

/*
 * Names of protocols conntrack tracks as "unknown" (the generic
 * tracker), from the IANA protocol numbers registry, so a report says
 * what it saw.  Never parsed: conntrack prints them as "unknown N".
 */
static const struct {
	uint8_t num;
	const char *name;
} iana[] = {
	{ 2, "igmp" },	  { 4, "ipip" },  { 41, "ipv6-in-ipv4" },
	{ 50, "esp" },	  { 51, "ah" },	  { 89, "ospf" },
	{ 103, "pim" },	  { 112, "vrrp" }, { 115, "l2tp" },
};

const char *ctp_proto_label(uint8_t proto, char *buf, size_t size)
{
	const char *n = ctp_proto_name(proto);

	if (strcmp(n, "unknown"))
		return n;
	for (size_t i = 0; i < sizeof(iana) / sizeof(iana[0]); i++)
		if (iana[i].num == proto)
			return iana[i].name;
	snprintf(buf, size, "proto-%u", (unsigned)proto);
	return buf;
}

int ctp_proto_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strlen(protos[i].name) == len &&
		    memcmp(protos[i].name, name, len) == 0)
			return protos[i].num;
	return -1;
}

const char *ctp_family_name(uint8_t family)
{
	return family == CTP_AF_INET	? "ipv4"
	       : family == CTP_AF_INET6 ? "ipv6"
					: "unknown";
}

/* Indexed by ctp_state; names as conntrack-tools prints them. */
static const char *const state_names[CTP_STATE_COUNT] = {
	[CTP_S_NONE] = "",
	[CTP_TCP_NONE] = "NONE",
	[CTP_TCP_SYN_SENT] = "SYN_SENT",
	[CTP_TCP_SYN_RECV] = "SYN_RECV",
	[CTP_TCP_ESTABLISHED] = "ESTABLISHED",
	[CTP_TCP_FIN_WAIT] = "FIN_WAIT",
	[CTP_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[CTP_TCP_LAST_ACK] = "LAST_ACK",
	[CTP_TCP_TIME_WAIT] = "TIME_WAIT",
	[CTP_TCP_CLOSE] = "CLOSE",
	[CTP_TCP_SYN_SENT2] = "SYN_SENT2",
	[CTP_SCTP_NONE] = "NONE",
	[CTP_SCTP_CLOSED] = "CLOSED",
	[CTP_SCTP_COOKIE_WAIT] = "COOKIE_WAIT",
	[CTP_SCTP_COOKIE_ECHOED] = "COOKIE_ECHOED",
	[CTP_SCTP_ESTABLISHED] = "ESTABLISHED",
	[CTP_SCTP_SHUTDOWN_SENT] = "SHUTDOWN_SENT",
	[CTP_SCTP_SHUTDOWN_RECD] = "SHUTDOWN_RECD",
	[CTP_SCTP_SHUTDOWN_ACK_SENT] = "SHUTDOWN_ACK_SENT",
	[CTP_SCTP_HEARTBEAT_SENT] = "HEARTBEAT_SENT",
	[CTP_SCTP_HEARTBEAT_ACKED] = "HEARTBEAT_ACKED",
	[CTP_DCCP_NONE] = "NONE",
	[CTP_DCCP_REQUEST] = "REQUEST",
	[CTP_DCCP_RESPOND] = "RESPOND",
	[CTP_DCCP_PARTOPEN] = "PARTOPEN",
	[CTP_DCCP_OPEN] = "OPEN",
	[CTP_DCCP_CLOSEREQ] = "CLOSEREQ",
	[CTP_DCCP_CLOSING] = "CLOSING",
	[CTP_DCCP_TIMEWAIT] = "TIMEWAIT",
	[CTP_DCCP_IGNORE] = "IGNORE",
	[CTP_DCCP_INVALID] = "INVALID",
};

const char *ctp_state_name(uint8_t state)
{
	return state < CTP_STATE_COUNT ? state_names[state] : "";
}

static int lookup_range(int lo, int hi, const char *name, size_t len)
{
	for (int i = lo; i <= hi; i++)
		if (strlen(state_names[i]) == len &&
		    memcmp(state_names[i], name, len) == 0)
			return i;
	return -1;
}

int ctp_state_lookup(uint8_t proto, const char *name, size_t len)
{
	switch (proto) {
	case CTP_P_TCP:
		/* conntrack accepts LISTEN as an alias of SYN_SENT2 */
		if (len == 6 && memcmp(name, "LISTEN", 6) == 0)
			return CTP_TCP_SYN_SENT2;
		return lookup_range(CTP_TCP_NONE, CTP_TCP_SYN_SENT2, name, len);
	case CTP_P_SCTP:
		return lookup_range(CTP_SCTP_NONE, CTP_SCTP_HEARTBEAT_ACKED,
				    name, len);
	case CTP_P_DCCP:
		return lookup_range(CTP_DCCP_NONE, CTP_DCCP_INVALID, name,
				    len);
	default:
		return -1;
	}
}

int ctp_proto_has_ports(uint8_t proto)
{
	return proto == CTP_P_TCP || proto == CTP_P_UDP ||
	       proto == CTP_P_UDPLITE || proto == CTP_P_SCTP ||
	       proto == CTP_P_DCCP;
}

int ctp_proto_is_icmp(uint8_t proto)
{
	return proto == CTP_P_ICMP || proto == CTP_P_ICMPV6;
}

void ctp_addr_format(uint8_t family, const uint8_t addr[16], char *buf,
		     size_t size)
{
	if (!inet_ntop(family == CTP_AF_INET6 ? AF_INET6 : AF_INET, addr, buf,
		       (socklen_t)size) &&
	    size)
		buf[0] = '\0';
}
