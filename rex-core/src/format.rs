//! Formatting helpers for human-readable output (seed 1.10): sizes, timestamps,
//! truncation, and making registry-supplied strings safe to show on a terminal.
//!
//! Everything here is pure: relative times take `now` explicitly.

use chrono::{DateTime, NaiveDateTime, Utc};
use std::borrow::Cow;

/// Which multiple a size unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Units {
    /// 1024-based, written `KB`, `MB`, … (what `docker images` shows).
    #[default]
    Binary,
    /// 1000-based, written `kB`, `MB`, … (SI).
    Decimal,
}

const BINARY_UNITS: [&str; 7] = ["B", "KB", "MB", "GB", "TB", "PB", "EB"];
const DECIMAL_UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

/// `1024` → `1.0 KB` (binary) or `1000` → `1.0 kB` (decimal); `0` → `0 B`. One decimal.
pub fn format_size(bytes: u64, units: Units) -> String {
    format_size_with_precision(bytes, units, 1)
}

/// [`format_size`] with `precision` decimals (bytes are always whole).
pub fn format_size_with_precision(bytes: u64, units: Units, precision: usize) -> String {
    let (base, names) = match units {
        Units::Binary => (1024f64, &BINARY_UNITS),
        Units::Decimal => (1000f64, &DECIMAL_UNITS),
    };
    if (bytes as f64) < base {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= base && unit < names.len() - 1 {
        value /= base;
        unit += 1;
    }
    // 1023.96 KB would print as "1024.0 KB"; move up a unit instead.
    let scale = 10f64.powi(precision as i32);
    if (value * scale).round() / scale >= base && unit < names.len() - 1 {
        value /= base;
        unit += 1;
    }
    format!("{value:.precision$} {}", names[unit])
}

/// `7651328` → `7,651,328`.
pub fn format_bytes_exact(bytes: u64) -> String {
    let digits = bytes.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|g| std::str::from_utf8(g).unwrap_or(""))
        .collect();
    groups.join(",")
}

/// Parse an RFC 3339 / ISO 8601 timestamp (fractional seconds and offsets allowed; a
/// timestamp without offset is taken as UTC). `None` for empty or invalid input.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    // Lenient forms seen in the wild: a space instead of 'T', no offset.
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(n.and_utc());
        }
    }
    if let Some(rest) = s.strip_suffix(" UTC") {
        if let Ok(n) = NaiveDateTime::parse_from_str(rest, "%Y-%m-%d %H:%M:%S%.f") {
            return Some(n.and_utc());
        }
    }
    None
}

/// `2024-01-15 14:30:00 UTC`.
pub fn format_absolute(dt: DateTime<Utc>) -> String {
    dt.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `2024-01-15`.
pub fn format_date(dt: DateTime<Utc>) -> String {
    dt.format("%Y-%m-%d").to_string()
}

/// `just now`, `1 minute ago`, `5 minutes ago`, `2 hours ago`, `3 days ago`,
/// `2 weeks ago`, and the date (`2024-01-15`) from 30 days on. Times more than a minute
/// in the future show their date; less is clock skew and reads `just now`.
pub fn format_relative(dt: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - dt).num_seconds();
    if secs < -60 {
        return format_date(dt);
    }
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match secs {
        ..=59 => "just now".to_owned(),
        60..=3_599 => plural(secs / 60, "minute"),
        3_600..=86_399 => plural(secs / 3_600, "hour"),
        86_400..=604_799 => plural(secs / 86_400, "day"),
        604_800..=2_591_999 => plural(secs / 604_800, "week"),
        _ => format_date(dt),
    }
}

/// Relative time for a timestamp string from a registry: `-` when absent, the
/// (sanitised) text itself when it does not parse.
pub fn format_relative_str(s: Option<&str>, now: DateTime<Utc>) -> String {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => "-".to_owned(),
        Some(s) => match parse_timestamp(s) {
            Some(dt) => format_relative(dt, now),
            None => sanitize_line(s).into_owned(),
        },
    }
}

