//! `CommandSpec` → `clap::Command` (names built at run time: clap's `string` feature).
//!
//! Plugin arguments may not reuse the host's global options: a clashing long name drops
//! the argument (the value is in `Settings` anyway), a clashing short is removed.

use crate::cli::{RESERVED_LONGS, RESERVED_SHORTS};
use clap::{Arg, ArgAction, Command};
use rex_plugin_api::{ArgKind, ArgSpec, CommandSpec, ValueType};

pub fn build_command(spec: &CommandSpec, aliases: &[String]) -> Command {
    let mut cmd = Command::new(spec.name.clone())
        .about(spec.about.clone())
        .hide(spec.hidden)
        .visible_aliases(aliases.to_vec());
    if let Some(long) = &spec.long_about {
        cmd = cmd.long_about(long.clone());
    }
    for a in &spec.args {
        if let Some(arg) = build_arg(a, &spec.name) {
            cmd = cmd.arg(arg);
        }
    }
    let mut subs: Vec<&CommandSpec> = spec.subcommands.iter().collect();
    subs.sort_by(|a, b| a.name.cmp(&b.name));
    for s in subs {
        cmd = cmd.subcommand(build_command(s, &s.aliases));
    }
    if !spec.subcommands.is_empty() && !spec.runnable {
        cmd = cmd.subcommand_required(true).arg_required_else_help(true);
    }
    cmd
}

fn integer(s: &str) -> Result<String, String> {
    s.parse::<i64>()
        .map(|_| s.to_owned())
        .map_err(|_| format!("'{s}' is not a whole number"))
}

fn build_arg(a: &ArgSpec, command: &str) -> Option<Arg> {
    if a.id.is_empty() || RESERVED_LONGS.contains(&a.id.as_str()) {
        tracing::debug!(command, arg = %a.id, "argument id is empty or a global option's; dropped");
        return None;
    }
    let mut long = a.long.clone();
    if let Some(l) = &long {
        if RESERVED_LONGS.contains(&l.as_str()) {
            tracing::debug!(command, arg = %a.id, long = %l, "argument clashes with a global option; dropped");
            return None;
        }
    }
    let short = a.short.filter(|s| !RESERVED_SHORTS.contains(s));
    if a.short.is_some() && short.is_none() {
        tracing::debug!(command, arg = %a.id, "short option clashes with a global option; removed");
    }
    let positional = long.is_none() && a.short.is_none();
    // A flag needs a name to be given by.
    if positional && matches!(a.kind, ArgKind::Flag | ArgKind::Count) {
        long = Some(a.id.clone());
    }
    let mut arg = Arg::new(a.id.clone()).help(a.help.clone());
    if let Some(l) = long {
        arg = arg.long(l);
    }
    if let Some(s) = short {
        arg = arg.short(s);
    }
    arg = match a.kind {
        ArgKind::Flag => arg.action(ArgAction::SetTrue),
        ArgKind::Count => arg.action(ArgAction::Count),
        ArgKind::Value => arg.action(ArgAction::Set).required(a.required),
        ArgKind::List => {
            let a2 = arg.action(ArgAction::Append).required(a.required);
            if positional {
                a2.num_args(1..)
            } else {
                a2
            }
        }
    };
    if matches!(a.kind, ArgKind::Value | ArgKind::List) {
        if let Some(v) = &a.value_name {
            arg = arg.value_name(v.clone());
        }
        if let Some(d) = &a.default {
            arg = arg.default_value(d.clone());
        }
        if !a.possible_values.is_empty() {
            arg = arg.value_parser(clap::builder::PossibleValuesParser::new(
                a.possible_values.clone(),
            ));
        } else {
            arg = match a.value_type {
                ValueType::Integer => arg.value_parser(integer),
                ValueType::Path => arg.value_hint(clap::ValueHint::AnyPath),
                ValueType::String => arg,
            };
        }
    }
    if !a.conflicts_with.is_empty() {
        arg = arg.conflicts_with_all(a.conflicts_with.clone());
    }
    Some(arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> CommandSpec {
        CommandSpec {
            name: "tool".into(),
            about: "a tool".into(),
            subcommands: vec![CommandSpec {
                name: "run".into(),
                runnable: true,
                args: vec![
                    ArgSpec {
                        id: "name".into(),
                        kind: ArgKind::Value,
                        required: true,
                        ..ArgSpec::default()
                    },
                    ArgSpec {
                        id: "force".into(),
                        long: Some("force".into()),
                        short: Some('f'),
                        kind: ArgKind::Flag,
                        ..ArgSpec::default()
                    },
                    ArgSpec {
                        id: "format".into(),
                        long: Some("format".into()),
                        kind: ArgKind::Value,
                        ..ArgSpec::default()
                    },
                    ArgSpec {
                        id: "n".into(),
                        long: Some("n".into()),
                        kind: ArgKind::Value,
                        value_type: ValueType::Integer,
                        ..ArgSpec::default()
                    },
                ],
                ..CommandSpec::default()
            }],
            ..CommandSpec::default()
        }
    }

    #[test]
    fn specs_become_valid_commands_without_clashing_with_globals() {
        let root = crate::cli::root_command().subcommand(build_command(&spec(), &[]));
        root.clone().debug_assert();
        let m = root
            .clone()
            .try_get_matches_from([
                "rex", "tool", "run", "x", "--force", "-f", "json", "--n", "3",
            ])
            .unwrap();
        let (_, t) = m.subcommand().unwrap();
        let (_, r) = t.subcommand().unwrap();
        assert_eq!(r.get_one::<String>("name").unwrap(), "x");
        assert!(r.get_flag("force"));
        assert_eq!(
            r.get_one::<String>("format").unwrap(),
            "json",
            "-f is the global --format"
        );
        assert!(root
            .try_get_matches_from(["rex", "tool", "run", "x", "--n", "three"])
            .is_err());
    }
}
