#!/usr/bin/env bash
# ctplan buckets: CSV shape, defaults, usage errors, and the hashes
# themselves against two independent references:
#   - the worked examples of ../shared/reference/kernel-facts.md §8 (one
#     flow, key 00..0f, computed there from the kernel's own lib/siphash.c
#     and jhash.h), pinned for every era;
#   - a SipHash-2-4 / lookup3 written here in python from the documented
#     byte layouts (docs/hash-model.md), run over every tuple of the real
#     capture samples/lab-6.18/conntrack_-L (tcp, udp, icmp, icmpv6,
#     IPv6, an unknown protocol, zone=7 and zone-orig=7) in every era,
#     with and without a net mix.
set -u
. "$(dirname "$0")/lib.sh"
S=$src/samples/lab-6.18
KEY=000102030405060708090a0b0c0d0e0f


expect() { # expect CODE DESCRIPTION -- CMD...
	local want=$1 what=$2
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	if [ "$got" != "$want" ]; then
		fail "$what: exit $got, want $want"
		sed 's/^/  stderr: /' "$tmp/err" | head -5
	fi
}

command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }

# ---- usage
expect 0 "buckets --help" -- "$ctplan" buckets --help
for o in --key --netmix --buckets --kernel; do
	grep -q -- "$o" "$tmp/out" || fail "--help lacks $o"
	grep -q -- "\`$o" "$src/README.md" || fail "README lacks $o"
done
"$ctplan" --help | grep -q '^  buckets ' || fail "top-level --help lists no buckets"
expect 2 "no --key" -- "$ctplan" buckets "$S/conntrack_-L"
grep -q -- "--key HEX32 is required" "$tmp/err" || fail "no --key message"
grep -q "^Try 'ctplan buckets --help'" "$tmp/err" || fail "no --key hint"
expect 2 "short key" -- "$ctplan" buckets --key 0011 "$S/conntrack_-L"
grep -q "cannot parse key '0011'" "$tmp/err" || fail "short key message"
expect 2 "non-hex key" -- "$ctplan" buckets --key 000102030405060708090a0b0c0d0e0g "$S/conntrack_-L"
expect 2 "bad --netmix" -- "$ctplan" buckets --key $KEY --netmix 1x "$S/conntrack_-L"
expect 2 "--netmix over 32 bits" -- "$ctplan" buckets --key $KEY --netmix 100000000 "$S/conntrack_-L"
expect 2 "--buckets 0" -- "$ctplan" buckets --key $KEY --buckets 0 "$S/conntrack_-L"
expect 2 "--buckets over 32 bits" -- "$ctplan" buckets --key $KEY --buckets 4294967296 "$S/conntrack_-L"
expect 2 "bad --kernel" -- "$ctplan" buckets --key $KEY --kernel six "$S/conntrack_-L"
grep -q "cannot parse kernel version 'six'" "$tmp/err" || fail "bad --kernel message"
expect 2 "no input" -- "$ctplan" buckets --key $KEY
expect 2 "missing file" -- "$ctplan" buckets --key $KEY --buckets 8 /nonexistent/file
# a listing without sysctl: the table size must be given
expect 2 "no table size" -- "$ctplan" buckets --key $KEY "$S/conntrack_-L"
grep -q "no table size in the input.*give --buckets N" "$tmp/err" || fail "no table size message"
[ "$(wc -l <"$tmp/err")" -eq 2 ] || fail "no table size: not one line plus hint"
[ -s "$tmp/out" ] && fail "no table size: printed rows anyway"

# ---- shape: header, 2 rows per entry, records in order, buckets default
# to nf_conntrack_buckets of the input (the whole sample directory: every
# listing of one table, so copies are skipped)
expect 0 "sample directory" -- "$ctplan" buckets --key $KEY "$S"
cp "$tmp/out" "$tmp/dir.csv"
grep -q "siphash39, 262144 buckets" "$tmp/err" || fail "note on stderr: $(cat "$tmp/err")"
"$ctplan" analyze --no-hash --format json "$S" 2>/dev/null >"$tmp/a.json"
python3 - "$tmp/dir.csv" "$tmp/a.json" <<'EOF' || fails=$((fails + 1))
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
total = json.load(open(sys.argv[2]))["entries"]["total"]
bad = []
if rows[0] != ["record", "direction", "zone", "hash", "bucket"]:
    bad.append("header %r" % rows[0])
body = rows[1:]
if len(body) != 2 * total:
    bad.append("%d rows for %d entries" % (len(body), total))
