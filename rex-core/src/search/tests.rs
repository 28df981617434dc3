//! Unit tests of the internals; behaviour tests live in `rex-core/tests/search_*.rs`.

use super::matcher::{self, accuracy, is_subsequence_ascii};
use super::query::glob_to_regex;
use super::*;

fn acc(query: &str, candidate: &str) -> f32 {
    let mut m = Matcher::new(Query::parse(query, false).unwrap());
    m.score(candidate).map_or(-1.0, |h| h.accuracy)
}

fn mask(needle: &[u8], ignore_case: bool) -> Vec<u8> {
    needle
        .iter()
        .map(|b| {
            if ignore_case && b.is_ascii_lowercase() {
                0x20
            } else {
                0
            }
        })
        .collect()
}

#[test]
fn prefilter_is_an_ordered_subsequence_check() {
    let n = b"ngx";
    assert!(is_subsequence_ascii(b"nginx", n, &mask(n, true)));
    assert!(is_subsequence_ascii(b"NGINX", n, &mask(n, true)));
    assert!(!is_subsequence_ascii(b"NGINX", n, &mask(n, false)));
    assert!(!is_subsequence_ascii(b"xgn", n, &mask(n, true)));
    assert!(!is_subsequence_ascii(b"ng", n, &mask(n, true)));
    // The case mask only folds letters: `-` must not match `\r` (0x0d | 0x20 = 0x2d).
    let n = b"a-b";
    assert!(!is_subsequence_ascii(b"a\rb", n, &mask(n, true)));
    assert!(is_subsequence_ascii(b"A-B", n, &mask(n, true)));
    assert!(is_subsequence_ascii(b"", b"", &[]));
}

#[test]
fn accuracy_formula_and_clamping() {
    // perfect 134, n = 5: floor 40.
    assert_eq!(accuracy(134, 134, 5), 1.0);
    assert!((accuracy(87, 134, 5) - 0.5).abs() < 1e-6);
    assert_eq!(accuracy(20, 134, 5), 0.0);
    assert_eq!(accuracy(200, 134, 5), 1.0);
    // Degenerate perfect score never divides by zero.
    assert_eq!(accuracy(0, 0, 0), 1.0);
}

#[test]
fn perfect_score_is_the_query_against_itself() {
    // nucleo path config: 16 per char + 9 (delimiter bonus) x2 on the first char and
    // consecutive bonuses = 25n + 9 for a one-word query (research A.5).
    for (q, n) in [("nginx", 5u32), ("postgres", 8), ("a", 1)] {
        let mut m = Matcher::new(Query::parse(q, false).unwrap());
        let hit = m.score(q).unwrap();
        assert_eq!(hit.score, 25 * n + 9 + LAST_SEGMENT_BONUS, "{q}");
        assert_eq!(hit.accuracy, 1.0);
    }
}

/// Calibration rows of research/anchors-search-tui.md A.5 (z = 8), re-checked with the real
/// matcher: relevant matches pass, scattered ones do not.
#[test]
fn accuracy_calibration_rows() {
    let pass = [
        ("nginx", "httpd/nginx-dev"),
        ("pyreq", "python/python3-requests"),
        ("gcc12", "gcc-12/cpp-12"),
        ("nginx", "lib/libnginx-mod-rtmp"),
        ("qt5base", "libs/libqt5sql5-ibase"),
    ];
    for (q, c) in pass {
        let a = acc(q, c);
        assert!(a >= MIN_ACCURACY, "{q} vs {c}: {a}");
    }
    let fail = [
        ("a", "x/cab"),
        ("gcc12", "golang/golang-sslmate-src-go-pkcs12-dev"),
        (
            "nginx",
            "golang-github-chappjc-logrus-prefix/golang-github-chappjc-logrus-prefix-dev",
        ),
    ];
    for (q, c) in fail {
        let a = acc(q, c);
        assert!((0.0..MIN_ACCURACY).contains(&a), "{q} vs {c}: {a}");
    }
    // Acronym and boundary matches are well above the line, a mid-word substring just passes.
    assert!(acc("pyreq", "python/python3-requests") > 0.8);
    let mid = acc("nginx", "lib/libnginx-mod-rtmp");
    assert!(mid < 0.75, "{mid}");
}

