#!/usr/bin/env bash
# Start-up cost of external plugins: `rex --help` and `rex version` with 0 and with 5
# external plugins installed (copies of the hello-vendor example under different names,
# so each is a separate plugin with its own command). Descriptions are cached, so after
# the first (warm-up) run no plugin library is opened for these commands.
#
# Usage: scripts/bench-plugins.sh [--release] [--runs N]
# Needs: hyperfine, cargo. Builds into $CARGO_TARGET_DIR (default: target/).
set -euo pipefail

profile=debug
cargo_flags=()
runs=50
while [[ $# -gt 0 ]]; do
  case "$1" in
    --release) profile=release; cargo_flags+=(--release); shift ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: $0 [--release] [--runs N]" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
command -v hyperfine >/dev/null || { echo "hyperfine is required" >&2; exit 1; }

echo "building rex and the example plugin ($profile)…" >&2
(cd "$root" && CARGO_TARGET_DIR="$target" cargo build -q "${cargo_flags[@]}" -p rex-cli -p rex-plugin-hello-vendor)
rex="$target/$profile/rex"
plugin="$target/$profile/librex_plugin_hello_vendor.so"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/none" "$work/five" "$work/home"
chmod 755 "$work/none" "$work/five"
for i in 1 2 3 4 5; do
  install -m 0644 "$plugin" "$work/five/libacme$i.so"
done

# A clean environment: no user plugins or config leak into the numbers.
env_for() {
  echo "env -i PATH=$PATH HOME=$work/home XDG_CACHE_HOME=$work/cache-$1 XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config REX_PLUGIN_PATH=$work/$1"
}

# Warm the description caches (the first run describes each plugin once).
$(env_for none) "$rex" --help >/dev/null
$(env_for five) "$rex" --help >/dev/null
$(env_for five) "$rex" --help | grep -q acme5 || { echo "plugins were not picked up" >&2; exit 1; }

json="$work/results.json"
hyperfine -N --warmup 5 --runs "$runs" --export-json "$json" \
  -n "help/0 plugins" "$(env_for none) $rex --help" \
  -n "help/5 plugins" "$(env_for five) $rex --help" \
  -n "version/0 plugins" "$(env_for none) $rex version" \
  -n "version/5 plugins" "$(env_for five) $rex version"

python3 - "$json" <<'PY'
import json, sys
res = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
# Means are what users feel; minimums are robust on a busy machine.
for cmd in ("help", "version"):
    a, b = res[f"{cmd}/0 plugins"], res[f"{cmd}/5 plugins"]
    print(f"rex {cmd:8} mean: 0 plugins {a['mean']*1000:6.2f} ms, 5 plugins {b['mean']*1000:6.2f} ms, ratio {b['mean']/a['mean']:4.2f}x"
          f" | min: {a['min']*1000:5.2f} ms vs {b['min']*1000:5.2f} ms, ratio {b['min']/a['min']:4.2f}x")
PY
