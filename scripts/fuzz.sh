#!/bin/sh
# Runs each libFuzzer harness of fuzz/ for SECONDS (docs/reliability.md), after `make fuzz` built them.
# Usage: scripts/fuzz.sh SECONDS [TARGET...]; TARGET is a folder of fuzz/ (json, filter, script, completion,
# records, retry-after), all by default.
# Each run starts from the committed seeds (fuzz/TARGET/corpus) and the inputs earlier runs found
# (.build-fuzz/corpus/TARGET, kept out of git), with the dictionary fuzz/TARGET.dict. A crash, a failed check, a
# leak, an input slower than 10 s or a process over 2 GB is a finding: libFuzzer writes the input to
# .build-fuzz/findings/TARGET-*, and this script exits 1 after running the others. A line per target says how many
# inputs ran and how much coverage they reached.
set -u
cd "$(dirname "$0")/.."
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-json filter script completion records retry-after}
bin=${FUZZ_BIN:-.build-fuzz/debug}
# The Swift backtracer hangs under libFuzzer; libFuzzer and ASan report crashes themselves.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p .build-fuzz/findings
status=0
summary=""
for target in $targets; do
    case $target in
    json) product=FuzzJSON ;;
    filter) product=FuzzFilter ;;
    script) product=FuzzScript ;;
    completion) product=FuzzCompletion ;;
    records) product=FuzzRecords ;;
    retry-after) product=FuzzRetryAfter ;;
    *) echo "fuzz: unknown target $target" >&2; exit 2 ;;
    esac
    [ -x "$bin/$product" ] || { echo "fuzz: $bin/$product is not built (run make fuzz)" >&2; exit 2; }
    mkdir -p ".build-fuzz/corpus/$target"
    log="$work/$target.log"
    echo "fuzz: $target for ${seconds}s"
    TMPDIR=$work "$bin/$product" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 -dict="fuzz/$target.dict" -artifact_prefix=".build-fuzz/findings/$target-" \
        ".build-fuzz/corpus/$target" "fuzz/$target/corpus" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | sed 's/cov: //')
    if [ $rc -ne 0 ]; then
        status=1
        tail -40 "$log" >&2
        line="$target: FAILED (exit $rc) after ${runs:-?} inputs; the input is in .build-fuzz/findings/"
    else
        line="$target: ${runs:-?} inputs in ${seconds}s (${rate:-?}/s), coverage ${cov:-?} edges, no finding"
    fi
    echo "fuzz: $line"
    summary="$summary$line
"
done
printf '\nfuzz summary:\n%s' "$summary"
exit $status
