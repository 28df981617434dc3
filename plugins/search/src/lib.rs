//! Built-in plugin for `rex search` (design 2.6): rank repository names (`search image`)
//! or tags (`search tags`) against a fuzzy/exact/wildcard/regex query.
//!
//! The matching and ranking are rex-core's (`rex_core::search`, docs/search.md); this
//! crate fetches the candidates through the `Rex` facade with bounded concurrency, applies
//! `--tag` / `--image`, fetches details only for the results shown, and shapes the
//! result as [`Output`].

mod commands;

use rex_plugin_api::{
    ArgKind, ArgSpec, CommandSpec, Host, Invocation, Output, Plugin, PluginError, PluginManifest,
    ValueType, API_VERSION,
};

pub use commands::{image, tags};

/// The `search` plugin.
#[derive(Debug, Default)]
pub struct SearchPlugin;

fn query_arg(help: &str) -> ArgSpec {
    ArgSpec {
        value_name: Some("QUERY".into()),
        required: true,
        ..ArgSpec::new("query", help, ArgKind::Value)
    }
}

fn option(id: &str, value_name: &str, help: &str) -> ArgSpec {
    ArgSpec {
        long: Some(id.into()),
        value_name: Some(value_name.into()),
        ..ArgSpec::new(id, help, ArgKind::Value)
    }
}

fn common_args() -> Vec<ArgSpec> {
    vec![
        ArgSpec {
            default: Some(rex_core::search::DEFAULT_LIMIT.to_string()),
            value_type: ValueType::Integer,
            ..option("limit", "N", "Show at most N results")
        },
        ArgSpec {
            long: Some("exact".into()),
            ..ArgSpec::new(
                "exact",
                "Exact matching instead of fuzzy (same as quoting the query)",
                ArgKind::Flag,
            )
        },
    ]
}

const QUERY_SYNTAX: &str = "Query syntax: plain text is fuzzy (`alp` finds `alpine`), \
\"quoted\" or --exact is exact, `*`/`?` are wildcards, `^…`/`…$` is a regex. \
An uppercase letter makes the match case-sensitive.";

/// The command tree, as data (also used by tests).
pub fn search_command() -> CommandSpec {
    let mut image_args = vec![query_arg("Image name search query")];
    image_args.push(option(
        "tag",
        "TAG",
        "Only images that have exactly this tag",
    ));
    image_args.extend(common_args());
    let mut tags_args = vec![query_arg("Tag search query")];
    tags_args.push(option(
        "image",
        "NAME",
        "Search only the tags of this image (repository)",
    ));
    tags_args.extend(common_args());
    CommandSpec {
        name: "search".into(),
        about: "Search images and tags (fuzzy, exact, wildcard, regex)".into(),
        long_about: Some(format!(
            "Search repository names or tags, best match first. Only matches with at \
             least 50% accuracy are shown.\n\n{QUERY_SYNTAX}\n\nExamples:\n  \
             rex search image alpine\n  rex search tags 1.1 --image myapp"
        )),
        subcommands: vec![
            CommandSpec {
                name: "image".into(),
                about: "Search images (repositories) by name".into(),
                long_about: Some(format!(
                    "Rank the registry's repositories against QUERY, best first.\n\n\
                     {QUERY_SYNTAX}\n\nExamples:\n  rex search image alpine\n  \
                     rex search image alpine --tag 3.19\n  rex search image alpine --exact\n  \
                     rex search image app --limit 10\n  rex search image nginx --format json"
                )),
                aliases: vec!["images".into()],
                args: image_args,
                runnable: true,
                ..CommandSpec::default()
            },
            CommandSpec {
                name: "tags".into(),
                about: "Search tags across images, or within one".into(),
                long_about: Some(format!(
                    "Rank tags against QUERY, best first: across every repository, or only \
                     those of --image.\n\n{QUERY_SYNTAX}\n\nExamples:\n  \
                     rex search tags 1.1\n  rex search tags v1 --image myapp\n  \
                     rex search tags latest --exact\n  rex search tags alpine --format json"
                )),
                aliases: vec!["tag".into()],
                args: tags_args,
                runnable: true,
                ..CommandSpec::default()
            },
        ],
        ..CommandSpec::default()
    }
}

impl Plugin for SearchPlugin {
    fn manifest(&self) -> PluginManifest {
        PluginManifest {
            name: "search".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: API_VERSION,
            description: "Search images and tags".into(),
            commands: vec![search_command()],
        }
    }

    fn invoke(&self, inv: Invocation, host: &dyn Host) -> Result<Output, PluginError> {
        let settings = commands::settings(&inv)?;
        match inv.command.get(1).map(String::as_str) {
            Some("image" | "images") => {
                let args = image::ImageArgs::parse(&inv)?;
                image::run(&settings, &args, &inv.context, host)
                    .map(image::ImageSearchReport::into_output)
            }
            Some("tags" | "tag") => {
                let args = tags::TagsArgs::parse(&inv)?;
                tags::run(&settings, &args, &inv.context, host)
                    .map(tags::TagsSearchReport::into_output)
            }
            _ => Err(
                PluginError::usage(format!("unknown command 'rex {}'", inv.command_line()))
                    .with_hint("run `rex search --help`"),
            ),
        }
    }
}

rex_plugin_api::register_builtin!(|| Box::new(SearchPlugin));

#[cfg(feature = "cdylib")]
rex_plugin_api::export_plugin!(SearchPlugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_declares_design_commands() {
        let m = SearchPlugin.manifest();
        let search = &m.commands[0];
        assert_eq!(search.name, "search");
        assert!(!search.runnable);
        let names: Vec<_> = search.subcommands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["image", "tags"]);
        let ids = |i: usize| -> Vec<&str> {
            search.subcommands[i]
                .args
                .iter()
                .map(|a| a.id.as_str())
                .collect()
        };
        assert_eq!(ids(0), ["query", "tag", "limit", "exact"]);
        assert_eq!(ids(1), ["query", "image", "limit", "exact"]);
        // `-q` and `-f` are the host's global --quiet/--format.
        assert!(search
            .subcommands
            .iter()
            .flat_map(|c| &c.args)
            .all(|a| a.short.is_none()));
        let limit = search.subcommands[0]
            .args
            .iter()
            .find(|a| a.id == "limit")
            .unwrap();
        assert_eq!(limit.default.as_deref(), Some("50"));
    }
}
