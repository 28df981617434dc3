//! The filter behind `/`: the same matcher and 50 % accuracy threshold as `rex search`
//! (`rex_core::search`, see docs/search.md), so the TUI and the CLI agree on what matches.
//! Fuzzy by default; `"exact"`, `alp*` (wildcard) and `^re$` (regex) work here too.
//!
//! The list keeps its own order (the user's sort key) and only drops non-matches; the
//! cursor goes to the best-ranked match (rex search's ranking) so Enter opens what was typed.

use rex_core::search::{self, Matcher};
use std::cell::RefCell;

/// A query prepared once per keystroke, then tested against many items. Holds a
/// [`Matcher`] (its buffers are reused, so testing an item does not allocate).
#[derive(Debug, Clone)]
pub struct Query {
    text: String,
    /// `None` for an empty query (everything matches) or an invalid pattern (nothing does).
    matcher: Option<RefCell<Matcher>>,
    /// Why the pattern is invalid (a half-typed regex such as `^(ab`).
    error: Option<String>,
}

impl Query {
    pub fn new(text: &str) -> Self {
        let (matcher, error) = match search::Query::parse(text, false) {
            Ok(q) if q.is_empty() => (None, None),
            Ok(q) => (Some(RefCell::new(Matcher::new(q))), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Query {
            text: text.to_string(),
            matcher,
            error,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Empty (only whitespace): every item matches.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none() && self.error.is_none()
    }

    /// The parse error of an invalid pattern; such a query matches nothing.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Whether `item` matches with at least `rex_core::search::MIN_ACCURACY`. No allocation.
    pub fn matches(&self, item: &str) -> bool {
        match &self.matcher {
            Some(m) => m.borrow_mut().matches(item),
            None => self.error.is_none(),
        }
    }

    /// When `self` extends `previous` (one more character typed, or several coalesced):
    /// only the items of the previous pass's record whose standing reaches the returned
    /// floor can pass `self`, so [`filter_pass`] tests only those, with exactly the full
    /// pass's result (`rex_core::search::Matcher::narrowing_floor`). `None`: test all.
    pub fn narrowing_floor(&self, previous: &Query) -> Option<u16> {
        let (new, old) = (self.matcher.as_ref()?, previous.matcher.as_ref()?);
        new.borrow().narrowing_floor(&old.borrow())
    }
}

/// Char indices of `item` to highlight for `query`, or `None` if it does not match at all
/// (the threshold is not applied: callers highlight items that already passed it).
pub fn match_indices(query: &Query, item: &str) -> Option<Vec<u32>> {
    match &query.matcher {
        Some(m) => {
            let mut out = Vec::new();
            m.borrow_mut().indices(item, &mut out).then_some(out)
        }
        None => query.error.is_none().then(Vec::new),
    }
}

/// Lists at least this long are filtered on several threads: one pass over 100,000 names
/// costs 15–30 ms of CPU, over the 16 ms a keystroke may take; below it a thread start
/// costs more than it saves.
const PARALLEL_FROM: usize = 20_000;

/// How many threads (one chunk each) a pass over `len` items uses.
fn lanes(len: usize) -> usize {
    if len < PARALLEL_FROM {
        return 1;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.clamp(1, 8).min(len / (PARALLEL_FROM / 2))
}

/// Run `work` over `len` items split into contiguous chunks, one per lane, each lane with
/// its own copy of `query` (a Matcher's buffers are not shared); results in chunk order.
fn in_chunks<R: Send>(
    query: &Query,
    len: usize,
    work: impl Fn(&Query, std::ops::Range<usize>) -> R + Sync,
) -> Vec<R> {
    let lanes = lanes(len);
    if lanes <= 1 {
        return vec![work(query, 0..len)];
    }
    let chunk = len.div_ceil(lanes);
    let ranges: Vec<_> = (0..lanes)
        .map(|l| l * chunk..((l + 1) * chunk).min(len))
        .collect();
    let copies: Vec<Query> = ranges.iter().skip(1).map(|_| query.clone()).collect();
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = copies
            .into_iter()
            .zip(ranges.iter().skip(1).cloned())
            .map(|(q, r)| scope.spawn(move || work(&q, r)))
            .collect();
        let mut out = vec![work(query, ranges[0].clone())];
        out.extend(handles.into_iter().map(|h| match h.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        }));
        out
    })
}

/// Position in `visible` of the best match, ranked exactly as `rex search` ranks (tier,
/// score, case, shorter name, …); ties keep the earlier position. A second ranking pass
/// over the survivors: the reference that [`filter_pass`]'s one-pass best is tested
/// against.
#[cfg(test)]
fn best_match<S: AsRef<str> + Sync>(
    query: &Query,
    items: &[S],
    visible: &[usize],
) -> Option<usize> {
    query.matcher.as_ref()?;
    let name = |i: usize| items.get(i).map_or("", AsRef::as_ref);
    let opts = search::SearchOptions {
        limit: Some(1),
        min_accuracy: 0.0,
        indices: false,
    };
    let best_in = |q: &Query, positions: &[usize]| -> Option<usize> {
        let names: Vec<&str> = positions.iter().map(|&p| name(visible[p])).collect();
        let m = q.matcher.as_ref()?;
        let hit = m.borrow_mut().search(&names, &opts).into_iter().next()?;
        Some(positions[hit.index])
    };
    // Each chunk's best, then the best of those: the ranking is a total order and the
    // chunks are in order, so ties still go to the earlier position.
    let finalists: Vec<usize> = in_chunks(query, visible.len(), |q, r| {
        best_in(q, &r.collect::<Vec<_>>())
    })
    .into_iter()
    .flatten()
    .collect();
    match finalists.len() {
        0 | 1 => finalists.first().copied(),
        _ => best_in(query, &finalists),
    }
}

/// An item that matched a query at all, with its standing
/// (`rex_core::search::Verdict::standing`): what the next, longer query narrows with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tested {
    index: u32,
    standing: u16,
}

