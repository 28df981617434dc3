//! Host-owned commands through the real `rex` binary: plugin install/list/info/remove,
//! version, completions, usage errors, settings errors.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn plugin_install_list_info_remove_round_trip() {
    let sb = Sandbox::new();
    // Start from an empty plugin path: only the user directory counts.
    let r = sb
        .run(&[
            "-f",
            "json",
            "plugin",
            "install",
            hello_vendor_so().to_str().unwrap(),
        ])
        .ok();
    let installed = r.json();
    assert_eq!(installed["name"], "acme");
    assert_eq!(installed["api_version"], "1.0");
    let dest = sb.installed_dir().join("librex_plugin_hello_vendor.so");
    assert_eq!(installed["path"], dest.to_str().unwrap());
    let mode = std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "installed file mode");
    let dmode = std::fs::metadata(sb.installed_dir())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dmode, 0o755, "plugin directory mode");
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        std::fs::read(hello_vendor_so()).unwrap(),
        "byte-identical copy"
    );
    // No temp files left behind.
    assert_eq!(std::fs::read_dir(sb.installed_dir()).unwrap().count(), 1);

    // Pretty output is a ✓ line.
    let pretty = sb
        .run(&[
            "-f",
            "pretty",
            "plugin",
            "install",
            hello_vendor_so().to_str().unwrap(),
        ])
        .ok();
    assert!(
        pretty.stdout.starts_with("✓ Installed plugin 'acme'"),
        "{}",
        pretty.stdout
    );

    let list = sb.run(&["-f", "json", "plugin", "list"]).ok().json();
    let acme = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "acme")
        .expect("listed");
    assert_eq!(acme["status"], "ok");
    assert_eq!(acme["source"], "external");
    assert_eq!(acme["api_version"], "1.0");
    assert_eq!(acme["path"], dest.to_str().unwrap());
    let table = sb
        .run(&["-f", "pretty", "--color", "never", "plugin", "list"])
        .ok();
    assert!(table.stdout.starts_with("NAME"), "{}", table.stdout);
    assert!(
        table.stdout.contains("acme") && table.stdout.contains("ok"),
        "{}",
        table.stdout
    );

    let info = sb
        .run(&["-f", "json", "plugin", "info", "acme"])
        .ok()
        .json();
    let cmds: Vec<&str> = info["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert!(
        cmds.contains(&"rex acme ping") && cmds.contains(&"rex acme repos"),
        "{cmds:?}"
    );
    assert!(
        !cmds.iter().any(|c| c.contains("panic")),
        "hidden commands are not advertised"
    );
    assert_eq!(info["sha256"].as_str().unwrap().len(), 64);

    // Installed plugins run without REX_PLUGIN_PATH.
    let run = Run::from(
        sb.cmd()
            .env_remove("REX_PLUGIN_PATH")
            .args(["-f", "json", "acme", "echo", "x"])
            .output()
            .unwrap(),
    )
    .ok();
    assert_eq!(run.json()["words"], serde_json::json!(["x"]));

    let removed = sb
        .run(&["-f", "json", "plugin", "remove", "acme"])
        .ok()
        .json();
    assert_eq!(removed["removed"], true);
    assert!(!dest.exists());
    sb.run(&["acme", "echo", "x"]).code(2);
    sb.run(&["plugin", "remove", "acme"]).code(5);
    sb.run(&["plugin", "info", "acme"]).code(5);
}

#[test]
fn install_refuses_incompatible_and_non_plugin_files() {
    let sb = Sandbox::new();
    let r = sb
        .run(&[
            "--color",
            "never",
            "plugin",
            "install",
            bad_api_so().to_str().unwrap(),
        ])
        .code(1);
    assert!(
        r.stderr.contains("API 2.0") && r.stderr.contains("1.0"),
        "{}",
        r.stderr
    );
    assert!(
        !sb.installed_dir().exists() || std::fs::read_dir(sb.installed_dir()).unwrap().count() == 0
    );

    let junk = sb.path("libjunk.so");
    std::fs::write(&junk, b"junk").unwrap();
    let r = sb
        .run(&["plugin", "install", junk.to_str().unwrap()])
        .code(1);
    assert!(r.stderr.contains("not a shared library"), "{}", r.stderr);

    let txt = sb.path("notes.txt");
    std::fs::write(&txt, b"hello").unwrap();
    sb.run(&["plugin", "install", txt.to_str().unwrap()])
        .code(2);
    sb.run(&["plugin", "install", "/nonexistent/libx.so"])
        .code(5);
}

#[test]
fn plugins_outside_the_user_directory_are_not_removed() {
    let sb = Sandbox::new();
    let so = sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let r = sb.run(&["plugin", "remove", "acme"]).code(1);
    assert!(
        r.stderr.contains("not in rex's plugin directory"),
        "{}",
        r.stderr
    );
    assert!(so.exists());
}