for i, r in enumerate(body):
    if r[0] != str(i // 2) or r[1] != ("original", "reply")[i % 2]:
        bad.append("row %d is %r" % (i, r))
        break
    h, b = int(r[3], 16), int(r[4])
    if len(r[3]) != 8 or b != (h * 262144) >> 32:
        bad.append("row %d: bucket %s of hash %s at 262144" % (i, r[4], r[3]))
        break
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF
expect 0 "same key twice" -- "$ctplan" buckets --key $KEY "$S"
cmp -s "$tmp/out" "$tmp/dir.csv" || fail "two runs with one key differ"
expect 0 "another key" -- "$ctplan" buckets --key 0f0e0d0c0b0a09080706050403020100 "$S"
cmp -s "$tmp/out" "$tmp/dir.csv" && fail "another key gives the same hashes"
expect 0 "--quiet" -- "$ctplan" buckets -q --key $KEY "$S"
[ -s "$tmp/err" ] && fail "--quiet printed: $(cat "$tmp/err")"

# ---- the worked examples of kernel-facts.md §8
printf '%s\n' "tcp      6 431999 ESTABLISHED src=198.18.0.2 dst=198.19.0.2 sport=29999 dport=80 src=198.19.0.2 dst=198.18.0.2 sport=80 dport=29999 [ASSURED] mark=0 use=1" >"$tmp/one"
# kernel  orig-hash orig-bucket@65536  reply-hash reply-bucket@65536
while read -r kv oh ob rh rb; do
	expect 0 "worked example $kv" -- "$ctplan" buckets --key $KEY --buckets 65536 --kernel "$kv" "$tmp/one"
	want=$(printf 'record,direction,zone,hash,bucket\n0,original,0,%s,%s\n0,reply,0,%s,%s' "$oh" "$ob" "$rh" "$rb")
	[ "$(cat "$tmp/out")" = "$want" ] || fail "worked example $kv: got $(tr '\n' ' ' <"$tmp/out")"
done <<'EOF'
6.18 9d8046b0 40320 1c16d644 7190
6.1 cc02d116 52226 fd17a85c 64791
6.3 04bad64f 1210 ad22e0e4 44322
5.4 5bdae874 23514 e51d456c 58653
EOF
# 262144 buckets: the other column of the same table
expect 0 "worked example at 262144" -- "$ctplan" buckets --key $KEY --buckets 262144 --kernel 6.8 "$tmp/one"
[ "$(sed -n 2p "$tmp/out")" = "0,original,0,9d8046b0,161281" ] || fail "262144: $(sed -n 2p "$tmp/out")"
[ "$(sed -n 3p "$tmp/out")" = "0,reply,0,1c16d644,28763" ] || fail "262144: $(sed -n 3p "$tmp/out")"

# ---- every tuple of the capture against python, every era
sed -z 's/conntrack v[0-9.]* (conntrack-tools): [0-9]* flow entries have been shown\.\n//g' \
	"$S/conntrack_-L" | tr -d '\0' >"$tmp/L"
cat >"$tmp/ref.py" <<'EOF'
# Reference hashes written from docs/hash-model.md and kernel-facts.md:
# SipHash-2-4 (Aumasson & Bernstein), lookup3 hashword (Jenkins), the
# kernel's struct nf_conntrack_tuple bytes and each era's message.
import ipaddress, struct, sys

M64 = (1 << 64) - 1


def rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & M64


def siphash(k0, k1, data):
    v0, v1 = k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d
    v2, v3 = k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573

    def rnd():
        nonlocal v0, v1, v2, v3
        v0 = (v0 + v1) & M64; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
        v2 = (v2 + v3) & M64; v3 = rotl(v3, 16); v3 ^= v2
        v0 = (v0 + v3) & M64; v3 = rotl(v3, 21); v3 ^= v0
        v2 = (v2 + v1) & M64; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)

    n = len(data)
    tail = data[n - n % 8:] + bytes(8 - n % 8)
    words = [struct.unpack_from("<Q", data, i)[0] for i in range(0, n - n % 8, 8)]
    words.append(struct.unpack("<Q", tail)[0] | ((n & 0xff) << 56))
    for m in words:
        v3 ^= m; rnd(); rnd(); v0 ^= m
    v2 ^= 0xff
    for _ in range(4):
        rnd()
    return v0 ^ v1 ^ v2 ^ v3


M32 = 0xffffffff


def rot(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


def hashword(k, initval):
    a = b = c = (0xdeadbeef + (len(k) << 2) + initval) & M32
    i = 0
    while len(k) - i > 3:
        a = (a + k[i]) & M32; b = (b + k[i + 1]) & M32; c = (c + k[i + 2]) & M32
        a = (a - c) & M32; a ^= rot(c, 4); c = (c + b) & M32
        b = (b - a) & M32; b ^= rot(a, 6); a = (a + c) & M32
        c = (c - b) & M32; c ^= rot(b, 8); b = (b + a) & M32
        a = (a - c) & M32; a ^= rot(c, 16); c = (c + b) & M32
        b = (b - a) & M32; b ^= rot(a, 19); a = (a + c) & M32
        c = (c - b) & M32; c ^= rot(b, 4); b = (b + a) & M32
        i += 3
    rest = len(k) - i
    if rest == 0:
        return c
    if rest >= 3: c = (c + k[i + 2]) & M32
    if rest >= 2: b = (b + k[i + 1]) & M32
    a = (a + k[i]) & M32
    c ^= b; c = (c - rot(b, 14)) & M32
    a ^= c; a = (a - rot(c, 11)) & M32
    b ^= a; b = (b - rot(a, 25)) & M32
    c ^= b; c = (c - rot(b, 16)) & M32
    a ^= c; a = (a - rot(c, 4)) & M32
    b ^= a; b = (b - rot(a, 14)) & M32
    c ^= b; c = (c - rot(b, 24)) & M32
    return c


PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "udplite": 136,
         "sctp": 132, "dccp": 33, "gre": 47}


