#!/usr/bin/env python3
"""Mutation test (issue 9): the real samples, damaged, through ctplan.

    mutate.py CTPLAN SRC [--count N] [--seed S] [--batch B] [--keep DIR]

Takes every dump under SRC/samples/lab-6.18*/ and SRC/samples/kmsg/, and
makes N mutants (default 300, seed 9): each gets one to three of byte
flips, NUL bytes, a truncation, duplicated, deleted, joined or shuffled
lines, CRLF line ends and a line over the 64 KiB limit.  The mutants go
in batches of B (default 25) into a directory with one unmutated sample,
and ctplan reads each directory (with the ASan build's binary when the
test runs in the ASan build).  For every run and mutant:

  - no crash, no sanitizer report, exit code 0 or 2 (2 only for a reason
    printed on stderr that names the file: a batch that stops is read
    again one mutant at a time);
  - lines = the mutant's physical lines, and lines = records + rejected +
    other;
  - every rejected line is reported on stderr as FILE:LINE:COL: with a
    line number inside the file, as many reports as inputs[].rejected;
  - every unmutated line still counts: for the formats whose lines stand
    alone (everything but XML, /proc/net/stat, conntrack -S and merged
    files with sections), records >= the sample's records less the lines
    a mutation touched, and a file with an untouched line is not skipped;
  - the unmutated sample in the batch gives exactly its own counts.

Exit 0 if all hold, 1 with the failures listed (the mutant is kept in
--keep DIR, default a temporary directory printed on failure).
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

SANITIZER = re.compile(rb"ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                       rb"runtime error:|UndefinedBehaviorSanitizer")
# formats whose lines depend on lines before them (a header, an open
# element, a section): only the accounting is checked for them
STATEFUL = ("xml", "proc_net_stat", "conntrack_-S", "conntrack.txt")
OVERLONG = 70 * 1024


def samples(src):
    out = []
    root = os.path.join(src, "samples")
    for d, dirs, files in os.walk(root):
        dirs.sort()
        rel = os.path.relpath(d, root)
        if not (rel.startswith("lab-6.18") or rel.startswith("kmsg")):
            continue
        for f in sorted(files):
            if f in ("MANIFEST", "traffic.log"):
                continue
            with open(os.path.join(d, f), "rb") as fh:
                out.append((os.path.join(rel, f).replace("/", "__"),
                            fh.read()))
    return out


# conntrack's stderr summary inside a line, which the reader joins with
# the next line (parsers/input.c); the samples hold real ones (2>&1)
SPLIT = re.compile(rb".+conntrack v[0-9.]+ \(conntrack-tools\): ")


class Mutant:
    """Lines as [bytes, [original indices], touched].  A line that
    conntrack's summary split stays one entry with its rest, so the
    mutations move and touch the two together."""

    def __init__(self, data):
        parts = data.split(b"\n")
        self.final_nl = data.endswith(b"\n")
        if self.final_nl:
            parts.pop()
        self.lines = []
        for i, p in enumerate(parts):
            if self.lines and SPLIT.match(self.lines[-1][0]) and \
                    len(self.lines[-1][1]) == 1:
                self.lines[-1][0] += b"\n" + p
                self.lines[-1][1].append(i)
            else:
                self.lines.append([p, [i], False])
        self.nlines = len(parts)
        self.removed = set()  # original lines gone
        self.crlf = False
        self.ops = []

    def touch(self, k):
        self.lines[k][2] = True

    def pick(self, rng):
        return rng.randrange(len(self.lines))

    def bytes(self):
        nl = b"\r\n" if self.crlf else b"\n"
        body = nl.join(l[0].replace(b"\n", nl) for l in self.lines)
        if self.final_nl and self.lines:
            body += nl
        return body

    def touched(self):
        t = set(self.removed)
        for _, origs, hit in self.lines:
            if hit:
                t.update(origs)
        return t


def op_flip(m, rng):
    k = m.pick(rng)
    line = bytearray(m.lines[k][0])
    if not line:
        return
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(line))
        line[i] ^= rng.randint(1, 255)
    m.lines[k][0] = bytes(line)
    m.touch(k)
    m.ops.append("flip line %d" % (k + 1))


def op_nul(m, rng):
    k = m.pick(rng)
    line = m.lines[k][0]
    i = rng.randint(0, len(line))
    m.lines[k][0] = line[:i] + b"\0" + line[i:]
    m.touch(k)
    m.ops.append("NUL in line %d" % (k + 1))


def op_dup(m, rng):
    k = m.pick(rng)
    n = rng.randint(1, 3)
    # copies hold untouched text but are no original line
    copies = [[l[0], [], False] for l in m.lines[k:k + n]]
    m.lines[k + n:k + n] = copies
    m.ops.append("duplicate lines %d+%d" % (k + 1, n))


def op_delete(m, rng):
    k = m.pick(rng)
    m.removed.update(m.lines[k][1])
    del m.lines[k]
    m.ops.append("delete line %d" % (k + 1))


def op_join(m, rng):
    if len(m.lines) < 2:
        return
    k = rng.randrange(len(m.lines) - 1)
    a, b = m.lines[k], m.lines[k + 1]
    m.lines[k:k + 2] = [[a[0] + b[0], a[1] + b[1], True]]
    m.ops.append("join lines %d-%d" % (k + 1, k + 2))


def op_shuffle(m, rng):
    k = m.pick(rng)
    window = m.lines[k:k + rng.randint(2, 8)]
    rng.shuffle(window)
    m.lines[k:k + len(window)] = window
    m.ops.append("shuffle from line %d" % (k + 1))


def op_crlf(m, rng):
    m.crlf = True
    m.ops.append("CRLF")


def op_overlong(m, rng):
    k = rng.randint(0, len(m.lines))
    m.lines[k:k] = [[b"x" * OVERLONG, [], True]]
    m.ops.append("%d-byte line at %d" % (OVERLONG, k + 1))


def op_truncate(m, rng):
    k = m.pick(rng)
    line = m.lines[k][0]
    i = rng.randint(0, len(line))
    for l in m.lines[k:]:
        m.removed.update(l[1])
    del m.lines[k + 1:]
    m.lines[k][0] = line[:i]
    m.touch(k)
    if not m.lines[k][0] and k == 0:
        m.lines = []
    m.final_nl = False
    m.ops.append("truncate in line %d" % (k + 1))


OPS = [op_flip, op_flip, op_nul, op_dup, op_delete, op_join, op_shuffle,
       op_crlf, op_overlong]


def physical_lines(data):
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def make(rng, data):
    m = Mutant(data)
    if not m.lines:
        return m
    for _ in range(rng.randint(1, 3)):
        if not m.lines:
            break
        rng.choice(OPS)(m, rng)
    if m.lines and rng.random() < 0.15:
        op_truncate(m, rng)
    return m


def run(ctplan, paths):
    p = subprocess.run([ctplan, "analyze", "--quiet", "--no-hash",
                        "--max-errors", "1000000000", "--format", "json"]
                       + paths, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       timeout=600)
    return p.returncode, p.stdout, p.stderr


def error_lines(stderr):
    """{path: [(line, col)]} of the FILE:LINE:COL: error reports (a
    warning names a line that still counts)."""
    out = {}
    for l in stderr.decode("utf-8", "replace").splitlines():
        m = re.match(r"^(.*?):(\d+):(\d+): (?!warning: )", l)
        if m:
            out.setdefault(m.group(1), []).append(
                (int(m.group(2)), int(m.group(3))))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ctplan")
    ap.add_argument("src")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--batch", type=int, default=25)
    ap.add_argument("--keep")
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="ctplan-mutate-")
    os.makedirs(work, exist_ok=True)
    rng = random.Random(a.seed)
    fails = []
    sams = samples(a.src)

    def fail(what):
        fails.append(what)
        print("FAIL: " + what)

    # the samples' own counts, each read alone in one directory
    base_dir = os.path.join(work, "base")
    shutil.rmtree(base_dir, ignore_errors=True)
    os.makedirs(base_dir)
    for name, data in sams:
        with open(os.path.join(base_dir, name), "wb") as fh:
            fh.write(data)
    rc, out, err = run(a.ctplan, [base_dir])
    if rc != 0 or SANITIZER.search(err):
        fail("samples: exit %d: %s" % (rc, err.decode()[-2000:]))
        return 1
    base = {os.path.basename(i["path"]): i
            for i in json.loads(out)["inputs"]}
    for name, _ in sams:
        b = base[name]
        if b["skipped"] or b["rejected"]:
            fail("sample %s: skipped or rejected lines: %s" % (name, b))

    mutants = []  # (dir, name, Mutant, sample name)
    runs = 0
    for bi in range((a.count + a.batch - 1) // a.batch):
        d = os.path.join(work, "batch%03d" % bi)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        batch = []
        for j in range(min(a.batch, a.count - bi * a.batch)):
            sname, data = rng.choice(sams)
            m = make(rng, data)
            name = "m%04d-%s" % (bi * a.batch + j, sname)
            with open(os.path.join(d, name), "wb") as fh:
                fh.write(m.bytes())
            batch.append((name, m, sname))
        cname, cdata = rng.choice(sams)
        with open(os.path.join(d, "orig-" + cname), "wb") as fh:
            fh.write(cdata)
        rc, out, err = run(a.ctplan, [d])
        runs += 1
        if SANITIZER.search(err) or rc not in (0, 2):
            fail("%s: exit %d: %s" % (d, rc, err.decode("utf-8",
                                                         "replace")[-3000:]))
            continue
        if rc == 2:
            # something stopped the batch: each mutant alone
            for name, m, sname in batch:
                p = os.path.join(d, name)
                rc1, out1, err1 = run(a.ctplan, [p])
                runs += 1
                if SANITIZER.search(err1) or rc1 not in (0, 2):
                    fail("%s (%s): exit %d: %s" % (
                        p, ", ".join(m.ops), rc1,
                        err1.decode("utf-8", "replace")[-3000:]))
                elif rc1 == 2 and p.encode() not in err1:
                    fail("%s: exit 2 without naming the file: %s" % (
                        p, err1.decode("utf-8", "replace")))
                elif rc1 == 0:
                    check(fail, p, m, base[sname], sname,
                          json.loads(out1)["inputs"][0],
                          error_lines(err1).get(p, []))
            continue
        report = {os.path.basename(i["path"]): i
                  for i in json.loads(out)["inputs"]}
        errs = error_lines(err)
        for name, m, sname in batch:
            p = os.path.join(d, name)
            got = report[name]
            perr = [e for path, es in errs.items()
                    if os.path.basename(path) == name for e in es]
            check(fail, p, m, base[sname], sname, got, perr)
        c = report["orig-" + cname]
        for k in ("lines", "records", "rejected", "other", "flows",
                  "format"):
            if c[k] != base[cname][k]:
                fail("%s: unmutated %s: %s %s, alone %s" % (
                    d, cname, k, c[k], base[cname][k]))
    print("mutate: %d mutants of %d samples in %d runs of ctplan, "
          "seed %d: %d failure(s)" % (a.count, len(sams), runs, a.seed,
                                     len(fails)))
    if fails:
        print("mutants kept in " + work)
        return 1
    if not a.keep:
        shutil.rmtree(work)
    return 0


def check(fail, path, m, b, sname, got, errs):
    what = "%s (%s)" % (path, ", ".join(m.ops))
    data = m.bytes()
    plines = physical_lines(data)
    touched = m.touched()
    untouched = m.nlines - len(touched)
    stateless = not any(s in sname for s in STATEFUL)
    if got["skipped"]:
        if stateless and untouched > 0 and b["records"] > 0:
            fail("%s: skipped as unknown with %d untouched lines" % (
                what, untouched))
        return
    if got["lines"] != plines:
        fail("%s: lines %d, the file has %d" % (what, got["lines"], plines))
    if got["records"] + got["rejected"] + got["other"] != got["lines"]:
        fail("%s: records %d + rejected %d + other %d != lines %d" % (
            what, got["records"], got["rejected"], got["other"],
            got["lines"]))
    if len(errs) != got["rejected"]:
        fail("%s: %d rejected, %d reported with a position" % (
            what, got["rejected"], len(errs)))
    for line, col in errs:
        if not 1 <= line <= plines or col < 1:
            fail("%s: error at line %d col %d of %d lines" % (
                what, line, col, plines))
    if stateless and got["records"] < b["records"] - len(touched):
        fail("%s: records %d < %d of the sample less %d touched lines" % (
            what, got["records"], b["records"], len(touched)))


if __name__ == "__main__":
    sys.exit(main())
