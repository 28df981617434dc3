//! Version-aware ordering of tag names: digit runs compare as numbers (`1.9` < `1.10`),
//! and a pre-release suffix sorts before its release (`1.0.0-rc1` < `1.0.0`, as semver).
//!
//! Tags are read as token sequences (numbers, single characters, then an end marker)
//! compared lexicographically over one fixed total order of tokens, so the ordering is
//! total and transitive: the end marker ranks above `-` (pre-release) and below every
//! other character (`1.0` < `1.0.1`, `1.0` < `1.0a`).

use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Token<'a> {
    /// `-` and anything sorting below it.
    Low(char),
    End,
    /// Punctuation between `-` and `0` (`.`, `/`).
    Mid(char),
    /// A digit run: by value, then by length (`01` after `1`).
    Num(u128, usize, &'a str),
    /// Letters and everything above the digits.
    High(char),
}

struct Tokens<'a> {
    rest: &'a str,
    ended: bool,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;
    fn next(&mut self) -> Option<Token<'a>> {
        let Some(c) = self.rest.chars().next() else {
            if self.ended {
                return None;
            }
            self.ended = true;
            return Some(Token::End);
        };
        if c.is_ascii_digit() {
            let len = self
                .rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(self.rest.len());
            let digits = &self.rest[..len];
            self.rest = &self.rest[len..];
            let trimmed = digits.trim_start_matches('0');
            // Absurdly long numbers fall back to comparing their text (same length first).
            let value = if trimmed.is_empty() {
                0
            } else {
                trimmed.parse::<u128>().unwrap_or(u128::MAX)
            };
            return Some(Token::Num(value, trimmed.len() * 1000 + len, trimmed));
        }
        self.rest = &self.rest[c.len_utf8()..];
        Some(if c <= '-' {
            Token::Low(c)
        } else if c < '0' {
            Token::Mid(c)
        } else {
            Token::High(c)
        })
    }
}

fn tokens(s: &str) -> Tokens<'_> {
    Tokens {
        rest: s,
        ended: false,
    }
}

/// Compare two tag names version-aware; equal only for equal strings.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    tokens(a).cmp(tokens(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort_by(|a, b| compare_versions(a, b));
        v
    }

    #[test]
    fn numeric_runs_and_prereleases() {
        assert_eq!(
            sorted(vec![
                "1.10",
                "1.9",
                "1.0.0",
                "1.0.0-rc1",
                "1.0",
                "latest",
                "1.0.1",
                "v2",
                "v10",
                "01"
            ]),
            [
                "1.0",
                "1.0.0-rc1",
                "1.0.0",
                "1.0.1",
                "1.9",
                "1.10",
                "01",
                "latest",
                "v2",
                "v10"
            ]
        );
        assert_eq!(compare_versions("a", "a"), Ordering::Equal);
        assert_ne!(compare_versions("1", "01"), Ordering::Equal);
        let big = "9".repeat(60);
        assert_eq!(compare_versions(&big, "1"), Ordering::Greater);
    }

    #[test]
    fn total_order_on_random_tags() {
        // Transitivity and antisymmetry over a mixed set.
        let set = [
            "1", "1-", "1-a", "1.0", "1.0-rc.1", "1.0.0", "1a", "1/2", "a", "A", "01", "1.00",
            "1_0", "1+b", "", "-", "10", "9", "v1.9", "v1.10",
        ];
        for a in set {
            for b in set {
                assert_eq!(compare_versions(a, b), compare_versions(b, a).reverse());
                for c in set {
                    if compare_versions(a, b).is_le() && compare_versions(b, c).is_le() {
                        assert!(compare_versions(a, c).is_le(), "{a} {b} {c}");
                    }
                }
            }
        }
    }
}
