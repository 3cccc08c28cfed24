#!/usr/bin/env python3
"""Reference entry counts of a `conntrack -L -o xml` dump (stdlib only).

    xml_counts.py [--flows BUCKET] FILE

Prints one JSON object with the same keys as the "entries" section of
`ctplan analyze --format json` (see docs/report.md):

    total, by_family, by_protocol, by_state, by_zone, assured, unreplied

plus two informational keys the lab test does not compare:
`events` (<flow type="..."> elements, which are not entries) and
`by_zone_orig` (zones given per direction, printed by `-L` as zone-orig=N).

It is the independent reference for tests/lab/test_lab_counts.sh, so it
shares no code with ctplan: it reads the XML with xml.etree and follows the
printing rules of libnetfilter_conntrack src/conntrack/snprintf_xml.c
(1.0.9, the Debian 12 library under conntrack-tools 1.4.7):

* <layer3 protonum> is the family (2 ipv4, 10 ipv6); <layer4 protoname> is
  the name conntrack prints, "unknown" for a protocol it does not name;
  ctplan keys those by the IANA name of <layer4 protonum> (docs/report.md
  entries.by_protocol), which the IANA table below gives;
* <state> sits in <meta direction="independent">.  The library prints the
  state of sctp and dccp flows by looking the number up in its TCP name
  table, so the name is mapped back through the TCP index;
* <zone> inside <meta direction="independent"> is the plain zone (`zone=N`
  in -L).  <zone> inside the original/reply meta is a per-direction zone
  (`zone-orig=N`/`zone-reply=N`); docs/report.md counts an entry without
  `zone=` as zone "0", so those go to by_zone_orig only;
* <assured/> and <unreplied/> are the flags.

With --flows BUCKET (e.g. "by_state:ESTABLISHED", "assured", "total") it
prints, instead, one line per entry counted in that bucket, for diffs.
"""
import json
import sys
import xml.etree.ElementTree as ET

# IANA protocol numbers (protocol-numbers registry) of protocols conntrack
# prints as "unknown"
IANA = {"2": "igmp", "4": "ipip", "41": "ipv6-in-ipv4", "50": "esp",
        "51": "ah", "89": "ospf", "103": "pim", "112": "vrrp",
        "115": "l2tp"}

FAMILIES = {"2": "ipv4", "10": "ipv6"}

# libnetfilter_conntrack's TCP names by index (index 9 was "LISTEN" in old
# releases, SYN_SENT2 in the kernel's own table); then the kernel's sctp and
# dccp names at the same indexes (include/uapi/linux/netfilter/
# nf_conntrack_sctp.h and nf_conntrack_dccp.h enum order).
TCP_NAMES = ["NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
             "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2"]
TCP_INDEX = dict((n, i) for i, n in enumerate(TCP_NAMES))
TCP_INDEX["LISTEN"] = 9
OTHER_NAMES = {
    "sctp": ["NONE", "CLOSED", "COOKIE_WAIT", "COOKIE_ECHOED", "ESTABLISHED",
             "SHUTDOWN_SENT", "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT",
             "HEARTBEAT_SENT", "HEARTBEAT_ACKED"],
    "dccp": ["NONE", "REQUEST", "RESPOND", "PARTOPEN", "OPEN", "CLOSEREQ",
             "CLOSING", "TIMEWAIT", "IGNORE", "INVALID"],
}


def metas(flow):
    out = {}
    for m in flow.findall("meta"):
        out[m.get("direction", "")] = m
    return out


def text(elem, tag):
    e = elem.find(tag) if elem is not None else None
    return None if e is None or e.text is None else e.text.strip()


def state_key(proto, state):
    if proto == "tcp":
        return state
    if proto in OTHER_NAMES and state in TCP_INDEX:
        state = OTHER_NAMES[proto][TCP_INDEX[state]]
    return "%s:%s" % (proto, state)


def describe(orig):
    """One-line summary of the original tuple, for diffs."""
    l3, l4 = orig.find("layer3"), orig.find("layer4")
    s = "%s %s -> %s" % (l4.get("protoname"), text(l3, "src"),
                         text(l3, "dst"))
    if text(l4, "sport") is not None:
        s += " sport=%s dport=%s" % (text(l4, "sport"), text(l4, "dport"))
    return s


def count(path, want=None):
    with open(path, "rb") as f:
        data = f.read()
    c = {"total": 0, "by_family": {"ipv4": 0, "ipv6": 0},
         "by_protocol": {}, "by_state": {}, "by_zone": {}, "assured": 0,
         "unreplied": 0, "events": 0, "by_zone_orig": {}}
    picked = []
    if not data.strip():  # conntrack prints nothing at all for no entries
        return c, picked
    root = ET.fromstring(data)
    for flow in root.iter("flow"):
        if flow.get("type"):
            c["events"] += 1
            continue
        m = metas(flow)
        orig, ind = m.get("original"), m.get("independent")
        l3, l4 = orig.find("layer3"), orig.find("layer4")
        buckets = ["total"]
        fam = FAMILIES.get(l3.get("protonum"), "unknown")
        proto = l4.get("protoname")
        if proto == "unknown":
            # docs/report.md keys a protocol conntrack calls "unknown"
            # by its IANA name (protocol-numbers registry), else proto-N
            proto = IANA.get(l4.get("protonum"),
                             "proto-%s" % l4.get("protonum"))
        buckets.append("by_family:" + fam)
        buckets.append("by_protocol:" + proto)
        state = text(ind, "state")
        if state is not None:
            buckets.append("by_state:" + state_key(proto, state))
        buckets.append("by_zone:" + (text(ind, "zone") or "0"))
        if ind is not None and ind.find("assured") is not None:
            buckets.append("assured")
        if ind is not None and ind.find("unreplied") is not None:
            buckets.append("unreplied")
        for b in buckets:
            if ":" in b:
                k, v = b.split(":", 1)
                c[k][v] = c[k].get(v, 0) + 1
            else:
                c[b] += 1
        dz = text(orig, "zone")
        if dz is not None:
            c["by_zone_orig"][dz] = c["by_zone_orig"].get(dz, 0) + 1
        if want in buckets:
            picked.append(describe(orig))
    return c, picked


def main(argv):
    want = None
    if len(argv) == 4 and argv[1] == "--flows":
        want, path = argv[2], argv[3]
    elif len(argv) == 2:
        path = argv[1]
    else:
        sys.exit(__doc__)
    try:
        c, picked = count(path, want)
    except (OSError, ET.ParseError, AttributeError) as e:
        sys.exit("xml_counts.py: cannot read '%s': %s" % (path, e))
    if want is None:
        json.dump(c, sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
    else:
        for line in picked:
            print(line)


if __name__ == "__main__":
    main(sys.argv)
