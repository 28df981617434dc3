//! Parsing a user query into a mode and a prepared needle.

use nucleo_matcher::chars;
use regex::{Regex, RegexBuilder};

use crate::{Error, Result};

/// Compiled regexes are bounded so a hostile query cannot eat memory (the `regex` crate is
/// already linear-time, so there is no catastrophic backtracking to guard against).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// How a query matches candidates. Chosen by [`Query::parse`] from the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    /// fzf-like subsequence matching (the default).
    Fuzzy,
    /// The whole name (or its last `/` segment) equals the query: `--exact` or `"quoted"`.
    Exact,
    /// A glob with `*` / `?`, anchored on the whole name (or its last `/` segment).
    Wildcard,
    /// A regular expression: a query starting with `^` or ending with `$`.
    Regex,
}

/// A parsed query, ready to be matched by a [`super::Matcher`].
///
/// Parsing rules (first that applies):
/// 1. surrounding whitespace is trimmed; an empty query matches every candidate;
/// 2. `exact == true` or a query wrapped in double quotes → [`MatchMode::Exact`] (quotes
///    stripped, the rest is literal);
/// 3. starts with `^` or ends with `$` → [`MatchMode::Regex`] (an invalid regex is a
///    [`crate::ErrorKind::Usage`] error);
/// 4. contains `*` or `?` → [`MatchMode::Wildcard`] (`\` escapes the next character);
/// 5. otherwise [`MatchMode::Fuzzy`].
///
/// Smart case everywhere: a query with an uppercase letter is case-sensitive, an all-lowercase
/// query is not.
#[derive(Debug, Clone)]
pub struct Query {
    raw: String,
    text: String,
    mode: MatchMode,
    case_sensitive: bool,
    /// Whether matches inside the last `/` segment are preferred (the query has no `/`).
    pub(super) path_aware: bool,
    /// Wildcard and regex modes.
    pub(super) regex: Option<Regex>,
    pub(super) needle: Needle,
}

/// The query text folded the way candidates are folded before comparison.
#[derive(Debug, Clone)]
pub(super) struct Needle {
    /// Folded needle when it is pure ASCII (the fast path).
    pub(super) ascii: Option<Box<[u8]>>,
    /// For each ASCII needle byte, the mask that folds a candidate byte onto it
    /// (`0x20` for letters when ignoring case, else 0): `(b | mask) == needle`.
    pub(super) ascii_mask: Box<[u8]>,
    /// Folded needle as chars (always set, used for non-ASCII candidates).
    pub(super) chars: Box<[char]>,
    /// The needle as typed (after quote stripping), to tell case-exact matches apart.
    pub(super) original: Box<[char]>,
    pub(super) ignore_case: bool,
    /// Latin normalisation (`é` matches `e`), nucleo's `Normalization::Smart`: on unless the
    /// query itself contains a character that would be normalised.
    pub(super) normalize: bool,
}

impl Needle {
    fn new(text: &str, case_sensitive: bool) -> Needle {
        let ignore_case = !case_sensitive;
        let original: Box<[char]> = text.chars().collect();
        let normalize = original.iter().all(|&c| chars::normalize(c) == c);
        // Smart case means an ignore-case needle has no uppercase to fold; folding anyway keeps
        // this correct should the caller's notion of "uppercase" differ from nucleo's table.
        let chars: Box<[char]> = original
            .iter()
            .map(|&c| {
                if ignore_case {
                    chars::to_lower_case(c)
                } else {
                    c
                }
            })
            .collect();
        let ascii = text
            .is_ascii()
            .then(|| chars.iter().map(|&c| c as u8).collect::<Box<[u8]>>());
        let ascii_mask = match &ascii {
            Some(bytes) => bytes
                .iter()
                .map(|b| {
                    if ignore_case && b.is_ascii_lowercase() {
                        0x20
                    } else {
                        0
                    }
                })
                .collect(),
            None => Box::default(),
        };
        Needle {
            ascii,
            ascii_mask,
            chars,
            original,
            ignore_case,
            normalize,
        }
    }

    /// Fold one candidate char exactly as nucleo folds haystack chars.
    #[inline]
    pub(super) fn fold(&self, c: char) -> char {
        let c = if self.normalize {
            chars::normalize(c)
        } else {
            c
        };
        if self.ignore_case {
            chars::to_lower_case(c)
        } else {
            c
        }
    }

