//! The per-candidate matcher: tier, score, accuracy and highlight indices.

use nucleo_matcher::{Config, Utf32Str};

use super::query::{MatchMode, Needle, Query};
use super::{ACCURACY_FLOOR_PER_CHAR, LAST_SEGMENT_BONUS, MIN_ACCURACY};

/// Which kind of match a hit is. For fuzzy queries this is the ranking tier: an exact hit
/// always ranks above a prefix hit, and so on down to a scattered fuzzy hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The name, or its last `/` segment, equals the query.
    Exact,
    /// The name or its last `/` segment starts with the query.
    Prefix,
    /// The query occurs contiguously, starting at a word boundary (`/ - _ .`, camelCase).
    Boundary,
    /// The query occurs contiguously inside a word.
    Substring,
    /// The query's characters occur in order with gaps.
    Fuzzy,
    /// A wildcard or regex hit.
    Pattern,
    /// The empty query: everything matches.
    Any,
}

/// One scored candidate, returned by [`Matcher::score`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Match {
    /// Higher is better; comparable only between candidates of the same query and kind.
    pub score: u32,
    /// How good the match is, `0.0..=1.0`; see [`MIN_ACCURACY`] and `docs/search.md`.
    pub accuracy: f32,
    pub kind: MatchKind,
    /// Matched character positions (Unicode scalar values, not bytes), ascending.
    pub indices: Vec<u32>,
}

/// nucleo's score for one matched character without any bonus (fzf's `scoreMatch`).
pub(super) const SCORE_MATCH_BARE: u16 = 16;

/// Ranking tiers, higher first. Prefix of the last segment beats prefix of the whole name.
const TIER_EXACT: u8 = 6;
const TIER_PREFIX_LAST: u8 = 5;
const TIER_PREFIX: u8 = 4;
const TIER_BOUNDARY: u8 = 3;
const TIER_SUBSTRING: u8 = 2;
const TIER_FUZZY: u8 = 1;
const TIER_PATTERN: u8 = 0;

/// Everything the ranking needs about one candidate; no allocation.
#[derive(Debug, Clone, Copy)]
pub(super) struct Eval {
    pub(super) tier: u8,
    pub(super) score: u32,
    pub(super) accuracy: f32,
    pub(super) case_exact: bool,
    /// Char length of the last `/` segment (whole name when the query has a `/`): a
    /// shorter package name wins before a shorter namespace.
    pub(super) seg_len: u32,
    /// Char length of the candidate.
    pub(super) len: u32,
    /// Char position of the first matched character.
    pub(super) first: u32,
    /// Where the highlight indices come from.
    span: Span,
}

#[derive(Debug, Clone, Copy)]
enum Span {
    /// `n` contiguous chars at this char position.
    Contiguous(u32),
    /// Fuzzy alignment within the haystack suffix starting at this char position.
    Fuzzy(u32),
    /// Whole (0) or last-segment (start) regex match.
    Pattern(u32),
    None,
}

impl Eval {
    pub(super) fn kind(&self) -> MatchKind {
        match self.tier {
            TIER_EXACT => MatchKind::Exact,
            TIER_PREFIX_LAST | TIER_PREFIX => MatchKind::Prefix,
            TIER_BOUNDARY => MatchKind::Boundary,
            TIER_SUBSTRING => MatchKind::Substring,
            TIER_FUZZY => MatchKind::Fuzzy,
            _ => MatchKind::Pattern,
        }
    }

    /// Ranking order packed into one integer, smaller = better: tier, score, case-exact,
    /// shorter segment, shorter name, earlier — so sorting compares one `u128` instead of
    /// a chain. Lengths and positions saturate at 2^24 chars (no real name gets close).
    /// The caller breaks remaining ties alphabetically, then by input order.
    #[inline]
    pub(super) fn rank_key(&self) -> u128 {
        const MAX24: u32 = (1 << 24) - 1;
        let tier = u128::from(u8::MAX - self.tier);
        let score = u128::from(u32::MAX - self.score);
        let case = u128::from(!self.case_exact);
        let sat = |v: u32| u128::from(v.min(MAX24));
        (tier << 105)
            | (score << 73)
            | (case << 72)
            | (sat(self.seg_len) << 48)
            | (sat(self.len) << 24)
            | sat(self.first)
    }
}

