//! End-to-end tests of `rex config` through the real binary, in an isolated HOME.

use rex_tests::cli::{rex_command, RexHome, Run};
use std::path::PathBuf;
use std::process::Command;

fn rex(home: &RexHome) -> Command {
    let mut c = rex_command(env!("CARGO_BIN_EXE_rex"), home);
    c.env("REX_NO_KEYRING", "1");
    c
}

fn run(mut cmd: Command, args: &[&str]) -> Run {
    Run::of(cmd.args(args))
}

fn config_file(home: &RexHome) -> PathBuf {
    home.rex_config_dir().join("config.toml")
}

fn write_config(home: &RexHome, text: &str) {
    std::fs::create_dir_all(home.rex_config_dir()).unwrap();
    std::fs::write(config_file(home), text).unwrap();
}

#[test]
fn show_marks_defaults_and_file_values_in_pretty_and_json() {
    let home = RexHome::new();
    write_config(
        &home,
        "[network]\ntimeout = 45\n\n[tui]\ntheme = \"light\"\n",
    );
    let out = run(rex(&home), &["-f", "pretty", "--color", "never", "config"]).ok();
    let text = out.stdout;
    for expected in [
        "Output:",
        "  format = pretty (flag)",
        "  quiet = false (default)",
        "Network:",
        "  timeout = 45\n",
        "  retry_attempts = 3 (default)",
        "Cache:",
        "  ttl.catalog = 300 (default)",
        "TUI:",
        "  theme = light\n",
        "  vim_bindings = true (default)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let v = run(rex(&home), &["-f", "json", "config"]).ok().json();
    assert_eq!(v["values"]["network"]["timeout"], 45);
    assert_eq!(v["values"]["cache"]["ttl"]["manifest"], 86400);
    assert_eq!(v["values"]["tui"]["theme"], "light");
    let defaults: Vec<&str> = v["defaults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(defaults.contains(&"network.retry_attempts"));
    assert!(!defaults.contains(&"network.timeout"));
    assert!(!defaults.contains(&"tui.theme"));
}

#[test]
fn get_follows_precedence_flag_env_file_default() {
    let home = RexHome::new();
    let get = |extra: &[&str], env: Option<(&str, &str)>| {
        let mut c = rex(&home);
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        let mut args = extra.to_vec();
        args.extend(["config", "get", "network.timeout"]);
        run(c, &args).ok().stdout
    };
    assert_eq!(get(&["-f", "pretty"], None), "30\n");
    write_config(&home, "[network]\ntimeout = 10\n");
    assert_eq!(get(&["-f", "pretty"], None), "10\n");
    assert_eq!(get(&["-f", "pretty"], Some(("REX_TIMEOUT", "20"))), "20\n");
    assert_eq!(
        get(
            &["-f", "pretty", "--timeout", "40"],
            Some(("REX_TIMEOUT", "20"))
        ),
        "40\n"
    );
    // The bare value in every format, so scripts can use it when piped.
    assert_eq!(get(&["-f", "json"], None).trim(), "10");
    assert_eq!(get(&["-f", "yaml"], None).trim(), "10");
}

#[test]
fn get_unknown_key_exits_2_and_lists_valid_keys() {
    let home = RexHome::new();
    let out = run(rex(&home), &["config", "get", "network.timeot"]).code(2);
    assert!(out.stderr.contains("network.timeot"), "{}", out.stderr);
    assert!(out.stderr.contains("network.timeout"), "{}", out.stderr);
    assert!(out.stderr.contains("cache.ttl.catalog"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn set_writes_the_file_and_later_commands_see_it() {
    let home = RexHome::new();
    let out = run(
        rex(&home),
        &[
            "-f",
            "pretty",
            "--color",
            "never",
            "config",
            "set",
            "cache.ttl.catalog",
            "600",
        ],
    )
    .ok();
    assert_eq!(out.stdout.trim(), "✓ Set cache.ttl.catalog = 600");
    let text = std::fs::read_to_string(config_file(&home)).unwrap();
    assert!(text.contains("catalog = 600"), "{text}");
    let out = run(
        rex(&home),
        &["-f", "pretty", "config", "get", "cache.ttl.catalog"],
    )
    .ok();
    assert_eq!(out.stdout, "600\n");

    // A setting that changes rex itself: the default output format.
    run(rex(&home), &["config", "set", "output.format", "json"]).ok();
    let v = run(rex(&home), &["config", "get", "tui.theme"]).ok();
    assert_eq!(v.stdout.trim(), "\"dark\"");
    let v = run(rex(&home), &["config"]).ok().json();
    assert_eq!(v["values"]["output"]["format"], "json");
    assert_eq!(v["values"]["cache"]["ttl"]["catalog"], 600);
}

#[test]
fn set_rejects_bad_values_naming_the_key_and_keeps_the_file() {
    let home = RexHome::new();
    write_config(&home, "# keep me\n[network]\ntimeout = 10\n");
    for (key, value) in [
        ("network.timeout", "soon"),
        ("output.color", "purple"),
        ("cache.behavior.consistency", "sometimes"),
        ("tui.vim_bindings", "maybe"),
    ] {
        let out = run(rex(&home), &["config", "set", key, value]).code(2);
        assert!(out.stderr.contains(key), "{key}: {}", out.stderr);
    }
    run(rex(&home), &["config", "set", "no.such.key", "1"]).code(2);
    assert_eq!(
        std::fs::read_to_string(config_file(&home)).unwrap(),
        "# keep me\n[network]\ntimeout = 10\n"
    );
}

#[test]
fn broken_config_file_exits_6() {
    let home = RexHome::new();
    write_config(&home, "[network\ntimeout = ");
    let out = run(rex(&home), &["config", "get", "network.timeout"]).code(6);
    assert!(out.stderr.contains("config.toml"), "{}", out.stderr);
}

/// A fake editor: a shell script that appends `lines` to the file it is given.
fn editor_script(home: &RexHome, lines: &[&str]) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = home.root().join("fake-editor.sh");
    let quoted: Vec<String> = lines.iter().map(|l| format!("'{l}'")).collect();
    std::fs::write(
        &path,
        format!("#!/bin/sh\nprintf '%s\\n' {} >> \"$1\"\n", quoted.join(" ")),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn edit_runs_editor_creates_file_and_validates() {
    let home = RexHome::new();
    let editor = editor_script(&home, &["[network]", "timeout = 77"]);
    assert!(!config_file(&home).exists());
    let out = run(
        {
            let mut c = rex(&home);
            c.env("EDITOR", &editor);
            c
        },
        &["-f", "json", "config", "edit"],
    )
    .ok();
    let v = out.json();
    assert_eq!(v["created"], true);
    assert_eq!(v["valid"], true);
    let out = run(
        rex(&home),
        &["-f", "pretty", "config", "get", "network.timeout"],
    )
    .ok();
    assert_eq!(out.stdout, "77\n");
}

#[test]
fn edit_that_breaks_the_file_exits_6_and_keeps_it() {
    let home = RexHome::new();
    write_config(&home, "[network]\ntimeout = 10\n");
    let editor = editor_script(&home, &["[network"]);
    let mut c = rex(&home);
    c.env("EDITOR", &editor);
    let out = run(c, &["config", "edit"]).code(6);
    assert!(out.stderr.contains("config.toml"), "{}", out.stderr);
    let text = std::fs::read_to_string(config_file(&home)).unwrap();
    assert!(text.ends_with("[network\n"), "{text}");
}

/// A fake editor that replaces the file it is given with `text`.
fn fixing_editor(home: &RexHome, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = home.root().join("fixing-editor.sh");
    std::fs::write(&path, format!("#!/bin/sh\nprintf '{text}' > \"$1\"\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn broken_config_file_does_not_block_host_commands_or_its_own_fix() {
    for broken in ["[network\ntimeout = ", "[network]\ntimeout = \"soon\"\n"] {
        let home = RexHome::new();
        write_config(&home, broken);
        for args in [
            &["version"][..],
            &["-f", "json", "plugin", "list"],
            &["completions", "bash"],
        ] {
            let out = run(rex(&home), args).ok();
            assert!(!out.stdout.is_empty(), "{args:?}");
            assert!(
                out.stderr.contains("warning:") && out.stderr.contains("config.toml"),
                "{args:?} must warn about the file: {}",
                out.stderr
            );
        }
        let help = run(rex(&home), &["--help"]).ok();
        assert!(help.stdout.contains("config"), "{}", help.stdout);

        // `rex config` shows what applies without the file, and says why.
        let out = run(rex(&home), &["-f", "json", "config"]).ok();
        let v = out.json();
        let err = v["file_error"].as_str().expect("file_error reported");
        assert!(err.contains("config.toml"), "{err}");
        assert_eq!(v["values"]["network"]["timeout"], 30);
        assert!(v["defaults"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "network.timeout"));
        let pretty = run(rex(&home), &["-f", "pretty", "--color", "never", "config"]).ok();
        assert!(
            pretty.stdout.starts_with("error: ") && pretty.stdout.contains("rex config edit"),
            "{}",
            pretty.stdout
        );

        // Ordinary commands still refuse to run on a broken file.
        let out = run(rex(&home), &["config", "get", "network.timeout"]).code(6);
        assert!(out.stderr.contains("config.toml"), "{}", out.stderr);
        run(rex(&home), &["image", "localhost:1/x:y"]).code(6);

        // `rex config edit` opens the broken file and the fix takes effect.
        let editor = fixing_editor(&home, "[network]\\ntimeout = 12\\n");
        let mut c = rex(&home);
        c.env("EDITOR", &editor);
        let out = run(c, &["-f", "json", "config", "edit"]).ok();
        assert_eq!(out.json()["valid"], true);
        let out = run(
            rex(&home),
            &["-f", "pretty", "config", "get", "network.timeout"],
        )
        .ok();
        assert_eq!(out.stdout, "12\n");
        assert!(out.stderr.is_empty(), "{}", out.stderr);
    }
}

#[test]
fn bad_value_in_the_file_names_the_key_and_the_file() {
    let home = RexHome::new();
    write_config(&home, "[network]\ntimeout = \"soon\"\n");
    let out = run(rex(&home), &["config", "get", "output.format"]).code(6);
    assert!(
        out.stderr.contains("network.timeout") && out.stderr.contains("config.toml"),
        "{}",
        out.stderr
    );
}
