//! A distribution-style stripped build: rex without the `config` built-in, and the
//! `config` plugin crate built as a cdylib (`--features cdylib`) and loaded as an external
//! plugin. The commands must behave exactly as when the plugin is compiled in.
//!
//! The stripped build goes to its own target directory (`<target>/stripped`, kept between
//! runs so later runs are incremental; a second cargo cannot share the outer `cargo test`'s
//! locked one), seeded the first time with hard links to the main target directory's
//! compiled dependencies so they are neither compiled again nor copied.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const STRIPPED: &str = "plugin-config";
const KEPT: &str =
    "external-plugins,plugin-registry,plugin-image,plugin-search,plugin-cache,plugin-tui";

fn seed(from: &Path, to: &Path) {
    if to.join(".fingerprint").exists() {
        return;
    }
    std::fs::create_dir_all(to).unwrap();
    // Compiled dependencies are hard-linked, not copied: a copy doubles a multi-GB target
    // directory (and has filled CI's disk). Sharing is safe because rustc and the linker
    // replace outputs (write elsewhere, then rename or unlink) rather than writing into
    // them, and units whose features differ get new file names. Fingerprints are small
    // and cargo rewrites them in place, so those are real copies.
    for (d, how) in [("deps", "-al"), ("build", "-al"), (".fingerprint", "-a")] {
        if !from.join(d).exists() {
            continue;
        }
        let linked = Command::new("cp")
            .arg(how)
            .arg(from.join(d))
            .arg(to)
            .status()
            .is_ok_and(|s| s.success());
        if !linked {
            // Another filesystem (or no hard links): build from scratch instead of
            // filling the disk with a copy.
            let _ = std::fs::remove_dir_all(to);
            std::fs::create_dir_all(to).unwrap();
            return;
        }
    }
}

fn cargo_build(target: &Path, args: &[&str]) {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(workspace_root())
        .arg("build")
        .args(args)
        .env("CARGO_TARGET_DIR", target);
    let release = profile_dir().file_name().is_some_and(|p| p == "release");
    if release {
        cmd.arg("--release");
    }
    let out = cmd.output().expect("run cargo");
    assert!(
        out.status.success(),
        "cargo build {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// (stripped rex, the config plugin as a shared library)
fn stripped_artifacts() -> (PathBuf, PathBuf) {
    let target = target_dir().join("stripped");
    let profile = profile_dir().file_name().unwrap().to_owned();
    seed(&profile_dir(), &target.join(&profile));
    cargo_build(
        &target,
        &["-p", "rex-cli", "--no-default-features", "--features", KEPT],
    );
    cargo_build(
        &target,
        &["-p", "rex-plugin-config", "--features", "cdylib"],
    );
    let dir = target.join(profile);
    (dir.join("rex"), dir.join("librex_plugin_config.so"))
}

fn normalise(s: &str, sb: &Sandbox) -> String {
    s.replace(sb.dir.path().to_str().unwrap(), "<sandbox>")
}

/// The same `rex config` session, run by `sb`'s binary; returns (code, stdout) per step.
fn config_session(sb: &Sandbox) -> Vec<(i32, String)> {
    let steps: &[&[&str]] = &[
        &["-f", "json", "config", "get", "network.timeout"],
        &["config", "set", "network.timeout", "61"],
        &["-f", "json", "config", "get", "network.timeout"],
        &["-f", "yaml", "config", "get", "network.timeout"],
        &["config", "set", "network.timeout", "not-a-number"],
        &["config", "get", "no.such.key"],
        &["-f", "json", "config"],
    ];
    steps
        .iter()
        .map(|args| {
            let r = sb.run(args);
            (r.code, normalise(&r.stdout, sb))
        })
        .collect()
}

#[test]
fn stripped_build_loads_the_left_out_builtin_as_an_external_plugin() {
    let (rex, config_so) = stripped_artifacts();

    // Without the plugin file, the stripped rex has no `config` command.
    let bare = Sandbox::with_binary(rex.clone());
    let help = bare.run(&["--help"]).ok();
    assert!(
        !help_commands(&help.stdout).contains(&"config".to_owned()),
        "{}",
        help.stdout
    );
    bare.run(&["config", "get", "network.timeout"]).code(2);
    let v = bare.run(&["-f", "json", "version", "-v"]).ok().json();
    assert!(
        !v["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == STRIPPED),
        "{v}"
    );

    // With it in the plugin directory, `config` is back, served by the external library.
    let sb = Sandbox::with_binary(rex);
    sb.add_plugin(&config_so, "librex_plugin_config.so");
    let help = sb.run(&["--help"]).ok();
    assert!(
        help_commands(&help.stdout).contains(&"config".to_owned()),
        "{}\n{}",
        help.stdout,
        help.stderr
    );
    let list = sb.run(&["-f", "json", "plugin", "list"]).ok().json();
    let config = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "config")
        .expect("config listed");
    assert_eq!(config["source"], "external");
    assert_eq!(config["status"], "ok");

    let external = config_session(&sb);
    assert_eq!(external[0].0, 0, "config get failed: {external:?}");
    assert_eq!(external[1].0, 0, "config set failed: {external:?}");
    assert!(external[2].1.contains("61"), "set then get: {external:?}");
    assert_ne!(external[4].0, 0, "bad value must fail: {external:?}");
    assert_ne!(external[5].0, 0, "unknown key must fail: {external:?}");

    // The same session against the full build (config compiled in), when it has it.
    let full = Sandbox::new();
    let has_builtin = full
        .run(&["-f", "json", "plugin", "list"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "config" && p["source"] == "built-in");
    if has_builtin {
        assert_eq!(
            config_session(&full),
            external,
            "built-in and external behave the same"
        );
    }
}
