# Sourced by the single-core HTTP benchmarks (bench-keys.sh, bench-logging.sh) after
# prepare.sh: wrk on CPU 1 against the server in SERVER_PID.
#   calc "1 / 3" [decimals]          arithmetic with awk
#   measure NAME [wrk arguments…]    one scenario → R_REQUESTS R_RPS R_P99 R_ERR R_CPU
#                                    (R_CPU: the server's CPU milliseconds per request)
#   with_report SCRIPT.lua           the scenario script with report.lua appended
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
HZ="$(getconf CLK_TCK)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

measure() {
    local name="$1"; shift
    local before line
    before="$(cpu_ticks)"
    taskset -c 1 wrk --latency -t1 -c"$CONNECTIONS" -d"$DURATION" "$@" >"$WORK/$name.out" 2>&1
    line="$(grep '^BENCH ' "$WORK/$name.out" | tail -n 1)"
    R_REQUESTS="$(echo "$line" | sed -E 's/.*requests=([0-9]+).*/\1/')"
    R_RPS="$(echo "$line" | sed -E 's/.*requests=([0-9]+) seconds=([0-9.]+).*/\1 \2/' | awk '{printf "%.1f", $1 / $2}')"
    R_P99="$(echo "$line" | sed -E 's/.*p99_ms=([0-9.]+).*/\1/')"
    R_ERR="$(echo "$line" | sed -E 's/.*errors=([0-9]+).*/\1/')"
    R_CPU="$(calc "1000 * ($(cpu_ticks) - $before) / $HZ / ($R_REQUESTS > 0 ? $R_REQUESTS : 1)" 4)"
}

with_report() {
    local out="$WORK/$(basename "$1" .lua)-report.lua"
    cat "$1" "$SCRIPTS/report.lua" >"$out"
    echo "$out"
}
