//! Structured command output. Plugins build it; the host renders it.
//!
//! `value` is what `--format json|yaml` prints; `pretty` is the human layout for
//! `--format pretty`. Both come from the same data, built by the plugin, so the three
//! formats always agree. `Raw` is printed byte for byte whatever the format (e.g.
//! `--raw-manifest`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Output {
    Structured {
        value: serde_json::Value,
        #[serde(default)]
        pretty: Vec<Block>,
    },
    Raw {
        /// UTF-8 text printed exactly as given (registry bytes are JSON, hence UTF-8).
        text: String,
    },
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