/// A reusable matcher for one [`Query`]: holds nucleo's scratch matrix (~135 KB) and the
/// folding buffers, so matching a candidate never allocates. Create one per thread and reuse
/// it across keystrokes with [`Matcher::set_query`].
pub struct Matcher {
    query: Query,
    nucleo: nucleo_matcher::Matcher,
    /// Score of the query against itself: the best any candidate can get.
    perfect: u16,
    /// Non-ASCII candidate as chars.
    hay: Vec<char>,
    /// Folded non-ASCII candidate.
    fold_chars: Vec<char>,
    idx: Vec<u32>,
    /// Set by `eval` when a candidate matched but fell below `min_accuracy`: its full-name
    /// score, which [`Matcher::test`] reports for narrowing.
    below: Option<u16>,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("query", &self.query)
            .field("perfect", &self.perfect)
            .finish_non_exhaustive()
    }
}

impl Clone for Matcher {
    fn clone(&self) -> Self {
        Matcher::new(self.query.clone())
    }
}

impl Matcher {
    pub fn new(query: Query) -> Matcher {
        // Path scheme (fzf --scheme=path): `/` is the delimiter and the start of the name
        // scores like the start of a segment, so `ns/name` ranks by `name` too.
        let nucleo = nucleo_matcher::Matcher::new(Config::DEFAULT.match_paths());
        let mut m = Matcher {
            query,
            nucleo,
            perfect: 0,
            hay: Vec::new(),
            fold_chars: Vec::new(),
            idx: Vec::new(),
            below: None,
        };
        m.prepare();
        m
    }

    /// Replace the query, keeping the allocations.
    pub fn set_query(&mut self, query: Query) {
        self.query = query;
        self.prepare();
    }

    pub fn query(&self) -> &Query {
        &self.query
    }

    #[cfg(test)]
    pub(super) fn perfect_score(&self) -> u16 {
        self.perfect
    }

    fn prepare(&mut self) {
        let needle = &self.query.needle;
        self.nucleo.config.ignore_case = needle.ignore_case;
        self.nucleo.config.normalize = needle.normalize;
        self.perfect = if self.query.mode() == MatchMode::Fuzzy && !self.query.is_empty() {
            // The needle folded is what a perfect candidate looks like after folding.
            let n = needle_utf32(needle);
            self.nucleo.fuzzy_match(n, n).unwrap_or(0)
        } else {
            0
        };
    }

    /// Score one candidate: `None` when it does not match at all. The accuracy threshold
    /// is NOT applied here (see [`Matcher::matches`]); `indices` are always filled.
    pub fn score(&mut self, candidate: &str) -> Option<Match> {
        let eval = self.eval(candidate, 0.0, true)?;
        let mut indices = Vec::new();
        self.fill_indices(candidate, &eval, &mut indices);
        Some(Match {
            score: eval.score,
            accuracy: eval.accuracy,
            kind: if self.query.is_empty() {
                MatchKind::Any
            } else {
                eval.kind()
            },
            indices,
        })
    }

    /// Whether `candidate` matches with at least [`MIN_ACCURACY`]. No allocation.
    pub fn matches(&mut self, candidate: &str) -> bool {
        self.eval(candidate, MIN_ACCURACY, false).is_some()
    }

    /// Append the highlight indices of `candidate` to `out` (not cleared first); returns
    /// whether it matched at all. No allocation beyond growing `out`.
    pub fn indices(&mut self, candidate: &str, out: &mut Vec<u32>) -> bool {
        match self.eval(candidate, 0.0, false) {
            Some(eval) => {
                self.fill_indices(candidate, &eval, out);
                true
            }
            None => false,
        }
    }

