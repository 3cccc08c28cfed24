#!/usr/bin/env python3
"""Seed corpora for the libFuzzer targets, made from samples/ at run time.

    seeds.py SRC OUT

writes OUT/seeds/<target>/<name> for every target (tests/fuzz/README), and
an empty OUT/work/<target>/ for what the fuzzer finds (libFuzzer writes new
inputs into the first corpus directory it is given).  Nothing is copied
into the source tree: the samples stay the single source of truth.

Each harness reads one leading byte that picks the path the parsers see
(fuzz_common.h: index = byte % 16); the seeds use the printable byte
'0' + index, so a seed file is still readable text.
"""
import bz2
import gzip
import io
import lzma
import os
import shutil
import subprocess
import sys
import tarfile

# fuzz_common.h ctp_fuzz_paths[] indices
P_NONE, P_DUMP, P_MAX, P_COUNT_FILE = 0, 1, 2, 3
P_MODULE_HASHSIZE, P_HASHSIZE, P_SYSCTL_CONF = 7, 8, 12
P_NF_COUNT = 14

TARGETS = ["parse", "analyze", "bundle", "list", "xml", "save", "stats",
           "proc_stat", "sysctl", "uname", "meminfo", "count", "kmsg",
           "slabinfo", "kube_proxy"]


def sel(i):
    return bytes([0x30 + i])


def samples(src):
    """(relative name, bytes) of every sample file, sorted."""
    out = []
    root = os.path.join(src, "samples")
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out.append((os.path.relpath(p, root), fh.read()))
    return out


def path_for(base):
    """The path index a sample is read under, as by its file name."""
    if base == "hashsize":
        return P_HASHSIZE
    if base == "nf_conntrack_count":
        return P_NF_COUNT
    return P_DUMP


# which samples seed which per-format target, by file name
FORMAT_FILES = {
    "list": lambda b: b.startswith("conntrack_-L") and "xml" not in b
    and "save" not in b or b in ("proc_net_nf_conntrack", "conntrack.txt"),
    "xml": lambda b: b == "conntrack_-L_-o_xml",
    "save": lambda b: b == "conntrack_-L_-o_save",
    "stats": lambda b: b in ("conntrack_-S", "conntrack.txt"),
    "proc_stat": lambda b: b == "proc_net_stat_nf_conntrack",
    "sysctl": lambda b: b in ("sysctl_-a", "hashsize"),
    "uname": lambda b: b.startswith("uname"),
    "meminfo": lambda b: b == "meminfo",
    "count": lambda b: b in ("conntrack_-C", "nf_conntrack_count",
                             "hashsize"),
    "kmsg": lambda b: b.startswith(("dmesg", "journalctl")),
}


def put(out, target, name, data):
    d = os.path.join(out, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name.replace("/", "_")), "wb") as fh:
        fh.write(data)


