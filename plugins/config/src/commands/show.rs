//! `rex config`: every setting, grouped by section, with the ones left at their default
//! marked.

use super::{config_file, core_err};
use rex_core::config::{Origin, Settings};
use rex_plugin_api::{Block, Cell, Output, PluginError, Style};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// One setting and where its value comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Dotted key (`cache.ttl.catalog`).
    pub key: String,
    /// The effective value, typed (numbers stay numbers in json/yaml).
    pub value: Value,
    /// The layer that set it (`default` when none did).
    pub origin: Origin,
}

impl Entry {
    pub fn is_default(&self) -> bool {
        self.origin == Origin::Default
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShowReport {
    pub config_file: PathBuf,
    /// The file exists (otherwise every value is a default or comes from env/flags).
    pub file_exists: bool,
    /// Why the file could not be used (its values are then left out).
    pub file_error: Option<String>,
    pub entries: Vec<Entry>,
}

pub fn run(settings: &Settings) -> Result<ShowReport, PluginError> {
    let path = config_file(settings)?;
    let file_exists = path.exists();
    // The host runs `rex config` without a broken file so the user can see what is wrong;
    // say so instead of attributing values to a file that was not read.
    let file_error = file_exists
        .then(|| rex_core::config::validate_file(&path).err())
        .flatten()
        .map(|e| core_err(e).message);
    let read = file_error.is_none().then_some(path.as_path());
    let entries = crate::commands::get::all_entries(settings, read)?;
    Ok(ShowReport {
        file_exists,
        config_file: path,
        file_error,
        entries,
    })
}

/// Section titles in display order; keys are grouped by their first component.
const SECTIONS: &[(&str, &str)] = &[
    ("output", "Output"),
    ("network", "Network"),
    ("cache", "Cache"),
    ("tui", "TUI"),
    ("registries", "Registries"),
];

fn section_title(section: &str) -> String {
    SECTIONS
        .iter()
        .find(|(s, _)| *s == section)
        .map(|(_, t)| (*t).to_owned())
        .unwrap_or_else(|| {
            let mut c = section.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
}

/// A value as the user would type it after `config set` (strings unquoted).
pub(crate) fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(unset)".to_owned(),
        other => other.to_string(),
    }
}

/// Insert `value` at the dotted `key` path of a nested object.
fn insert_nested(root: &mut Map<String, Value>, key: &str, value: Value) {
    let mut parts = key.split('.').peekable();
    let mut node = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            node.insert(part.to_owned(), value);
            return;
        }
        let child = node
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !child.is_object() {
            *child = Value::Object(Map::new());
        }
        node = match child {
            Value::Object(m) => m,
            _ => return,
        };
    }
}

impl ShowReport {
    /// json/yaml: `{"config_file", "file_exists", "values": {nested}, "defaults": [keys
    /// left at their default], "origins": {key: "file"|"env"|"flag"}}`.
    pub fn to_value(&self) -> Value {
        let mut values = Map::new();
        for e in &self.entries {
            insert_nested(&mut values, &e.key, e.value.clone());
        }
        let defaults: Vec<&str> = self
            .entries
            .iter()
            .filter(|e| e.is_default())
            .map(|e| e.key.as_str())
            .collect();
        let origins: Map<String, Value> = self
            .entries
            .iter()
            .filter(|e| !e.is_default())
            .map(|e| (e.key.clone(), Value::String(e.origin.as_str().to_owned())))
            .collect();
        let mut v = json!({
            "config_file": self.config_file.display().to_string(),
            "file_exists": self.file_exists,
            "values": values,
            "defaults": defaults,
            "origins": origins,
        });
        if let Some(e) = &self.file_error {
            v["file_error"] = Value::String(e.clone());
        }
        v
    }