    /// One candidate's verdict in a filter pass: [`Matcher::matches`] plus what the TUI
    /// needs to pick the cursor ([`Rank`], rex search's order) and to narrow the next,
    /// longer query ([`Verdict::standing`]). Allocates nothing.
    pub fn test(&mut self, candidate: &str) -> Verdict {
        self.below = None;
        match self.eval(candidate, MIN_ACCURACY, true) {
            Some(eval) => Verdict::Pass(Rank(eval)),
            None => match self.below.take() {
                // nucleo falls back to a greedy (not optimal) alignment for long haystacks,
                // so such a score is no bound for a longer query: always test them again.
                Some(_) if may_be_greedy(candidate.len(), self.query.needle.len()) => {
                    Verdict::Below(u16::MAX)
                }
                Some(score) => Verdict::Below(score),
                None => Verdict::NoMatch,
            },
        }
    }

    /// When `self` extends `previous` (same fuzzy mode, case and folding, the previous
    /// needle plus more characters), every candidate that passes `self` had, for
    /// `previous`, a [`Verdict::standing`] of at least the returned floor; candidates that
    /// did not match `previous` at all cannot match `self`. So a filter may test only
    /// those again and get exactly the full pass's result. `None`: test everything.
    ///
    /// Why it holds: the best alignment of the longer needle, cut after the old needle's
    /// characters, is an alignment of the old needle with the same per-character scores,
    /// and each extra character adds at most [`MAX_GAIN_PER_CHAR`]. So
    /// `score(self) <= score(previous) + k * MAX_GAIN_PER_CHAR` for `k` extra characters,
    /// and a candidate needs at least [`min_passing_score`] for `self`. Prefix and exact
    /// hits of `self` (accuracy 1) are prefix hits of `previous`, which passed.
    pub fn narrowing_floor(&self, previous: &Matcher) -> Option<u16> {
        let (new, old) = (&self.query, &previous.query);
        if new.mode() != MatchMode::Fuzzy
            || old.mode() != MatchMode::Fuzzy
            || old.is_empty()
            || new.path_aware != old.path_aware
            || new.needle.ignore_case != old.needle.ignore_case
            || new.needle.normalize != old.needle.normalize
            || !new.needle.chars.starts_with(&old.needle.chars)
        {
            return None;
        }
        let extra = (new.needle.len() - old.needle.len()) as u32;
        let need = u32::from(min_passing_score(self.perfect, new.needle.len()));
        Some(need.saturating_sub(extra * MAX_GAIN_PER_CHAR) as u16)
    }

    /// The core: tier, score, accuracy of `s`, or `None` if it does not match or its
    /// accuracy is below `min_accuracy`. `rank` = also work out whether a fuzzy hit is
    /// case-exact (an extra alignment, only for mixed-case candidates of a lowercase query;
    /// ranking needs it, filtering does not).
    pub(super) fn eval(&mut self, s: &str, min_accuracy: f32, rank: bool) -> Option<Eval> {
        if self.query.is_empty() {
            return Some(Eval {
                tier: TIER_PATTERN,
                score: 0,
                accuracy: 1.0,
                case_exact: true,
                seg_len: 0,
                len: 0,
                first: 0,
                span: Span::None,
            });
        }
        match self.query.mode() {
            MatchMode::Fuzzy | MatchMode::Exact => {
                let exact_mode = self.query.mode() == MatchMode::Exact;
                let needle = &self.query.needle;
                if let Some(nb) = needle.ascii.as_deref() {
                    let bytes = s.as_bytes();
                    if !exact_mode && !is_subsequence_ascii(bytes, nb, &needle.ascii_mask) {
                        // A non-ASCII candidate may still match through latin normalisation
                        // (`é` folds to `e`) or Unicode case folding.
                        if s.is_ascii() {
                            return None;
                        }
                        return self.eval_chars(s, min_accuracy, rank);
                    }
                    if s.is_ascii() {
                        return self.eval_ascii(s, min_accuracy, rank);
                    }
                    self.eval_chars(s, min_accuracy, rank)
                } else {
                    // A non-ASCII needle can never match an ASCII candidate: folding maps
                    // ASCII to ASCII.
                    if s.is_ascii() {
                        return None;
                    }
                    self.eval_chars(s, min_accuracy, rank)
                }
            }
            MatchMode::Wildcard | MatchMode::Regex => self.eval_pattern(s),
        }
    }

