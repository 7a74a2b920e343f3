#!/usr/bin/env bash
# Times policy-site and Hugo on the same generated text, alternating runs in
# one go (the machine is shared: only ratios measured together mean much),
# and prints the median CPU time, peak memory, files and bytes of each.
#
#   scripts/compare-hugo.sh [POLICIES] [VERSIONS] [RUNS]    (default 10 100 5)
#
# 10 policies × 100 versions × 2 languages = 2,000 version-pages; pass 500
# versions for 10,000. Installs `time` and `hugo` with apt-get when missing.
set -euo pipefail

policies=${1:-10}
versions=${2:-100}
runs=${3:-5}
cd "$(dirname "$0")/.."

for tool in /usr/bin/time:time hugo:hugo; do
    if ! command -v "${tool%%:*}" >/dev/null; then
        echo "installing ${tool#*:}" >&2
        sudo=$([ "$(id -u)" = 0 ] || echo sudo)
        $sudo apt-get install -y "${tool#*:}" >/dev/null
    fi
done

# POLICY_SITE_BIN names a binary to time instead of building this checkout.
if [ -z "${POLICY_SITE_BIN:-}" ]; then
    cargo build --release --quiet
fi
bin=${POLICY_SITE_BIN:-${CARGO_TARGET_DIR:-target}/release/policy-site}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" corpus "$work/site" --policies "$policies" --versions "$versions" --hugo "$work/hugo"
pages=$((policies * versions * 2))
echo "corpus: $policies policies × $versions versions × 2 languages = $pages version-pages"

# One timed run: appends "cpu_seconds peak_kb wall_seconds" to $2.
measure() {
    local log=$work/time.log
    /usr/bin/time -v -o "$log" "${@:3}" >/dev/null
    awk -F': ' '
        /User time/ {u = $2} /System time/ {s = $2}
        /Maximum resident/ {m = $2}
        /Elapsed/ {n = split($2, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i]}
        END {printf "%.2f %d %.2f\n", u + s, m, w}' "$log" >>"$2"
    : "$1"
}

# Each run writes into a new folder, and none is deleted until the end: on
# ext4 without a journal (this machine's disk) a new file skips every inode
# freed in the last minute (six while the freed inodes are not yet written
# back), so deleting one run's output just before the next makes each later
# file creation scan past thousands of them, a cost that grows with the
# number of files rather than with the work. For the same reason the runs
# start once what was deleted before the script has aged: written back
# (`sync`), then a minute (SETTLE_SECONDS=0 skips the wait).
sync
sleep "${SETTLE_SECONDS:-61}"
for i in $(seq "$runs"); do
    measure ps "$work/ps.txt" "$bin" build --root "$work/site" --out "$work/out-$i" --quiet
    measure hugo "$work/hugo.txt" hugo --quiet -s "$work/hugo" -d "$work/hugo-public-$i"
    echo "run $i: policy-site $(tail -1 "$work/ps.txt"), hugo $(tail -1 "$work/hugo.txt") (cpu s, peak kB, wall s)"
done

median() { # column $2 of file $1
    cut -d' ' -f"$2" "$1" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
files() { find "$1" -name '*.html' | wc -l; }
bytes() { du -sb "$1" | cut -f1; }

ps_cpu=$(median "$work/ps.txt" 1) ps_mem=$(median "$work/ps.txt" 2) ps_wall=$(median "$work/ps.txt" 3)
hu_cpu=$(median "$work/hugo.txt" 1) hu_mem=$(median "$work/hugo.txt" 2) hu_wall=$(median "$work/hugo.txt" 3)
ps_bytes=$(bytes "$work/out-$runs") hu_bytes=$(bytes "$work/hugo-public-$runs")
echo
printf '%-12s %9s %10s %9s %11s %14s\n' "" "CPU s" "peak MB" "wall s" "HTML files" "output MB"
printf '%-12s %9.2f %10.0f %9.2f %11d %14d\n' policy-site "$ps_cpu" "$((ps_mem / 1024))" "$ps_wall" "$(files "$work/out-$runs")" "$((ps_bytes / 1048576))"
printf '%-12s %9.2f %10.0f %9.2f %11d %14d\n' hugo "$hu_cpu" "$((hu_mem / 1024))" "$hu_wall" "$(files "$work/hugo-public-$runs")" "$((hu_bytes / 1048576))"
awk -v a="$ps_cpu" -v b="$hu_cpu" -v c="$ps_mem" -v d="$hu_mem" -v e="$ps_bytes" -v f="$hu_bytes" -v p="$pages" 'BEGIN {
    printf "ratios policy-site / hugo: CPU %.2f×, peak memory %.2f×, output bytes %.2f×\n", a / b, c / d, e / f
    printf "per version-page: policy-site %.2f ms CPU, hugo %.2f ms CPU\n", a / p * 1000, b / p * 1000
}'
