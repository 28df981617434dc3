//! `rex completions bash|zsh|fish`: scripts for the full tree, external plugins included
//! (from the description cache, without loading them).

use super::{positional, HostContext};
use rex_plugin_api::{CommandSpec, Invocation, Output, PluginError};

pub fn spec() -> CommandSpec {
    CommandSpec {
        name: "completions".into(),
        about: "Print a shell completion script (bash, zsh, fish)".into(),
        long_about: Some(
            "Print a completion script for the shell; it covers built-in and external plugin commands.\n\n\
             Examples:\n  rex completions bash > ~/.local/share/bash-completion/completions/rex\n  \
             rex completions zsh > \"${fpath[1]}/_rex\"\n  rex completions fish > ~/.config/fish/completions/rex.fish"
                .into(),
        ),
        runnable: true,
        args: vec![rex_plugin_api::ArgSpec {
            possible_values: vec!["bash".into(), "zsh".into(), "fish".into(), "elvish".into(), "powershell".into()],
            value_name: Some("SHELL".into()),
            ..positional("shell", "The shell to generate for")
        }],
        ..CommandSpec::default()
    }
}

pub fn run(inv: &Invocation, ctx: HostContext<'_>) -> Result<Output, PluginError> {
    use clap_complete::Shell;
    let shell = match inv.str("shell").unwrap_or_default() {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        "elvish" => Shell::Elvish,
        "powershell" => Shell::PowerShell,
        other => return Err(PluginError::usage(format!("unsupported shell '{other}'"))),
    };
    let mut tree = ctx.tree;
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut tree, "rex", &mut buf);
    Ok(Output::Raw {
        text: String::from_utf8_lossy(&buf).into_owned(),
    })
}
