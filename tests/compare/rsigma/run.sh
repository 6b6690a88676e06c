#!/usr/bin/env bash
# dumpwatch vs rsigma on the same Sysmon JSON stream: throughput, peak memory
# and detections of a three-leg temporal chain.  See README.md beside this file.
#
#   tests/compare/rsigma/run.sh [--events N] [--runs N] [--work DIR]
#                               [--rsigma-root DIR] [--dumpwatch BIN] [--no-bloom]
#
# --events N        events in the generated stream (default 1000000)
# --runs N          timed rounds (default 3); every round runs each engine once,
#                   the order rotating between rounds
# --work DIR        data, outputs and results (default /tmp/dwcmp); the stream
#                   is reused when it is already there with the same size
# --rsigma-root D   where rsigma is (or gets) installed (default /tmp/rsigma);
#                   its build directory is D-target, never the repository's
# --dumpwatch BIN   dumpwatch binary (default: target/release/dumpwatch of this
#                   repository, built with `cargo build --release -p dumpwatch`
#                   when missing); it is copied into --work so a concurrent
#                   rebuild cannot change it halfway
# --no-bloom        skip the extra rsigma run with --bloom-prefilter
#
# Needs: cargo (to install rsigma), python3, /usr/bin/time; hyperfine when
# present (apt-get install hyperfine), else a plain timing loop.
set -euo pipefail

RSIGMA_VERSION=0.23.0
EVENTS=1000000
RUNS=3
WORK=/tmp/dwcmp
RSIGMA_ROOT=/tmp/rsigma
DUMPWATCH=
BLOOM=1

while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --rsigma-root) RSIGMA_ROOT=$2; shift 2 ;;
    --dumpwatch) DUMPWATCH=$2; shift 2 ;;
    --no-bloom) BLOOM=0; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
RULES=$HERE/rules
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
say() { printf '== %s\n' "$*" >&2; }

# ---------------------------------------------------------------- rsigma
RSIGMA=$RSIGMA_ROOT/bin/rsigma
if ! [ -x "$RSIGMA" ] || ! "$RSIGMA" --version 2>/dev/null | grep -q "rsigma $RSIGMA_VERSION"; then
  say "installing rsigma $RSIGMA_VERSION into $RSIGMA_ROOT (build dir $RSIGMA_ROOT-target)"
  CARGO_TARGET_DIR="$RSIGMA_ROOT-target" nice -n 10 \
    cargo install rsigma --version "$RSIGMA_VERSION" --locked --root "$RSIGMA_ROOT"
fi

# ------------------------------------------------------------- dumpwatch
if [ -z "$DUMPWATCH" ]; then
  DUMPWATCH=$REPO/target/release/dumpwatch
  if ! [ -x "$DUMPWATCH" ]; then
    say "building dumpwatch (release)"
    (cd "$REPO" && nice -n 10 cargo build --release -p dumpwatch)
  fi
fi
cp "$DUMPWATCH" "$WORK/dumpwatch.bin"
DW=$WORK/dumpwatch.bin

# ------------------------------------------------------------------ data
DATA=$WORK/sysmon-$EVENTS.jsonl
TRUTH=$WORK/sysmon-$EVENTS.truth.json
if ! [ -s "$DATA" ] || ! [ -s "$TRUTH" ] || [ "$(wc -l < "$DATA")" -ne "$EVENTS" ]; then
  say "generating $EVENTS events into $DATA"
  python3 "$HERE/gen.py" --events "$EVENTS" --out "$DATA" --truth "$TRUTH"
fi
LINES=$(wc -l < "$DATA")
BYTES=$(stat -c %s "$DATA")

say "checking that dumpwatch normalizes every line"
"$DW" normalize --format windows-json "$DATA" > /dev/null 2> "$WORK/normalize.err"
cat "$WORK/normalize.err" >&2
if ! grep -q "total: $LINES normalized, 0 skipped, 0 errors" "$WORK/normalize.err"; then
  echo "dumpwatch did not normalize every line of $DATA cleanly" >&2
  exit 1
fi

# --------------------------------------------------------------- commands
# Each command writes its detections to WORK and its peak RSS (KB) to a file.
declare -a NAMES CMDS
add() { NAMES+=("$1"); CMDS+=("/usr/bin/time -f %M -a -o $WORK/rss.$1 $2"); }
add rsigma "$RSIGMA engine eval -r $RULES -p sysmon --timestamp-field UtcTime --no-detections --input-format json -e @$DATA > $WORK/out.rsigma.ndjson 2> $WORK/err.rsigma"
if [ "$BLOOM" = 1 ]; then
  add rsigma-bloom "$RSIGMA engine eval -r $RULES -p sysmon --timestamp-field UtcTime --no-detections --input-format json --bloom-prefilter -e @$DATA > $WORK/out.rsigma-bloom.ndjson 2> $WORK/err.rsigma-bloom"
