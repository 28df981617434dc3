//! `rex config edit`: open the config file in the user's editor, then check it.

use super::{config_file, core_err};
use rex_core::config::Settings;
use rex_plugin_api::{Block, ErrorKind, Output, PluginError};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Tried in order when `$EDITOR` is not set (design 2.3).
const FALLBACK_EDITORS: &[&str] = &["vim", "nano", "vi"];

/// Written when the file does not exist yet, so the user sees what can be set.
const TEMPLATE: &str = "\
# rex configuration. Uncomment and change what you need; `rex config` shows every
# setting with its current value, `rex config set KEY VALUE` changes one.

# [output]
# format = \"pretty\"      # pretty, json, yaml
# color = \"auto\"         # auto, always, never
# quiet = false

# [network]
# timeout = 30           # seconds
# retry_attempts = 3
# verify_tls = true

# [cache]
# enabled = true

# [cache.ttl]
# catalog = 300
# tags = 300
# manifest = 86400
# config = 86400

# [cache.behavior]
# consistency = \"weak\"   # weak, strong, eventual
# serve_stale = true

# [tui]
# theme = \"dark\"         # dark, light
# vim_bindings = true
";

#[derive(Debug, Clone, PartialEq)]
pub struct EditReport {
    pub config_file: PathBuf,
    /// The editor command that ran.
    pub editor: String,
    /// The file did not exist and was created from the template.
    pub created: bool,
}

/// The editor command split into program and arguments (`code --wait`).
pub fn editor_command(configured: Option<&str>) -> Vec<Vec<String>> {
    match configured.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => vec![e.split_whitespace().map(str::to_owned).collect()],
        None => FALLBACK_EDITORS
            .iter()
            .map(|e| vec![(*e).to_owned()])
            .collect(),
    }
}

pub fn run(settings: &Settings) -> Result<EditReport, PluginError> {
    let path = config_file(settings)?;
    let created = create_if_missing(&path)?;
    let editor = spawn_editor(settings.runtime.editor.as_deref(), &path)?;
    validate(&path)?;
    Ok(EditReport {
        config_file: path,
        editor,
        created,
    })
}

fn create_if_missing(path: &Path) -> Result<bool, PluginError> {
    if path.exists() {
        return Ok(false);
    }
    let cfg = |e: std::io::Error| {
        PluginError::new(
            ErrorKind::Config,
            format!("cannot create {}: {e}", path.display()),
        )
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(cfg)?;
    }
    std::fs::write(path, TEMPLATE).map_err(cfg)?;
    Ok(true)
}

/// Run the first editor that exists, with the terminal inherited; returns its command line.
fn spawn_editor(configured: Option<&str>, path: &Path) -> Result<String, PluginError> {
    let candidates = editor_command(configured);
    for argv in &candidates {
        let Some((program, args)) = argv.split_first() else {
            continue;
        };
        let line = argv.join(" ");
        tracing::debug!(editor = %line, file = %path.display(), "starting editor");
        match Command::new(program).args(args).arg(path).status() {
            Ok(status) if status.success() => return Ok(line),
            Ok(status) => {
                return Err(PluginError::general(format!(
                    "the editor '{line}' exited with {status}"
                ))
                .with_hint(format!("the file {} was not checked", path.display())))
            }
            // Only the fallbacks are tried in turn; a missing $EDITOR is the user's to fix.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && configured.is_none() => continue,
            Err(e) => {
                return Err(
                    PluginError::general(format!("cannot start the editor '{line}': {e}"))
                        .with_hint("set EDITOR to an installed editor"),
                )
            }
        }
    }
    Err(PluginError::general(format!(
        "no editor found (tried {})",
        FALLBACK_EDITORS.join(", ")
    ))
    .with_hint("set EDITOR, e.g. `EDITOR=nano rex config edit`"))
}

/// Parse the edited file the way rex will next time; an error keeps the file as it is.
fn validate(path: &Path) -> Result<(), PluginError> {
    rex_core::config::validate_file(path)
        .map(drop)
        .map_err(|e| {
            let e = core_err(e);
            PluginError::new(
                ErrorKind::Config,
                format!(
                    "{} is not a valid rex configuration: {}",
                    path.display(),
                    e.message
                ),
            )
            .with_hint("the file was kept as you saved it; run `rex config edit` again to fix it")
        })
}

impl EditReport {
    pub fn into_output(self) -> Output {
        let file = self.config_file.display().to_string();
        let mut pretty = Vec::new();
        if self.created {
            pretty.push(Block::Success {
                message: format!("Created {file}"),
            });
        }
        pretty.push(Block::Success {
            message: format!("Configuration in {file} is valid"),
        });
        Output::structured(
            json!({
                "config_file": file,
                "editor": self.editor,
                "created": self.created,
                "valid": true,
            }),
            pretty,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_from_settings_keeps_its_arguments() {
        assert_eq!(
            editor_command(Some("code --wait")),
            vec![vec!["code".to_owned(), "--wait".to_owned()]]
        );
    }

    #[test]
    fn fallback_editors_in_design_order() {
        let c = editor_command(None);
        assert_eq!(c, vec![vec!["vim"], vec!["nano"], vec!["vi"]]);
        assert_eq!(editor_command(Some("  ")), c);
    }

    #[test]
    fn creates_missing_file_with_template() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        assert!(create_if_missing(&path).unwrap());
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("# [output]"));
        assert!(!create_if_missing(&path).unwrap());
    }
}
