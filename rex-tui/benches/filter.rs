//! The TUI's per-keystroke filter cost over 100,000 names (budget: 16 ms per keystroke).
//!
//! Each query is typed one character at a time; per keystroke the bench does what
//! `App::set_query` and the list drawing do: prepare the query, filter every name (rex
//! search's matcher and 50 % threshold), pick the best match for the cursor, and compute the
//! highlight indices of one screen of rows. `typing/<q>` reports the time for the whole
//! word; divide by its length for ms/keystroke (the bench prints that too).
//!
//! Corpus (`rex_tests::corpus::names`), first that works: `REX_SEARCH_CORPUS=<plain file>`,
//! the shared benchmark corpus (`/work/shared/bench/search/corpus100k.txt.xz`, when
//! present), else a deterministic synthetic 100k corpus, so CI needs nothing outside the repo.

// A bench reports its summary on stdout.
#![allow(clippy::print_stdout)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rex_tui::app::ListView;
use rex_tui::filter::match_indices;
use std::hint::black_box;
use std::time::{Duration, Instant};

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

/// One keystroke's work, as the UI does it: `ListView::set_query` (narrowed when the
/// query grew, a full pass otherwise; the cursor goes to the best match), then the highlight
/// indices of one screen of rows around the cursor. Returns something so nothing is
/// optimised away.
fn keystroke(text: &str, list: &mut ListView<String>) -> usize {
    list.set_query(text);
    let start = list.selected.saturating_sub(SCREEN_ROWS / 2);
    let highlighted: usize = list
        .visible
        .iter()
        .skip(start)
        .take(SCREEN_ROWS)
        .filter_map(|&i| match_indices(&list.query, &list.items[i]))
        .map(|ix| ix.len())
        .sum();
    list.visible.len() + list.selected + highlighted
}

/// The prefixes of `q`, one per typed character.
fn prefixes(q: &str) -> impl Iterator<Item = &str> {
    q.char_indices().map(move |(i, c)| &q[..i + c.len_utf8()])
}

/// Type `q` into an empty filter, one character at a time.
fn type_query(q: &str, list: &mut ListView<String>) -> usize {
    list.set_query("");
    prefixes(q).map(|p| keystroke(p, list)).sum()
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
    let (kind, items) = rex_tests::corpus::names();
    let mut list = ListView::new(None);
    list.set_items(items);
    let n = list.items.len();
    // A plain summary first: the numbers the 16 ms budget is about.
    for q in QUERIES {
        let runs = 5;
        let keys = (runs * q.chars().count()) as u32;
        let mut worst = (Duration::ZERO, "");
        let start = Instant::now();
        let cpu_start = process_cpu();
        for _ in 0..runs {
            list.set_query("");
            for p in prefixes(q) {
                let t = Instant::now();
                black_box(keystroke(p, &mut list));
                let took = t.elapsed();
                if took > worst.0 {
                    worst = (took, p);
                }
            }
        }
        let wall = start.elapsed() / keys;
        let cpu = match (cpu_start, process_cpu()) {
            (Some(a), Some(b)) => format!("{:>6.2} ms CPU", ((b - a) / keys).as_secs_f64() * 1e3),
            _ => "n/a".into(),
        };
        // Each prefix from an empty filter: a full pass, what the keystroke costs after a
        // Backspace, a paste or a mode change (no narrowing).
        let mut worst_full = (Duration::ZERO, "");
        for p in prefixes(q) {
            for _ in 0..runs {
                list.set_query("");
                let t = Instant::now();
                black_box(keystroke(p, &mut list));
                let took = t.elapsed();
                if took > worst_full.0 {
                    worst_full = (took, p);
                }
            }
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "tui filter {kind} ({n} names) {q:>18}: typing {:>6.2} ms wall mean, \
             {:>6.2} ms worst ({:?}), {cpu} all cores/keystroke; full pass worst {:>6.2} ms ({:?})",
            ms(wall),
            ms(worst.0),
            worst.1,
            ms(worst_full.0),
            worst_full.1,
        );
    }
    let mut group = c.benchmark_group(format!("tui_filter_{kind}_{n}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    for q in QUERIES {
        group.bench_with_input(BenchmarkId::new("typing", q), q, |b, q| {
            b.iter(|| black_box(type_query(q, &mut list)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
