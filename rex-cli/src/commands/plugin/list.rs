use super::HostContext;
use crate::plugins::Source;
use rex_plugin_api::{Block, Cell, Output, Style};
use serde_json::json;

pub fn run(ctx: &HostContext<'_>) -> Output {
    let entries: Vec<_> = ctx
        .plugins
        .entries
        .iter()
        .filter(|e| e.source != Source::Host)
        .collect();
    let value: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({
                "name": e.name,
                "version": e.version,
                "api_version": e.api_version.map(|v| v.to_string()),
                "source": match &e.source { Source::External(_) => "external", _ => "built-in" },
                "path": e.path().map(|p| p.display().to_string()),
                "status": match &e.status {
                    crate::plugins::Status::Ok => "ok",
                    crate::plugins::Status::Incompatible(_) => "incompatible",
                    crate::plugins::Status::Refused(_) => "refused",
                },
                "reason": match &e.status {
                    crate::plugins::Status::Ok => None,
                    crate::plugins::Status::Incompatible(r) | crate::plugins::Status::Refused(r) => Some(r.clone()),
                },
                "commands": e.commands.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                "shadowed": e.shadowed,
            })
        })
        .collect();
    let rows = entries
        .iter()
        .map(|e| {
            let style = match e.status {
                crate::plugins::Status::Ok if e.shadowed.is_empty() => Style::Good,
                crate::plugins::Status::Ok => Style::Warn,
                _ => Style::Bad,
            };
            vec![
                Cell::from(e.name.as_str()),
                Cell::from(e.version.as_str()),
                Cell::from(
                    e.api_version
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "-".into()),
                ),
                Cell::styled(
                    e.source_label(),
                    if e.source == Source::Builtin {
                        Style::Dim
                    } else {
                        Style::Normal
                    },
                ),
                Cell::styled(e.status_label(), style),
            ]
        })
        .collect();
    let mut pretty = vec![Block::Table {
        columns: vec![
            "NAME".into(),
            "VERSION".into(),
            "API".into(),
            "SOURCE".into(),
            "STATUS".into(),
        ],
        rows,
    }];
    if entries.is_empty() {
        pretty = vec![Block::Text {
            text: "No plugins (built with no built-ins, and none found in the plugin directories)."
                .into(),
        }];
    }
    if !ctx.plugins.external_enabled {
        pretty.push(Block::Text {
            text: "External plugins are disabled (--no-plugins / REX_NO_PLUGINS).".into(),
        });
    }
    Output::structured(serde_json::Value::Array(value), pretty)
}
