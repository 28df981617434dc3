//! `rex version` (seed 2.7): `rex 0.1.0`; with `-v`/`--verbose` the build details.

use super::HostContext;
use rex_plugin_api::{Block, CommandSpec, Output, API_VERSION};
use serde_json::json;

pub fn spec() -> CommandSpec {
    CommandSpec {
        name: "version".into(),
        about: "Show version and build information (-v for details)".into(),
        long_about: Some(
            "Show the rex version. With --verbose (-v): commit, branch, build date, rustc, target, \
             features, profile, plugin API version and plugin directories. Honours --format.\n\n\
             Examples:\n  rex version\n  rex version --verbose\n  rex version -f json"
                .into(),
        ),
        runnable: true,
        ..CommandSpec::default()
    }
}

pub fn run(ctx: &HostContext<'_>) -> Output {
    let version = env!("CARGO_PKG_VERSION");
    if ctx.settings.runtime.verbose == 0 {
        // Design 2.7: commit, branch, target, features and profile only with --verbose.
        return Output::structured(
            json!({
                "version": version,
                "commit_short": env!("REX_BUILD_COMMIT_SHORT"),
                "built": env!("REX_BUILD_DATE"),
                "rustc": env!("REX_BUILD_RUSTC"),
            }),
            vec![Block::Lines {
                lines: vec![format!("rex {version}")],
            }],
        );
    }
    let features: Vec<&str> = env!("REX_BUILD_FEATURES")
        .split(',')
        .filter(|f| !f.is_empty())
        .collect();
    let dirs: Vec<String> = crate::plugins::plugin_dirs(ctx.env)
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    let builtins: Vec<String> = ctx
        .plugins
        .entries
        .iter()
        .filter(|e| e.source == crate::plugins::Source::Builtin)
        .map(|e| e.name.clone())
        .collect();
    let value = json!({
        "version": version,
        "commit": env!("REX_BUILD_COMMIT"),
        "commit_short": env!("REX_BUILD_COMMIT_SHORT"),
        "branch": env!("REX_BUILD_BRANCH"),
        "built": env!("REX_BUILD_DATE"),
        "rustc": env!("REX_BUILD_RUSTC"),
        "target": env!("REX_BUILD_TARGET"),
        "features": features,
        "profile": env!("REX_BUILD_PROFILE"),
        "plugin_api": API_VERSION.to_string(),
        "builtin_plugins": builtins,
        "plugin_dirs": dirs,
    });
    let built = env!("REX_BUILD_DATE")
        .replace('T', " ")
        .replace('Z', " UTC");
    let lines = vec![
        format!("rex {version}"),
        format!("commit: {}", env!("REX_BUILD_COMMIT_SHORT")),
        format!("branch: {}", env!("REX_BUILD_BRANCH")),
        format!("built: {built}"),
        format!("rustc: {}", env!("REX_BUILD_RUSTC")),
        format!("target: {}", env!("REX_BUILD_TARGET")),
        format!("profile: {}", env!("REX_BUILD_PROFILE")),
        format!("features: {}", features.join(", ")),
        format!("plugin api: {API_VERSION}"),
        format!(
            "built-in plugins: {}",
            if builtins.is_empty() {
                "none".into()
            } else {
                builtins.join(", ")
            }
        ),
        format!("plugin dirs: {}", dirs.join(":")),
    ];
    Output::structured(value, vec![Block::Lines { lines }])
}
