//! In-memory search over repository names and tags (design 1.7, CLI 2.6).
//!
//! Pure and synchronous: callers hand in already-fetched names and get ranked hits back.
//!
//! * [`Query::parse`] picks the [`MatchMode`] from the text: fuzzy (default), exact
//!   (`--exact` / `"quoted"`), wildcard (`*`, `?`), regex (`^…`, `…$`). Smart case.
//! * [`Matcher`] scores one candidate at a time without allocating (nucleo-matcher inside);
//!   reuse it across candidates and keystrokes.
//! * [`search`] ranks a list: exact > prefix > word boundary > substring > scattered, then
//!   score (matches in the last `/` segment preferred), case-exact, shorter, earlier,
//!   alphabetical, input order. Only hits with accuracy >= [`MIN_ACCURACY`] are kept.
//! * [`filter_names`] keeps matching names in their original order (`--filter`).
//!
//! How accuracy is defined and why nucleo-matcher: `docs/search.md`.

mod matcher;
mod query;
#[cfg(test)]
mod tests;

pub use matcher::{Match, MatchKind, Matcher, Rank, Verdict, MAX_GAIN_PER_CHAR};
pub use query::{MatchMode, Query};

use crate::Result;

/// Only matches with at least this accuracy are shown (design: ">= 50 % accuracy").
pub const MIN_ACCURACY: f32 = 0.5;

/// Points per query character that a match must earn before it counts as accurate at all
/// (`z` in `docs/search.md`). 8 = half of nucleo's 16-point base score per matched char:
/// scattered matches that earn little more than the base score drop to 0–40 %.
pub const ACCURACY_FLOOR_PER_CHAR: u32 = 8;

/// Extra score for a fuzzy alignment that lies entirely in the last `/` segment, so
/// `openssl/libssl3` beats `libssw/libssw0` for `libssl` even before tiers apply. Worth half
/// a matched character: it breaks near-ties, it does not override clearly better matches.
pub const LAST_SEGMENT_BONUS: u32 = 8;

/// The CLI's default `--limit` (design 2.6).
pub const DEFAULT_LIMIT: usize = 50;

/// One ranked search result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    /// Position of the candidate in the input.
    pub index: usize,
    pub score: u32,
    pub accuracy: f32,
    pub kind: MatchKind,
    /// Matched character positions for highlighting (empty unless requested).
    pub indices: Vec<u32>,
}

/// Knobs for [`Matcher::search`]; [`search`] uses the defaults plus a limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchOptions {
    /// Keep at most this many hits (the best ones).
    pub limit: Option<usize>,
    /// Drop hits below this accuracy. `0.0` keeps every match (fzf behaviour).
    pub min_accuracy: f32,
    /// Compute highlight indices for the returned hits.
    pub indices: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            limit: None,
            min_accuracy: MIN_ACCURACY,
            indices: true,
        }
    }
}

/// Rank `candidates` against `query`. See the module docs for the order.
/// An empty query returns every candidate in input order (up to `limit`).
pub fn search<'a>(
    query: &Query,
    candidates: impl IntoIterator<Item = &'a str>,
    limit: Option<usize>,
) -> Vec<SearchHit> {
    let names: Vec<&str> = candidates.into_iter().collect();
    Matcher::new(query.clone()).search(
        &names,
        &SearchOptions {
            limit,
            ..SearchOptions::default()
        },
    )
}

/// `--filter`: parse `pattern` (as [`Query::parse`] with `exact`) and keep the names that
/// match with accuracy >= [`MIN_ACCURACY`], **in their original order** (list commands sort
/// by their own key afterwards). An empty pattern keeps everything.
pub fn filter_names<'a, S: AsRef<str>>(
    pattern: &str,
    exact: bool,
    names: &'a [S],
) -> Result<Vec<&'a S>> {
    let query = Query::parse(pattern, exact)?;
    let mut matcher = Matcher::new(query);
    Ok(names
        .iter()
        .filter(|n| matcher.matches(n.as_ref()))
        .collect())
}

/// A match waiting to be ranked.
struct Ranked<'a> {
    key: u128,
    eval: matcher::Eval,
    index: u32,
    name: &'a str,
}

impl<'a> Ranked<'a> {
    fn new(eval: matcher::Eval, index: usize, name: &'a str) -> Self {
        Ranked {
            key: eval.rank_key(),
            eval,
            index: index as u32,
            name,
        }
    }
}

/// `Less` = ranks higher.
impl Ord for Ranked<'_> {
    fn cmp(&self, other: &Ranked<'_>) -> std::cmp::Ordering {
        self.key
            .cmp(&other.key)
            .then_with(|| alphabetical(self.name, other.name))
            .then(self.index.cmp(&other.index))
    }
}

impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Ranked<'_> {}

/// The best-ranked of the candidates offered so far, in exactly [`Matcher::search`]'s
/// order (ties: alphabetical, then the lower index). Lets a filter pass that already called
/// [`Matcher::test`] pick the top hit without ranking the survivors again; two `Best`s of
/// disjoint chunks [`Best::merge`] into the best of both.
#[derive(Default)]
pub struct Best<'a> {
    top: Option<Ranked<'a>>,
}

impl std::fmt::Debug for Best<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Best")
            .field("index", &self.index())
            .finish()
    }
}

impl<'a> Best<'a> {
    /// Consider candidate `index` (its name and the rank [`Matcher::test`] gave it).
    pub fn offer(&mut self, rank: Rank, index: usize, name: &'a str) {
        let hit = Ranked::new(rank.0, index, name);
        if self.top.as_ref().is_none_or(|top| hit < *top) {
            self.top = Some(hit);
        }
    }

    pub fn merge(&mut self, other: Best<'a>) {
        if let Some(hit) = other.top {
            if self.top.as_ref().is_none_or(|top| hit < *top) {
                self.top = Some(hit);
            }
        }
    }

    /// The index given to [`Best::offer`] of the best candidate.
    pub fn index(&self) -> Option<usize> {
        self.top.as_ref().map(|h| h.index as usize)
    }
}

/// Up to this limit the best hits are kept in a bounded heap while scanning (one comparison
/// per hit against the worst kept); above it, all hits are collected and selected.
const HEAP_LIMIT: usize = 4096;

/// Case-insensitive (ASCII) order first so `v1.2` sorts before `V1.3`, then bytewise so
/// the order is total. Plain byte comparison up to the first difference (the common case).
fn alphabetical(a: &str, b: &str) -> std::cmp::Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    match x.iter().zip(y).position(|(p, q)| p != q) {
        None => x.len().cmp(&y.len()),
        Some(i) => {
            let lower = |s: &[u8]| {
                s[i..]
                    .iter()
                    .map(u8::to_ascii_lowercase)
                    .collect::<Vec<_>>()
            };
            let (p, q) = (x[i].to_ascii_lowercase(), y[i].to_ascii_lowercase());
            if p != q {
                p.cmp(&q)
            } else {
                // Differ only in case here: rare, so allocation is fine.
                lower(x).cmp(&lower(y)).then_with(|| x.cmp(y))
            }
        }
    }
}

impl Matcher {
    /// Rank `candidates` with this matcher's query (no per-candidate allocation; one
    /// allocation per returned hit for its indices).
    pub fn search(&mut self, candidates: &[&str], opts: &SearchOptions) -> Vec<SearchHit> {
        let limit = opts.limit.unwrap_or(usize::MAX);
        if limit == 0 {
            return Vec::new();
        }
        if self.query().is_empty() {
            return candidates
                .iter()
                .take(limit)
                .enumerate()
                .map(|(index, _)| SearchHit {
                    index,
                    score: 0,
                    accuracy: 1.0,
                    kind: MatchKind::Any,
                    indices: Vec::new(),
                })
                .collect();
        }
        let hits = if limit <= HEAP_LIMIT {
            // Max-heap on "worse": the top is the worst hit kept.
            let mut heap = std::collections::BinaryHeap::with_capacity(limit + 1);
            for (index, &name) in candidates.iter().enumerate() {
                if let Some(eval) = self.eval(name, opts.min_accuracy, true) {
                    let hit = Ranked::new(eval, index, name);
                    if heap.len() < limit {
                        heap.push(hit);
                    } else if let Some(mut worst) = heap.peek_mut() {
                        if hit < *worst {
                            *worst = hit;
                        }
                    }
                }
            }
            heap.into_sorted_vec()
        } else {
            let mut hits: Vec<Ranked<'_>> = Vec::new();
            for (index, &name) in candidates.iter().enumerate() {
                if let Some(eval) = self.eval(name, opts.min_accuracy, true) {
                    hits.push(Ranked::new(eval, index, name));
                }
            }
            if hits.len() > limit {
                // Partial selection first: O(n) instead of sorting everything.
                hits.select_nth_unstable(limit - 1);
                hits.truncate(limit);
            }
            hits.sort_unstable();
            hits
        };
        hits.into_iter()
            .map(|h| {
                let mut indices = Vec::new();
                if opts.indices {
                    self.fill_indices(h.name, &h.eval, &mut indices);
                }
                SearchHit {
                    index: h.index as usize,
                    score: h.eval.score,
                    accuracy: h.eval.accuracy,
                    kind: h.eval.kind(),
                    indices,
                }
            })
            .collect()
    }
}