    fn eval_ascii(&mut self, s: &str, min_accuracy: f32, rank: bool) -> Option<Eval> {
        let b = s.as_bytes();
        let Matcher {
            query,
            nucleo,
            perfect,
            idx,
            below,
            ..
        } = self;
        let needle = &query.needle;
        let nb = needle.ascii.as_deref().unwrap_or_default();
        let last_start = if query.path_aware {
            b.iter().rposition(|&c| c == b'/').map_or(0, |p| p + 1)
        } else {
            0
        };
        let mask = &needle.ascii_mask[..];
        // Compare in place with the case mask instead of folding a copy of the candidate.
        let eq_at = |pos: usize| {
            b[pos] | mask[0] == nb[0]
                && b[pos + 1..pos + nb.len()]
                    .iter()
                    .zip(nb[1..].iter().zip(&mask[1..]))
                    .all(|(&x, (&y, &m))| x | m == y)
        };
        let orig_eq = |pos: usize| {
            b[pos..pos + nb.len()]
                .iter()
                .zip(needle.original.iter())
                .all(|(&x, &y)| x as char == y)
        };
        let contig = classify(
            b.len(),
            nb.len(),
            last_start,
            eq_at,
            |p| boundary_at(b, p),
            orig_eq,
        );
        if query.mode() == MatchMode::Exact {
            return exact_eval(contig, b.len(), last_start);
        }
        let nstr = Utf32Str::Ascii(nb);
        let (full, seg) = match contig {
            // The query itself, same case, at the start of the last segment (or of the
            // name): nucleo would score exactly `perfect` — skip it (the common case for
            // broad queries).
            Some(c) if c.case_exact && (c.tier == TIER_EXACT || c.tier == TIER_PREFIX_LAST) => {
                (*perfect, query.path_aware.then_some(*perfect))
            }
            // A one-letter/digit query that occurs only inside words: every occurrence has
            // no bonus in nucleo either (same boundary rules), so the score is the bare
            // match score. Saves two nucleo calls for most candidates of `a`, `x`, `1`.
            Some(c)
                if c.tier == TIER_SUBSTRING && nb.len() == 1 && nb[0].is_ascii_alphanumeric() =>
            {
                // `classify` prefers an occurrence in the last segment, so `pos` says
                // whether the segment has one.
                let in_last = query.path_aware && c.pos >= last_start;
                (SCORE_MATCH_BARE, in_last.then_some(SCORE_MATCH_BARE))
            }
            _ if query.path_aware
                && last_start > 0
                && is_subsequence_ascii(&b[last_start..], nb, mask) =>
            {
                // Both the name and its last segment match. If the name's best alignment
                // already lies in the segment, the segment scores the same (a char after
                // `/` gets the same bonus as a segment start): one nucleo call, not two.
                idx.clear();
                let full = nucleo.fuzzy_indices(Utf32Str::Ascii(b), nstr, idx)?;
                let seg = if idx.first().is_some_and(|&i| i as usize >= last_start) {
                    Some(full)
                } else {
                    nucleo.fuzzy_match(Utf32Str::Ascii(&b[last_start..]), nstr)
                };
                (full, seg)
            }
            _ => {
                let full = nucleo.fuzzy_match(Utf32Str::Ascii(b), nstr)?;
                (full, (query.path_aware && last_start == 0).then_some(full))
            }
        };
        let out = finish(
            contig,
            full,
            seg,
            last_start,
            b.len(),
            nb.len(),
            *perfect,
            min_accuracy,
            |from| {
                let at = b[from..].iter().position(|&x| x | mask[0] == nb[0]);
                (from + at.unwrap_or(0)) as u32
            },
            rank && needle.ignore_case && b.iter().any(u8::is_ascii_uppercase),
            |from: usize| {
                idx.clear();
                nucleo.fuzzy_indices(Utf32Str::Ascii(&b[from..]), nstr, idx);
                idx.iter()
                    .zip(needle.original.iter())
                    .all(|(&i, &c)| b[from + i as usize] as char == c)
            },
        );
        if out.is_none() {
            *below = Some(full);
        }
        out
    }