/// The items of `record` that a query with this narrowing floor must test again.
fn retest(record: &[Tested], floor: u16) -> Vec<u32> {
    record
        .iter()
        .filter(|t| t.standing >= floor)
        .map(|t| t.index)
        .collect()
}

/// What one lane of a pass found, in item order.
struct Lane<'a> {
    visible: Vec<usize>,
    record: Vec<Tested>,
    best: search::Best<'a>,
}

/// The UI's filter path, one pass per keystroke: the indices of the items matching
/// `query` (item order) into `visible`, every item that matched at all into `record` (for
/// narrowing the next query), and the best-ranked match (rex search's order) as an item
/// index. With `narrow = Some((previous record, floor))` only the previous record's items
/// at or above the floor are tested ([`Query::narrowing_floor`]); the result is the same.
/// Long lists are split over the cores ([`PARALLEL_FROM`]).
pub fn filter_pass<S: AsRef<str> + Sync>(
    query: &Query,
    items: &[S],
    narrow: Option<(&[Tested], u16)>,
    visible: &mut Vec<usize>,
    record: &mut Vec<Tested>,
) -> Option<usize> {
    visible.clear();
    record.clear();
    if query.matcher.is_none() {
        if query.error.is_none() {
            visible.extend(0..items.len());
        }
        return None;
    }
    let retested = narrow.map(|(old, floor)| retest(old, floor));
    let count = retested.as_ref().map_or(items.len(), Vec::len);
    let item_at = |k: usize| retested.as_ref().map_or(k, |r| r[k] as usize);
    let lanes = in_chunks(query, count, |q, range| {
        let mut lane = Lane {
            visible: Vec::new(),
            record: Vec::new(),
            best: search::Best::default(),
        };
        let Some(m) = q.matcher.as_ref() else {
            return lane;
        };
        let mut m = m.borrow_mut();
        for k in range {
            let i = item_at(k);
            let Some(name) = items.get(i).map(AsRef::as_ref) else {
                continue;
            };
            let verdict = m.test(name);
            if let Some(standing) = verdict.standing() {
                lane.record.push(Tested {
                    index: i as u32,
                    standing,
                });
            }
            if let search::Verdict::Pass(rank) = verdict {
                lane.visible.push(i);
                lane.best.offer(rank, i, name);
            }
        }
        lane
    });
    let mut best = search::Best::default();
    for lane in lanes {
        visible.extend(lane.visible);
        record.extend(lane.record);
        best.merge(lane.best);
    }
    best.index()
}