#[test]
fn version_in_text_json_and_yaml() {
    let sb = Sandbox::new();
    let v = env!("CARGO_PKG_VERSION");
    let piped = sb.run(&["version"]).ok().stdout;
    assert!(
        piped.starts_with(&format!("version: {v}\n")),
        "yaml when piped: {piped}"
    );
    assert_eq!(
        sb.run(&["-f", "pretty", "version"]).ok().stdout,
        format!("rex {v}\n")
    );
    assert_eq!(sb.run(&["--version"]).ok().stdout, format!("rex {v}\n"));
    assert_eq!(sb.run(&["-V"]).ok().stdout, format!("rex {v}\n"));
    // Design 2.7: without --verbose, the version with commit_short, built and rustc only.
    let j = sb.run(&["version", "-f", "json"]).ok().json();
    let mut keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["built", "commit_short", "rustc", "version"], "{j}");
    assert_eq!(j["version"], v);
    assert!(j["built"].as_str().unwrap().ends_with('Z'), "{j}");
    assert!(!j["rustc"].as_str().unwrap().is_empty(), "{j}");

    let verbose = sb.run(&["version", "--verbose", "-f", "json"]).ok().json();
    for key in [
        "commit",
        "commit_short",
        "branch",
        "built",
        "rustc",
        "target",
        "features",
        "profile",
        "plugin_api",
        "plugin_dirs",
    ] {
        assert!(!verbose[key].is_null(), "{key} missing: {verbose}");
    }
    assert_eq!(verbose["commit_short"], j["commit_short"]);
    assert_eq!(verbose["plugin_api"], "1.0");
    assert!(verbose["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "external-plugins"));
    assert!(verbose["built"].as_str().unwrap().ends_with('Z'));
    let dirs: Vec<&str> = verbose["plugin_dirs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(dirs[0], sb.plugin_dir().to_str().unwrap());
    assert!(dirs.contains(&sb.installed_dir().to_str().unwrap()));

    let yaml: serde_json::Value =
        serde_yaml::from_str(&sb.run(&["version", "-v", "-f", "yaml"]).ok().stdout).unwrap();
    assert_eq!(yaml["version"], v);
    assert_eq!(yaml["profile"], verbose["profile"]);

    let pretty = sb.run(&["-f", "pretty", "version", "-v"]).ok().stdout;
    assert!(
        pretty.starts_with(&format!("rex {v}\ncommit: ")),
        "{pretty}"
    );
    assert!(
        pretty.contains("rustc: ") && pretty.contains("plugin api: 1.0"),
        "{pretty}"
    );
}

#[test]
fn completions_include_external_plugin_commands() {
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let bash = sb.run(&["completions", "bash"]).ok().stdout;
    assert!(bash.contains("acme"), "plugin command missing");
    assert!(
        bash.contains("ping") && bash.contains("repos"),
        "plugin subcommands missing"
    );
    assert!(bash.contains("--no-plugins") && bash.contains("completions"));
    // Raw output: the same whatever the format.
    assert_eq!(
        sb.run(&["-f", "json", "completions", "bash"]).ok().stdout,
        bash
    );
    for shell in ["zsh", "fish"] {
        assert!(
            sb.run(&["completions", shell]).ok().stdout.contains("acme"),
            "{shell}"
        );
    }
    sb.run(&["completions", "tcsh"]).code(2);
}

#[test]
fn usage_errors_exit_2() {
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    sb.run(&["--bogus"]).code(2);
    sb.run(&["no-such-command"]).code(2);
    sb.run(&[]).code(2);
    sb.run(&["-f", "xml", "version"]).code(2);
    sb.run(&["--timeout", "0", "version"]).code(2);
    sb.run(&["acme", "echo"]).code(2); // required positional missing
    let r = sb.run(&["acme", "echo", "x", "--times", "many"]).code(2);
    assert!(r.stderr.contains("not a whole number"), "{}", r.stderr);
    sb.run(&["acme"]).code(2); // a group without its subcommand
                               // Help is not an error.
    sb.run(&["acme", "--help"]).ok();
    sb.run(&["help", "version"]).ok();
}

#[test]
fn settings_errors_exit_6_and_env_is_honoured() {
    let sb = Sandbox::new();
    let r = sb
        .run(&[
            "--config",
            "/nonexistent/config.toml",
            "config",
            "get",
            "output.format",
        ])
        .code(6);
    assert!(
        r.stderr.contains("rex::config") && r.stderr.contains("/nonexistent/config.toml"),
        "{}",
        r.stderr
    );
    std::fs::create_dir_all(sb.path("config/rex")).unwrap();
    std::fs::write(sb.path("config/rex/config.toml"), "this is = = not toml").unwrap();
    let r = sb.run(&["config", "get", "output.format"]).code(6);
    assert!(
        r.stderr.contains("rex::config") && r.stderr.contains("config.toml"),
        "{}",
        r.stderr
    );
    std::fs::write(
        sb.path("config/rex/config.toml"),
        "[output]\nformat = \"json\"\n",
    )
    .unwrap();
    assert_eq!(
        sb.run(&["version"]).ok().json()["version"],
        env!("CARGO_PKG_VERSION"),
        "config file format"
    );
    let y = Run::from(
        sb.cmd()
            .env("REX_OUTPUT_FORMAT", "yaml")
            .arg("version")
            .output()
            .unwrap(),
    )
    .ok();
    assert!(
        y.stdout.starts_with("version: "),
        "env beats file: {}",
        y.stdout
    );
    let j = Run::from(
        sb.cmd()
            .env("REX_OUTPUT_FORMAT", "yaml")
            .args(["-f", "json", "version"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(j.stdout.starts_with('{'), "flag beats env: {}", j.stdout);
    let bad = Run::from(
        sb.cmd()
            .env("REX_TIMEOUT", "soon")
            .arg("version")
            .output()
            .unwrap(),
    );
    assert_eq!(bad.code, 6, "{}", bad.stderr);
}