    fn eval_chars(&mut self, s: &str, min_accuracy: f32, rank: bool) -> Option<Eval> {
        let Matcher {
            query,
            nucleo,
            perfect,
            hay,
            fold_chars,
            idx,
            below,
            ..
        } = self;
        let needle = &query.needle;
        hay.clear();
        hay.extend(s.chars());
        fold_chars.clear();
        fold_chars.extend(hay.iter().map(|&c| needle.fold(c)));
        let n = &needle.chars[..];
        if query.mode() != MatchMode::Exact && !is_subsequence(fold_chars, n) {
            return None;
        }
        let last_start = if query.path_aware {
            hay.iter().rposition(|&c| c == '/').map_or(0, |p| p + 1)
        } else {
            0
        };
        let hay: &[char] = hay;
        let orig_eq = |pos: usize| hay[pos..pos + n.len()] == *needle.original;
        let fc: &[char] = fold_chars;
        let contig = classify(
            hay.len(),
            n.len(),
            last_start,
            |pos| fc[pos..pos + n.len()] == *n,
            |p| boundary_at(hay, p),
            orig_eq,
        );
        if query.mode() == MatchMode::Exact {
            return exact_eval(contig, hay.len(), last_start);
        }
        let nstr = needle_utf32(needle);
        let full = nucleo.fuzzy_match(Utf32Str::Unicode(hay), nstr)?;
        let seg = if !query.path_aware {
            None
        } else if last_start == 0 {
            Some(full)
        } else if is_subsequence(&fold_chars[last_start..], n) {
            nucleo.fuzzy_match(Utf32Str::Unicode(&hay[last_start..]), nstr)
        } else {
            None
        };
        let fold_chars: &[char] = fold_chars;
        let out = finish(
            contig,
            full,
            seg,
            last_start,
            hay.len(),
            n.len(),
            *perfect,
            min_accuracy,
            |from| {
                (from
                    + fold_chars[from..]
                        .iter()
                        .position(|&x| x == n[0])
                        .unwrap_or(0)) as u32
            },
            rank && needle.ignore_case,
            |from: usize| {
                idx.clear();
                nucleo.fuzzy_indices(Utf32Str::Unicode(&hay[from..]), nstr, idx);
                idx.iter()
                    .zip(needle.original.iter())
                    .all(|(&i, &c)| hay[from + i as usize] == c)
            },
        );
        if out.is_none() {
            *below = Some(full);
        }
        out
    }

    fn eval_pattern(&mut self, s: &str) -> Option<Eval> {
        let re = self.query.regex.as_ref()?;
        let len = char_len(s);
        let last = match s.rfind('/') {
            Some(p) if self.query.path_aware => p + 1,
            _ => 0,
        };
        // `seg_len` is the length of what the pattern matched against: the whole name, or
        // the last segment for a segment-only wildcard hit.
        if self.query.mode() == MatchMode::Regex {
            let m = re.find(s)?;
            let first = char_len(&s[..m.start()]);
            return Some(pattern_eval(len, len, first, Span::Pattern(0)));
        }
        if re.is_match(s) {
            return Some(pattern_eval(len, len, 0, Span::Pattern(0)));
        }
        let seg_len = char_len(&s[last..]);
        if last > 0 && re.is_match(&s[last..]) {
            let first = len - seg_len;
            return Some(pattern_eval(
                len,
                seg_len,
                first,
                Span::Pattern(last as u32),
            ));
        }
        None
    }

    /// Highlight indices for an already evaluated candidate.
    pub(super) fn fill_indices(&mut self, s: &str, eval: &Eval, out: &mut Vec<u32>) {
        match eval.span {
            Span::None => {}
            Span::Contiguous(pos) => {
                out.extend(pos..pos + self.query.needle.len() as u32);
            }
            Span::Fuzzy(from) => {
                let needle = &self.query.needle;
                let start = out.len();
                if s.is_ascii() && needle.ascii.is_some() {
                    let nb = needle.ascii.as_deref().unwrap_or_default();
                    self.nucleo.fuzzy_indices(
                        Utf32Str::Ascii(&s.as_bytes()[from as usize..]),
                        Utf32Str::Ascii(nb),
                        out,
                    );
                } else {
                    self.hay.clear();
                    self.hay.extend(s.chars().skip(from as usize));
                    self.nucleo.fuzzy_indices(
                        Utf32Str::Unicode(&self.hay),
                        needle_utf32(needle),
                        out,
                    );
                }
                for i in &mut out[start..] {
                    *i += from;
                }
            }
            Span::Pattern(byte_start) => {
                let Some(re) = self.query.regex.as_ref() else {
                    return;
                };
                let sub = &s[byte_start as usize..];
                let base = char_len(&s[..byte_start as usize]) as u32;
                let Some(caps) = re.captures(sub) else {
                    return;
                };
                // Wildcards capture each literal run; a user regex highlights its whole match.
                let groups: Vec<_> = if self.query.mode() == MatchMode::Wildcard {
                    caps.iter().skip(1).flatten().collect()
                } else {
                    caps.get(0).into_iter().collect()
                };
                for g in groups {
                    let start = base + char_len(&sub[..g.start()]) as u32;
                    out.extend(start..start + char_len(g.as_str()) as u32);
                }
            }
        }
    }
}

