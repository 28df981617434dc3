use super::{not_found, HostContext};
use crate::plugins::Source;
use rex_plugin_api::{Block, Cell, CommandSpec, Output, PluginError, Style};
use serde_json::json;

fn flatten(prefix: &str, c: &CommandSpec, out: &mut Vec<(String, String, bool)>) {
    let path = if prefix.is_empty() {
        c.name.clone()
    } else {
        format!("{prefix} {}", c.name)
    };
    if c.runnable || c.subcommands.is_empty() {
        out.push((path.clone(), c.about.clone(), c.hidden));
    }
    for s in &c.subcommands {
        flatten(&path, s, out);
    }
}

pub fn run(name: &str, ctx: &HostContext<'_>) -> Result<Output, PluginError> {
    let e = ctx.plugins.find(name).ok_or_else(|| not_found(name))?;
    let mut cmds = Vec::new();
    for c in &e.commands {
        flatten("", c, &mut cmds);
    }
    let visible: Vec<_> = cmds.iter().filter(|(_, _, hidden)| !hidden).collect();
    let value = json!({
        "name": e.name,
        "version": e.version,
        "api_version": e.api_version.map(|v| v.to_string()),
        "description": e.description,
        "source": match &e.source { Source::External(_) => "external", _ => "built-in" },
        "path": e.path().map(|p| p.display().to_string()),
        "sha256": e.sha256,
        "status": e.status_label(),
        "commands": visible.iter().map(|(p, a, _)| json!({"command": format!("rex {p}"), "about": a})).collect::<Vec<_>>(),
    });
    let mut fields = vec![
        ("name".to_owned(), Cell::from(e.name.as_str())),
        ("version".to_owned(), Cell::from(e.version.as_str())),
        (
            "api".to_owned(),
            Cell::from(
                e.api_version
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "-".into()),
            ),
        ),
        ("source".to_owned(), Cell::from(e.source_label())),
        (
            "status".to_owned(),
            Cell::styled(
                e.status_label(),
                if matches!(e.status, crate::plugins::Status::Ok) {
                    Style::Good
                } else {
                    Style::Bad
                },
            ),
        ),
    ];
    if !e.description.is_empty() {
        fields.insert(
            1,
            ("description".to_owned(), Cell::from(e.description.as_str())),
        );
    }
    if let Some(sha) = &e.sha256 {
        fields.push(("sha256".to_owned(), Cell::styled(sha.as_str(), Style::Dim)));
    }
    let mut pretty = vec![Block::Fields {
        title: Some(format!("Plugin {}", e.name)),
        fields,
    }];
    if !visible.is_empty() {
        pretty.push(Block::Table {
            columns: vec!["COMMAND".into(), "DESCRIPTION".into()],
            rows: visible
                .iter()
                .map(|(p, a, _)| vec![Cell::from(format!("rex {p}")), Cell::from(a.as_str())])
                .collect(),
        });
    }
    Ok(Output::structured(value, pretty))
}
