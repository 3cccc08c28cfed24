#!/usr/bin/env python3
"""Check ctplan's JSON report against docs/report.md.

usage: check_report.py DOCS REPORT.json CTPLAN SRC

1. Every key the docs' tables document ("| `key` | ... |" rows of tables
   whose first column is "key") exists in the report, at the path of the
   section it is documented in, whenever the report has that section.
2. Every top-level key of the report is documented in "## Top level".
3. `schema` is the version the docs name.
4. The docs' examples: each ```json block after a `ctplan analyze ...`
   command line is compared with what that command prints today: every
   section the example shows (but findings, which other models add to)
   must be equal, key for key and value for value.

Exits 1 with one line per mismatch.
"""
import json
import re
import shlex
import subprocess
import sys


def doc_keys(text):
    """{(path tuple): {key: required}} from the docs' key tables."""
    keys = {}
    path = None
    header_is_key = False
    in_table = False
    for line in text.splitlines():
        m = re.match(r"^## (.*)$", line)
        if m:
            title = m.group(1).strip()
            if title == "Top level":
                path = ()
            else:
                t = re.fullmatch(r"`(\w+)(\[\])?`", title)
                path = ((t.group(1), "[]") if t.group(2) else
                        (t.group(1),)) if t else None
            in_table = False
            continue
        # "`remaps[]`:" introduces a table of an array's items
        m = re.match(r"^`(\w+)\[\]`:\s*$", line)
        if m and path:
            path = (path[0], m.group(1), "[]")
            in_table = False
            continue
        if path is None:
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not in_table:
                in_table = True
                header_is_key = cells[0] == "key"
                continue
            if not header_is_key or set(cells[0]) <= set("-: "):
                continue
            # a key documented as conditional is not required
            optional = re.search(r"\babsent\b|\bonly when\b",
                                 " ".join(cells[1:]))
            for k in re.findall(r"`(\w+)(?:\[\])?`", cells[0]):
                keys.setdefault(path, {})[k] = not optional
        else:
            in_table = False
    return keys


def at(report, path):
    """The objects at path ("[]" fans out over an array), or []."""
    objs = [report]
    for p in path:
        nxt = []
        for o in objs:
            if p == "[]":
                nxt.extend(x for x in (o or []) if isinstance(x, dict))
            elif isinstance(o, dict) and isinstance(o.get(p), (dict, list)):
                nxt.append(o[p])
        objs = nxt
    return [o for o in objs if isinstance(o, dict)]


def examples(text):
    """(command, json) for every json block after a ctplan command."""
    out = []
    cmd = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^`(ctplan analyze [^`]*)`", lines[i])
        if m:
            cmd = m.group(1)
        if lines[i].strip() == "```json" and cmd:
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            out.append((cmd, json.loads("\n".join(lines[i + 1:j]))))
            cmd = None
            i = j
        i += 1
    return out


def main():
    docs, report_path, ctplan, src = sys.argv[1:5]
    text = open(docs, encoding="utf-8").read()
    report = json.load(open(report_path, encoding="utf-8"))
    fails = []
    checked = 0

    keys = doc_keys(text)
    for path, ks in sorted(keys.items()):
        objs = at(report, path)
        for o in objs:
            for k in sorted(ks):
                checked += 1
                if k not in o and ks[k]:
                    fails.append("documented key %s missing from the "
                                 "report" % ".".join(path + (k,)))
        if not objs and path:
            print("note: the report has no %s: its keys not checked"
                  % ".".join(path))
    for k in report:
        if k not in keys.get((), ()):
            fails.append("top-level key %r is not documented in "
                         "'## Top level'" % k)
    m = re.search(r"`schema` names\s+the version \(`([^`]+)`\)", text)
    if not m or report.get("schema") != m.group(1):
        fails.append("schema %r differs from the docs' %r" %
                     (report.get("schema"), m and m.group(1)))

    exs = examples(text)
    if not exs:
        fails.append("docs/report.md has no example to check")
    for cmd, ex in exs:
        argv = shlex.split(cmd)
        argv[0] = ctplan
        got = json.loads(subprocess.run(argv + ["-q"], cwd=src, check=True,
                                        capture_output=True).stdout)
        for k, v in ex.items():
            if k == "findings":
                continue
            checked += 1
            if got.get(k) != v:
                fails.append("example of '%s': section %r differs:\n"
                             "  docs: %s\n  real: %s" %
                             (cmd, k, json.dumps(v, sort_keys=True),
                              json.dumps(got.get(k), sort_keys=True)))
    for f in fails:
        print("FAIL:", f)
    print("check_report: %d checks, %d failed" % (checked, len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
