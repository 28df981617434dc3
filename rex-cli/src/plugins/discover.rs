//! Finding external plugins: `*.so` files in the plugin directories, with the safety
//! rules (no group/other-writable files or directories, no files owned by another
//! non-root user) applied before anything is loaded.

use super::cache::{describe, DescriptionCache};
use super::{PluginEntry, Source, Status};
use crate::settings::Environment;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why `path` must not be loaded, if it must not.
pub fn unsafe_reason(path: &Path, meta: &std::fs::Metadata) -> Option<String> {
    let mode = meta.permissions().mode();
    if mode & 0o022 != 0 {
        return Some(format!(
            "writable by group or others (mode {:o}); fix with `chmod go-w {}`",
            mode & 0o777,
            path.display()
        ));
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != 0 && meta.uid() != me {
        return Some(format!(
            "owned by another user (uid {}); only files owned by you or root are loaded",
            meta.uid()
        ));
    }
    None
}

/// Why a symlinked plugin must not be loaded: the file it resolves to is checked by
/// `unsafe_reason` already (metadata follows links), but its real directory must pass
/// the same rules as a plugin directory, or anyone who can write there swaps the library.
fn link_target_reason(path: &Path) -> Option<String> {
    let real = match std::fs::canonicalize(path) {
        Ok(r) => r,
        Err(e) => return Some(format!("cannot resolve the file: {e}")),
    };
    let dir = real.parent()?;
    let in_place = path
        .parent()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .is_some_and(|p| p == dir);
    if in_place {
        // Not a link to elsewhere: the directory was checked by `scan`.
        return None;
    }
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) => return Some(format!("cannot check {}: {e}", dir.display())),
    };
    unsafe_reason(dir, &meta).map(|r| {
        format!(
            "it links to {}, whose directory {} is {r}",
            real.display(),
            dir.display()
        )
    })
}

/// The description cache file (`$XDG_CACHE_HOME/rex/plugin-descriptions.json`).
pub fn cache_path(env: &Environment) -> Option<PathBuf> {
    env.rex_cache_home()
        .map(|d| d.join("plugin-descriptions.json"))
}

fn plugin_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "so"))
        .collect();
    files.sort();
    files
}

/// Scan `dirs` and describe what is found (from the cache when possible).
pub fn scan(dirs: &[PathBuf], env: &Environment, warnings: &mut Vec<String>) -> Vec<PluginEntry> {
    let mut cache = DescriptionCache::open(cache_path(env));
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(meta) = std::fs::metadata(dir) else {
            continue;
        };
        if !meta.is_dir() {
            continue;
        }
        if let Some(reason) = unsafe_reason(dir, &meta) {
            warnings.push(format!(
                "ignoring plugin directory {}: {reason}",
                dir.display()
            ));
            continue;
        }
        for path in plugin_files(dir) {
            if let Some(e) = entry_for(&path, &mut cache, warnings) {
                out.push(e);
            }
        }
    }
    cache.prune();
    cache.save();
    out
}

fn entry_for(
    path: &Path,
    cache: &mut DescriptionCache,
    warnings: &mut Vec<String>,
) -> Option<PluginEntry> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let file_name = rex_plugin_api::abi::file_plugin_name(path);
    let mut entry = PluginEntry {
        name: file_name.clone(),
        version: String::new(),
        api_version: None,
        description: String::new(),
        source: Source::External(path.to_owned()),
        status: Status::Ok,
        commands: Vec::new(),
        sha256: None,
        shadowed: Vec::new(),
        instance: None,
    };
    if let Some(reason) = unsafe_reason(path, &meta) {
        warnings.push(format!(
            "ignoring plugin '{file_name}' ({}): {reason}",
            path.display()
        ));
        entry.status = Status::Refused(reason);
        return Some(entry);
    }
    if let Some(reason) = link_target_reason(path) {
        warnings.push(format!(
            "ignoring plugin '{file_name}' ({}): {reason}",
            path.display()
        ));
        entry.status = Status::Refused(reason);
        return Some(entry);
    }
    let described = match cache.get(path, &meta) {
        Some(d) => d,
        None => {
            let d = describe(path, &meta);
            cache.put(path, d.clone());
            d
        }
    };
    entry.sha256 = Some(described.sha256.clone());
    match (described.manifest, described.error) {
        (Some(m), _) => {
            entry.name = m.name;
            entry.version = m.version;
            entry.api_version = Some(m.api_version);
            entry.description = m.description;
            entry.commands = m.commands;
        }
        (None, error) => {
            let reason = error.unwrap_or_else(|| "cannot be loaded".into());
            warnings.push(format!(
                "plugin '{file_name}' ({}): {reason}",
                path.display()
            ));
            entry.status = Status::Incompatible(reason);
        }
    }
    Some(entry)
}
