# Sourced by scripts/bench-*.sh: a temp dir, and the registry holding the large fixture
# set (plugins/image/examples/bench_fixture.rs), both removed on exit.
#
#   BENCH_NAME=bench-image; FIXTURE=<bench_fixture binary>
#   source "$ROOT/scripts/lib/bench-fixture.sh"
#   start_large_fixture      # sets URL, REPO (and NTAGS); honours REX_BENCH_URL/REPO
#
# TMP is the temp dir. The fixture runs until its stdin (fd 9) closes.

TMP=$(mktemp -d)
FIXTURE_PID=
cleanup() {
    # Closing the fixture's stdin stops it (and its registry).
    exec 9>&- 2>/dev/null || true
    [[ -n "$FIXTURE_PID" ]] && wait "$FIXTURE_PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

start_large_fixture() {
    if [[ -n "${REX_BENCH_URL:-}" ]]; then
        URL=$REX_BENCH_URL
        REPO=${REX_BENCH_REPO:-rex/many-tags}
        return
    fi
    echo "starting a registry and pushing the large fixture set (takes a while)..." >&2
    mkfifo "$TMP/in"
    "$FIXTURE" --large < "$TMP/in" > "$TMP/fixture.out" &
    FIXTURE_PID=$!
    exec 9>"$TMP/in"
    for _ in $(seq 1 600); do
        [[ -s "$TMP/fixture.out" ]] && break
        kill -0 "$FIXTURE_PID" 2>/dev/null || { echo "$BENCH_NAME: fixture died" >&2; exit 1; }
        sleep 1
    done
    IFS=$'\t' read -r URL REPO NTAGS < "$TMP/fixture.out"
    echo "registry $URL, $REPO with $NTAGS tags" >&2
}
