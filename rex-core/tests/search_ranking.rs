//! Ranking, threshold, Unicode and limit behaviour of fuzzy search.

use rex_core::search::{
    search, MatchKind, Matcher, Query, SearchOptions, DEFAULT_LIMIT, MIN_ACCURACY,
};

fn ranked<'a>(names: &[&'a str], query: &str) -> Vec<&'a str> {
    let q = Query::parse(query, false).unwrap();
    search(&q, names.iter().copied(), None)
        .into_iter()
        .map(|h| names[h.index])
        .collect()
}

/// Names from the benchmark corpus (`/work/shared/bench/search/corpus100k.txt.xz`) that
/// fzf's default scheme ranks badly for `libssl`: it puts `libssw/libssw0` and the libssh
/// packages above every libssl package.
const LIBSS: &[&str] = &[
    "libssw/libssw0",
    "libssh/libssh-4",
    "libssh/libssh-doc",
    "libss7/libss7-dev",
    "libss7/libss7-2.0",
    "java/libssw-java",
    "libs/libssw0",
    "libssw/ssw-align",
    "mcpl/libsswmcpl1",
    "sssd/libsss-certmap-dev",
    "libdevel/libssh2-1-dev",
    "ocaml/libssl-ocaml",
    "openssl/libssl3",
    "ocaml-ssl/libssl-ocaml-dev",
    "ssl-utils-clojure/libssl-utils-clojure",
    "doc/libssl-doc",
    "libs/libssl3",
    "libdevel/libssl-dev",
    "rust/librust-libssh2-sys-dev",
];

#[test]
fn libssl_ranks_every_libssl_package_above_libssw_and_libssh() {
    let got = ranked(LIBSS, "libssl");
    assert_eq!(
        &got[..5],
        [
            "libs/libssl3",
            "openssl/libssl3",
            "doc/libssl-doc",
            "libdevel/libssl-dev",
            "ocaml/libssl-ocaml"
        ]
    );
    let last_libssl = got.iter().rposition(|n| n.contains("/libssl")).unwrap();
    let first_other = got
        .iter()
        .position(|n| n.contains("libssw") || n.contains("libssh"))
        .unwrap_or(got.len());
    assert!(last_libssl < first_other, "{got:?}");
}

#[test]
fn tiers_exact_then_prefix_then_boundary_then_substring_then_scattered() {
    let names = [
        "xx/n-g-i-n-x",       // scattered
        "lib/libnginxmod",    // substring inside a word
        "web/lua-nginx-kit",  // at a word boundary
        "nginx-extras/tools", // prefix of the whole name only
        "httpd/nginx-core",   // prefix of the last segment
        "nginx",              // exact
        "library/nginx",      // exact last segment
    ];
    let q = Query::parse("nginx", false).unwrap();
    let hits = search(&q, names.iter().copied(), None);
    let got: Vec<_> = hits.iter().map(|h| (names[h.index], h.kind)).collect();
    assert_eq!(
        got,
        [
            ("nginx", MatchKind::Exact),
            ("library/nginx", MatchKind::Exact),
            ("httpd/nginx-core", MatchKind::Prefix),
            ("nginx-extras/tools", MatchKind::Prefix),
            ("web/lua-nginx-kit", MatchKind::Boundary),
            ("lib/libnginxmod", MatchKind::Substring),
            ("xx/n-g-i-n-x", MatchKind::Fuzzy),
        ]
    );
    // Exact and prefix hits count as fully accurate.
    assert!(hits[..4].iter().all(|h| h.accuracy == 1.0));
    assert!(hits[4..].iter().all(|h| h.accuracy < 1.0));
}

#[test]
fn a_case_sensitive_match_ranks_above_a_case_insensitive_one() {
    // Lowercase query: both match, the same-case one first whatever the input order.
    assert_eq!(ranked(&["Foo", "foo"], "foo"), ["foo", "Foo"]);
    assert_eq!(
        ranked(&["x/FooBar", "x/foobar"], "foob"),
        ["x/foobar", "x/FooBar"]
    );
    assert_eq!(
        ranked(&["a-Fxbar", "a-fxbar"], "fbar"),
        ["a-fxbar", "a-Fxbar"]
    );
    // An uppercase query is case-sensitive: the other case does not match at all.
    assert_eq!(ranked(&["foo", "Foo", "FOO"], "Foo"), ["Foo"]);
    assert_eq!(ranked(&["v1.0-RC1", "v1.0-rc1"], "RC"), ["v1.0-RC1"]);
}

#[test]
fn shorter_then_earlier_then_alphabetical() {
    assert_eq!(
        ranked(&["redis-server-tools", "redis-tools", "redis"], "redis"),
        ["redis", "redis-tools", "redis-server-tools"]
    );
    // Same length and score: a shorter package name beats a shorter namespace.
    assert_eq!(
        ranked(&["doc/postgresql-doc", "database/postgresql"], "postgres"),
        ["database/postgresql", "doc/postgresql-doc"]
    );
    // Same tier, score and length: the earlier match wins ...
    assert_eq!(
        ranked(&["zz-app-x", "zz-x-app"], "app"),
        ["zz-app-x", "zz-x-app"]
    );
    // ... and complete ties are alphabetical, not input order.
    assert_eq!(
        ranked(&["b/nginx", "c/nginx", "a/nginx"], "nginx"),
        ["a/nginx", "b/nginx", "c/nginx"]
    );
}