fi
add dumpwatch "$DW replay --format windows-json $DATA > $WORK/out.dumpwatch.ndjson 2> $WORK/err.dumpwatch"
N=${#NAMES[@]}

rm -f "$WORK"/rss.* "$WORK"/round-*.json "$WORK"/times.tsv
say "warm-up: one untimed run of each (page cache)"
for i in $(seq 0 $((N - 1))); do bash -c "${CMDS[$i]}"; done
rm -f "$WORK"/rss.*

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$RUNS"); do
  # rotate the order each round
  order=()
  for j in $(seq 0 $((N - 1))); do order+=($(( (j + r - 1) % N ))); done
  say "round $r/$RUNS: $(for i in "${order[@]}"; do printf '%s ' "${NAMES[$i]}"; done)"
  if command -v hyperfine > /dev/null; then
    args=()
    for i in "${order[@]}"; do args+=(-n "${NAMES[$i]}" "${CMDS[$i]}"); done
    hyperfine --runs 1 --style basic --export-json "$WORK/round-$r.json" "${args[@]}" >&2
    python3 - "$WORK/round-$r.json" >> "$WORK/times.tsv" <<'EOF'
import json, sys
for res in json.load(open(sys.argv[1]))["results"]:
    print("%s\t%.4f\t%.4f\t%.4f" % (res["command"], res["times"][0], res["user"], res["system"]))
EOF
  else
    for i in "${order[@]}"; do
      /usr/bin/time -f "${NAMES[$i]}\t%e\t%U\t%S" -a -o "$WORK/times.tsv" bash -c "${CMDS[$i]}"
    done
  fi
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
say "scoring detections"
python3 "$HERE/score.py" "$TRUTH" "$WORK/out.rsigma.ndjson" "$WORK/out.dumpwatch.ndjson" \
  --json "$WORK/score.json" > "$WORK/score.txt"

python3 - "$WORK" "$LINES" "$BYTES" "${NAMES[@]}" <<'EOF' > "$WORK/results.txt"
import json, statistics, sys
work, lines, size, names = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
rows = {}
for line in open(work + "/times.tsv"):
    name, wall, user, sys_ = line.rstrip("\n").split("\t")
    rows.setdefault(name, []).append((float(wall), float(user) + float(sys_)))
score = json.load(open(work + "/score.json"))
def det(name):
    s = score["rsigma" if name.startswith("rsigma") else "dumpwatch"]
    if name == "rsigma-bloom":
        return "(same rules, see rsigma)"
    near = sum(v for k, v in s["by_kind"].items() if k != "chain")
    return "%d/%d chains, %d near misses, %d other" % (
        s["by_kind"]["chain"], score["planted"]["chain"], near, len(s["unattributed"]))
eps = {}
print("%-13s %9s %9s %11s %8s %9s %6s %9s  %s" % (
    "engine", "median s", "min s", "events/s", "MB/s", "cpu s", "cpu%", "peak RSS", "detections"))
for name in names:
    walls = [w for w, _ in rows[name]]
    cpus = [c for _, c in rows[name]]
    med = statistics.median(walls)
    cpu = statistics.median(cpus)
    eps[name] = lines / med
    rss = max(int(x) for x in open("%s/rss.%s" % (work, name)).read().split())
    print("%-13s %9.2f %9.2f %11.0f %8.1f %9.2f %5.0f%% %6.1f MB  %s" % (
        name, med, min(walls), eps[name], size / med / 1e6, cpu, 100 * cpu / med, rss / 1024, det(name)))
best = max(v for k, v in eps.items() if k.startswith("rsigma"))
print()
print("dumpwatch / rsigma events/s: %.2fx (vs plain rsigma %.2fx)" % (
    eps["dumpwatch"] / best, eps["dumpwatch"] / eps["rsigma"]))
print("runs per engine: %d (median reported); events: %d; input: %.1f MB" % (
    len(rows["dumpwatch"]), lines, size / 1e6))
EOF

{
  echo
  echo "dumpwatch vs rsigma $RSIGMA_VERSION — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "load average before/after the timed rounds: $LOAD_BEFORE / $LOAD_AFTER"
  echo "dumpwatch: $DUMPWATCH (sha256 $(sha256sum "$DW" | cut -c1-16)); repository at $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$( [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ] && echo ' (with uncommitted changes)')"
  echo "rsigma: $("$RSIGMA" --version | head -1)"
  echo
  cat "$WORK/results.txt"
  echo
  cat "$WORK/score.txt"
} | tee "$WORK/report.txt"
