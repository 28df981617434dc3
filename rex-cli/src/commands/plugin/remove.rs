use super::{not_found, HostContext};
use crate::plugins::cache::DescriptionCache;
use crate::plugins::{discover, user_plugin_dir, Source};
use rex_plugin_api::{Block, Output, PluginError};
use serde_json::json;

pub fn run(name: &str, ctx: &HostContext<'_>) -> Result<Output, PluginError> {
    let e = ctx.plugins.find(name).ok_or_else(|| not_found(name))?;
    let path = match &e.source {
        Source::External(p) => p.clone(),
        _ => {
            return Err(PluginError::usage(format!(
                "'{}' is built into this rex and cannot be removed",
                e.name
            ))
            .with_hint("distributions can build rex without it (cargo feature plugin-<name>)"))
        }
    };
    let user_dir = user_plugin_dir(ctx.env);
    if path.parent() != user_dir.as_deref() {
        return Err(PluginError::general(format!(
            "plugin '{}' is not in rex's plugin directory ({})",
            e.name,
            path.display()
        ))
        .with_hint("remove it with the tool that installed it, or delete the file"));
    }
    std::fs::remove_file(&path)
        .map_err(|err| PluginError::general(format!("cannot remove {}: {err}", path.display())))?;
    let mut cache = DescriptionCache::open(discover::cache_path(ctx.env));
    cache.remove(&path);
    cache.save();
    Ok(Output::structured(
        json!({ "name": e.name, "path": path.display().to_string(), "removed": true }),
        vec![Block::Success {
            message: format!("Removed plugin '{}' ({})", e.name, path.display()),
        }],
    ))
}
