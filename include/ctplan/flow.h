/*
 * ctplan flow records: one conntrack entry, both tuples in full.
 *
 * A record is compact and fixed-size (no malloc per field): the fields
 * every dump carries live in struct ctp_flow; the rarer ones (counters,
 * timestamps, id, helper, secctx, labels, per-direction zones) live in a
 * struct ctp_flow_extra that the snapshot stores on the side, only for
 * flows that have any of them.
 *
 * Values are in host byte order.  Addresses are 16 bytes in network order;
 * an IPv4 address takes the first 4 bytes and the other 12 are zero, the
 * way the kernel's union nf_inet_addr holds it.
 */
#ifndef CTPLAN_FLOW_H
#define CTPLAN_FLOW_H

#include <stdint.h>
#include <stddef.h>

#define CTP_AF_INET 2   /* l3 protocol numbers as conntrack prints them */
#define CTP_AF_INET6 10

/* l4 protocol numbers that conntrack names */
#define CTP_P_ICMP 1
#define CTP_P_TCP 6
#define CTP_P_UDP 17
#define CTP_P_DCCP 33
#define CTP_P_GRE 47
#define CTP_P_ICMPV6 58
#define CTP_P_SCTP 132
#define CTP_P_UDPLITE 136

/*
 * One direction of a flow.
 *
 * Protocol part, mirroring the kernel's nf_conntrack_tuple:
 * - tcp, udp, udplite, sctp, dccp: sport, dport are the ports;
 * - icmp, icmpv6: sport is the echo id; dport holds type (high byte) and
 *   code (low byte), as the kernel keeps them in dst.u (type first);
 * - gre: sport is the source key, dport the destination key;
 * - anything else: all zero.
 */
typedef struct ctp_tuple {
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
} ctp_tuple;

#define CTP_ICMP_TYPE(t) ((uint8_t)((t)->dport >> 8))
#define CTP_ICMP_CODE(t) ((uint8_t)((t)->dport & 0xff))
#define CTP_ICMP_DPORT(type, code) ((uint16_t)(((type) << 8) | (code)))

/* flow flags */
enum {
	CTP_F_ASSURED = 1u << 0,
	CTP_F_UNREPLIED = 1u << 1,
	CTP_F_OFFLOAD = 1u << 2,
	CTP_F_HW_OFFLOAD = 1u << 3,
	CTP_F_HAS_TIMEOUT = 1u << 4,
	CTP_F_HAS_MARK = 1u << 5,
	CTP_F_HAS_USE = 1u << 6,
	/* the source lacks ICMP type/code/id (conntrack -o xml prints none) */
	CTP_F_NO_ICMP = 1u << 7,
	/* the flow was seen in an earlier input too and is not counted */
	CTP_F_DUP = 1u << 8,
	CTP_F_HAS_ZONE = 1u << 9,
	/* the line was an event ([NEW], [UPDATE], [DESTROY]) */
	CTP_F_EVENT = 1u << 10,
	CTP_F_SEEN_REPLY = 1u << 11, /* from -o save's status list */
	/* reserved: the snapshot's mark on its stored records; a flow
	 * with it set is refused, and the accessors never return it */
	CTP_F_SNAPSHOT = 1u << 15,
};

#define CTP_NO_EXTRA UINT32_MAX

/*
 * 96 bytes, the exchange form: parsers fill one, the snapshot decodes one
 * for a reader.  The snapshot does not store this layout but a 48-byte
 * record (IPv4 addresses in 4 bytes, IPv6 ones on the side), so a 4M-entry
 * table takes 192 MB plus 64 bytes per flow with IPv6 addresses.
 */
typedef struct ctp_flow {
	ctp_tuple orig;
	ctp_tuple reply;
	uint32_t timeout; /* seconds; valid with CTP_F_HAS_TIMEOUT */
	uint32_t mark;    /* valid with CTP_F_HAS_MARK */
	uint32_t extra;   /* index of a ctp_flow_extra, or CTP_NO_EXTRA */
	uint16_t flags;   /* CTP_F_* */
	uint16_t zone;    /* zone=N; 0 when absent */
	uint16_t input;   /* index of the input it was read from */
	uint16_t use;     /* use=N, saturated at 65535 */
	uint8_t family;   /* CTP_AF_INET or CTP_AF_INET6 */
	uint8_t proto;    /* l4 protocol number */
	uint8_t state;    /* ctp_state value for proto; 0 = none printed */
	uint8_t event;    /* 0, or 1 NEW, 2 UPDATE, 3 DESTROY */
} ctp_flow;