fn needle_utf32(needle: &Needle) -> Utf32Str<'_> {
    match needle.ascii.as_deref() {
        Some(b) => Utf32Str::Ascii(b),
        None => Utf32Str::Unicode(&needle.chars),
    }
}

fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

fn pattern_eval(len: usize, seg_len: usize, first: usize, span: Span) -> Eval {
    Eval {
        tier: TIER_PATTERN,
        score: 1,
        accuracy: 1.0,
        case_exact: true,
        seg_len: seg_len as u32,
        len: len as u32,
        first: first as u32,
        span,
    }
}

/// A contiguous occurrence found by [`classify`].
#[derive(Debug, Clone, Copy)]
struct Contig {
    tier: u8,
    pos: usize,
    case_exact: bool,
}

fn exact_eval(contig: Option<Contig>, len: usize, last_start: usize) -> Option<Eval> {
    let c = contig.filter(|c| c.tier == TIER_EXACT)?;
    Some(Eval {
        tier: TIER_EXACT,
        // A whole-name match outranks a last-segment match.
        score: if c.pos == 0 { 2 } else { 1 },
        accuracy: 1.0,
        case_exact: c.case_exact,
        seg_len: (len - last_start) as u32,
        len: len as u32,
        first: c.pos as u32,
        span: Span::Contiguous(c.pos as u32),
    })
}

/// Combine the contiguous tier (if any) and nucleo's scores into an [`Eval`].
#[allow(clippy::too_many_arguments)]
#[inline]
fn finish(
    contig: Option<Contig>,
    full: u16,
    seg: Option<u16>,
    last_start: usize,
    len: usize,
    n: usize,
    perfect: u16,
    min_accuracy: f32,
    first_of: impl Fn(usize) -> u32,
    check_case: bool,
    mut case_of: impl FnMut(usize) -> bool,
) -> Option<Eval> {
    // Full-name score is >= the segment score (the segment's alignment is available in the
    // full name with the same bonuses), so accuracy comes from `full`.
    let tier = contig.map_or(TIER_FUZZY, |c| c.tier);
    let accuracy = if tier >= TIER_PREFIX {
        1.0
    } else {
        accuracy(full, perfect, n)
    };
    if accuracy < min_accuracy {
        return None;
    }
    let seg_boosted = seg.map(|s| u32::from(s) + LAST_SEGMENT_BONUS);
    let (score, from) = match seg_boosted {
        Some(sb) if sb >= u32::from(full) => (sb, last_start),
        _ => (u32::from(full), 0),
    };
    let (first, case_exact, span) = match contig {
        Some(c) => (c.pos as u32, c.case_exact, Span::Contiguous(c.pos as u32)),
        // Fuzzy: "first" is where the query's first char first occurs in the matched part
        // (cheap, and what the eye sees); case-exactness needs the real alignment, but only
        // when the candidate has uppercase to disagree with a lowercase query.
        None => (
            first_of(from),
            !check_case || case_of(from),
            Span::Fuzzy(from as u32),
        ),
    };
    Some(Eval {
        tier,
        score,
        accuracy,
        case_exact,
        seg_len: (len - last_start) as u32,
        len: len as u32,
        first,
        span,
    })
}