    pub(super) fn len(&self) -> usize {
        self.chars.len()
    }
}

impl Query {
    /// Parse `input` into a query. `exact` is the `--exact` flag: it forces
    /// [`MatchMode::Exact`] whatever the text looks like.
    ///
    /// Errors: an invalid (or too large) regular expression → [`crate::ErrorKind::Usage`].
    pub fn parse(input: &str, exact: bool) -> Result<Query> {
        let trimmed = input.trim();
        let quoted = trimmed.len() >= 2 && trimmed.starts_with('"') && trimmed.ends_with('"');
        let (mode, text) = if exact || quoted {
            let text = if quoted {
                &trimmed[1..trimmed.len() - 1]
            } else {
                trimmed
            };
            (MatchMode::Exact, text)
        } else if trimmed.starts_with('^') || trimmed.ends_with('$') {
            (MatchMode::Regex, trimmed)
        } else if trimmed.contains(['*', '?']) {
            (MatchMode::Wildcard, trimmed)
        } else {
            (MatchMode::Fuzzy, trimmed)
        };
        let case_sensitive = match mode {
            MatchMode::Regex => regex_has_uppercase(text),
            _ => text.chars().any(chars::is_upper_case),
        };
        let regex = match mode {
            MatchMode::Regex => Some(compile_regex(text, !case_sensitive)?),
            MatchMode::Wildcard => Some(
                compile_regex(&glob_to_regex(text), !case_sensitive).map_err(|e| {
                    Error::usage(format!(
                        "invalid wildcard pattern `{text}`: {}",
                        e.message()
                    ))
                })?,
            ),
            _ => None,
        };
        Ok(Query {
            raw: input.to_string(),
            text: text.to_string(),
            mode,
            case_sensitive,
            path_aware: !text.contains('/'),
            regex,
            needle: Needle::new(text, case_sensitive),
        })
    }

    /// The query exactly as given to [`Query::parse`].
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The pattern actually matched: trimmed, quotes stripped.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn mode(&self) -> MatchMode {
        self.mode
    }

    /// Smart case: true when the query contains an uppercase letter.
    pub fn is_case_sensitive(&self) -> bool {
        self.case_sensitive
    }

    /// An empty query matches every candidate, in input order.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

fn compile_regex(pattern: &str, case_insensitive: bool) -> Result<Regex> {
    RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            // The regex error's Display is a multi-line caret diagram; keep it, it points at
            // the problem.
            Error::usage(format!("invalid regular expression `{pattern}`: {e}")).with_hint(
                "a query that starts with `^` or ends with `$` is a regular expression; \
                 wrap it in double quotes or pass --exact to match it literally",
            )
        })
}

/// Uppercase letters that are not the letter of an escape (`\D`, `\W`, `\S`, `\P`) make a
/// regex case-sensitive. A heuristic (ripgrep parses the regex for this), but it gets the
/// common escapes right.
fn regex_has_uppercase(pattern: &str) -> bool {
    let mut escaped = false;
    for c in pattern.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
        } else if chars::is_upper_case(c) {
            return true;
        }
    }
    false
}

/// Translate a glob into an anchored regex. Each literal run becomes a capture group so the
/// matched literal characters can be highlighted.
pub(super) fn glob_to_regex(glob: &str) -> String {
    let mut re = String::from("(?s)^");
    let mut literal = String::new();
    let flush = |re: &mut String, literal: &mut String| {
        if !literal.is_empty() {
            re.push('(');
            re.push_str(&regex::escape(literal));
            re.push(')');
            literal.clear();
        }
    };
    let mut it = glob.chars();
    while let Some(c) = it.next() {
        match c {
            '*' => {
                flush(&mut re, &mut literal);
                // Collapse `**` so the pattern stays small.
                if !re.ends_with(".*") {
                    re.push_str(".*");
                }
            }
            '?' => {
                flush(&mut re, &mut literal);
                re.push('.');
            }
            '\\' => literal.push(it.next().unwrap_or('\\')),
            c => literal.push(c),
        }
    }
    flush(&mut re, &mut literal);
    re.push('$');
    re
}
