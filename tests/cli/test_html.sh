#!/usr/bin/env bash
# The HTML report in a real browser: headless Chromium (Debian's chromium
# package; scripts/setup.sh installs it) parses the page with its
# content policy (no script, nothing fetched), and
#  - its DOM (--dump-dom) holds every chart with the bars the report's
#    figures call for;
#  - its screenshot shows each chart's colour, in the page's order:
#    headroom, entries by protocol, by state, hash chains (now, at max,
#    the 8 line), NAT groups.
# Skips (77) where chromium is not installed.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src" || exit 1

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "SKIP: chromium not installed (Debian package 'chromium'; scripts/setup.sh installs it)"
	exit 77
fi


"$ctplan" analyze -q --keys 2 --format html -o "$tmp/r.html" samples/lab-6.18 || fail "html run"
"$ctplan" analyze -q --keys 2 --format json samples/lab-6.18 >"$tmp/r.json" || fail "json run"

# no network, no profile, no first-run work: the page alone
run_browser() {
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$tmp/profile" --hide-scrollbars "$@" \
		"file://$tmp/r.html" 2>>"$tmp/browser.log"
}

run_browser --dump-dom >"$tmp/dom.html" || fail "chromium --dump-dom"
python3 - "$tmp/dom.html" "$tmp/r.json" <<'EOF' || fail "charts in the browser's DOM"
import json, re, sys
from html.parser import HTMLParser

d = json.load(open(sys.argv[2]))

class Charts(HTMLParser):
    """rects, lines and polylines inside each svg, by chart class"""
    def __init__(self):
        super().__init__()
        self.chart = None
        self.found = {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            m = re.search(r"chart-(\w+)", a.get("class", ""))
            self.chart = m.group(1) if m else None
            if self.chart:
                self.found.setdefault(self.chart, [])
        elif self.chart and tag in ("rect", "line", "polyline"):
            self.found[self.chart].append((tag, a))
    def handle_endtag(self, tag):
        if tag == "svg":
            self.chart = None

p = Charts()
p.feed(open(sys.argv[1]).read())
f = p.found
for c in ("headroom", "protocol", "state", "hist", "nat"):
    assert c in f, "no %s chart in the DOM: %s" % (c, sorted(f))

def bars(chart, cls=None):
    return [a for t, a in f[chart] if t == "rect" and "bar" in a.get("class", "")
            and (cls is None or cls in a.get("class", "").split())]

e = d["entries"]
assert len(bars("protocol")) == len(e["by_protocol"]), bars("protocol")
assert len(bars("state")) == len(e["by_state"])
# the longest bar is the largest count
w = {float(a["width"]) for a in bars("protocol")}
assert max(w) > 100, w
hist = d["hash"]["at_max"]["histogram"]
assert len(bars("hist", "atmax")) >= len(hist) - 1, len(bars("hist", "atmax"))
assert len(bars("hist", "now")) == len(bars("hist", "atmax"))
nonzero_now = [a for a in bars("hist", "now") if float(a["height"]) > 0]
assert len(nonzero_now) == 1, "now: every entry in a chain of 1"
assert any(t == "line" and "rule8" in a.get("class", "") for t, a in f["hist"])
assert any(t == "polyline" for t, a in f["hist"]), "no Poisson line"
used = [a for t, a in f["headroom"] if a.get("class") == "used"]
free = [a for t, a in f["headroom"] if a.get("class") == "free"]
assert used and free and float(free[0]["width"]) > 800, (used, free)
assert len(bars("nat")) == min(20, d["nat"]["group_count"]), len(bars("nat"))
print("dom: charts and bars present")
EOF

run_browser --window-size=960,3600 --screenshot="$tmp/r.png" >/dev/null ||
	fail "chromium --screenshot"
if [ -s "$tmp/r.png" ]; then
	# colours of render/html.c
	python3 tests/cli/png_colors.py "$tmp/r.png" free=c7e9c0 proto=8c564b \
		state=17becf now=1f77b4 atmax=ff7f0e rule=d62728 nat=9467bd \
		>"$tmp/colors" || fail "decoding the screenshot"
	cat "$tmp/colors"
	python3 - "$tmp/colors" <<'EOF' || fail "charts on screen"
import sys
rows = {}
for line in open(sys.argv[1]):
    p = line.split()
    rows[p[0]] = [int(x) for x in p[1:]]
assert rows["distinct"][0] > 50, "a blank page"
order = ["free", "proto", "state", "now", "nat"]
for c in order + ["atmax", "rule"]:
    assert rows[c][0] >= 100, "colour of %s not on screen: %s" % (c, rows[c])
# each chart below the one before it
for a, b in zip(order, order[1:]):
    assert rows[a][2] < rows[b][1], "%s not above %s" % (a, b)
# at-max bars and the 8 line are in the chain chart
assert rows["atmax"][1] >= rows["now"][1] - 300 and rows["atmax"][2] < rows["nat"][1]
assert rows["rule"][1] < rows["now"][2] and rows["rule"][2] > rows["now"][1]
print("screenshot: every chart on screen, in order")
EOF
else
	fail "no screenshot written: $(tail -3 "$tmp/browser.log")"
fi

finish "html: all checks passed"