/// The most one more needle character can add to nucleo's score: the base match score
/// plus the largest bonus of a non-first character (9, the `/` delimiter bonus under
/// `match_paths`; 10 here, one point of slack). Gap penalties only subtract.
pub const MAX_GAIN_PER_CHAR: u32 = SCORE_MATCH_BARE as u32 + 10;

/// Whether nucleo may align a haystack of `bytes` greedily (not optimally) for a needle of
/// `needle_chars`: its optimal matrix holds at most 100 KiB of cells and 2,048 haystack
/// chars. Bytes bound chars from above, so this errs towards "maybe". Such scores are no
/// bound for narrowing.
fn may_be_greedy(bytes: usize, needle_chars: usize) -> bool {
    const MATRIX_CELLS: usize = 100 * 1024;
    const HAYSTACK_CHARS: usize = 2048;
    bytes > HAYSTACK_CHARS || bytes.saturating_mul(needle_chars) > MATRIX_CELLS
}

/// A candidate's verdict in a filter pass ([`Matcher::test`]).
#[derive(Debug, Clone, Copy)]
pub enum Verdict {
    /// The query is not even a subsequence (or the pattern does not match).
    NoMatch,
    /// Matched, but below [`MIN_ACCURACY`]; the score to compare with
    /// [`Matcher::narrowing_floor`] (`u16::MAX` where it is no bound).
    Below(u16),
    /// Passes the threshold; its place in rex search's ranking.
    Pass(Rank),
}

impl Verdict {
    /// What a filter keeps for narrowing the next query: `None` for no match, otherwise
    /// a value that the candidate must reach to be tested again ([`Matcher::narrowing_floor`]).
    pub fn standing(&self) -> Option<u16> {
        match self {
            Verdict::NoMatch => None,
            Verdict::Below(score) => Some(*score),
            Verdict::Pass(_) => Some(u16::MAX),
        }
    }
}

/// A passing candidate's rank: compare candidates with [`super::Best`], which orders them
/// exactly as [`Matcher::search`] does.
#[derive(Debug, Clone, Copy)]
pub struct Rank(pub(super) Eval);

