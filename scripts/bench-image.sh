#!/usr/bin/env bash
# `rex image REPO` on a repository with 1,200 tags (1,000 distinct digests) against a
# real docker-registry, cold (no cache), versus a minimal concurrent client doing the
# same requests (tags/list, manifest per tag, config per distinct digest, 16 in flight):
# plugins/image/examples/baseline_client.rs. Also the peak RSS of the rex run.
#
#   scripts/bench-image.sh
#
# Acceptance: rex/baseline median wall-time ratio <= 1.1, and max RSS < 50 MB.
#
# Env: RUNS (default 10), WARMUP (2), CARGO_TARGET_DIR (where things are built),
#      REX_BIN / BASELINE_BIN / FIXTURE_BIN to use prebuilt binaries,
#      REX_BENCH_URL + REX_BENCH_REPO to use a registry already holding the large set.
set -euo pipefail

RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

for tool in jq bc cargo /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench-image: $tool is required" >&2; exit 2; }
done

if [[ -z "${REX_BIN:-}" || -z "${BASELINE_BIN:-}" || ( -z "${FIXTURE_BIN:-}" && -z "${REX_BENCH_URL:-}" ) ]]; then
    echo "building rex, baseline_client and bench_fixture (release)..." >&2
    (cd "$ROOT" && cargo build --quiet --release -p rex-cli \
        && cargo build --quiet --release -p rex-plugin-image --example baseline_client --example bench_fixture)
fi
REX=${REX_BIN:-$TARGET/release/rex}
BASELINE=${BASELINE_BIN:-$TARGET/release/examples/baseline_client}
FIXTURE=${FIXTURE_BIN:-$TARGET/release/examples/bench_fixture}

BENCH_NAME=bench-image
# shellcheck source=lib/bench-fixture.sh
source "$ROOT/scripts/lib/bench-fixture.sh"
start_large_fixture

# Isolated rex with a cold cache: a fresh HOME and a new, empty cache dir for every run
# (--no-cache alone still serves immutable manifests/configs from the cache; it only
# makes tag resolution strongly consistent). The cache is written as in real use.
# The dirs are new rather than emptied: on ext4, creating files shortly after deleting
# thousands makes every create scan the recently deleted inodes (kernel
# `recently_deleted`), which a user's first run does not pay; they are removed at the end.
export HOME=$TMP/home XDG_CONFIG_HOME=$TMP/home/.config XDG_CACHE_HOME=$TMP/home/.cache
mkdir -p "$HOME"
CACHES=$TMP/caches
mkdir -p "$CACHES"
CACHE='$(mktemp -d -p '"$CACHES"')'
# The same without the cache layer at all: the network path alone (plugin + facade).
printf '[cache]\nenabled = false\n' > "$TMP/cache-off.toml"
REXCMD="$REX --no-cache --cache-dir $CACHE -r $URL image $REPO -f json"

# Same answer first: both see every tag.
n_rex=$(eval "$REXCMD" | jq '.tags | length')
n_base=$("$BASELINE" "$URL" "$REPO" | cut -d' ' -f1)
echo "tags: rex $n_rex, baseline $n_base" >&2

# Interleaved rounds (baseline, rex, rex-cache-off, rotating who goes first) rather than
# hyperfine's one block per command: the registry shares the 2 cores, and a drift in
# load between blocks moved the ratio by ±50 % here. Medians per command.
echo "$(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg), $WARMUP warm-up + $RUNS rounds"
declare -A CMD=(
    [baseline]="$BASELINE $URL $REPO > /dev/null"
    [rex]="$REXCMD > /dev/null"
    [rex-cache-off]="$REX --config $TMP/cache-off.toml -r $URL image $REPO -f json > /dev/null"
)
NAMES=(baseline rex rex-cache-off)
: > "$TMP/times"
for ((round = 0; round < WARMUP + RUNS; round++)); do
    for ((k = 0; k < 3; k++)); do
        name=${NAMES[$(((round + k) % 3))]}
        t0=$(date +%s%N)
        eval "${CMD[$name]}" || { echo "bench-image: $name failed" >&2; exit 1; }
        t1=$(date +%s%N)
        ((round >= WARMUP)) && echo "$name $(((t1 - t0) / 1000))" >> "$TMP/times"
    done
done
stat() { # name -> "median mean min" in seconds
    awk -v n="$1" '$1 == n { print $2 / 1e6 }' "$TMP/times" | sort -n | awk '
        { v[NR] = $1; s += $1 }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
              printf "%.3f %.3f %.3f", m, s / NR, v[1] }'
}
read -r base base_mean base_min <<< "$(stat baseline)"
read -r rexm rex_mean rex_min <<< "$(stat rex)"
read -r off off_mean off_min <<< "$(stat rex-cache-off)"
ratio=$(echo "$rexm / $base" | bc -l)
ratio_min=$(echo "$rex_min / $base_min" | bc -l)

eval "/usr/bin/time -v $REXCMD" > /dev/null 2> "$TMP/time.txt"
rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$TMP/time.txt")

printf 'baseline median %.3f s (mean %.3f, min %.3f)\n' "$base" "$base_mean" "$base_min"
printf 'rex      median %.3f s (mean %.3f, min %.3f)\n' "$rexm" "$rex_mean" "$rex_min"
printf 'rex, cache disabled: median %.3f s (ratio %.3f)\n' "$off" "$(echo "$off / $base" | bc -l)"
printf 'ratio rex/baseline: median %.3f, min %.3f (target <= 1.1)\n' "$ratio" "$ratio_min"
printf 'rex max RSS: %.1f MB (target < 50 MB)\n' "$(echo "$rss_kb / 1024" | bc -l)"
ok=1
(( $(echo "$ratio <= 1.1" | bc -l) )) || ok=0
(( rss_kb < 51200 )) || ok=0
[[ $ok == 1 ]] && echo "PASS" || { echo "FAIL"; exit 1; }