/// Columns a character takes on a terminal: 0 for combining marks and zero-width
/// characters, 2 for East Asian wide/fullwidth characters and emoji, else 1. A compact
/// table that covers what registries put in names, labels and descriptions.
pub fn char_width(c: char) -> usize {
    let cp = c as u32;
    if cp == 0 || c.is_control() {
        return 0;
    }
    if matches!(cp,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A
        | 0x064B..=0x065F | 0x0E31 | 0x0E34..=0x0E3A | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF
        | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F | 0x20D0..=0x20FF
        | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F | 0xFEFF | 0xE0100..=0xE01EF)
    {
        return 0;
    }
    if matches!(cp,
        0x1100..=0x115F | 0x231A..=0x231B | 0x2329..=0x232A | 0x23E9..=0x23EC
        | 0x23F0 | 0x23F3 | 0x25FD..=0x25FE | 0x2614..=0x2615 | 0x2648..=0x2653
        | 0x267F | 0x2693 | 0x26A1 | 0x26AA..=0x26AB | 0x26BD..=0x26BE
        | 0x26C4..=0x26C5 | 0x26CE | 0x26D4 | 0x26EA | 0x26F2..=0x26F3 | 0x26F5
        | 0x26FA | 0x26FD | 0x2705 | 0x270A..=0x270B | 0x2728 | 0x274C | 0x274E
        | 0x2753..=0x2755 | 0x2757 | 0x2795..=0x2797 | 0x27B0 | 0x27BF
        | 0x2B1B..=0x2B1C | 0x2B50 | 0x2B55 | 0x2E80..=0x303E | 0x3041..=0x33FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xA960..=0xA97F
        | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE10..=0xFE19 | 0xFE30..=0xFE6F
        | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x1F004 | 0x1F0CF | 0x1F18E
        | 0x1F191..=0x1F19A | 0x1F200..=0x1F2FF | 0x1F300..=0x1F64F
        | 0x1F680..=0x1F6FF | 0x1F7E0..=0x1F7EB | 0x1F90C..=0x1F9FF
        | 0x1FA70..=0x1FAFF | 0x20000..=0x2FFFD | 0x30000..=0x3FFFD)
    {
        return 2;
    }
    1
}

/// Columns `s` takes on a terminal (see [`char_width`]).
pub fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

const ELLIPSIS: char = '…';

/// Cut `s` to at most `width` columns, ending in `…` when cut.
pub fn truncate_end(s: &str, width: usize) -> Cow<'_, str> {
    if display_width(s) <= width {
        return Cow::Borrowed(s);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push(ELLIPSIS);
    Cow::Owned(out)
}

/// Cut `s` to at most `width` columns by replacing its middle with `…`, keeping both
/// ends (useful for long repository paths and digests).
pub fn truncate_middle(s: &str, width: usize) -> Cow<'_, str> {
    if display_width(s) <= width {
        return Cow::Borrowed(s);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let budget = width - 1;
    let head_budget = budget.div_ceil(2);
    let tail_budget = budget - head_budget;
    let mut head = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w > head_budget {
            break;
        }
        head.push(c);
        used += w;
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used_tail = 0;
    for c in s.chars().rev() {
        let w = char_width(c);
        if used_tail + w > tail_budget {
            break;
        }
        tail.push(c);
        used_tail += w;
    }
    head.push(ELLIPSIS);
    head.extend(tail.into_iter().rev());
    Cow::Owned(head)
}

/// Remove terminal escape sequences (CSI, OSC, DCS/SOS/PM/APC, two-character escapes,
/// and their 8-bit C1 forms) and every other control character except newline and tab,
/// plus bidirectional overrides that can reorder what is shown. Strings from a registry
/// (repository names, labels, annotations, error messages) go through this before they
/// reach a terminal.
pub fn sanitize_for_terminal(s: &str) -> Cow<'_, str> {
    sanitize(s, false)
}

/// [`sanitize_for_terminal`], and newlines and tabs become spaces (for one-line cells).
pub fn sanitize_line(s: &str) -> Cow<'_, str> {
    sanitize(s, true)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn needs_sanitizing(c: char, one_line: bool) -> bool {
    if c == '\n' || c == '\t' {
        return one_line;
    }
    c.is_control() || is_bidi_control(c)
}

