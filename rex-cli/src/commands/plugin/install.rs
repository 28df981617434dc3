use super::HostContext;
use crate::plugins::cache::{mtime_ns, sha256_file, Described, DescriptionCache};
use crate::plugins::{discover, user_plugin_dir, Source};
use rex_plugin_api::{Block, ErrorKind, ExternalPlugin, Output, Plugin, PluginError};
use serde_json::json;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn io_error(what: &str, path: &Path, e: std::io::Error) -> PluginError {
    PluginError::general(format!("cannot {what} {}: {e}", path.display()))
}

/// Copy `src` to `dest` atomically: a temp file in the same directory, 0644, synced, renamed.
fn atomic_copy(src: &Path, dest: &Path) -> Result<(), PluginError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        dest.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        std::fs::copy(src, &tmp)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, dest)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error("install the plugin to", dest, e));
    }
    Ok(())
}

pub fn run(path: &str, ctx: &HostContext<'_>) -> Result<Output, PluginError> {
    let given = PathBuf::from(path);
    let src = given.canonicalize().map_err(|e| {
        PluginError::new(
            ErrorKind::NotFound,
            format!("cannot read plugin file {path}: {e}"),
        )
    })?;
    if !src.is_file() || src.extension().is_none_or(|x| x != "so") {
        return Err(
            PluginError::usage(format!("{path} is not a plugin library")).with_hint(
                "external plugins are shared libraries named *.so (crate-type = [\"cdylib\"])",
            ),
        );
    }
    let dir = user_plugin_dir(ctx.env).ok_or_else(|| {
        PluginError::new(ErrorKind::Config, "cannot find the user plugin directory")
            .with_hint("set HOME or XDG_DATA_HOME")
    })?;
    // The check: it loads, its API version is accepted, it describes itself.
    let plugin = ExternalPlugin::load(&src).map_err(|e| e.to_plugin_error())?;
    let manifest = plugin.manifest();
    let file_name = src.file_name().map(|f| f.to_owned()).unwrap_or_default();
    let dest = dir.join(&file_name);

    for e in &ctx.plugins.entries {
        if e.name == manifest.name && e.path() != Some(dest.as_path()) && e.source != Source::Host {
            tracing::warn!(
                "a plugin named '{}' is already present ({}); {}",
                e.name,
                e.source_label(),
                if e.source == Source::Builtin {
                    "the built-in wins"
                } else {
                    "the first one in the search order wins"
                }
            );
        }
    }

    if !dir.exists() {
        std::fs::create_dir_all(&dir).map_err(|e| io_error("create", &dir, e))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| io_error("set permissions of", &dir, e))?;
    }
    if src != dest {
        atomic_copy(&src, &dest)?;
    }
    let meta = std::fs::metadata(&dest).map_err(|e| io_error("read", &dest, e))?;
    if let Some(reason) = discover::unsafe_reason(
        &dir,
        &std::fs::metadata(&dir).map_err(|e| io_error("read", &dir, e))?,
    ) {
        tracing::warn!("plugin directory {}: {reason}", dir.display());
    }
    let mut cache = DescriptionCache::open(discover::cache_path(ctx.env));
    cache.put(
        &dest,
        Described {
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
            inode: meta.ino(),
            ctime_ns: crate::plugins::cache::ctime_ns(&meta),
            sha256: sha256_file(&dest).unwrap_or_default(),
            manifest: Some(manifest.clone()),
            error: None,
        },
    );
    cache.save();

    let commands: Vec<String> = manifest.commands.iter().map(|c| c.name.clone()).collect();
    Ok(Output::structured(
        json!({
            "name": manifest.name,
            "version": manifest.version,
            "api_version": manifest.api_version.to_string(),
            "path": dest.display().to_string(),
            "commands": commands,
        }),
        vec![Block::Success {
            message: format!(
                "Installed plugin '{}' {} (API {}) to {}; commands: {}",
                manifest.name,
                manifest.version,
                manifest.api_version,
                dest.display(),
                commands.join(", ")
            ),
        }],
    ))
}
