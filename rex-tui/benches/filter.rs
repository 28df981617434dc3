//! The TUI's per-keystroke filter cost over 100,000 names (budget: 16 ms per keystroke).
//!
//! Each query is typed one character at a time; per keystroke the bench does what
//! `App::set_query` and the list drawing do: prepare the query, filter every name (rex
//! search's matcher and 50 % threshold), pick the best match for the cursor, and compute the
//! highlight indices of one screen of rows. `typing/<q>` reports the time for the whole
//! word; divide by its length for ms/keystroke (the bench prints that too).
//!
//! Corpus, first that works: `REX_SEARCH_CORPUS=<plain file>`, the shared benchmark corpus
//! (`/work/shared/bench/search/corpus100k.txt.xz` unpacked with `xz -dc`, when present),
//! else a deterministic synthetic 100k corpus, so CI needs nothing outside the repo.

// A bench reports its summary on stdout.
#![allow(clippy::print_stdout)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rex_tui::filter::{best_match, filter_into, match_indices, Query};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SHARED_CORPUS: &str = "/work/shared/bench/search/corpus100k.txt.xz";
/// Rows of a tall terminal: the rows the UI highlights per frame.
const SCREEN_ROWS: usize = 60;
const QUERIES: &[&str] = &[
    "a",
    "lib",
    "nginx",
    "libssl",
    "pyreq",
    "python3-requests",
    "linux-image",
    "fonts/noto",
    "zzqxj",
];

fn corpus() -> (&'static str, Vec<String>) {
    let lines = |t: String| t.lines().map(str::to_owned).collect::<Vec<_>>();
    if let Ok(path) = std::env::var("REX_SEARCH_CORPUS") {
        if let Ok(text) = std::fs::read_to_string(&path) {
            return ("corpus", lines(text));
        }
    }
    if std::path::Path::new(SHARED_CORPUS).exists() {
        let out = std::process::Command::new("xz")
            .args(["-dc", SHARED_CORPUS])
            .output();
        match out {
            Ok(out) if out.status.success() => {
                if let Ok(text) = String::from_utf8(out.stdout) {
                    return ("corpus", lines(text));
                }
            }
            // No xz or a broken file: fall back to the synthetic corpus.
            _ => {}
        }
    }
    ("synthetic", synthetic(100_000))
}

/// Debian-like `section/package` names from fixed word lists and a xorshift generator.
fn synthetic(n: usize) -> Vec<String> {
    const SECTIONS: &[&str] = &[
        "libs", "libdevel", "doc", "python", "golang", "web", "httpd", "database", "devel",
        "fonts", "tex", "admin", "net", "utils", "x11", "games", "rust", "java", "perl",
    ];
    const WORDS: &[&str] = &[
        "lib",
        "python3",
        "golang",
        "github",
        "x",
        "net",
        "nginx",
        "postgresql",
        "ssl",
        "dev",
        "doc",
        "common",
        "data",
        "utils",
        "tools",
        "server",
        "client",
        "perl",
        "ruby",
        "node",
        "js",
        "qt5",
        "base",
        "gtk",
        "fonts",
        "noto",
        "texlive",
        "lang",
        "linux",
        "image",
        "rust",
        "serde",
        "requests",
        "aeson",
        "ghc",
        "xfce4",
        "terminal",
        "gcc",
        "12",
        "cpp",
        "mod",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as usize
    };
    (0..n)
        .map(|_| {
            let mut name = String::from(SECTIONS[next() % SECTIONS.len()]);
            name.push('/');
            for w in 0..1 + next() % 4 {
                if w > 0 {
                    name.push('-');
                }
                name.push_str(WORDS[next() % WORDS.len()]);
            }
            name
        })
        .collect()
}

/// One keystroke's work; returns something so nothing is optimised away.
fn keystroke(text: &str, items: &[String], visible: &mut Vec<usize>) -> usize {
    let query = Query::new(text);
    filter_into(&query, items, None, visible);
    let best = best_match(&query, items, visible).unwrap_or(0);
    let start = best.saturating_sub(SCREEN_ROWS / 2);
    let highlighted: usize = visible
        .iter()
        .skip(start)
        .take(SCREEN_ROWS)
        .filter_map(|&i| match_indices(&query, &items[i]))
        .map(|ix| ix.len())
        .sum();
    visible.len() + best + highlighted
}

fn type_query(q: &str, items: &[String], visible: &mut Vec<usize>) -> usize {
    let mut total = 0;
    for end in q.char_indices().map(|(i, c)| i + c.len_utf8()) {
        total += keystroke(&q[..end], items, visible);
    }
    total
}

/// CPU time of the whole process, threads that have ended included (Linux
/// `/proc/self/stat`, in clock ticks of 10 ms: fine over the dozens of keystrokes each
/// figure averages), so the summary shows what the filter costs on every core and is not
/// inflated when other processes share them; `None` elsewhere.
fn process_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &s[s.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11); // utime is field 14 of the line
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

fn bench(c: &mut Criterion) {
    let (kind, items) = corpus();
    let mut visible = Vec::with_capacity(items.len());
    // A plain summary first: the number the 16 ms budget is about.
    for q in QUERIES {
        let runs = 5;
        let keys = (runs * q.chars().count()) as u32;
        let mut worst = Duration::ZERO;
        let start = Instant::now();
        let cpu_start = process_cpu();
        for _ in 0..runs {
            for end in q.char_indices().map(|(i, c)| i + c.len_utf8()) {
                let t = Instant::now();
                black_box(keystroke(&q[..end], &items, &mut visible));
                worst = worst.max(t.elapsed());
            }
        }
        let wall = start.elapsed() / keys;
        let cpu = match (cpu_start, process_cpu()) {
            (Some(a), Some(b)) => format!("{:>6.2} ms CPU", ((b - a) / keys).as_secs_f64() * 1e3),
            _ => "n/a".into(),
        };
        println!(
            "tui filter {kind} ({} names) {q:>18}: {:>6.2} ms wall mean (the 16 ms budget), \
             {:>6.2} ms wall worst, {cpu} on all cores/keystroke",
            items.len(),
            wall.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3
        );
    }
    // Where a one-character keystroke's time goes: the threshold pass over every name vs
    // the ranked best-of-visible pass.
    for q in ["a", "l"] {
        let query = Query::new(q);
        let runs = 10;
        let t0 = process_cpu();
        for _ in 0..runs {
            filter_into(&query, &items, None, &mut visible);
        }
        let t1 = process_cpu();
        for _ in 0..runs {
            black_box(best_match(&query, &items, &visible));
        }
        let t2 = process_cpu();
        if let (Some(t0), Some(t1), Some(t2)) = (t0, t1, t2) {
            println!(
                "tui filter {kind} {q:>18}: threshold pass {:>6.2} ms CPU, best match {:>6.2} ms CPU ({} visible)",
                ((t1 - t0) / runs).as_secs_f64() * 1e3,
                ((t2 - t1) / runs).as_secs_f64() * 1e3,
                visible.len()
            );
        }
    }
    let mut group = c.benchmark_group(format!("tui_filter_{kind}_{}", items.len()));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    for q in QUERIES {
        group.bench_with_input(BenchmarkId::new("typing", q), q, |b, q| {
            b.iter(|| black_box(type_query(q, &items, &mut visible)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
