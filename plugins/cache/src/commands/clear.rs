//! `rex registry cache clear [NAME] [--all] [--type T] [--force]`.

use super::{by_type_fields, core_err, entries, open, scope, size};
use rex_core::cache::{CacheKind, ClearReport};
use rex_core::config::Settings;
use rex_plugin_api::{Block, Host, Invocation, InvocationContext, Output, PluginError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClearArgs {
    pub name: Option<String>,
    pub all: bool,
    pub kind: Option<CacheKind>,
    pub force: bool,
}

impl ClearArgs {
    pub fn parse(inv: &Invocation) -> Result<Self, PluginError> {
        let kind = match inv.str("type") {
            None => None,
            Some("catalog") => Some(CacheKind::Catalog),
            Some("tags") => Some(CacheKind::Tags),
            Some("manifest") => Some(CacheKind::Manifest),
            Some("config") => Some(CacheKind::Config),
            Some(other) => {
                return Err(PluginError::usage(format!("unknown cache type '{other}'"))
                    .with_hint("use one of: catalog, tags, manifest, config"))
            }
        };
        Ok(ClearArgs {
            name: inv.str("name").map(str::to_owned),
            all: inv.flag("all"),
            kind,
            force: inv.flag("force"),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClearOutcome {
    /// `null` with `--all`.
    pub registry: Option<String>,
    pub url: Option<String>,
    /// `catalog|tags|manifest|config`, `null` for every kind.
    #[serde(rename = "type")]
    pub kind: Option<&'static str>,
    /// `false` when the user answered no.
    pub cleared: bool,
    #[serde(flatten)]
    pub report: ClearReport,
}

pub fn run(
    settings: &Settings,
    args: &ClearArgs,
    context: &InvocationContext,
    host: &dyn Host,
) -> Result<ClearOutcome, PluginError> {
    let scope = if args.all {
        None
    } else {
        Some(scope(settings, args.name.as_deref())?)
    };
    let what = match (&scope, args.kind) {
        (Some(s), None) => format!("Clear cache for '{}' ({})?", s.name, s.url),
        (Some(s), Some(k)) => format!("Clear {} cache for '{}' ({})?", k.as_str(), s.name, s.url),
        (None, None) => "Clear the cache of every registry?".to_owned(),
        (None, Some(k)) => format!("Clear the {} cache of every registry?", k.as_str()),
    };
    let mut outcome = ClearOutcome {
        registry: scope.as_ref().map(|s| s.name.clone()),
        url: scope.as_ref().map(|s| s.url.clone()),
        kind: args.kind.map(CacheKind::as_str),
        cleared: false,
        report: ClearReport::default(),
    };
    if !args.force {
        if !context.stdin_is_tty {
            return Err(PluginError::usage(
                "not clearing the cache without confirmation: there is no terminal to ask on",
            )
            .with_hint("pass --force: `rex registry cache clear --force`"));
        }
        if !host.confirm(&what)? {
            return Ok(outcome);
        }
    }
    let cache = open(settings)?;
    outcome.report = cache
        .clear(scope.as_ref().map(|s| s.key.as_str()), args.kind)
        .map_err(core_err)?;
    outcome.cleared = true;
    Ok(outcome)
}

impl ClearOutcome {
    fn blocks(&self) -> Vec<Block> {
        if !self.cleared {
            return vec![Block::Text {
                text: "Nothing cleared".into(),
            }];
        }
        let r = &self.report;
        vec![
            Block::Success {
                message: format!(
                    "Cleared {} {} ({})",
                    r.entries,
                    entries(r.entries),
                    size(r.bytes)
                ),
            },
            Block::Fields {
                title: Some("By Type".into()),
                fields: by_type_fields(&r.by_type),
            },
            Block::Success {
                message: "Cache cleared successfully".into(),
            },
        ]
    }

    pub fn into_output(self) -> Output {
        let pretty = self.blocks();
        Output::from_serialize(&self, pretty)
    }
}
