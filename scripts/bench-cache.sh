#!/usr/bin/env bash
# `rex image REPO` on a repository with 1,200 tags (1,000 distinct digests) against a
# real docker-registry: cold cache (emptied before every run) versus warm cache (the
# tag list, the tag -> digest snapshot, every manifest and config on disk).
#
#   scripts/bench-cache.sh
#
# Acceptance: warm at least 50x faster than cold (mean wall time).
#
# Env: RUNS (default 10), WARMUP (2), CARGO_TARGET_DIR (where things are built),
#      REX_BIN / FIXTURE_BIN to use prebuilt binaries,
#      REX_BENCH_URL + REX_BENCH_REPO to use a registry already holding the large set.
# The registry comes from plugins/image/examples/bench_fixture.rs (shared with
# scripts/bench-image.sh).
set -euo pipefail

RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

for tool in hyperfine jq cargo bc; do
    command -v "$tool" >/dev/null || { echo "bench-cache: $tool is required" >&2; exit 2; }
done

if [[ -z "${REX_BIN:-}" || ( -z "${FIXTURE_BIN:-}" && -z "${REX_BENCH_URL:-}" ) ]]; then
    echo "building rex and bench_fixture (release)..." >&2
    (cd "$ROOT" && cargo build --quiet --release -p rex-cli \
        && cargo build --quiet --release -p rex-plugin-image --example bench_fixture)
fi
REX=${REX_BIN:-$TARGET/release/rex}
FIXTURE=${FIXTURE_BIN:-$TARGET/release/examples/bench_fixture}

BENCH_NAME=bench-cache
# shellcheck source=lib/bench-fixture.sh
source "$ROOT/scripts/lib/bench-fixture.sh"
start_large_fixture

# Isolated rex: a fresh HOME; the cache directory is named explicitly.
export HOME=$TMP/home XDG_CONFIG_HOME=$TMP/home/.config XDG_CACHE_HOME=$TMP/home/.cache
mkdir -p "$HOME"
CACHE=$TMP/cache
REXCMD="$REX --cache-dir $CACHE -r $URL image $REPO -f json"

# Same answer cold and warm.
rm -rf "$CACHE"
cold_out=$($REXCMD | jq -S .)
warm_out=$($REXCMD | jq -S .)
[[ "$cold_out" == "$warm_out" ]] || { echo "bench-cache: warm output differs from cold" >&2; exit 1; }
echo "tags: $(jq '.tags | length' <<<"$cold_out")" >&2

echo "$(hyperfine --version), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -i --style basic --warmup "$WARMUP" --runs "$RUNS" --export-json "$TMP/cold.json" \
    --prepare "rm -rf $CACHE" -n cold "$REXCMD > /dev/null" >&2
$REXCMD > /dev/null
hyperfine -i --style basic --warmup "$WARMUP" --runs "$RUNS" --export-json "$TMP/warm.json" \
    -n warm "$REXCMD > /dev/null" >&2

cold=$(jq '.results[0].mean' "$TMP/cold.json")
warm=$(jq '.results[0].mean' "$TMP/warm.json")
cold_min=$(jq '.results[0].min' "$TMP/cold.json")
warm_min=$(jq '.results[0].min' "$TMP/warm.json")
ratio=$(echo "$cold / $warm" | bc -l)
ratio_min=$(echo "$cold_min / $warm_min" | bc -l)
printf 'cold mean %.3f s (min %.3f)\n' "$cold" "$cold_min"
printf 'warm mean %.4f s (min %.4f)\n' "$warm" "$warm_min"
printf 'speed-up cold/warm: mean %.1fx, min %.1fx (target >= 50)\n' "$ratio" "$ratio_min"
(( $(echo "$ratio >= 50" | bc -l) )) && echo "PASS" || { echo "FAIL"; exit 1; }
