#!/usr/bin/env bash
# Whole-process fuzzy search benchmark: rex vs `fzf --filter` on 100,000 names.
#
#   scripts/bench-search.sh [BENCH_DIR]      (default: /work/shared/bench/search)
#
# BENCH_DIR holds corpus100k.txt.xz, corpus100k.md5 and queries.txt. For every query,
# hyperfine times, each reading the corpus from stdin and printing ranked results:
#   fzf       fzf --filter Q                   (every match, fully sorted)
#   rex-all   search_bench --all Q -           (the same work: every match, fully ranked)
#   rex-cli   search_bench Q -                 (what `rex search image Q` does: >= 50 %
#                                               accuracy, best 50, highlight indices)
# and prints per-query wall-clock means, the ratios rex/fzf, and their geometric means.
# User+system CPU ratios are printed too: on a shared, loaded machine they are steadier
# than wall time.
#
# Env: RUNS (default 20), WARMUP (3), CARGO_TARGET_DIR (where the example is built),
#      KEEP=1 keeps the temp dir (hyperfine JSON per query),
#      REX_BENCH_BIN=<path> uses an already built search_bench instead of building it.
set -euo pipefail

BENCH_DIR=${1:-/work/shared/bench/search}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

for tool in fzf hyperfine xz md5sum jq cargo; do
    command -v "$tool" >/dev/null || { echo "bench-search: $tool is required" >&2; exit 2; }
done

TMP=$(mktemp -d)
if [[ "${KEEP:-0}" != 1 ]]; then trap 'rm -rf "$TMP"' EXIT; else echo "results kept in $TMP"; fi

# Unpack into the temp dir and check the md5 so every run times the same bytes.
cp "$BENCH_DIR/corpus100k.txt.xz" "$BENCH_DIR/corpus100k.md5" "$TMP/"
(cd "$TMP" && xz -dk corpus100k.txt.xz && md5sum --quiet -c corpus100k.md5)
CORPUS="$TMP/corpus100k.txt"

if [[ -n "${REX_BENCH_BIN:-}" ]]; then
    REX=$REX_BENCH_BIN
else
    echo "building search_bench (release)..." >&2
    (cd "$ROOT" && cargo build --quiet --release -p rex-core --example search_bench)
    REX="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/search_bench"
fi
[[ -x "$REX" ]] || { echo "bench-search: $REX not built" >&2; exit 2; }

echo "fzf $(fzf --version | cut -d' ' -f1), $(hyperfine --version), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-18s %7s %7s %8s %8s %8s  %9s %9s  %9s %9s\n' query n_fzf n_rex fzf_ms all_ms cli_ms all/fzf cli/fzf cpu_all cpu_cli
ratios=()
i=0
while IFS= read -r q || [[ -n "$q" ]]; do
    [[ -z "$q" ]] && continue
    i=$((i + 1))
    qs=$(printf '%q' "$q")
    json="$TMP/q$i.json"
    # hyperfine's warnings (outliers on a busy machine) would break the table: keep them
    # in a file and show them only if it fails.
    if ! hyperfine -i --style none --warmup "$WARMUP" --runs "$RUNS" --export-json "$json" \
        -n fzf "fzf --filter $qs < $CORPUS > /dev/null" \
        -n rex-all "$REX --all $qs - < $CORPUS > /dev/null" \
        -n rex-cli "$REX $qs - < $CORPUS > /dev/null" >/dev/null 2>"$TMP/q$i.err"; then
        cat "$TMP/q$i.err" >&2
        exit 1
    fi
    read -r f a c fc ac cc < <(jq -r '[.results[] | .mean * 1000] + [.results[] | (.user + .system) * 1000] | map(tostring) | join(" ")' "$json")
    # Like for like: rex --all must print as many matches as fzf.
    # (fzf exits 1 when nothing matches.)
    n_fzf=$( (fzf --filter "$q" < "$CORPUS" || true) | wc -l)
    n_rex=$("$REX" --all "$q" - < "$CORPUS" | wc -l)
    line=$(awk -v nf="$n_fzf" -v nr="$n_rex" -v q="$q" -v f="$f" -v a="$a" -v c="$c" -v fc="$fc" -v ac="$ac" -v cc="$cc" \
        'BEGIN { printf "%-18s %7d %7d %8.1f %8.1f %8.1f  %9.3f %9.3f  %9.3f %9.3f", q, nf, nr, f, a, c, a/f, c/f, ac/fc, cc/fc }')
    echo "$line"
    ratios+=("$(awk -v f="$f" -v a="$a" -v c="$c" -v fc="$fc" -v ac="$ac" -v cc="$cc" 'BEGIN { print a/f, c/f, ac/fc, cc/fc }')")
done < "$BENCH_DIR/queries.txt"

printf '%s\n' "${ratios[@]}" | awk '
    { for (k = 1; k <= 4; k++) { s[k] += log($k); if ($k > m[k]) m[k] = $k } n++ }
    END {
        printf "geomean ratio  all/fzf %.3f  cli/fzf %.3f   (cpu: all %.3f  cli %.3f)\n", exp(s[1]/n), exp(s[2]/n), exp(s[3]/n), exp(s[4]/n)
        printf "worst ratio    all/fzf %.3f  cli/fzf %.3f   (cpu: all %.3f  cli %.3f)\n", m[1], m[2], m[3], m[4]
        if (m[1] <= 0.5 && m[2] <= 0.5) print "PASS: every query at most half of fzf'"'"'s wall time"
        else print "NOTE: some query above half of fzf'"'"'s wall time"
    }'
