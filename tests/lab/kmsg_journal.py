#!/usr/bin/env python3
"""Kernel records as a systemd journal, the way journald stores them.

    kmsg_journal.py HOST < dmesg_-r_output > export-stream

Reads `dmesg -r` lines ("<4>[ 1437.044241] msg") and writes them in the
Journal Export Format (systemd's docs/JOURNAL_EXPORT_FORMATS.md) with the
fields journald's kmsg reader gives kernel records: _TRANSPORT=kernel,
SYSLOG_IDENTIFIER=kernel, PRIORITY, SYSLOG_FACILITY, the record's
monotonic time and a wall time of boot time + monotonic time.  Piped into
systemd-journal-remote -o FILE.journal, `journalctl --file FILE.journal
-k -o ...` then prints them in each of its output modes.
"""
import re
import sys
import time

LINE = re.compile(r"^<(\d+)>\[\s*(\d+)\.(\d+)\] (.*)$")


def main():
    host = sys.argv[1] if len(sys.argv) > 1 else "ctplan-lab"
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot_id = f.read().strip().replace("-", "")
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    boot_us = int((time.time() - uptime) * 1e6)
    out = sys.stdout.buffer
    for line in sys.stdin:
        m = LINE.match(line.rstrip("\n"))
        if not m:
            continue
        pri = int(m.group(1))
        frac = (m.group(3) + "000000")[:6]
        mono = int(m.group(2)) * 1000000 + int(frac)
        fields = [
            "__REALTIME_TIMESTAMP=%d" % (boot_us + mono),
            "__MONOTONIC_TIMESTAMP=%d" % mono,
            "_BOOT_ID=" + boot_id,
            "_TRANSPORT=kernel",
            "PRIORITY=%d" % (pri & 7),
            "SYSLOG_FACILITY=%d" % (pri >> 3),
            "SYSLOG_IDENTIFIER=kernel",
            "_HOSTNAME=" + host,
            "MESSAGE=" + m.group(4),
        ]
        out.write(("\n".join(fields) + "\n\n").encode())


if __name__ == "__main__":
    main()