/* which fields of ctp_flow_extra are set */
enum {
	CTP_X_COUNTERS = 1u << 0,
	CTP_X_ID = 1u << 1,
	CTP_X_SECMARK = 1u << 2,
	CTP_X_DELTA = 1u << 3,
	CTP_X_START = 1u << 4,
	CTP_X_STOP = 1u << 5,
	CTP_X_ZONE_ORIG = 1u << 6,
	CTP_X_ZONE_REPLY = 1u << 7,
	CTP_X_HELPER = 1u << 8,
	CTP_X_SECCTX = 1u << 9,
	CTP_X_LABELS = 1u << 10,
	CTP_X_OTHER = 1u << 11,
	CTP_X_VTAG = 1u << 12,
};

typedef struct ctp_flow_extra {
	uint64_t packets[2]; /* [0] original, [1] reply */
	uint64_t bytes[2];
	/* -o ktimestamp prints local ctime(3) text; kept as seconds since
	 * the epoch as if UTC (the zone of the dumping host is unknown).
	 * -o xml prints nanoseconds; those are divided down to seconds. */
	int64_t start, stop;
	uint32_t id;
	uint32_t secmark;
	uint32_t delta_time;
	uint32_t vtag[2];
	uint16_t zone_orig, zone_reply;
	uint16_t present; /* CTP_X_* */
	/* strings: offsets into the snapshot's string pool, 0 = none */
	uint32_t helper, secctx, labels;
	uint32_t other; /* unknown tokens, space-separated, as read */
} ctp_flow_extra;

/*
 * Protocol states, per protocol family of names.  The numbering is ours;
 * names are what conntrack prints.  0 is "no state printed".
 */
typedef enum ctp_state {
	CTP_S_NONE = 0,
	/* tcp */
	CTP_TCP_NONE = 1,
	CTP_TCP_SYN_SENT,
	CTP_TCP_SYN_RECV,
	CTP_TCP_ESTABLISHED,
	CTP_TCP_FIN_WAIT,
	CTP_TCP_CLOSE_WAIT,
	CTP_TCP_LAST_ACK,
	CTP_TCP_TIME_WAIT,
	CTP_TCP_CLOSE,
	CTP_TCP_SYN_SENT2,
	/* sctp */
	CTP_SCTP_NONE,
	CTP_SCTP_CLOSED,
	CTP_SCTP_COOKIE_WAIT,
	CTP_SCTP_COOKIE_ECHOED,
	CTP_SCTP_ESTABLISHED,
	CTP_SCTP_SHUTDOWN_SENT,
	CTP_SCTP_SHUTDOWN_RECD,
	CTP_SCTP_SHUTDOWN_ACK_SENT,
	CTP_SCTP_HEARTBEAT_SENT,
	CTP_SCTP_HEARTBEAT_ACKED,
	/* dccp */
	CTP_DCCP_NONE,
	CTP_DCCP_REQUEST,
	CTP_DCCP_RESPOND,
	CTP_DCCP_PARTOPEN,
	CTP_DCCP_OPEN,
	CTP_DCCP_CLOSEREQ,
	CTP_DCCP_CLOSING,
	CTP_DCCP_TIMEWAIT,
	CTP_DCCP_IGNORE,
	CTP_DCCP_INVALID,
	CTP_STATE_COUNT
} ctp_state;

/* Name conntrack prints for an l4 protocol: "tcp", ..., or "unknown". */
const char *ctp_proto_name(uint8_t proto);
/* For reports: ctp_proto_name, else the IANA name of a protocol
 * conntrack calls "unknown" ("igmp" for 2), else "proto-N" written into
 * buf (size at least 12).  Returns a static name or buf. */
const char *ctp_proto_label(uint8_t proto, char *buf, size_t size);
/* Protocol number for a name conntrack prints, or -1. */
int ctp_proto_lookup(const char *name, size_t len);
/* "ipv4", "ipv6", or "unknown". */
const char *ctp_family_name(uint8_t family);

/* Name of a state ("ESTABLISHED"), or "" for CTP_S_NONE. */
const char *ctp_state_name(uint8_t state);
/* State value for a name printed for protocol proto, or -1. */
int ctp_state_lookup(uint8_t proto, const char *name, size_t len);

/* Does proto carry ports (tcp, udp, udplite, sctp, dccp)? */
int ctp_proto_has_ports(uint8_t proto);
/* Is proto icmp or icmpv6? */
int ctp_proto_is_icmp(uint8_t proto);

/* Format an address as conntrack prints it (inet_ntop). */
void ctp_addr_format(uint8_t family, const uint8_t addr[16], char *buf,
		     size_t size);

#endif
