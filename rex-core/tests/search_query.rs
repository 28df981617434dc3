//! Query parsing and the non-fuzzy modes of `rex_core::search`.

use rex_core::search::{filter_names, search, MatchKind, MatchMode, Matcher, Query};
use rex_core::ErrorKind;

fn names_of<'a>(names: &[&'a str], query: &str, exact: bool) -> Vec<&'a str> {
    let q = Query::parse(query, exact).unwrap();
    search(&q, names.iter().copied(), None)
        .into_iter()
        .map(|h| names[h.index])
        .collect()
}

#[test]
fn modes_are_chosen_from_the_query_text() {
    let mode = |q: &str, exact: bool| Query::parse(q, exact).unwrap().mode();
    assert_eq!(mode("alpine", false), MatchMode::Fuzzy);
    assert_eq!(mode("alpine", true), MatchMode::Exact);
    assert_eq!(mode("\"alpine\"", false), MatchMode::Exact);
    assert_eq!(mode("alpine*", false), MatchMode::Wildcard);
    assert_eq!(mode("alp?ne", false), MatchMode::Wildcard);
    assert_eq!(mode("^alpine$", false), MatchMode::Regex);
    assert_eq!(mode("^alp", false), MatchMode::Regex);
    assert_eq!(mode("-dev$", false), MatchMode::Regex);
    // --exact and quotes win over special characters: they are taken literally.
    assert_eq!(mode("^alp*", true), MatchMode::Exact);
    assert_eq!(mode("\"a*b\"", false), MatchMode::Exact);
    assert_eq!(Query::parse("\"a*b\"", false).unwrap().text(), "a*b");
    // Surrounding whitespace is not part of the query.
    let q = Query::parse("  nginx \t", false).unwrap();
    assert_eq!((q.text(), q.raw()), ("nginx", "  nginx \t"));
}

#[test]
fn smart_case_is_decided_by_uppercase_letters() {
    assert!(!Query::parse("nginx", false).unwrap().is_case_sensitive());
    assert!(Query::parse("Nginx", false).unwrap().is_case_sensitive());
    assert!(Query::parse("ÉCOLE", false).unwrap().is_case_sensitive());
    // Regex escapes like \D or \W are not uppercase letters.
    assert!(!Query::parse(r"^\D+$", false).unwrap().is_case_sensitive());
    assert!(Query::parse("^V1", false).unwrap().is_case_sensitive());
}

#[test]
fn invalid_regex_is_a_usage_error_with_a_hint() {
    let err = Query::parse("^foo(bar$", false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert!(
        err.message()
            .contains("invalid regular expression `^foo(bar$`"),
        "{}",
        err.message()
    );
    assert!(err.hint().unwrap().contains("--exact"));
    // The same text quoted is a literal exact query and parses fine.
    assert!(Query::parse("\"^foo(bar$\"", false).is_ok());
    assert!(Query::parse("^foo(bar$", true).is_ok());
}

#[test]
fn exact_mode_matches_the_whole_name_or_its_last_segment_only() {
    let names = [
        "alpine",
        "library/alpine",
        "alpine-base",
        "myapp-alpine",
        "Alpine",
    ];
    assert_eq!(
        names_of(&names, "alpine", true),
        ["alpine", "Alpine", "library/alpine"]
    );
    assert_eq!(
        names_of(&names, "\"alpine\"", false),
        names_of(&names, "alpine", true)
    );
    // Uppercase makes it case-sensitive.
    assert_eq!(names_of(&names, "Alpine", true), ["Alpine"]);
    // A query with `/` is compared with the whole name.
    assert_eq!(names_of(&names, "library/alpine", true), ["library/alpine"]);
    assert!(names_of(&names, "alpin", true).is_empty());
}

#[test]
fn wildcard_is_anchored_on_the_name_or_last_segment() {
    let names = [
        "alpine",
        "alpine-base",
        "library/alpine",
        "myalpine",
        "alpine/tools",
        "ALPINE-X",
    ];
    assert_eq!(
        names_of(&names, "alpine*", false),
        [
            "alpine",
            "library/alpine",
            "ALPINE-X",
            "alpine-base",
            "alpine/tools"
        ]
    );
    assert_eq!(
        names_of(&names, "*alpine", false),
        ["alpine", "myalpine", "library/alpine"]
    );
    assert_eq!(
        names_of(&names, "alp?ne", false),
        ["alpine", "library/alpine"]
    );
    assert_eq!(names_of(&names, "ALPINE*", false), ["ALPINE-X"]);
    // `*` spans `/` when the pattern names the namespace.
    assert_eq!(names_of(&names, "library/*", false), ["library/alpine"]);
    assert_eq!(names_of(&names, "\\*", false), Vec::<&str>::new());
}

#[test]
fn wildcard_and_regex_highlight_what_matched() {
    let mut m = Matcher::new(Query::parse("lib*/alp?ne", false).unwrap());
    let hit = m.score("library/alpine").unwrap();
    assert_eq!(hit.kind, MatchKind::Pattern);
    assert_eq!(hit.indices, [0, 1, 2, 7, 8, 9, 10, 12, 13]);

    let mut m = Matcher::new(Query::parse("alp*", false).unwrap());
    assert_eq!(m.score("library/alpine").unwrap().indices, [8, 9, 10]);

    let mut m = Matcher::new(Query::parse("-dev$", false).unwrap());
    assert_eq!(m.score("libfoo-dev").unwrap().indices, [6, 7, 8, 9]);
    assert!(m.score("libfoo-dev-doc").is_none());
}

#[test]
fn regex_mode_searches_with_user_anchors_and_smart_case() {
    let names = [
        "alpine",
        "alpine-base",
        "library/alpine",
        "v1.2",
        "V1.3",
        "x-dev",
        "x-dev-doc",
    ];
    assert_eq!(names_of(&names, "^alpine$", false), ["alpine"]);
    assert_eq!(
        names_of(&names, "^alpine", false),
        ["alpine", "alpine-base"]
    );
    assert_eq!(names_of(&names, "-dev$", false), ["x-dev"]);
    assert_eq!(names_of(&names, r"^v\d", false), ["v1.2", "V1.3"]);
    assert_eq!(names_of(&names, r"^V\d", false), ["V1.3"]);
}

#[test]
fn empty_query_keeps_everything_in_input_order() {
    let names = ["zeta", "alpha", "mid"];
    let q = Query::parse("   ", false).unwrap();
    assert!(q.is_empty());
    let hits = search(&q, names.iter().copied(), None);
    assert_eq!(hits.iter().map(|h| h.index).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(hits
        .iter()
        .all(|h| h.kind == MatchKind::Any && h.accuracy == 1.0));
    assert_eq!(search(&q, names.iter().copied(), Some(2)).len(), 2);
    assert_eq!(names_of(&names, "\"\"", false), ["zeta", "alpha", "mid"]);
}

#[test]
fn filter_names_keeps_original_order_and_applies_the_threshold() {
    let names = vec![
        "nginx-full".to_string(),
        "golang-github-chappjc-logrus-prefix".to_string(),
        "alpine".to_string(),
        "nginx".to_string(),
    ];
    let kept = filter_names("nginx", false, &names).unwrap();
    assert_eq!(kept, [&names[0], &names[3]]);
    assert_eq!(filter_names("", false, &names).unwrap().len(), 4);
    assert_eq!(filter_names("nginx", true, &names).unwrap(), [&names[3]]);
    assert_eq!(
        filter_names("^nginx(", false, &names).unwrap_err().kind(),
        ErrorKind::Usage
    );
}
