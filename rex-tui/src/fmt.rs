//! Display helpers. Seam to `rex_core::format` (format_size, format_relative,
//! sanitize_for_terminal): once it lands these become one-line delegations.

use std::cmp::Ordering;

/// `1536` → `1.5 KB` (SI-free binary units, one decimal).
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `then` relative to `now` (both Unix seconds): `just now`, `5 minutes ago`, `3 days ago`.
pub fn format_relative(then: i64, now: i64) -> String {
    let secs = now - then;
    if secs < 0 {
        return "in the future".into();
    }
    let (n, unit) = match secs {
        0..=59 => return "just now".into(),
        60..=3_599 => (secs / 60, "minute"),
        3_600..=86_399 => (secs / 3_600, "hour"),
        86_400..=2_591_999 => (secs / 86_400, "day"),
        2_592_000..=31_535_999 => (secs / 2_592_000, "month"),
        _ => (secs / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// Registry-supplied text may hold escape sequences; replace every control character with
/// one visible `�` so a tag name cannot drive the terminal. One char in, one char out, so
/// match indices stay valid.
pub fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// `sha256:0123456789abcdef…` → `0123456789ab`.
pub fn short_digest(digest: &str) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    hex.get(..12).unwrap_or(hex)
}

/// Tag order: version-like tags first in version order (`v1.10.0` after `v1.9.2`,
/// `1.0.0-rc1` before `1.0.0`, `1.0` before `1.0.1`), then everything else in natural order
/// (digit runs compared as numbers). A total order, as `sort_by` requires.
pub fn compare_tags(a: &str, b: &str) -> Ordering {
    match (version(a), version(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => natural_cmp(a, b).then_with(|| a.cmp(b)),
    }
}

/// `v1`, `1.2`, `1.2.3`, `1.2.3-rc1` as a semver version (missing parts are 0).
fn version(tag: &str) -> Option<semver::Version> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let end = t.find(['-', '+']).unwrap_or(t.len());
    let (core, rest) = t.split_at(end);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut full = parts.join(".");
    for _ in parts.len()..3 {
        full.push_str(".0");
    }
    semver::Version::parse(&format!("{full}{rest}")).ok()
}

fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (&a[..na], &b[..nb]);
                let ta = trim_zeros(da);
                let tb = trim_zeros(db);
                let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|&&c| c == b'0').count();
    &d[n.min(d.len().saturating_sub(1))..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times() {
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(1536), "1.5 KB");
        assert_eq!(format_size(5 * 1024 * 1024), "5.0 MB");
        assert_eq!(format_relative(100, 100), "just now");
        assert_eq!(format_relative(0, 3 * 86_400), "3 days ago");
        assert_eq!(format_relative(0, 3_600), "1 hour ago");
    }

    #[test]
    fn sanitize_replaces_control_chars_one_for_one() {
        assert_eq!(sanitize("v1\x1b[2J"), "v1\u{FFFD}[2J");
        assert_eq!(sanitize("plain"), "plain");
        assert_eq!(short_digest("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(short_digest("abc"), "abc");
    }

    #[test]
    fn tag_order_is_semver_aware() {
        let mut tags = vec![
            "v1.10.0",
            "v1.9.2",
            "1.0.0",
            "1.0.0-rc1",
            "latest",
            "2",
            "10",
            "alpine3.9",
            "alpine3.10",
            "1.0.1",
            "1.0",
        ];
        tags.sort_by(|a, b| compare_tags(a, b));
        assert_eq!(
            tags,
            vec![
                "1.0.0-rc1",
                "1.0",
                "1.0.0",
                "1.0.1",
                "v1.9.2",
                "v1.10.0",
                "2",
                "10",
                "alpine3.9",
                "alpine3.10",
                "latest"
            ]
        );
    }
}