#[test]
fn glob_translation_escapes_and_anchors() {
    assert_eq!(glob_to_regex("alp*"), "(?s)^(alp).*$");
    assert_eq!(glob_to_regex("a?c"), "(?s)^(a).(c)$");
    assert_eq!(glob_to_regex("**x"), "(?s)^.*(x)$");
    assert_eq!(glob_to_regex("v1.2*"), "(?s)^(v1\\.2).*$");
    assert_eq!(glob_to_regex("\\*lit*"), "(?s)^(\\*lit).*$");
}

#[test]
fn eval_without_indices_ranks_like_with_indices() {
    // `matches` skips the alignment; it must agree with `score` + threshold.
    let names = [
        "gcc-12/cpp-12",
        "x/gxcxcx12",
        "golang/golang-sslmate-src-go-pkcs12-dev",
    ];
    let mut m = Matcher::new(Query::parse("gcc12", false).unwrap());
    for n in names {
        let by_score = m.score(n).is_some_and(|h| h.accuracy >= MIN_ACCURACY);
        assert_eq!(m.matches(n), by_score, "{n}");
    }
}

#[test]
fn bare_match_score_agrees_with_nucleo() {
    // The one-char shortcut assumes nucleo scores a mid-word occurrence with no bonus.
    for (q, c) in [
        ("a", "xxaxx"),
        ("z", "b/yzy"),
        ("7", "v17"),
        ("A", "x/BAB"),
        ("q", "a-bqc"),
    ] {
        let query = Query::parse(q, false).unwrap();
        let mut nucleo =
            nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT.match_paths());
        nucleo.config.ignore_case = !query.is_case_sensitive();
        let score = nucleo
            .fuzzy_match(
                nucleo_matcher::Utf32Str::Ascii(c.as_bytes()),
                nucleo_matcher::Utf32Str::Ascii(query.text().as_bytes()),
            )
            .unwrap();
        assert_eq!(score, matcher::SCORE_MATCH_BARE, "{q} in {c}");
        let hit = Matcher::new(query).score(c).unwrap();
        assert_eq!(hit.kind, MatchKind::Substring, "{q} in {c}");
    }
}

#[test]
fn prefilter_finds_bytes_in_every_word_position() {
    // Exercise the 8-byte SWAR search: the match in each position of the first and second
    // word and in the tail, with and without the case mask, and no false positives.
    for len in 1..=20 {
        for at in 0..len {
            let mut hay = vec![b'x'; len];
            hay[at] = b'Q';
            assert!(
                is_subsequence_ascii(&hay, b"q", &mask(b"q", true)),
                "{len} {at}"
            );
            assert!(
                !is_subsequence_ascii(&hay, b"q", &mask(b"q", false)),
                "{len} {at}"
            );
            assert!(
                is_subsequence_ascii(&hay, b"Q", &mask(b"Q", false)),
                "{len} {at}"
            );
            // 0x51 | 0x20 == 0x71 but 0x11 | 0x20 == 0x31: only the letter folds.
            hay[at] = 0x11;
            assert!(
                !is_subsequence_ascii(&hay, b"q", &mask(b"q", true)),
                "{len} {at}"
            );
        }
    }
    // Bytes just above a match (the borrow case of the zero-byte trick) are not reported.
    assert!(is_subsequence_ascii(b"aaaaaaab", b"ab", &mask(b"ab", true)));
    assert!(!is_subsequence_ascii(
        b"baaaaaaa",
        b"ab",
        &mask(b"ab", true)
    ));
}
