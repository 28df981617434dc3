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

/// Names with the features nucleo scores: `/ - _ .` boundaries, camelCase, digits after
/// letters, upper case, accents and other non-ASCII, long gaps, and a few over the greedy
/// limit. Deterministic (xorshift).
fn narrowing_corpus(n: usize) -> Vec<String> {
    const WORDS: &[&str] = &[
        "lib",
        "libssl",
        "ssl",
        "python3",
        "requests",
        "linux",
        "image",
        "nginx",
        "fonts",
        "noto",
        "Alpine",
        "alpine",
        "gcc12",
        "x",
        "serde",
        "über",
        "café",
        "ÉCOLE",
        "io",
        "libSsl",
        "nginxIngress",
        "l1b",
        "a",
        "b",
        "zz",
        "data",
        "dev",
        "tools",
    ];
    const SEPS: &[&str] = &["/", "-", "_", ".", "", ":", " "];
    let mut next = rex_tests::corpus::xorshift(0x2545_f491_4f6c_dd1d);
    (0..n)
        .map(|i| {
            let mut name = String::new();
            for w in 0..1 + next() % 5 {
                if w > 0 {
                    name.push_str(SEPS[next() % SEPS.len()]);
                }
                name.push_str(WORDS[next() % WORDS.len()]);
            }
            if i % 997 == 0 {
                // Long enough for nucleo to align greedily (over its 100 KiB matrix for
                // longer needles, over 2,048 chars for any).
                name.push_str(&"q".repeat(1100 + next() % 1900));
                name.push_str("libssl");
            }
            name
        })
        .collect()
}

/// The narrowing theorem, checked name by name: whatever passes the longer query had, for
/// the shorter one, a standing at or above the floor (and matched at all). Prefix pairs
/// one character apart and several apart (coalesced keystrokes).
#[test]
fn narrowing_floor_never_drops_a_name_that_passes() {
    let names = narrowing_corpus(6000);
    let mut queries: Vec<String> = [
        "libssl",
        "lib-ssl",
        "linux-image",
        "pyreq",
        "python3-requests",
        "fonts/noto",
        "ngxing",
        "nginx",
        "uber",
        "ecole",
        "gcc12",
        "l1b",
        "aaaa",
        "alpine",
        "zzx",
        "lsl",
        "li/ss",
        "sslib",
        "imagelinux",
        "a.b_c",
        "x y",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Plus slices of corpus names, which sit near the threshold more often than words.
    for (i, n) in names.iter().enumerate().filter(|(i, _)| i % 301 == 0) {
        let chars: Vec<char> = n.chars().collect();
        let from = i % chars.len().max(1);
        queries.push(
            chars[from..]
                .iter()
                .take(7)
                .collect::<String>()
                .to_lowercase(),
        );
    }
    let mut checked = 0usize;
    let mut narrowed_away = 0usize;
    for q in &queries {
        let prefixes: Vec<&str> = q
            .char_indices()
            .map(|(i, c)| &q[..i + c.len_utf8()])
            .collect();
        for (a, short) in prefixes.iter().enumerate() {
            let Ok(short_q) = Query::parse(short, false) else {
                continue;
            };
            let mut old = Matcher::new(short_q);
            let standings: Vec<Option<u16>> =
                names.iter().map(|n| old.test(n).standing()).collect();
            for long in &prefixes[a + 1..(a + 4).min(prefixes.len())] {
                let Ok(long_q) = Query::parse(long, false) else {
                    continue;
                };
                let mut new = Matcher::new(long_q);
                let Some(floor) = new.narrowing_floor(&old) else {
                    continue;
                };
                for (name, standing) in names.iter().zip(&standings) {
                    let passes = matches!(new.test(name), Verdict::Pass(_));
                    let kept = standing.is_some_and(|s| s >= floor);
                    assert!(
                        !passes || kept,
                        "{name:?} passes {long:?} but {short:?} gave {standing:?} < floor {floor}"
                    );
                    checked += 1;
                    narrowed_away += usize::from(!kept);
                }
            }
        }
    }
    // The check must have covered real narrowing, not only trivial floors.
    assert!(checked > 1_000_000, "{checked}");
    assert!(narrowed_away > checked / 2, "{narrowed_away} of {checked}");
}

#[test]
fn narrowing_needs_the_same_mode_case_and_a_longer_needle() {
    let m = |q: &str| Matcher::new(Query::parse(q, false).unwrap());
    assert!(m("lib").narrowing_floor(&m("li")).is_some());
    assert!(
        m("libssl").narrowing_floor(&m("li")).is_some(),
        "several chars at once"
    );
    assert!(m("lib").narrowing_floor(&m("lib")).is_some(), "same needle");
    assert_eq!(m("li").narrowing_floor(&m("lib")), None, "shorter");
    assert_eq!(m("lob").narrowing_floor(&m("li")), None, "not an extension");
    assert_eq!(
        m("liB").narrowing_floor(&m("li")),
        None,
        "smart case turned on"
    );
    assert_eq!(m("li*").narrowing_floor(&m("li")), None, "wildcard");
    assert_eq!(
        m("\"lib\"").narrowing_floor(&m("\"li\"")),
        None,
        "exact mode"
    );
    assert_eq!(
        m("li/b").narrowing_floor(&m("li")),
        None,
        "path-aware changed"
    );
    assert_eq!(
        m("caé").narrowing_floor(&m("ca")),
        None,
        "normalisation changed"
    );
    assert_eq!(
        m("li").narrowing_floor(&m("")),
        None,
        "from the empty query"
    );
    // The floor is below what passing needs, by at most MAX_GAIN_PER_CHAR per extra char.
    let (two, three) = (m("li"), m("lib"));
    let floor = u32::from(three.narrowing_floor(&two).unwrap());
    let need = u32::from(matcher::min_passing_score(three.perfect_score(), 3));
    assert_eq!(floor + MAX_GAIN_PER_CHAR, need);
}

#[test]
fn min_passing_score_is_the_threshold_of_accuracy() {
    for (perfect, n) in [(36u16, 1usize), (59, 2), (84, 3), (200, 8), (10, 2)] {
        let s = matcher::min_passing_score(perfect, n);
        assert!(accuracy(s, perfect, n) >= MIN_ACCURACY, "{perfect} {n}");
        if s > 0 {
            assert!(accuracy(s - 1, perfect, n) < MIN_ACCURACY, "{perfect} {n}");
        }
    }
}

#[test]
fn test_agrees_with_matches_and_search_ranking() {
    let names = narrowing_corpus(3000);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    for q in [
        "lib", "libssl", "Alp", "alp*", "^lib", "\"x\"", "über", "gcc1",
    ] {
        let query = Query::parse(q, false).unwrap();
        let mut m = Matcher::new(query.clone());
        let mut best = Best::default();
        for (i, n) in refs.iter().enumerate() {
            let verdict = m.test(n);
            assert_eq!(matches!(verdict, Verdict::Pass(_)), m.matches(n), "{q} {n}");
            if let Verdict::Pass(rank) = verdict {
                best.offer(rank, i, n);
            }
        }
        let top = search(&query, refs.iter().copied(), Some(1));
        assert_eq!(best.index(), top.first().map(|h| h.index), "{q}");
    }
}