    /// Pretty: `Output:` followed by `  format = pretty (default)` lines, per section.
    pub fn blocks(&self) -> Vec<Block> {
        let mut order: Vec<&str> = SECTIONS.iter().map(|(s, _)| *s).collect();
        for e in &self.entries {
            let section = e.key.split('.').next().unwrap_or("");
            if !order.contains(&section) {
                order.push(section);
            }
        }
        let error = self.file_error.as_ref().map(|e| Block::Text {
            text: format!(
                "error: {e}\nThe file was left out below; fix it with `rex config edit`.\n"
            ),
        });
        let sections = order.into_iter().filter_map(|section| {
            let items: Vec<Cell> = self
                .entries
                .iter()
                .filter(|e| e.key.split('.').next() == Some(section))
                .map(|e| {
                    let rest = e.key.split_once('.').map(|(_, r)| r).unwrap_or(&e.key);
                    let value = display_value(&e.value);
                    match e.origin {
                        Origin::Default if e.value.is_null() => {
                            Cell::styled(format!("{rest} = {value}"), Style::Dim)
                        }
                        Origin::Default => {
                            Cell::styled(format!("{rest} = {value} (default)"), Style::Dim)
                        }
                        Origin::File => Cell::from(format!("{rest} = {value}")),
                        // Not in the file: say where it comes from so `config set` is
                        // not a surprise.
                        o => Cell::from(format!("{rest} = {value} ({o})")),
                    }
                })
                .collect();
            (!items.is_empty()).then(|| Block::List {
                title: Some(section_title(section)),
                items,
            })
        });
        error.into_iter().chain(sections).collect()
    }

    pub fn into_output(self) -> Output {
        Output::structured(self.to_value(), self.blocks())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> ShowReport {
        ShowReport {
            config_file: PathBuf::from("/tmp/rex/config.toml"),
            file_exists: true,
            file_error: None,
            entries: vec![
                Entry {
                    key: "output.format".into(),
                    value: json!("json"),
                    origin: Origin::File,
                },
                Entry {
                    key: "network.timeout".into(),
                    value: json!(30),
                    origin: Origin::Default,
                },
                Entry {
                    key: "cache.ttl.catalog".into(),
                    value: json!(300),
                    origin: Origin::Default,
                },
                Entry {
                    key: "tui.vim_bindings".into(),
                    value: json!(false),
                    origin: Origin::Env,
                },
            ],
        }
    }

    #[test]
    fn json_is_nested_with_default_keys() {
        let v = report().to_value();
        assert_eq!(v["values"]["output"]["format"], "json");
        assert_eq!(v["values"]["network"]["timeout"], 30);
        assert_eq!(v["values"]["cache"]["ttl"]["catalog"], 300);
        assert_eq!(v["values"]["tui"]["vim_bindings"], false);
        assert_eq!(
            v["defaults"],
            json!(["network.timeout", "cache.ttl.catalog"])
        );
        assert_eq!(v["config_file"], "/tmp/rex/config.toml");
        assert_eq!(
            v["origins"],
            json!({"output.format": "file", "tui.vim_bindings": "env"})
        );
    }

    #[test]
    fn pretty_groups_by_section_and_marks_defaults() {
        let blocks = report().blocks();
        let titles: Vec<_> = blocks
            .iter()
            .map(|b| match b {
                Block::List { title, .. } => title.clone().unwrap(),
                other => panic!("unexpected block {other:?}"),
            })
            .collect();
        assert_eq!(titles, ["Output", "Network", "Cache", "TUI"]);
        let Block::List { items, .. } = &blocks[2] else {
            unreachable!()
        };
        assert_eq!(items[0].text(), "ttl.catalog = 300 (default)");
        assert_eq!(items[0].style(), Style::Dim);
        let Block::List { items, .. } = &blocks[0] else {
            unreachable!()
        };
        assert_eq!(items[0].text(), "format = json");
        assert_eq!(items[0].style(), Style::Normal);
        let Block::List { items, .. } = &blocks[3] else {
            unreachable!()
        };
        assert_eq!(items[0].text(), "vim_bindings = false (env)");
    }
}