def tar_bytes(members, mode="w"):
    """A tar of (name, bytes or a TarInfo-kind tuple), mtime 0, root."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.GNU_FORMAT) \
            as t:
        for name, what in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            data = None
            if isinstance(what, bytes):
                ti.size = len(what)
                data = io.BytesIO(what)
            elif what[0] == "dir":
                ti.type = tarfile.DIRTYPE
            elif what[0] == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, what[1]
            elif what[0] == "hard":
                ti.type, ti.linkname = tarfile.LNKTYPE, what[1]
            elif what[0] == "chr":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
            elif what[0] == "fifo":
                ti.type = tarfile.FIFOTYPE
            t.addfile(ti, data)
    return buf.getvalue()


def bundle_seeds(out, by_name):
    lab = lambda b: by_name["lab-6.18/" + b]
    # sysctl -a cut to the conntrack keys: a small seed mutates faster
    sysctl = b"".join(l for l in lab("sysctl_-a").splitlines(True)
                      if b"conntrack" in l or b"osrelease" in l)
    root = "sosreport-lab-2026-11-26-abcdef/"
    sos = [
        (root, ("dir",)),
        (root + "proc/meminfo", lab("meminfo")),
        (root + "proc/sys/net/netfilter/nf_conntrack_count",
         lab("nf_conntrack_count")),
        (root + "proc/sys/net/netfilter/nf_conntrack_max", b"262144\n"),
        (root + "sos_commands/conntrack/conntrack_-L_-o_extended",
         lab("conntrack_-L_-o_extended")),
        (root + "sos_commands/conntrack/conntrack_-S", lab("conntrack_-S")),
        (root + "sos_commands/conntrack/"
         "ip_netns_exec_ns1_conntrack_-L_-o_extended",
         lab("conntrack_-L_-o_extended")),
        (root + "sos_commands/kernel/sysctl_-a", sysctl),
        (root + "sos_commands/kernel/uname_-a", lab("uname_-a")),
        (root + "sos_commands/kernel/dmesg",
         by_name["kmsg/lab-6.18/after-flush/dmesg"]),
        (root + "sys/module/nf_conntrack/parameters/hashsize",
         lab("hashsize")),
        (root + "uname", ("sym", "sos_commands/kernel/uname_-a")),
    ]
    plain = [
        ("lab/conntrack_-L", lab("conntrack_-L")),
        ("lab/conntrack_-S", lab("conntrack_-S")),
        ("lab/uname_-a", lab("uname_-a")),
        ("lab/hashsize", lab("hashsize")),
    ]
    # what issue 9 says must be skipped: absolute and ".." paths, links,
    # devices; and a member in no known format
    hostile = [
        ("/etc/conntrack_-L", lab("conntrack_-L")),
        ("../../conntrack_-S", lab("conntrack_-S")),
        ("a/../../b", lab("uname_-a")),
        ("link", ("sym", "/etc/shadow")),
        ("hard", ("hard", "link")),
        ("null", ("chr",)),
        ("fifo", ("fifo",)),
        ("ok/conntrack_-L", lab("conntrack_-L")),
        ("ok/junk", b"\x00\x01binary\xff\n"),
    ]
    cl = lab("conntrack_-L")
    put(out, "bundle", "sos.tar.xz", lzma.compress(tar_bytes(sos)))
    put(out, "bundle", "sos.tar.gz", gzip.compress(tar_bytes(sos), mtime=0))
    put(out, "bundle", "plain.tar", tar_bytes(plain))
    put(out, "bundle", "plain.tar.bz2", bz2.compress(tar_bytes(plain)))
    put(out, "bundle", "hostile.tar", tar_bytes(hostile))
    put(out, "bundle", "conntrack_-L.gz", gzip.compress(cl, mtime=0))
    put(out, "bundle", "conntrack_-L.xz", lzma.compress(cl))
    put(out, "bundle", "conntrack_-L.bz2", bz2.compress(cl))
    put(out, "bundle", "conntrack_-L.lzma",
        lzma.compress(cl, format=lzma.FORMAT_ALONE))
    # a small bomb: 16 MiB of zeros, a few KiB compressed
    put(out, "bundle", "zeros.gz", gzip.compress(bytes(16 << 20), mtime=0))
    # zstd: not in Python's library; the zstd program where there is one
    if shutil.which("zstd"):
        z = subprocess.run(["zstd", "-q", "-c"], input=tar_bytes(plain),
                           stdout=subprocess.PIPE, check=True).stdout
        put(out, "bundle", "plain.tar.zst", z)


def main():
    src, out = sys.argv[1], sys.argv[2]
    for d in ("seeds", "work"):
        shutil.rmtree(os.path.join(out, d), ignore_errors=True)
    all_samples = samples(src)
    by_name = dict(all_samples)
    for name, data in all_samples:
        base = os.path.basename(name)
        for t in ("parse", "analyze"):
            put(out, t, name, sel(path_for(base)) + data)
        for t, wanted in FORMAT_FILES.items():
            if wanted(base):
                put(out, t, name, sel(path_for(base)) + data)
    # saved settings files, as the path-keyed formats see them
    put(out, "sysctl", "proc_sys_max", sel(P_MAX) + b"262144\n")
    put(out, "sysctl", "module_hashsize", sel(P_MODULE_HASHSIZE) +
        b"65536\n")
    put(out, "sysctl", "sysctl.conf", sel(P_SYSCTL_CONF) +
        b"# comment\n; other\n-net.netfilter.nf_conntrack_max=1048576\n")
    put(out, "count", "proc_sys_count", sel(P_COUNT_FILE) + b"36\n")
    # no sample holds these: the host fixtures of tests/cli/hosts do
    hosts = os.path.join(src, "tests", "cli", "hosts")
    # (kube-proxy's log is taken by its name in a bundle; the line
    # function reads any line, so the path does not matter here)
    for rel, t, p in (("sos-netns/proc/slabinfo", "slabinfo", P_DUMP),
                      ("eks-node/system/slabinfo.txt", "slabinfo", P_DUMP),
                      ("eks-node/var_log/kube-proxy.log", "kube_proxy",
                       P_DUMP)):
        with open(os.path.join(hosts, rel), "rb") as fh:
            put(out, t, rel, sel(p) + fh.read())
    put(out, "kube_proxy", "config", sel(P_NONE) +
        b"apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
        b"kind: KubeProxyConfiguration\nconntrack:\n  maxPerCore: 0\n"
        b"  min: null\n")
    bundle_seeds(out, by_name)
    for t in TARGETS:
        os.makedirs(os.path.join(out, "work", t), exist_ok=True)
        assert os.listdir(os.path.join(out, "seeds", t)), t


if __name__ == "__main__":
    main()