#[test]
fn threshold_keeps_relevant_hits_and_drops_scattered_garbage() {
    let names = [
        "python/python3-requests",
        "gcc-12/cpp-12",
        "golang/golang-sslmate-src-go-pkcs12-dev",
        "x/g-c-c-1-2",
        "devel/gcc-12",
    ];
    let got = ranked(&names, "gcc12");
    assert_eq!(got, ["devel/gcc-12", "gcc-12/cpp-12", "x/g-c-c-1-2"]);
    // Without the threshold the scattered match is still found (fzf semantics) ...
    let q = Query::parse("gcc12", false).unwrap();
    let all = Matcher::new(q).search(
        &names,
        &SearchOptions {
            min_accuracy: 0.0,
            ..SearchOptions::default()
        },
    );
    assert_eq!(all.len(), 4);
    let pkcs = all.iter().find(|h| h.index == 2).unwrap();
    assert!(pkcs.accuracy < MIN_ACCURACY, "{}", pkcs.accuracy);
    // ... and `matches` agrees with the threshold.
    let mut m = Matcher::new(Query::parse("gcc12", false).unwrap());
    assert!(m.matches("devel/gcc-12"));
    assert!(!m.matches("golang/golang-sslmate-src-go-pkcs12-dev"));
}

#[test]
fn path_aware_prefers_the_last_segment() {
    // Same letters, once across the namespace, once inside the package name.
    assert_eq!(
        ranked(&["pyt/hon-tools", "tools/python"], "python"),
        ["tools/python", "pyt/hon-tools"]
    );
    // Also for one-char queries that only occur inside words (below the threshold, so
    // look at all matches): the occurrence in the package name wins over the namespace.
    let names = ["bxb/ccc", "ccc/bxb"];
    let q = Query::parse("x", false).unwrap();
    let all = Matcher::new(q).search(
        &names,
        &SearchOptions {
            min_accuracy: 0.0,
            ..SearchOptions::default()
        },
    );
    assert_eq!(
        all.iter().map(|h| names[h.index]).collect::<Vec<_>>(),
        ["ccc/bxb", "bxb/ccc"]
    );
    // A query containing `/` is matched against the whole name.
    assert_eq!(
        ranked(&["fonts/fonts-noto", "misc/noto-fonts"], "fonts/noto"),
        ["fonts/fonts-noto"]
    );
}

#[test]
fn unicode_names_match_with_char_indices() {
    // Latin normalisation: an ASCII query matches accented names.
    let mut m = Matcher::new(Query::parse("cafe", false).unwrap());
    let hit = m.score("bar/café").unwrap();
    assert_eq!(hit.kind, MatchKind::Exact);
    assert_eq!(hit.indices, [4, 5, 6, 7]);
    // Indices count chars, not bytes.
    let mut m = Matcher::new(Query::parse("app", false).unwrap());
    assert_eq!(m.score("naïve-app").unwrap().indices, [6, 7, 8]);
    // Non-Latin scripts and Unicode case folding.
    assert_eq!(
        ranked(&["ツール/日本語", "日本語/ツール", "other"], "ツール"),
        ["日本語/ツール", "ツール/日本語"]
    );
    assert_eq!(
        ranked(&["ÉCOLE", "école", "ecole"], "école"),
        ["école", "ÉCOLE"]
    );
    // An accented query does not match the plain spelling (nucleo's smart normalisation).
    assert!(ranked(&["ecole"], "é").is_empty());
    // Fuzzy indices on a non-ASCII name.
    let mut m = Matcher::new(Query::parse("nx", false).unwrap());
    assert_eq!(m.score("ñandú-nx").unwrap().indices, [6, 7]);
}

#[test]
fn limit_returns_the_best_hits_in_order() {
    let names: Vec<String> = (0..500).map(|i| format!("ns{}/app-{i}", i % 7)).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let q = Query::parse("app1", false).unwrap();
    let all = search(&q, refs.iter().copied(), None);
    assert!(all.len() > DEFAULT_LIMIT);
    let top = search(&q, refs.iter().copied(), Some(DEFAULT_LIMIT));
    assert_eq!(top, all[..DEFAULT_LIMIT]);
    assert!(search(&q, refs.iter().copied(), Some(0)).is_empty());
    assert_eq!(
        search(&q, refs.iter().copied(), Some(10_000)).len(),
        all.len()
    );
    // Highlight indices are filled for returned hits.
    assert!(top.iter().all(|h| h.indices.len() == 4));
}

#[test]
fn matcher_is_reusable_across_queries() {
    let mut m = Matcher::new(Query::parse("ngx", false).unwrap());
    assert!(m.matches("nginx"));
    m.set_query(Query::parse("redis", false).unwrap());
    assert!(!m.matches("nginx"));
    assert!(m.matches("redis-server"));
    let mut out = Vec::new();
    assert!(m.indices("db/redis", &mut out));
    assert_eq!(out, [3, 4, 5, 6, 7]);
    assert_eq!(m.query().text(), "redis");
}

#[test]
fn matcher_and_results_can_move_to_a_worker_thread() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Matcher>();
    assert_send_sync::<Query>();
    assert_send_sync::<rex_core::search::SearchHit>();
    // And it really works off the calling thread.
    let q = Query::parse("nginx", false).unwrap();
    let hits = std::thread::spawn(move || {
        let names = ["a/nginx", "b/redis"];
        Matcher::new(q).search(&names, &SearchOptions::default())
    })
    .join()
    .unwrap();
    assert_eq!(hits.len(), 1);
}