/// The lowest score with accuracy >= [`MIN_ACCURACY`] for a needle of `n` chars whose
/// perfect score is `perfect` (from the same [`accuracy`] function, so no rounding drift).
pub(super) fn min_passing_score(perfect: u16, n: usize) -> u16 {
    // accuracy is monotone in the score: binary search over 0..=perfect.
    let (mut lo, mut hi) = (0u16, perfect);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if accuracy(mid, perfect, n) >= MIN_ACCURACY {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// `accuracy = clamp((score − z·n) / (perfect − z·n), 0, 1)` with `z` =
/// [`ACCURACY_FLOOR_PER_CHAR`]: the share of the achievable bonus a match earns above a
/// floor of `z` points per query char. See `docs/search.md`.
pub(super) fn accuracy(score: u16, perfect: u16, n: usize) -> f32 {
    let floor = ACCURACY_FLOOR_PER_CHAR as f32 * n as f32;
    let span = f32::from(perfect) - floor;
    if span <= 0.0 {
        return if score >= perfect { 1.0 } else { 0.0 };
    }
    ((f32::from(score) - floor) / span).clamp(0.0, 1.0)
}

/// Byte-level prefilter: are `needle`'s bytes a subsequence of `hay`? `mask[i]` is `0x20`
/// for letters matched case-insensitively (`(b | 0x20) == needle[i]` accepts both cases and
/// nothing else, since only letters map into `a..=z`). Each needle byte is searched eight
/// bytes at a time (SWAR), so names that lack a rare query letter are rejected quickly.
#[inline]
pub(super) fn is_subsequence_ascii(hay: &[u8], needle: &[u8], mask: &[u8]) -> bool {
    if needle.len() > hay.len() {
        return false;
    }
    let mut pos = 0;
    for (&want, &m) in needle.iter().zip(mask) {
        match find_byte(&hay[pos..], want, m) {
            Some(i) => pos += i + 1,
            None => return false,
        }
    }
    true
}

/// First `i` with `hay[i] | mask == want`, a word at a time.
#[inline]
fn find_byte(hay: &[u8], want: u8, mask: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let (wantw, maskw) = (LO * u64::from(want), LO * u64::from(mask));
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // Zero bytes of `x` are matches; the classic "has zero byte" test finds them
        // (it can flag a false positive only above a true match, so the scan below is exact).
        let x = (u64::from_le_bytes(word) | maskw) ^ wantw;
        if (x.wrapping_sub(LO) & !x & HI) != 0 {
            return chunk
                .iter()
                .position(|&b| b | mask == want)
                .map(|i| base + i);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b | mask == want)
        .map(|i| base + i)
}

fn is_subsequence<T: Copy + Eq>(hay: &[T], needle: &[T]) -> bool {
    let mut it = needle.iter();
    let Some(mut want) = it.next() else {
        return true;
    };
    for c in hay {
        if c == want {
            match it.next() {
                Some(n) => want = n,
                None => return true,
            }
        }
    }
    false
}

/// Character classes for word boundaries, over bytes and chars alike.
trait Class: Copy {
    fn alnum(self) -> bool;
    fn lower(self) -> bool;
    fn upper(self) -> bool;
    fn digit(self) -> bool;
}

impl Class for u8 {
    fn alnum(self) -> bool {
        self.is_ascii_alphanumeric()
    }
    fn lower(self) -> bool {
        self.is_ascii_lowercase()
    }
    fn upper(self) -> bool {
        self.is_ascii_uppercase()
    }
    fn digit(self) -> bool {
        self.is_ascii_digit()
    }
}

impl Class for char {
    fn alnum(self) -> bool {
        self.is_alphanumeric()
    }
    fn lower(self) -> bool {
        self.is_lowercase()
    }
    fn upper(self) -> bool {
        self.is_uppercase()
    }
    fn digit(self) -> bool {
        self.is_numeric()
    }
}

/// A word starts at `pos`: start of string, after a non-alphanumeric (`/ - _ . :`),
/// lower→Upper (camelCase) or non-digit→digit (`gcc12`), like nucleo's bonus classes.
#[inline]
fn boundary_at<T: Class>(s: &[T], pos: usize) -> bool {
    if pos == 0 {
        return true;
    }
    let (prev, cur) = (s[pos - 1], s[pos]);
    !prev.alnum() || (prev.lower() && cur.upper()) || (!prev.digit() && cur.digit())
}

/// Find the best contiguous occurrence of the needle (length `n`) in a candidate of length
/// `len`, `eq_at(pos)` telling whether it occurs at `pos` (after folding):
/// exact (whole or last segment) > prefix of last segment > prefix of name > at a word
/// boundary > anywhere. Among boundary/substring occurrences prefer the last segment, then a
/// case-exact one, then the earliest.
#[inline]
fn classify(
    len: usize,
    n: usize,
    last_start: usize,
    eq_at: impl Fn(usize) -> bool,
    is_boundary: impl Fn(usize) -> bool,
    orig_eq: impl Fn(usize) -> bool,
) -> Option<Contig> {
    if n == 0 || n > len {
        return None;
    }
    let at = |tier, pos| {
        Some(Contig {
            tier,
            pos,
            case_exact: orig_eq(pos),
        })
    };
    let last_len = len - last_start;
    if len == n && eq_at(0) {
        return at(TIER_EXACT, 0);
    }
    if last_len >= n && eq_at(last_start) {
        if last_start > 0 && last_len == n {
            return at(TIER_EXACT, last_start);
        }
        return at(TIER_PREFIX_LAST, last_start);
    }
    if eq_at(0) {
        return at(TIER_PREFIX, 0);
    }
    // (boundary, in last segment, case exact) — larger is better; earliest wins ties.
    let mut best: Option<((bool, bool, bool), usize)> = None;
    for pos in 0..=len - n {
        if !eq_at(pos) {
            continue;
        }
        let key = (is_boundary(pos), pos >= last_start, orig_eq(pos));
        // (`Option::is_none_or` needs Rust 1.82; the workspace MSRV is 1.80.)
        match best {
            Some((k, _)) if key <= k => {}
            _ => best = Some((key, pos)),
        }
    }
    best.map(|((boundary, _, case_exact), pos)| Contig {
        tier: if boundary {
            TIER_BOUNDARY
        } else {
            TIER_SUBSTRING
        },
        pos,
        case_exact,
    })
}
