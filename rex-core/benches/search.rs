//! In-process search over 100,000 names, per query (`cargo bench -p rex-core --bench search`).
//!
//! Corpus (`rex_tests::corpus::names`): the file named by `REX_SEARCH_CORPUS` (one name a
//! line; `scripts/bench-search.sh` unpacks `corpus100k.txt.xz` and sets it), else the shared
//! corpus when present, else a deterministic synthetic 100k corpus of `section/package` names. Queries: `REX_SEARCH_QUERIES` (one a line) or the 20 built-in
//! queries of the benchmark README. The group name says which corpus was used.
//!
//! `cli/<q>` = what `rex search image` and the TUI do per keystroke: score every name, apply
//! the accuracy threshold, keep and sort the best 50, compute their highlight indices.
//! `all/<q>` = fzf's work: every match, fully ranked, no indices.
//! `typing/<q>` = one re-search per keystroke of `q` (n, ng, ngi, ...), total.
//! The TUI budget is 16 ms per keystroke for 100k names.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::time::Duration;

use rex_core::search::{Matcher, Query, SearchOptions, DEFAULT_LIMIT};

const QUERIES: &[&str] = &[
    "a",
    "py",
    "lib",
    "nginx",
    "postgres",
    "pgsql",
    "libssl",
    "pyreq",
    "python3-requests",
    "rustserde",
    "gcc12",
    "linux-image",
    "golang-x-net",
    "xfce4term",
    "qt5base",
    "nodejs",
    "fonts/noto",
    "libghc-aeson-dev",
    "texlive-lang",
    "zzqxj",
];

fn queries() -> Vec<String> {
    match std::env::var("REX_SEARCH_QUERIES") {
        Ok(path) => std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("REX_SEARCH_QUERIES={path}: {e}"))
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        Err(_) => QUERIES.iter().map(|q| q.to_string()).collect(),
    }
}

fn bench_search(c: &mut Criterion) {
    let (label, owned) = rex_tests::corpus::names();
    let names: Vec<&str> = owned.iter().map(String::as_str).collect();
    let cli = SearchOptions {
        limit: Some(DEFAULT_LIMIT),
        ..SearchOptions::default()
    };
    let all = SearchOptions {
        limit: None,
        min_accuracy: 0.0,
        indices: false,
    };
    let mut group = c.benchmark_group(format!("search-{label}{}", names.len()));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for q in queries() {
        let mut matcher = Matcher::new(Query::parse(&q, false).expect("benchmark query"));
        group.bench_with_input(BenchmarkId::new("cli", &q), &names, |b, names| {
            b.iter(|| black_box(matcher.search(names, &cli)).len())
        });
        group.bench_with_input(BenchmarkId::new("all", &q), &names, |b, names| {
            b.iter(|| black_box(matcher.search(names, &all)).len())
        });
    }
    for q in ["nginx", "python3-requests"] {
        let prefixes: Vec<Query> = (1..=q.len())
            .map(|i| Query::parse(&q[..i], false).expect("benchmark query"))
            .collect();
        let mut matcher = Matcher::new(prefixes[0].clone());
        group.bench_with_input(BenchmarkId::new("typing", q), &names, |b, names| {
            b.iter(|| {
                let mut total = 0;
                for p in &prefixes {
                    matcher.set_query(p.clone());
                    total += matcher.search(names, &cli).len();
                }
                black_box(total)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_search);
criterion_main!(benches);
