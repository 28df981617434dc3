//! Built-in plugin for `rex image` (design 2.5):
//!
//! * `rex image` lists repositories with tag count and last update;
//! * `rex image NAME` lists the tags of a repository with digest, size, created, platforms;
//! * `rex image NAME:TAG` / `NAME@DIGEST` summarises one image;
//! * `rex image inspect REF` shows everything, or the raw manifest/config bytes.
//!
//! `NAME` versus `NAME:TAG`: a tag or digest in the parsed reference selects the image
//! view. A registry prefix (`localhost:5000/app:1`) selects that registry, as
//! `--registry` would. Thin over rex-core's `Rex` facade: fetching, concurrency and
//! digest de-duplication live there.

mod commands;
pub mod sort;

use rex_core::reference::Reference;
use rex_plugin_api::{
    ArgKind, ArgSpec, CommandSpec, Host, Invocation, Output, Plugin, PluginError, PluginManifest,
    ValueType, API_VERSION,
};

pub use commands::{inspect, list, show, tags};

/// The `image` plugin.
#[derive(Debug, Default)]
pub struct ImagePlugin;

fn option(id: &str, value_name: &str, help: &str) -> ArgSpec {
    ArgSpec {
        long: Some(id.into()),
        value_name: Some(value_name.into()),
        ..ArgSpec::new(id, help, ArgKind::Value)
    }
}

fn platform_arg() -> ArgSpec {
    option(
        "platform",
        "OS/ARCH[/VARIANT]",
        "Platform of a multi-platform image (e.g. linux/arm64)",
    )
}

/// The command tree, as data (also used by tests).
pub fn image_command() -> CommandSpec {
    CommandSpec {
        name: "image".into(),
        about: "List repositories and tags, show and inspect images".into(),
        long_about: Some(
            "Without NAME, list the repositories with tag count and last update.\n\
             With NAME, list its tags; with NAME:TAG or NAME@DIGEST, summarise that image.\n\
             NAME may start with a registry (localhost:5000/app:1).\n\n\
             Cost: the listing fetches one manifest and one config per tag (once per \
             distinct digest); --quiet fetches names only.\n\nExamples:\n  rex image\n  \
             rex image --filter alp\n  rex image alpine --sort date\n  rex image alpine -q\n  \
             rex image alpine:3.19 --platform linux/arm64\n  rex image alpine@sha256:…"
                .into(),
        ),
        runnable: true,
        args: vec![
            ArgSpec {
                value_name: Some("NAME[:TAG|@DIGEST]".into()),
                ..ArgSpec::new(
                    "reference",
                    "Repository (lists its tags) or image reference (shows the image)",
                    ArgKind::Value,
                )
            },
            option("filter", "PATTERN", "Keep names matching PATTERN (fuzzy, as rex search)"),
            ArgSpec {
                value_type: ValueType::Integer,
                ..option("limit", "N", "Show at most N results")
            },
            ArgSpec {
                possible_values: vec!["name".into(), "date".into(), "size".into()],
                ..option(
                    "sort",
                    "FIELD",
                    "Sort tags by name (version-aware), date (newest first) or size (largest first)",
                )
            },
            platform_arg(),
        ],
        subcommands: vec![CommandSpec {
            name: "inspect".into(),
            about: "Show everything about an image".into(),
            long_about: Some(
                "Manifest, platforms, configuration, layers, history, rootfs, annotations and \
                 referrers of an image. --raw-manifest / --raw-config print the registry's \
                 bytes unchanged.\n\nExamples:\n  rex image inspect alpine:latest\n  \
                 rex image inspect alpine:latest --platform linux/arm64\n  \
                 rex image inspect alpine:latest --raw-manifest\n  \
                 rex image inspect alpine:latest --format json"
                    .into(),
            ),
            runnable: true,
            args: vec![
                ArgSpec {
                    value_name: Some("NAME:TAG|NAME@DIGEST".into()),
                    required: true,
                    ..ArgSpec::new("reference", "Image reference", ArgKind::Value)
                },
                platform_arg(),
                ArgSpec {
                    long: Some("raw-manifest".into()),
                    conflicts_with: vec!["raw-config".into()],
                    ..ArgSpec::new(
                        "raw-manifest",
                        "Print the manifest exactly as the registry sent it",
                        ArgKind::Flag,
                    )
                },
                ArgSpec {
                    long: Some("raw-config".into()),
                    ..ArgSpec::new(
                        "raw-config",
                        "Print the config blob exactly as the registry sent it",
                        ArgKind::Flag,
                    )
                },
            ],
            ..CommandSpec::default()
        }],
        ..CommandSpec::default()
    }
}

impl Plugin for ImagePlugin {
    fn manifest(&self) -> PluginManifest {
        PluginManifest {
            name: "image".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: API_VERSION,
            description: "List repositories and tags, show and inspect images".into(),
            commands: vec![image_command()],
        }
    }

    fn invoke(&self, inv: Invocation, host: &dyn Host) -> Result<Output, PluginError> {
        let settings = commands::settings(&inv)?;
        match inv.command.get(1).map(String::as_str) {
            None => match inv
                .str("reference")
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                None => {
                    commands::reject_options(
                        &inv,
                        &["sort", "platform"],
                        "the repository listing (`rex image`)",
                        "--sort orders the tags of one repository (`rex image NAME --sort date`); \
                         --platform picks a platform of one image (`rex image NAME:TAG --platform OS/ARCH`)",
                    )?;
                    let args = list::ListArgs::parse(&inv, &settings)?;
                    list::run(&settings, &args, host).map(list::ListReport::into_output)
                }
                Some(text) => {
                    let reference = Reference::parse(text).map_err(commands::core_err)?;
                    if reference.has_version() {
                        commands::reject_options(
                            &inv,
                            &["sort", "filter", "limit"],
                            "one image (NAME:TAG or NAME@DIGEST)",
                            "they shape listings: `rex image NAME --sort date --limit 5` lists tags",
                        )?;
                        let args = show::ShowArgs::new(reference, &inv)?;
                        show::run(&settings, &args, host).map(show::ShowReport::into_output)
                    } else {
                        commands::reject_options(
                            &inv,
                            &["platform"],
                            "a tag listing (`rex image NAME`)",
                            "--platform picks a platform of one image: `rex image NAME:TAG --platform OS/ARCH`",
                        )?;
                        let args = tags::TagsArgs::new(reference, &inv, &settings)?;
                        tags::run(&settings, &args, host).map(tags::TagsReport::into_output)
                    }
                }
            },
            Some("inspect") => {
                let args = inspect::InspectArgs::parse(&inv)?;
                inspect::run(&settings, &args, host)
            }
            Some(_) => Err(PluginError::usage(format!(
                "unknown command 'rex {}'",
                inv.command_line()
            ))
            .with_hint("run `rex image --help`")),
        }
    }
}

rex_plugin_api::register_builtin!(|| Box::new(ImagePlugin));

#[cfg(feature = "cdylib")]
rex_plugin_api::export_plugin!(ImagePlugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_declares_image_and_inspect() {
        let m = ImagePlugin.manifest();
        let image = &m.commands[0];
        assert_eq!(image.name, "image");
        assert!(image.runnable);
        assert_eq!(image.subcommands[0].name, "inspect");
        let ids: Vec<_> = image.args.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["reference", "filter", "limit", "sort", "platform"]);
        // -q/-f are the host's (--quiet, --format); none may be declared here.
        assert!(image
            .args
            .iter()
            .chain(&image.subcommands[0].args)
            .all(|a| a.short.is_none()));
    }
}
