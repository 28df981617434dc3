//! `rex registry list|ls`: configured registries, the current one marked, each pinged.

use super::{probe_all, Status};
use rex_core::config::Settings;
use rex_plugin_api::{Block, Cell, Output, PluginError, Style};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListedRegistry {
    pub name: String,
    pub url: String,
    pub current: bool,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListReport {
    pub current: Option<String>,
    pub registries: Vec<ListedRegistry>,
    /// `--quiet`: the pretty form is the names only, one per line.
    #[serde(skip)]
    pub quiet: bool,
}

pub fn run(settings: &Settings) -> Result<ListReport, PluginError> {
    let current = settings.registries.current.clone();
    let statuses = probe_all(settings, &settings.registries.list)?;
    let registries = settings
        .registries
        .list
        .iter()
        .zip(statuses)
        .map(|(r, status)| ListedRegistry {
            name: r.name.clone(),
            url: r.url.clone(),
            current: current.as_deref() == Some(r.name.as_str()),
            status,
        })
        .collect();
    Ok(ListReport {
        current,
        registries,
        quiet: settings.output.quiet,
    })
}

pub(crate) fn status_cell(status: Status) -> Cell {
    let style = match status {
        Status::Online => Style::Good,
        Status::AuthRequired => Style::Warn,
        Status::Offline => Style::Bad,
    };
    Cell::styled(status.as_str(), style)
}

impl ListReport {
    pub fn blocks(&self) -> Vec<Block> {
        if self.quiet {
            return vec![Block::Lines {
                lines: self.registries.iter().map(|r| r.name.clone()).collect(),
            }];
        }
        if self.registries.is_empty() {
            return vec![Block::Text {
                text: "No registries configured. Add one with `rex registry init NAME URL`.".into(),
            }];
        }
        let rows = self
            .registries
            .iter()
            .map(|r| {
                vec![
                    Cell::styled(if r.current { "*" } else { "" }, Style::Accent),
                    if r.current {
                        Cell::styled(r.name.clone(), Style::Bold)
                    } else {
                        Cell::from(r.name.clone())
                    },
                    Cell::from(r.url.clone()),
                    status_cell(r.status),
                ]
            })
            .collect();
        vec![Block::Table {
            columns: ["CURRENT", "NAME", "URL", "STATUS"]
                .map(String::from)
                .to_vec(),
            rows,
        }]
    }

    pub fn into_output(self) -> Output {
        let pretty = self.blocks();
        Output::from_serialize(&self, pretty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report() -> ListReport {
        ListReport {
            current: Some("local".into()),
            registries: vec![
                ListedRegistry {
                    name: "local".into(),
                    url: "http://localhost:5000".into(),
                    current: true,
                    status: Status::Online,
                },
                ListedRegistry {
                    name: "prod".into(),
                    url: "https://registry.example.com".into(),
                    current: false,
                    status: Status::AuthRequired,
                },
            ],
            quiet: false,
        }
    }

    #[test]
    fn json_matches_design() {
        let Output::Structured { value, .. } = report().into_output() else {
            panic!("structured output expected")
        };
        assert_eq!(
            value,
            json!({
                "current": "local",
                "registries": [
                    {"name": "local", "url": "http://localhost:5000", "current": true, "status": "online"},
                    {"name": "prod", "url": "https://registry.example.com", "current": false, "status": "auth-required"},
                ]
            })
        );
    }

    #[test]
    fn pretty_table_marks_current() {
        let blocks = report().blocks();
        let Block::Table { columns, rows } = &blocks[0] else {
            panic!("table expected")
        };
        assert_eq!(columns, &["CURRENT", "NAME", "URL", "STATUS"]);
        assert_eq!(rows[0][0].text(), "*");
        assert_eq!(rows[1][0].text(), "");
        assert_eq!(rows[1][3].text(), "auth-required");
        assert_eq!(rows[1][3].style(), Style::Warn);
    }

    #[test]
    fn quiet_lists_names_only() {
        let r = ListReport {
            quiet: true,
            ..report()
        };
        assert_eq!(
            r.blocks(),
            vec![Block::Lines {
                lines: vec!["local".into(), "prod".into()]
            }]
        );
    }

    #[test]
    fn empty_list_says_how_to_add() {
        let r = ListReport {
            current: None,
            registries: vec![],
            quiet: false,
        };
        let Block::Text { text } = &r.blocks()[0] else {
            panic!("text expected")
        };
        assert!(text.contains("rex registry init"));
        let Output::Structured { value, .. } = r.into_output() else {
            unreachable!()
        };
        assert_eq!(value, json!({"current": null, "registries": []}));
    }
}
