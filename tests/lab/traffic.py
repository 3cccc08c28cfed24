#!/usr/bin/env python3
"""Traffic helper for tests/lab/capture.sh (stdlib only).

  traffic.py server READYFILE TCPPORTS UDPPORTS
      Dual-stack TCP listeners (echo one line; on EOF close, unless the first
      line started with HOLD, in which case the socket is kept half-open) and
      dual-stack UDP echo sockets.  Writes READYFILE once listening, then runs
      until SIGTERM/SIGINT.

  traffic.py client READYFILE ACTION...
      Performs each ACTION in order, keeps every socket it opened, writes
      READYFILE (containing a short log) and then sleeps until SIGTERM/SIGINT.
      ACTION is KIND,DST,PORT[,SRC[,SPORT]] with KIND one of
        tcp-hold     connect, exchange one line, keep ESTABLISHED
        tcp-close    connect, exchange one line, close first (-> TIME_WAIT)
        tcp-half     connect, send HOLD, shutdown(SHUT_WR), keep (-> CLOSE_WAIT)
        tcp-reset    connect, exchange one line, abort with RST (-> CLOSE)
        tcp-refused  connect to a closed port (RST; conntrack drops the entry)
        tcp-syn      non-blocking connect, keep the socket (SYN_SENT towards a
                     black hole; SYN_RECV if our own ACKs are being dropped)
        udp-rr       one request, one reply
        udp-stream   four request/replies over ~3 s (-> ASSURED)
        udp-oneway   three datagrams, no reply expected (-> UNREPLIED)
        icmp         one echo request/reply (PORT is the ICMP id)
"""
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

KEEP = []  # sockets kept open until we are killed


def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def die_on_signal():
    def handler(signum, frame):
        os._exit(0)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def write_ready(path, text="ready\n"):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


# ---------------------------------------------------------------- server
def serve_conn(conn):
    f = conn.makefile("rb")
    hold = False
    try:
        first = True
        while True:
            line = f.readline()
            if not line:
                break
            if first and line.startswith(b"HOLD"):
                hold = True
            first = False
            conn.sendall(line)
    except OSError:
        pass
    if hold:
        KEEP.append(conn)  # half-closed by the peer; we never send FIN
    else:
        conn.close()


def tcp_listener(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(64)

    def loop():
        while True:
            conn, _ = s.accept()
            threading.Thread(target=serve_conn, args=(conn,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def udp_echo(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))

    def loop():
        while True:
            data, peer = s.recvfrom(2048)
            s.sendto(data, peer)
    threading.Thread(target=loop, daemon=True).start()


def server(ready, tcpports, udpports):
    die_on_signal()
    for p in filter(None, tcpports.split(",")):
        tcp_listener(int(p))
    for p in filter(None, udpports.split(",")):
        udp_echo(int(p))
    write_ready(ready)
    while True:
        time.sleep(3600)


# ---------------------------------------------------------------- client
def mksock(kind, dst, src, sport):
    s = socket.socket(fam(dst), kind)
    if kind == socket.SOCK_STREAM:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if src or sport:
        s.bind((src or ("::" if fam(dst) == socket.AF_INET6 else "0.0.0.0"),
                int(sport or 0)))
    return s


def tcp_connect(dst, port, src, sport, timeout=5.0):
    s = mksock(socket.SOCK_STREAM, dst, src, sport)
    s.settimeout(timeout)
    s.connect((dst, port))
    return s


def exchange(s, msg):
    s.sendall(msg)
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(2048)
        if not chunk:
            raise OSError("peer closed early")
        buf += chunk
    return buf


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def icmp_echo(dst, ident, timeout=3.0):
    v6 = fam(dst) == socket.AF_INET6
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        typ, rtyp = 128, 129
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        typ, rtyp = 8, 0
    payload = b"ctplan-lab-ping"
    hdr = struct.pack("!BBHHH", typ, 0, 0, ident, 1)
    csum = 0 if v6 else checksum(hdr + payload)  # kernel fills ICMPv6 csum
    pkt = struct.pack("!BBHHH", typ, 0, csum, ident, 1) + payload
    s.sendto(pkt, (dst, 0))
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([s], [], [], end - time.time())
        if not r:
            break
        data = s.recv(2048)
        if not v6:
            data = data[(data[0] & 0x0F) * 4:]  # strip IPv4 header
        if len(data) >= 8:
            t, _, _, i, _ = struct.unpack("!BBHHH", data[:8])
            if t == rtyp and i == ident:
                s.close()
                return "reply"
    s.close()
    return "timeout"


def act(spec):
    f = spec.split(",")
    kind, dst, port = f[0], f[1], int(f[2])
    src = f[3] if len(f) > 3 and f[3] else None
    sport = f[4] if len(f) > 4 and f[4] else None
    if kind == "tcp-hold":
        s = tcp_connect(dst, port, src, sport)
        exchange(s, b"HELLO\n")
        KEEP.append(s)
        return "established %s" % (s.getsockname(),)
    if kind == "tcp-close":
        s = tcp_connect(dst, port, src, sport)
        exchange(s, b"HELLO\n")
        s.close()
        return "closed"
    if kind == "tcp-reset":
        s = tcp_connect(dst, port, src, sport)
        exchange(s, b"HELLO\n")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        return "reset"
    if kind == "tcp-half":
        s = tcp_connect(dst, port, src, sport)
        exchange(s, b"HOLD\n")
        s.shutdown(socket.SHUT_WR)
        KEEP.append(s)
        return "half-closed"
    if kind == "tcp-refused":
        try:
            s = tcp_connect(dst, port, src, sport)
        except ConnectionRefusedError:
            return "refused"
        s.close()
        return "UNEXPECTEDLY CONNECTED"
    if kind == "tcp-syn":
        s = mksock(socket.SOCK_STREAM, dst, src, sport)
        s.setblocking(False)
        try:
            s.connect((dst, port))
        except BlockingIOError:
            pass
        KEEP.append(s)
        return "syn sent"
    if kind in ("udp-rr", "udp-stream", "udp-oneway"):
        s = mksock(socket.SOCK_DGRAM, dst, src, sport)
        s.settimeout(3.0)
        n = {"udp-rr": 1, "udp-stream": 4, "udp-oneway": 3}[kind]
        got = 0
        for i in range(n):
            if i:
                time.sleep(1.0 if kind == "udp-stream" else 0.05)
            s.sendto(b"ctplan-lab %d\n" % i, (dst, port))
            if kind != "udp-oneway":
                s.recvfrom(2048)
                got += 1
        KEEP.append(s)
        return "%d replies" % got
    if kind == "icmp":
        return icmp_echo(dst, port)
    raise SystemExit("unknown action " + kind)


def client(ready, actions):
    die_on_signal()
    log = []
    for a in actions:
        try:
            log.append("%s: %s" % (a, act(a)))
        except Exception as e:  # keep going, the log tells the script
            log.append("%s: FAILED %r" % (a, e))
    write_ready(ready, "\n".join(log) + "\n")
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "server":
        server(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) >= 3 and sys.argv[1] == "client":
        client(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
