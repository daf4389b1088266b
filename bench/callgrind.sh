#!/bin/sh
# The client's user-space instructions per record of `find | patch` at concurrency 8 against the sandbox without
# latency, counted by callgrind: a measure that does not drift with the machine's speed, recorded in
# docs/performance.md as a figure, not a target. Not part of `make bench`.
#
#   ./bench/callgrind.sh                 the release build in .build-release (built if missing)
#   ./bench/callgrind.sh PATH/TO/scimsh  another build (a release build, static or not)
#
# The sandbox runs outside valgrind, so only the client is counted. The job runs over 2,000 and over 4,000 users;
# the difference divided by 2,000 is one record's cost, without start-up and listing set-up. Repeated runs' totals
# agreed to about 0.2% and the per-record figure to about 1% (160.2k and 162.1k for one build of the old transport).
# The callgrind files are left in bench/results/callgrind/ for callgrind_annotate.
set -eu
cd "$(dirname "$0")/.."

./scripts/ensure-packages.sh valgrind:/usr/bin/valgrind
BIN=${1:-.build-release/release/scimsh}
if [ "$#" -eq 0 ] && [ ! -x "$BIN" ]; then
    swift build -c release --static-swift-stdlib --product scimsh --scratch-path .build-release >&2
fi
[ -x "$BIN" ] || { echo "callgrind.sh: no executable at $BIN" >&2; exit 2; }

OUT=bench/results/callgrind
mkdir -p "$OUT"
# valgrind cannot read the DWARF of a binary with the Swift runtime linked in; the symbol table is enough.
strip --strip-debug -o "$OUT/scimsh" "$BIN"

count() { # users -> instructions of the whole client run
    log="$OUT/sandbox-$1.log"
    "$OUT/scimsh" sandbox --port 0 --users "$1" --no-seed >"$log" 2>&1 &
    sb=$!
    host=""
    for _ in $(seq 100); do
        host=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 || true)
        [ -n "$host" ] && break
        sleep 0.1
    done
    [ -n "$host" ] || { kill "$sb"; echo "callgrind.sh: the sandbox did not start (see $log)" >&2; exit 1; }
    rm -f "$OUT/journal.jsonl"
    SCIMSH_HOST=$host SCIMSH_TOKEN=scimsh-sandbox-admin SCIMSH_JOURNAL="$OUT/journal.jsonl" \
        valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.$1" "$OUT/scimsh" \
        -c "set concurrency = 8; find | patch displayName=\"callgrind $1\"" >/dev/null 2>"$OUT/valgrind-$1.log"
    kill "$sb"
    wait "$sb" 2>/dev/null || true
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$OUT/valgrind-$1.log"
}

small=$(count 2000)
large=$(count 4000)
[ -n "$small" ] && [ -n "$large" ] || { echo "callgrind.sh: no count (see $OUT/valgrind-*.log)" >&2; exit 1; }
echo "client instructions: $small (2,000 users), $large (4,000 users)"
echo "per record: $(( (large - small) / 2000 ))"