def tuples(line):
    """(orig, reply) as 40 tuple bytes each, and their zones."""
    tok = line.split()
    proto = PROTO.get(tok[0], None)
    if proto is None:
        proto = int(tok[1])
    fields, cur, zone, zo, zr = [], None, 0, None, None
    for t in tok:
        if "=" not in t:
            continue
        k, v = t.split("=", 1)
        if k == "src":
            cur = {}
            fields.append(cur)
        if k == "zone":
            zone = int(v)
        elif k == "zone-orig":
            zo = int(v)
        elif k == "zone-reply":
            zr = int(v)
        elif cur is not None and k in ("src", "dst", "sport", "dport",
                                       "type", "code", "id") and k not in cur:
            cur[k] = v
    out = []
    for d in fields[:2]:
        a, b = ipaddress.ip_address(d["src"]), ipaddress.ip_address(d["dst"])
        fam = 2 if a.version == 4 else 10
        t = bytearray(40)
        t[0:len(a.packed)] = a.packed
        t[20:20 + len(b.packed)] = b.packed
        t[18:20] = struct.pack("<H", fam)
        if proto in (1, 58):
            t[16:18] = struct.pack(">H", int(d["id"]))
            t[36], t[37] = int(d["type"]), int(d["code"])
        elif "sport" in d:
            t[16:18] = struct.pack(">H", int(d["sport"]))
            t[36:38] = struct.pack(">H", int(d["dport"]))
        t[38] = proto
        out.append(bytes(t))
    zones = [zo if zo is not None else zone, zr if zr is not None else zone]
    return out, zones


def h32(era, key, t, zone, mix):
    k0, k1 = struct.unpack("<QQ", key)
    if era == "siphash39":
        return siphash(k0 ^ zone, k1 ^ mix, t[:39]) & M32
    if era == "siphash48":
        m = t[:36] + struct.pack("<II", zone, mix) + t[36:38] + bytes([t[38], 0])
        return siphash(k0, k1, m) & M32
    if era == "siphash-4u64":
        w = lambda off, i: struct.unpack_from("<I", t, off + 4 * i)[0]
        u = lambda off: struct.unpack_from("<H", t, off)[0]
        a = w(0, 0) << 32 | w(0, 3)
        b = w(20, 0) << 32 | w(20, 3)
        c = (u(16) << 32 | u(36) << 16 | t[38]) ^ (w(0, 1) << 32 | w(0, 2))
        d = ((zone << 32 | mix) + (w(20, 1) << 32 | w(20, 2))) & M64
        return siphash(k0, k1, struct.pack("<QQQQ", a, b, c, d)) & M32
    seed = struct.unpack_from("<I", key)[0]
    init = (seed ^ mix) ^ (struct.unpack_from("<H", t, 36)[0] << 16 | t[38])
    return hashword(list(struct.unpack_from("<9I", t)), init & M32)


era, keyhex, mix, nb, listing, csvf = sys.argv[1:7]
key, mix, nb = bytes.fromhex(keyhex), int(mix, 16), int(nb)
rows = [l.rstrip("\n").split(",") for l in open(csvf)][1:]
want = []
for line in open(listing):
    if not line.strip():
        continue
    tt, zz = tuples(line)
    for d in (0, 1):
        h = h32(era, key, tt[d], zz[d], mix)
        want.append([str(len(want) // 2), ("original", "reply")[d],
                     str(zz[d]), "%08x" % h, str(h * nb >> 32)])
bad = 0
if len(rows) != len(want):
    print("FAIL: %s: %d rows, python has %d" % (era, len(rows), len(want)))
    bad = 1
for r, w in zip(rows, want):
    if r != w:
        print("FAIL: %s: ctplan %s, python %s" % (era, ",".join(r), ",".join(w)))
        bad = 1
print("%s: %d tuples checked against python" % (era, len(want)))
sys.exit(bad)
EOF
while read -r kv era; do
	for mix in 0 9e3779b9; do
		for key in $KEY 8f1e2d3c4b5a69788796a5b4c3d2e1f0; do
			expect 0 "$kv $key $mix" -- "$ctplan" buckets --key $key \
				--netmix $mix --buckets 1021 --kernel "$kv" "$tmp/L"
			python3 "$tmp/ref.py" "$era" $key $mix 1021 "$tmp/L" "$tmp/out" \
				>"$tmp/py" || { cat "$tmp/py"; fails=$((fails + 1)); }
		done
	done
	tail -n1 "$tmp/py"
done <<'EOF'
6.18 siphash39
6.1.0 siphash48
6.2 siphash-4u64
5.4 jhash2-netmix
EOF

finish "buckets: all checks passed"
