//! Structured command output. Plugins build it; the host renders it.
//!
//! `value` is what `--format json|yaml` prints; `pretty` is the human layout for
//! `--format pretty`. Both come from the same data, built by the plugin, so the three
//! formats always agree. `Raw` and `Bytes` are printed byte for byte whatever the format
//! (e.g. `--raw-manifest`) when stdout is not a terminal.
//!
//! Wire compatibility (API 1.x): `Bytes` was added without a new payload type. It crosses
//! as `{"type":"raw","text":…,"base64":…}`: a host that predates it reads `text` (the
//! bytes decoded lossily) and ignores `base64`; a newer host prefers `base64`. Payloads
//! of plugins built before it (`raw` without `base64`) still decode as `Raw`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Structured {
        value: serde_json::Value,
        pretty: Vec<Block>,
    },
    /// UTF-8 text printed exactly as given.
    Raw { text: String },
    /// Bytes printed exactly as given (registry bytes need not be UTF-8, nor end in a
    /// newline).
    Bytes { bytes: Vec<u8> },
    /// Nothing to print (e.g. after `config edit`).
    Empty,
}

impl Output {
    pub fn structured(value: serde_json::Value, pretty: Vec<Block>) -> Self {
        Output::Structured { value, pretty }
    }

    /// Serialise any value for json/yaml and lay it out with `pretty` blocks.
    pub fn from_serialize<T: Serialize>(value: &T, pretty: Vec<Block>) -> Self {
        Output::Structured {
            value: serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
            pretty,
        }
    }

    /// Bytes to print exactly (see [`Output::Bytes`]).
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Output::Bytes {
            bytes: bytes.into(),
        }
    }
}

/// The serialised shape, borrowed (no copy of the value when a plugin answers).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireOut<'a> {
    Structured {
        value: &'a serde_json::Value,
        pretty: &'a [Block],
    },
    Raw {
        text: Cow<'a, str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        base64: Option<String>,
    },
    Empty,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireIn {
    Structured {
        value: serde_json::Value,
        #[serde(default)]
        pretty: Vec<Block>,
    },
    Raw {
        #[serde(default)]
        text: String,
        #[serde(default)]
        base64: Option<String>,
    },
    Empty,
}

impl Serialize for Output {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Output::Structured { value, pretty } => WireOut::Structured { value, pretty },
            Output::Raw { text } => WireOut::Raw {
                text: Cow::Borrowed(text),
                base64: None,
            },
            Output::Bytes { bytes } => WireOut::Raw {
                text: String::from_utf8_lossy(bytes),
                base64: Some(base64_encode(bytes)),
            },
            Output::Empty => WireOut::Empty,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Output {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match WireIn::deserialize(d)? {
            WireIn::Structured { value, pretty } => Output::Structured { value, pretty },
            WireIn::Raw {
                base64: Some(b), ..
            } => Output::Bytes {
                bytes: base64_decode(&b).map_err(serde::de::Error::custom)?,
            },
            WireIn::Raw { text, base64: None } => Output::Raw { text },
            WireIn::Empty => Output::Empty,
        })
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648 section 4). Small enough not to need a
/// dependency in the ABI crate.
fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let bad = || "invalid base64 in raw output".to_owned();
    let text = text.as_bytes();
    if !text.len().is_multiple_of(4) {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let last = text.len() / 4;
    for (n, quad) in text.chunks(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && n + 1 != last) {
            return Err(bad());
        }
        let mut v = 0u32;
        for &c in &quad[..4 - pad] {
            let d = B64.iter().position(|&x| x == c).ok_or_else(bad)? as u32;
            v = (v << 6) | d;
        }
        v <<= 6 * pad as u32;
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Ok(out)
}

/// One piece of the pretty layout. Blocks are separated by a blank line when rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "block", rename_all = "snake_case")]
pub enum Block {
    /// A table with a header row. Column widths fit the terminal; long cells are
    /// truncated with `…` (except the last column).
    Table {
        columns: Vec<String>,
        rows: Vec<Vec<Cell>>,
    },
    /// `Title:` followed by indented `key: value` lines.
    Fields {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        fields: Vec<(String, Cell)>,
    },
    /// `Title:` followed by indented lines (a list).
    List {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        items: Vec<Cell>,
    },
    /// A section heading with nested blocks, indented by two spaces.
    Section { title: String, blocks: Vec<Block> },
    /// Lines printed as they are (one value per line, e.g. `--quiet` output).
    Lines { lines: Vec<String> },
    /// `✓ message` lines (success confirmations).
    Success { message: String },
    /// Free text.
    Text { text: String },
}

/// A cell or value with an optional style hint (the host decides the colours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    Plain(String),
    Styled { text: String, style: Style },
}

impl Cell {
    pub fn text(&self) -> &str {
        match self {
            Cell::Plain(s) => s,
            Cell::Styled { text, .. } => text,
        }
    }
    pub fn style(&self) -> Style {
        match self {
            Cell::Plain(_) => Style::Normal,
            Cell::Styled { style, .. } => *style,
        }
    }
    pub fn styled(text: impl Into<String>, style: Style) -> Self {
        Cell::Styled {
            text: text.into(),
            style,
        }
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Plain(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Plain(s.to_owned())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    #[default]
    Normal,
    /// De-emphasised (defaults, digests).
    Dim,
    Bold,
    Good,
    Warn,
    Bad,
    Accent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length_and_matches_rfc4648() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), coded);
            assert_eq!(base64_decode(coded).unwrap(), plain.as_bytes());
        }
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(base64_decode(&base64_encode(&all)).unwrap(), all);
        for bad in ["Zg=", "Z===", "Zg==Zg==", "Zm9*", "Zg=a"] {
            assert!(base64_decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bytes_cross_exactly_and_stay_readable_by_older_hosts() {
        let bytes = b"{\"a\":\"\xff\"}".to_vec();
        let json = serde_json::to_string(&Output::bytes(bytes.clone())).unwrap();
        assert_eq!(
            serde_json::from_str::<Output>(&json).unwrap(),
            Output::bytes(bytes)
        );
        // What a 1.0 host decodes: a `raw` payload with `text` (unknown fields ignored).
        #[derive(Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Old {
            Raw { text: String },
        }
        let Old::Raw { text } = serde_json::from_str(&json).unwrap();
        assert_eq!(text, "{\"a\":\"\u{FFFD}\"}");
        // And what a 1.0 plugin sends still decodes as text.
        let old = r#"{"type":"raw","text":"hi"}"#;
        assert_eq!(
            serde_json::from_str::<Output>(old).unwrap(),
            Output::Raw { text: "hi".into() }
        );
        let s = Output::structured(serde_json::json!({"a": 1}), vec![]);
        let back: Output = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        let no_pretty = r#"{"type":"structured","value":1}"#;
        assert!(serde_json::from_str::<Output>(no_pretty).is_ok());
        let empty: Output = serde_json::from_str(r#"{"type":"empty"}"#).unwrap();
        assert_eq!(empty, Output::Empty);
    }
}
