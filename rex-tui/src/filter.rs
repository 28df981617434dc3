//! The filter behind `/`. This module is the one seam to `rex_core::search`: swap the bodies
//! of [`Query::matches`] and [`match_indices`] for the shared matcher and nothing else changes.
//!
//! For now it is a smart-case subsequence match (case-insensitive unless the query has an
//! uppercase letter), the matching set of fzf. The list keeps its own order (the user's sort
//! key) and only drops non-matches, so narrowing the query can re-filter just the previous
//! survivors (see [`filter_into`]).

/// A query prepared once per keystroke, then tested against many items without allocating.
#[derive(Debug, Clone)]
pub struct Query {
    text: String,
    chars: Vec<char>,
    /// Lower-cased ASCII bytes when the whole query is ASCII: the byte-scan fast path.
    ascii: Option<Vec<u8>>,
    case_sensitive: bool,
}

impl Query {
    pub fn new(text: &str) -> Self {
        let case_sensitive = text.chars().any(char::is_uppercase);
        let fold = |c: char| {
            if case_sensitive {
                c
            } else {
                c.to_lowercase().next().unwrap_or(c)
            }
        };
        let chars: Vec<char> = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(fold)
            .collect();
        let ascii = chars
            .iter()
            .all(char::is_ascii)
            .then(|| chars.iter().map(|&c| c as u8).collect());
        Query {
            text: text.to_string(),
            chars,
            ascii,
            case_sensitive,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    fn fold(&self, c: char) -> char {
        if self.case_sensitive {
            c
        } else {
            c.to_lowercase().next().unwrap_or(c)
        }
    }

    /// Whether `item` matches. No allocation.
    pub fn matches(&self, item: &str) -> bool {
        if self.chars.is_empty() {
            return true;
        }
        if let Some(q) = &self.ascii {
            // ASCII query bytes can only equal ASCII bytes of UTF-8 text, so a byte scan is
            // exact even for non-ASCII items.
            let mut qi = 0;
            for &b in item.as_bytes() {
                let b = if self.case_sensitive {
                    b
                } else {
                    b.to_ascii_lowercase()
                };
                if b == q[qi] {
                    qi += 1;
                    if qi == q.len() {
                        return true;
                    }
                }
            }
            return false;
        }
        let mut qi = 0;
        for c in item.chars() {
            if self.fold(c) == self.chars[qi] {
                qi += 1;
                if qi == self.chars.len() {
                    return true;
                }
            }
        }
        false
    }

    /// Whether every item matching `self` also matched `previous`, so only the previous
    /// survivors need testing.
    pub fn narrows(&self, previous: &Query) -> bool {
        !previous.is_empty()
            && self.case_sensitive == previous.case_sensitive
            && self.text.starts_with(&previous.text)
    }
}

/// Char indices of `item` to highlight for `query`, or `None` if it does not match.
/// Picks the shortest window ending at the first complete match (fzf's v1 algorithm), so
/// `gcc` in `registry/gnu-gcc` highlights the `gcc`, not `g…c…c` scattered.
pub fn match_indices(query: &Query, item: &str) -> Option<Vec<u32>> {
    if query.is_empty() {
        return Some(Vec::new());
    }
    if let (Some(q), true) = (&query.ascii, item.is_ascii()) {
        // Bytes are chars here: no per-item char buffer.
        let fold = |b: u8| {
            if query.case_sensitive {
                b
            } else {
                b.to_ascii_lowercase()
            }
        };
        return window_indices(item.as_bytes(), q, fold);
    }
    let chars: Vec<char> = item.chars().collect();
    window_indices(&chars, &query.chars, |c| query.fold(c))
}

/// Shortest-window alignment shared by the byte and char paths.
fn window_indices<T: Copy + PartialEq>(
    hay: &[T],
    needle: &[T],
    fold: impl Fn(T) -> T,
) -> Option<Vec<u32>> {
    // Forward: where does the first complete match end?
    let mut qi = 0;
    let mut end = None;
    for (i, &c) in hay.iter().enumerate() {
        if fold(c) == needle[qi] {
            qi += 1;
            if qi == needle.len() {
                end = Some(i);
                break;
            }
        }
    }
    let end = end?;
    // Backward from the end: the latest start that still matches.
    let mut qi = needle.len();
    let mut start = end;
    for i in (0..=end).rev() {
        if fold(hay[i]) == needle[qi - 1] {
            qi -= 1;
            if qi == 0 {
                start = i;
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(needle.len());
    let mut qi = 0;
    for (i, &c) in hay.iter().enumerate().take(end + 1).skip(start) {
        if qi < needle.len() && fold(c) == needle[qi] {
            out.push(i as u32);
            qi += 1;
        }
    }
    Some(out)
}

/// How good a match is for choosing the selection, higher is better: exact (5), prefix of
/// the last `/` segment (4), prefix (3), substring of the last segment (2), substring (1),
/// scattered (0). The list keeps its order; the cursor goes to the best match so Enter
/// opens what was typed.
pub fn rank(query: &Query, item: &str) -> u8 {
    if query.is_empty() {
        return 0;
    }
    let seg_start = item.rfind('/').map_or(0, |i| i + 1);
    if let (Some(q), true) = (&query.ascii, item.is_ascii()) {
        let fold = |b: u8| {
            if query.case_sensitive {
                b
            } else {
                b.to_ascii_lowercase()
            }
        };
        let hay = item.as_bytes();
        let eq = |h: &[u8]| h.iter().zip(q).all(|(&a, &b)| fold(a) == b);
        let find = |h: &[u8]| {
            let first = q[0];
            (0..(h.len() + 1).saturating_sub(q.len()))
                .find(|&i| fold(h[i]) == first && eq(&h[i..i + q.len()]))
        };
        // One scan for the first occurrence decides most cases.
        let Some(at) = find(hay) else { return 0 };
        let seg_prefix = hay.len() - seg_start >= q.len() && eq(&hay[seg_start..]);
        let seg_sub = at >= seg_start || seg_prefix || find(&hay[seg_start..]).is_some();
        return tier(hay.len() == q.len(), seg_prefix, at == 0, seg_sub, true);
    }
    let folded: String = item.chars().map(|c| query.fold(c)).collect();
    let q: String = query.chars.iter().collect();
    let seg = folded.rfind('/').map_or(0, |i| i + 1);
    tier(
        folded == q,
        folded[seg..].starts_with(&q),
        folded.starts_with(&q),
        folded[seg..].contains(&q),
        folded.contains(&q),
    )
}

fn tier(exact: bool, seg_prefix: bool, prefix: bool, seg_sub: bool, sub: bool) -> u8 {
    match () {
        _ if exact => 5,
        _ if seg_prefix => 4,
        _ if prefix => 3,
        _ if seg_sub => 2,
        _ if sub => 1,
        _ => 0,
    }
}

/// Position in `visible` of the best match by [`rank`]; ties go to the shorter name, then
/// the earlier position.
pub fn best_match<S: AsRef<str>>(query: &Query, items: &[S], visible: &[usize]) -> Option<usize> {
    let mut best: Option<(u8, std::cmp::Reverse<usize>, usize)> = None;
    for (pos, &i) in visible.iter().enumerate() {
        let item = items[i].as_ref();
        let key = (rank(query, item), std::cmp::Reverse(item.len()), pos);
        let better = match best {
            None => true,
            Some(b) => (key.0, key.1) > (b.0, b.1),
        };
        if better {
            best = Some(key);
            if key.0 == 5 {
                break;
            }
        }
    }
    best.map(|(_, _, pos)| pos)
}

/// Filter `items` by `query`: indices of matching items (in item order) with the char
/// indices to highlight. The function a benchmark should call.
pub fn filter<S: AsRef<str>>(query: &str, items: &[S]) -> Vec<(usize, Vec<u32>)> {
    let query = Query::new(query);
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| query.matches(item.as_ref()))
        .filter_map(|(i, item)| match_indices(&query, item.as_ref()).map(|ix| (i, ix)))
        .collect()
}

/// The UI's filter path: indices of the items matching `query`, written into `out` (reused
/// between keystrokes). With `candidates`, only those indices are tested: pass the previous
/// result when [`Query::narrows`] says the new query narrows the old one.
pub fn filter_into<S: AsRef<str>>(
    query: &Query,
    items: &[S],
    candidates: Option<&[usize]>,
    out: &mut Vec<usize>,
) {
    out.clear();
    match candidates {
        Some(cands) => out.extend(
            cands
                .iter()
                .copied()
                .filter(|&i| items.get(i).is_some_and(|s| query.matches(s.as_ref()))),
        ),
        None => out.extend(
            items
                .iter()
                .enumerate()
                .filter(|(_, s)| query.matches(s.as_ref()))
                .map(|(i, _)| i),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_case_subsequence() {
        let q = Query::new("ngx");
        assert!(q.matches("library/nginx"));
        assert!(q.matches("LIBRARY/NGINX"));
        assert!(!q.matches("library/redis"));
        let upper = Query::new("NGX");
        assert!(!upper.matches("library/nginx"));
        assert!(upper.matches("NGINX"));
    }

    #[test]
    fn non_ascii_query_and_items() {
        let q = Query::new("über");
        assert!(q.matches("team/Über-app"));
        assert_eq!(match_indices(&q, "x/über").unwrap(), vec![2, 3, 4, 5]);
        // ASCII query against a non-ASCII item uses the byte path and must stay exact.
        assert!(Query::new("app").matches("ünïcode/äpp-app"));
        assert_eq!(
            match_indices(&Query::new("app"), "äpp-app").unwrap(),
            vec![4, 5, 6]
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
    fn best_match_prefers_exact_then_segment_prefix() {
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
        assert_eq!(
            best("service-1"),
            Some("team1/service-1"),
            "shorter wins a tie"
        );
        assert_eq!(rank(&Query::new("über"), "x/Über-app"), 4);
        assert_eq!(rank(&Query::new("sv1"), "team1/service-1"), 0);
    }

    #[test]
    fn filter_returns_matches_in_order() {
        let items = ["alpine", "nginx", "node", "redis"];
        let got = filter("n", &items);
        assert_eq!(
            got.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert_eq!(got[1].1, vec![0]);
    }

    #[test]
    fn incremental_filter_matches_full_filter() {
        let items: Vec<String> = (0..2000)
            .map(|i| format!("team{}/service-{}", i % 37, i))
            .collect();
        let mut prev = Vec::new();
        let mut prev_q = Query::new("");
        filter_into(&prev_q, &items, None, &mut prev);
        for text in ["s", "se", "ser", "ser1", "ser12"] {
            let q = Query::new(text);
            let mut inc = Vec::new();
            let cands = q.narrows(&prev_q).then_some(prev.as_slice());
            filter_into(&q, &items, cands, &mut inc);
            let mut full = Vec::new();
            filter_into(&q, &items, None, &mut full);
            assert_eq!(inc, full, "query {text}");
            prev = inc;
            prev_q = q;
        }
        assert!(!prev.is_empty());
        // Going from lower to upper case is not a narrowing.
        assert!(!Query::new("serX").narrows(&Query::new("ser")));
    }
}