fn sanitize(s: &str, one_line: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| needs_sanitizing(c, one_line)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\u{1b}' => match it.next() {
                // CSI: parameters and intermediates, then one final byte 0x40..=0x7E.
                Some('[') => skip_csi(&mut it),
                // OSC, DCS, SOS, PM, APC: a string ended by BEL or ST (ESC \).
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut it),
                // Other escapes are ESC + intermediates (0x20..=0x2F) + one final char.
                Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
                    while it.next_if(|c| ('\u{20}'..='\u{2f}').contains(c)).is_some() {}
                    it.next();
                }
                Some(_) | None => {}
            },
            '\u{9b}' => skip_csi(&mut it),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut it),
            '\n' | '\t' if one_line => out.push(' '),
            '\n' | '\t' => out.push(c),
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn skip_csi(it: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in it.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
        // A control character inside a CSI aborts it; it is dropped with the sequence.
        if !('\u{20}'..='\u{3f}').contains(&c) {
            break;
        }
    }
}

fn skip_string(it: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = it.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                it.next_if_eq(&'\\');
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sizes() {
        for (bytes, binary, decimal) in [
            (0, "0 B", "0 B"),
            (1, "1 B", "1 B"),
            (999, "999 B", "999 B"),
            (1000, "1000 B", "1.0 kB"),
            (1023, "1023 B", "1.0 kB"),
            (1024, "1.0 KB", "1.0 kB"),
            (1536, "1.5 KB", "1.5 kB"),
            (1_048_576, "1.0 MB", "1.0 MB"),
            (1_048_575, "1.0 MB", "1.0 MB"),
            (3_408_729, "3.3 MB", "3.4 MB"),
            (5_368_709_120, "5.0 GB", "5.4 GB"),
            (1_099_511_627_776, "1.0 TB", "1.1 TB"),
            (1_125_899_906_842_624, "1.0 PB", "1.1 PB"),
            (u64::MAX, "16.0 EB", "18.4 EB"),
        ] {
            assert_eq!(format_size(bytes, Units::Binary), binary, "{bytes} binary");
            assert_eq!(
                format_size(bytes, Units::Decimal),
                decimal,
                "{bytes} decimal"
            );
        }
        assert_eq!(
            format_size_with_precision(1_234_567, Units::Decimal, 2),
            "1.23 MB"
        );
        assert_eq!(format_size_with_precision(1536, Units::Binary, 0), "2 KB");
    }

    #[test]
    fn exact_bytes() {
        for (n, s) in [
            (0, "0"),
            (12, "12"),
            (999, "999"),
            (1000, "1,000"),
            (7_651_328, "7,651,328"),
            (123_456_789_012, "123,456,789,012"),
        ] {
            assert_eq!(format_bytes_exact(n), s);
        }
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn parses_timestamps() {
        let base = utc(2024, 1, 15, 14, 30, 0);
        for s in [
            "2024-01-15T14:30:00Z",
            "2024-01-15T14:30:00.000000000Z",
            "2024-01-15T15:30:00+01:00",
            "2024-01-15T09:30:00-05:00",
            "2024-01-15t14:30:00z",
            "2024-01-15T14:30:00",
            "2024-01-15 14:30:00",
            "2024-01-15 14:30:00 UTC",
            " 2024-01-15T14:30:00Z ",
        ] {
            assert_eq!(parse_timestamp(s), Some(base), "{s}");
        }
        let frac = parse_timestamp("2024-01-15T14:30:00.123456789Z").unwrap();
        assert_eq!(frac.timestamp_subsec_nanos(), 123_456_789);
        for s in ["", "yesterday", "2024-13-01T00:00:00Z", "1705329000"] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }

    #[test]
    fn absolute_and_relative() {
        let now = utc(2024, 3, 1, 12, 0, 0);
        assert_eq!(
            format_absolute(utc(2024, 1, 15, 14, 30, 0)),
            "2024-01-15 14:30:00 UTC"
        );
        let ago = |secs: i64| format_relative(now - chrono::Duration::seconds(secs), now);
        for (secs, want) in [
            (0, "just now"),
            (59, "just now"),
            (60, "1 minute ago"),
            (119, "1 minute ago"),
            (300, "5 minutes ago"),
            (3_599, "59 minutes ago"),
            (3_600, "1 hour ago"),
            (7_200, "2 hours ago"),
            (86_399, "23 hours ago"),
            (86_400, "1 day ago"),
            (3 * 86_400, "3 days ago"),
            (6 * 86_400, "6 days ago"),
            (7 * 86_400, "1 week ago"),
            (14 * 86_400, "2 weeks ago"),
            (29 * 86_400, "4 weeks ago"),
            (30 * 86_400, "2024-01-31"),
            (-30, "just now"),
        ] {
            assert_eq!(ago(secs), want, "{secs}s");
        }
        assert_eq!(format_relative(utc(2030, 5, 1, 0, 0, 0), now), "2030-05-01");
        assert_eq!(format_relative_str(None, now), "-");
        assert_eq!(format_relative_str(Some(""), now), "-");
        assert_eq!(
            format_relative_str(Some("2024-03-01T10:00:00Z"), now),
            "2 hours ago"
        );
        assert_eq!(format_relative_str(Some("bogus\u{1b}[31m"), now), "bogus");
    }

    #[test]
    fn truncation() {
        assert_eq!(truncate_end("hello", 10), "hello");
        assert_eq!(truncate_end("hello", 5), "hello");
        assert_eq!(truncate_end("hello world", 5), "hell…");
        assert_eq!(truncate_end("hello", 1), "…");
        assert_eq!(truncate_end("hello", 0), "");
        assert_eq!(truncate_end("日本語テキスト", 6), "日本…");
        assert!(display_width(&truncate_end("日本語テキスト", 6)) <= 6);
        assert_eq!(
            truncate_middle("registry.example.com/team/app", 15),
            "registr…eam/app"
        );
        assert_eq!(
            display_width(&truncate_middle("registry.example.com/team/app", 15)),
            15
        );
        assert_eq!(truncate_middle("short", 10), "short");
        assert_eq!(truncate_middle("abcdef", 1), "…");
        assert_eq!(truncate_middle("abcdef", 4), "ab…f");
        assert!(matches!(truncate_end("x", 3), Cow::Borrowed(_)));
        assert_eq!(display_width("e\u{301}"), 1);
        assert_eq!(display_width("🚀x"), 3);
    }

    #[test]
    fn sanitising() {
        for (input, want) in [
            ("plain text", "plain text"),
            ("red \u{1b}[31mtext\u{1b}[0m", "red text"),
            ("\u{1b}[2J\u{1b}[H cleared", " cleared"),
            ("\u{1b}[?25l hidden cursor", " hidden cursor"),
            ("title \u{1b}]0;pwned\u{7} after", "title  after"),
            (
                "link \u{1b}]8;;http://evil\u{1b}\\click\u{1b}]8;;\u{1b}\\",
                "link click",
            ),
            ("dcs \u{1b}Pq#0;2;0;0;0\u{1b}\\ end", "dcs  end"),
            ("charset \u{1b}(B ok", "charset  ok"),
            ("keypad \u{1b}= ok", "keypad  ok"),
            ("c1 csi \u{9b}31m red", "c1 csi  red"),
            ("c1 osc \u{9d}0;x\u{9c} end", "c1 osc  end"),
            ("bell\u{7} bs\u{8} cr\r del\u{7f}", "bell bs cr del"),
            ("line1\nline2\tcol", "line1\nline2\tcol"),
            ("bidi \u{202e}txt.exe", "bidi txt.exe"),
            ("trailing esc \u{1b}", "trailing esc "),
            ("unterminated \u{1b}]0;title", "unterminated "),
            ("ünïcödé 日本", "ünïcödé 日本"),
        ] {
            assert_eq!(sanitize_for_terminal(input), want, "{input:?}");
        }
        assert!(matches!(sanitize_for_terminal("clean"), Cow::Borrowed(_)));
        assert_eq!(sanitize_line("a\nb\tc\u{1b}[1m"), "a b c");
    }

    #[test]
    fn random_inputs_are_sanitised_and_truncated_safely() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let alphabet: Vec<char> = "a[]0;m\\\u{1b}\u{7}\u{9b}\u{9c}\u{9d}\n\t\r日é🚀\u{301}\u{202e}"
            .chars()
            .collect();
        for _ in 0..20_000 {
            let len = rng.gen_range(0..30);
            let s: String = (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect();
            let clean = sanitize_for_terminal(&s);
            assert!(
                !clean
                    .chars()
                    .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)),
                "{s:?} -> {clean:?}"
            );
            let line = sanitize_line(&s);
            assert!(!line.chars().any(|c| c.is_control()), "{s:?}");
            let w = rng.gen_range(0..12);
            assert!(display_width(&truncate_end(&line, w)) <= w, "{line:?} {w}");
            assert!(
                display_width(&truncate_middle(&line, w)) <= w,
                "{line:?} {w}"
            );
        }
    }
}