/// Indices of the items matching `query`, in item order, into `out` (one full pass).
pub fn filter_into<S: AsRef<str> + Sync>(query: &Query, items: &[S], out: &mut Vec<usize>) {
    filter_pass(query, items, None, out, &mut Vec::new());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_case_fuzzy_with_the_search_threshold() {
        let q = Query::new("ngx");
        assert!(q.matches("library/nginx"));
        assert!(q.matches("LIBRARY/NGINX"));
        assert!(!q.matches("library/redis"));
        let upper = Query::new("NGX");
        assert!(!upper.matches("library/nginx"));
        assert!(upper.matches("NGINX"));
        // Scattered junk is a subsequence but below 50 % accuracy, as in `rex search`.
        let names = ["team1/service-1", "gnu/gcc", "g/c/c/x"];
        for n in names {
            let cli =
                !search::search(&search::Query::parse("gcc", false).unwrap(), [n], None).is_empty();
            assert_eq!(Query::new("gcc").matches(n), cli, "{n}");
        }
    }

    #[test]
    fn same_set_as_rex_search_on_many_names() {
        // 3,000 names take the one-thread path, 60,000 the chunked one.
        for n in [3000, 60_000] {
            same_set_as_rex_search(n);
        }
    }

    fn same_set_as_rex_search(n: usize) {
        let items: Vec<String> = (0..n)
            .map(|i| match i % 4 {
                0 => format!("team{}/service-{}", i % 37, i),
                1 => format!(
                    "library/lib{}-dev",
                    ["ssl", "ssh", "ssw", "xml2"][(i / 4) % 4]
                ),
                2 => format!("mirror/python3-{}", ["requests", "yaml", "six"][i % 3]),
                _ => format!("Org{}/Alpine-{}", i % 5, i),
            })
            .collect();
        for text in [
            "s",
            "se",
            "ser",
            "libssl",
            "pyreq",
            "Alp",
            "alp*",
            "^team1/",
            "\"service-4\"",
            "x",
        ] {
            let mut got = Vec::new();
            filter_into(&Query::new(text), &items, &mut got);
            let q = search::Query::parse(text, false).unwrap();
            let mut want: Vec<usize> = search::search(&q, items.iter().map(String::as_str), None)
                .into_iter()
                .map(|h| h.index)
                .collect();
            want.sort_unstable();
            assert_eq!(got, want, "query {text} over {n} names");
        }
    }

    #[test]
    fn chunked_best_match_is_the_overall_best_and_ties_go_to_the_earlier() {
        let n = 60_000;
        if std::thread::available_parallelism().map_or(1, |c| c.get()) > 1 {
            assert!(lanes(n) > 1, "60,000 names are split over the cores");
        }
        let mut items: Vec<String> = (0..n)
            .map(|i| format!("team{}/service-{i}", i % 97))
            .collect();
        // The best hit sits in the last chunk; an equal-ranked twin earlier must win over a
        // later one, wherever the chunk borders fall.
        items[n - 10] = "openssl/libssl3".into();
        let all: Vec<usize> = (0..n).collect();
        let best = best_match(&Query::new("libssl"), &items, &all);
        assert_eq!(best, Some(n - 10));
        items[5] = "openssl/libssl3".into();
        assert_eq!(best_match(&Query::new("libssl"), &items, &all), Some(5));
        // The one-pass best of filter_pass is the two-pass reference's.
        for text in ["libssl", "service-4", "team9/", "svc12", "s", "Team", "t*9"] {
            let q = Query::new(text);
            let (mut visible, mut record) = (Vec::new(), Vec::new());
            let best = filter_pass(&q, &items, None, &mut visible, &mut record);
            let want = best_match(&q, &items, &visible).map(|p| visible[p]);
            assert_eq!(best, want, "{text}");
        }
        // Against rex search's own top hit over the whole list.
        for text in ["service-4", "team9/", "svc12"] {
            let q = search::Query::parse(text, false).unwrap();
            let opts = search::SearchOptions {
                limit: Some(1),
                min_accuracy: 0.0,
                indices: false,
            };
            let names: Vec<&str> = items.iter().map(String::as_str).collect();
            let want = search::Matcher::new(q)
                .search(&names, &opts)
                .into_iter()
                .next()
                .map(|h| h.index);
            assert_eq!(best_match(&Query::new(text), &items, &all), want, "{text}");
        }
    }

    #[test]
    fn patterns_and_invalid_regex() {
        let items = ["alpine", "library/alpine", "myalpine", "alpine-base"];
        let got = |t: &str| {
            let mut out = Vec::new();
            filter_into(&Query::new(t), &items, &mut out);
            out
        };
        assert_eq!(got("alp*"), vec![0, 1, 3]);
        assert_eq!(got("\"alpine\""), vec![0, 1]);
        assert_eq!(got("-base$"), vec![3]);
        let bad = Query::new("^(al");
        assert!(bad.error().is_some());
        assert!(!bad.is_empty());
        assert!(got("^(al").is_empty(), "an invalid pattern matches nothing");
        assert_eq!(match_indices(&bad, "alpine"), None);
        assert_eq!(got("   ").len(), 4, "blank matches everything");
    }

    #[test]
    fn non_ascii_query_and_items() {
        let q = Query::new("über");
        assert!(q.matches("team/Über-app"));
        assert_eq!(match_indices(&q, "x/über").unwrap(), vec![2, 3, 4, 5]);
        assert!(Query::new("app").matches("ünïcode/äpp-app"));
        assert_eq!(
            match_indices(&Query::new("app"), "äpp-app").unwrap(),
            vec![0, 1, 2],
            "accents fold for an unaccented query, as in rex search"
        );
    }

    #[test]
    fn indices_prefer_tight_window() {
        let q = Query::new("gcc");
        assert_eq!(match_indices(&q, "gnu/gcc").unwrap(), vec![4, 5, 6]);
        assert_eq!(match_indices(&q, "redis"), None);
        assert_eq!(
            match_indices(&Query::new(""), "x").unwrap(),
            Vec::<u32>::new()
        );
    }

    #[test]
    fn best_match_is_rex_searchs_top_hit() {
        let items = [
            "team14/service-114",
            "team1/service-1x",
            "team1/service-1",
            "libssw/libssw0",
            "openssl/libssl3",
        ];
        let all: Vec<usize> = (0..items.len()).collect();
        let best = |q: &str| best_match(&Query::new(q), &items, &all).map(|p| items[p]);
        assert_eq!(best("team1/service-1"), Some("team1/service-1"));
        assert_eq!(best("libssl"), Some("openssl/libssl3"));
        assert_eq!(best("service-1"), Some("team1/service-1"), "shorter wins");
        assert_eq!(best(""), None);
        // Positions are within `visible`, not `items`.
        let some = [3usize, 4];
        assert_eq!(best_match(&Query::new("libssl"), &items, &some), Some(1));
    }

    #[test]
    fn filter_returns_matches_in_order() {
        let items = ["alpine", "nginx", "node", "redis"];
        let mut idx = Vec::new();
        filter_into(&Query::new("n"), &items, &mut idx);
        assert!(idx.windows(2).all(|w| w[0] < w[1]), "item order kept");
        assert!(idx.contains(&1) && idx.contains(&2) && !idx.contains(&3));
        assert_eq!(match_indices(&Query::new("n"), items[1]).unwrap(), vec![0]);
    }
}
