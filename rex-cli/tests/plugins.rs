//! External plugins through the real `rex` binary: discovery, help, dispatch, logging,
//! panics, incompatible and unsafe plugins, the description cache, Ctrl+C, and a real
//! `docker-registry` reached from a plugin.

mod common;

use common::*;
use rex_tests::{Mode, TestRegistry};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

#[test]
fn help_lists_builtin_host_and_external_commands() {
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let help = sb.run(&["--help"]).ok();
    let cmds = help_commands(&help.stdout);
    for c in ["acme", "completions", "plugin", "version"] {
        assert!(
            cmds.contains(&c.to_owned()),
            "{c} missing from help:\n{}",
            help.stdout
        );
    }
    let mut sorted = cmds.clone();
    sorted.retain(|c| c != "help");
    let mut expect = sorted.clone();
    expect.sort();
    assert_eq!(
        sorted, expect,
        "commands are listed in a stable, sorted order"
    );
    // Every built-in compiled into this rex shows its commands too.
    let list = sb.run(&["-f", "json", "plugin", "list"]).ok().json();
    for p in list.as_array().unwrap() {
        if p["source"] == "built-in" {
            for c in p["commands"].as_array().unwrap() {
                assert!(
                    cmds.contains(&c.as_str().unwrap().to_owned()),
                    "built-in command {c} missing"
                );
            }
        }
    }
    assert!(
        help.stderr.is_empty(),
        "no warnings expected: {}",
        help.stderr
    );
    // Plugin subcommand help comes from its manifest; hidden commands stay hidden.
    let sub = sb.run(&["acme", "--help"]).ok();
    assert!(
        sub.stdout.contains("ping") && sub.stdout.contains("repos"),
        "{}",
        sub.stdout
    );
    assert!(
        !sub.stdout.contains("panic"),
        "hidden command shown: {}",
        sub.stdout
    );
}

#[test]
fn external_plugin_runs_with_parsed_arguments_in_every_format() {
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let json = sb
        .run(&[
            "-f", "json", "acme", "echo", "hello", "world", "--upper", "--times", "2",
        ])
        .ok();
    let v = json.json();
    assert_eq!(
        v["lines"],
        serde_json::json!(["HELLO WORLD", "HELLO WORLD"])
    );
    assert!(
        json.stderr.is_empty(),
        "json output must not come with prose: {}",
        json.stderr
    );
    // Piped without --format: yaml.
    let yaml = sb.run(&["acme", "echo", "hi"]).ok();
    assert!(yaml.stdout.starts_with("words:\n- hi\n"), "{}", yaml.stdout);
    // Pretty: the plugin's layout.
    let pretty = sb
        .run(&["-f", "pretty", "acme", "echo", "hi", "there"])
        .ok();
    assert_eq!(pretty.stdout, "hi there\n");
    // Global options are accepted after the subcommand too.
    let after = sb.run(&["acme", "echo", "x", "-f", "json"]).ok();
    assert_eq!(after.json()["words"], serde_json::json!(["x"]));
}

#[test]
fn incompatible_and_corrupt_plugins_are_diagnosed_and_the_rest_works() {
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    sb.add_plugin(&bad_api_so(), "libfuture.so");
    std::fs::write(
        sb.plugin_dir().join("libcorrupt.so"),
        b"\x7fELF but not really a library",
    )
    .unwrap();
    std::fs::write(sb.plugin_dir().join("libgarbage.so"), b"garbage").unwrap();

    let help = sb.run(&["--help"]).ok();
    assert!(
        help_commands(&help.stdout).contains(&"acme".to_owned()),
        "{}",
        help.stdout
    );
    assert!(!help.stdout.contains("future"), "{}", help.stdout);
    let lines: Vec<&str> = help.stderr.lines().collect();
    let future = lines
        .iter()
        .find(|l| l.contains("'future'"))
        .expect(&help.stderr);
    assert!(
        future.contains("2.0") && future.contains("1.0") && future.contains("upgrade rex"),
        "{future}"
    );
    let corrupt = lines
        .iter()
        .find(|l| l.contains("'corrupt'"))
        .expect(&help.stderr);
    assert!(
        corrupt.contains("cannot be loaded as a shared library"),
        "{corrupt}"
    );
    let garbage = lines
        .iter()
        .find(|l| l.contains("'garbage'"))
        .expect(&help.stderr);
    assert!(garbage.contains("not a shared library"), "{garbage}");
    assert_eq!(
        lines.len(),
        3,
        "one line per broken plugin:\n{}",
        help.stderr
    );

    // The working plugin still runs, and `plugin list` reports the broken ones.
    sb.run(&["acme", "echo", "ok"]).ok();
    let list = sb.run(&["-f", "json", "plugin", "list"]).ok().json();
    let status = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status("acme").as_deref(), Some("ok"));
    assert_eq!(status("future").as_deref(), Some("incompatible"));
    assert_eq!(status("corrupt").as_deref(), Some("incompatible"));
    // -q silences the warnings.
    assert!(sb.run(&["-q", "version"]).ok().stderr.is_empty());
}

#[test]
fn panicking_plugin_is_an_error_exit_not_an_abort() {
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let r = sb.run(&["--color", "never", "acme", "panic"]).code(1);
    assert!(r.stderr.contains("plugin 'acme' panicked"), "{}", r.stderr);
    assert!(r.stderr.contains("on purpose"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    // The process is still usable afterwards: another command in a new run works.
    sb.run(&["acme", "echo", "alive"]).ok();
}

#[test]
fn plugin_logs_are_forwarded_at_debug_verbosity() {
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let quiet = sb.run(&["acme", "echo", "hi"]).ok();
    assert!(
        !quiet.stderr.contains("acme plugin invoked"),
        "{}",
        quiet.stderr
    );
    let vv = sb.run(&["-vv", "acme", "echo", "hi"]).ok();
    let line = vv
        .stderr
        .lines()
        .find(|l| l.contains("acme plugin invoked"))
        .unwrap_or_else(|| panic!("plugin log missing:\n{}", vv.stderr));
    assert!(
        line.contains("rex_plugin_hello_vendor"),
        "the plugin's own target is kept: {line}"
    );
    assert!(line.contains("DEBUG"), "{line}");
    // -v (info) does not show debug events from the plugin.
    let v = sb.run(&["-v", "acme", "echo", "hi"]).ok();
    assert!(!v.stderr.contains("acme plugin invoked"), "{}", v.stderr);
    // RUST_LOG overrides -v.
    let r = Run::from(
        sb.cmd()
            .env("RUST_LOG", "rex::plugin=debug")
            .args(["acme", "echo", "hi"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(r.stderr.contains("acme plugin invoked"), "{}", r.stderr);
}

#[test]
fn no_plugins_gives_the_bare_core_without_describing_anything() {
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let help = sb.run(&["--no-plugins", "--help"]).ok();
    assert!(
        !help_commands(&help.stdout).contains(&"acme".to_owned()),
        "{}",
        help.stdout
    );
    assert!(help_commands(&help.stdout).contains(&"version".to_owned()));
    assert!(
        !sb.path("cache/rex/plugin-descriptions.json").exists(),
        "--no-plugins must not even describe plugins"
    );
    let env = Run::from(
        sb.cmd()
            .env("REX_NO_PLUGINS", "1")
            .args(["acme", "echo", "x"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        env.code, 2,
        "acme is unknown without plugins: {}",
        env.stderr
    );
    sb.run(&["--no-plugins", "version"]).ok();
    // And with plugins back on, it is there again.
    sb.run(&["acme", "echo", "x"]).ok();
}

#[test]
fn group_writable_plugins_and_directories_are_refused() {
    let sb = Sandbox::new();
    let so = sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    std::fs::set_permissions(&so, std::fs::Permissions::from_mode(0o664)).unwrap();
    let r = sb.run(&["--help"]).ok();
    assert!(
        !help_commands(&r.stdout).contains(&"acme".to_owned()),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("writable by group or others") && r.stderr.contains("chmod go-w"),
        "{}",
        r.stderr
    );
    sb.run(&["acme", "echo", "x"]).code(2);

    std::fs::set_permissions(&so, std::fs::Permissions::from_mode(0o644)).unwrap();
    sb.run(&["acme", "echo", "x"]).ok();

    std::fs::set_permissions(sb.plugin_dir(), std::fs::Permissions::from_mode(0o775)).unwrap();
    let r = sb.run(&["--help"]).ok();
    assert!(
        r.stderr.contains("ignoring plugin directory"),
        "{}",
        r.stderr
    );
    assert!(!help_commands(&r.stdout).contains(&"acme".to_owned()));
}

#[test]
fn descriptions_are_cached_so_later_runs_do_not_load_plugins() {
    let sb = Sandbox::new();
    let so = sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let first = sb.run(&["-vv", "--help"]).ok();
    assert!(
        first.stderr.contains("described plugin"),
        "{}",
        first.stderr
    );
    let cache: serde_json::Value = serde_json::from_slice(
        &std::fs::read(sb.path("cache/rex/plugin-descriptions.json")).unwrap(),
    )
    .unwrap();
    let entry = &cache["entries"][so.to_str().unwrap()];
    assert_eq!(entry["manifest"]["name"], "acme");
    assert_eq!(entry["sha256"].as_str().unwrap().len(), 64);

    let second = sb.run(&["-vv", "--help"]).ok();
    assert!(
        !second.stderr.contains("described plugin"),
        "{}",
        second.stderr
    );
    assert!(
        !second.stderr.contains("loaded plugin"),
        "--help must not dlopen: {}",
        second.stderr
    );
    let comp = sb.run(&["-vv", "completions", "bash"]).ok();
    assert!(!comp.stderr.contains("loaded plugin") && !comp.stderr.contains("described plugin"));
    // Running a plugin command loads exactly that plugin.
    let run = sb.run(&["-vv", "acme", "echo", "x"]).ok();
    assert_eq!(
        run.stderr.matches("loaded plugin").count(),
        1,
        "{}",
        run.stderr
    );

    // A changed file is described again (size/mtime/inode no longer match).
    std::fs::remove_file(&so).unwrap();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let after = sb.run(&["-vv", "--help"]).ok();
    assert!(
        after.stderr.contains("described plugin"),
        "{}",
        after.stderr
    );
}

#[test]
fn renamed_copies_are_separate_plugins() {
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    sb.add_plugin(&hello_vendor_so(), "libacme2.so");
    let help = sb.run(&["--help"]).ok();
    let cmds = help_commands(&help.stdout);
    assert!(
        cmds.contains(&"acme".into()) && cmds.contains(&"acme2".into()),
        "{}",
        help.stdout
    );
    let v = sb.run(&["-f", "json", "acme2", "echo", "two"]).ok().json();
    assert_eq!(v["words"], serde_json::json!(["two"]));
}

#[test]
fn name_collisions_are_warned_and_the_first_plugin_wins() {
    let sb = Sandbox::new();
    // Same plugin twice: second directory in REX_PLUGIN_PATH loses.
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let other = sb.path("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::copy(
        hello_vendor_so(),
        other.join("librex_plugin_hello_vendor.so"),
    )
    .unwrap();
    let path = format!("{}:{}", sb.plugin_dir().display(), other.display());
    let r = Run::from(
        sb.cmd()
            .env("REX_PLUGIN_PATH", &path)
            .args(["--help"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(
        r.stderr.contains("another plugin named 'acme'"),
        "{}",
        r.stderr
    );
    assert_eq!(
        help_commands(&r.stdout)
            .iter()
            .filter(|c| *c == "acme")
            .count(),
        1
    );
}

/// The example plugin takes its name and its top-level command from its file name, so a
/// copy named `libimage.so` is an external plugin `image` declaring a command group
/// `image`, and `libversion.so` declares a `version` group beside the host's command.
#[test]
fn builtins_and_host_commands_win_name_collisions_with_a_warning() {
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "libimage.so");
    sb.add_plugin(&hello_vendor_so(), "libversion.so");
    let help = sb.run(&["--help"]).ok();
    // The host's `version` keeps its name; the plugin's group of the same name is dropped.
    assert!(
        help.stderr
            .contains("plugin 'version' command 'version' is shadowed by 'rex'"),
        "{}",
        help.stderr
    );
    let v = sb.run(&["-q", "-f", "json", "version"]).ok();
    assert_eq!(v.json()["version"], env!("CARGO_PKG_VERSION"));
    // `echo` is a subcommand only the plugin's `version` group has.
    sb.run(&["-q", "version", "echo", "x"]).code(2);

    // Same name as the built-in image plugin: the external one is refused, the built-in
    // keeps `image`.
    assert!(
        help.stderr.contains("ignoring plugin 'image' at ")
            && help
                .stderr
                .contains("another plugin named 'image' is already loaded (built-in)"),
        "{}",
        help.stderr
    );
    let image = sb.run(&["-q", "image", "--help"]).ok();
    assert!(
        !image.stdout.contains("echo") && !image.stdout.contains("ping"),
        "the plugin's subcommands leaked into the built-in: {}",
        image.stdout
    );
    let list = sb.run(&["-q", "-f", "json", "plugin", "list"]).ok().json();
    let image_sources: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "image")
        .map(|p| {
            (
                p["source"].as_str().unwrap_or_default().to_owned(),
                p["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        image_sources.contains(&("built-in".into(), "ok".into()))
            && image_sources
                .iter()
                .any(|(src, st)| src != "built-in" && st != "ok"),
        "{image_sources:?}"
    );
}

#[test]
fn plugins_owned_by_another_user_are_refused() {
    // Giving a file to another user needs root (the test environment runs as root).
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "this test must run as root");
    let sb = Sandbox::new();
    let so = sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    // Owned by root (= us): loaded.
    sb.run(&["acme", "echo", "x"]).ok();
    let nobody = 65534;
    std::os::unix::fs::chown(&so, Some(nobody), Some(nobody)).unwrap();
    let r = sb.run(&["--help"]).ok();
    assert!(
        !help_commands(&r.stdout).contains(&"acme".to_owned()),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("owned by another user (uid 65534)"),
        "{}",
        r.stderr
    );
    sb.run(&["acme", "echo", "x"]).code(2);
    // Back to root: loaded again (the refusal was about the owner, nothing else).
    std::os::unix::fs::chown(&so, Some(0), Some(0)).unwrap();
    sb.run(&["acme", "echo", "x"]).ok();
}

#[test]
fn ctrl_c_cancels_the_plugin_and_exits_130() {
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let child = sb
        .cmd()
        .args(["acme", "wait", "--seconds", "30"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Give it time to load the plugin and start waiting.
    std::thread::sleep(Duration::from_millis(700));
    let started = Instant::now();
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
}

#[test]
fn plugin_errors_map_to_exit_codes() {
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    // Nothing listens on port 1: a network error, exit 3.
    let r = sb
        .run(&["--color", "never", "-r", "127.0.0.1:1", "acme", "ping"])
        .code(3);
    let report = r
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("rex::network"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        report.contains("127.0.0.1:1"),
        "miette report with the address: {}",
        r.stderr
    );
}

/// A real registry, reached by the external plugin with the settings rex resolved.
#[test]
fn external_plugin_reaches_a_real_registry() {
    let reg = TestRegistry::start(Mode::Anonymous);
    let addr = reg.host_port();
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    let ping = sb
        .run(&["-f", "json", "-r", &addr, "acme", "ping"])
        .ok()
        .json();
    assert_eq!(ping["reachable"], true, "{ping}");
    assert_eq!(ping["registry"], addr.as_str());
    // REX_REGISTRY is used when no flag is given; --timeout reaches the plugin.
    let r = Run::from(
        sb.cmd()
            .env("REX_REGISTRY", &addr)
            .args(["-f", "json", "--timeout", "7", "acme", "ping"])
            .output()
            .unwrap(),
    )
    .ok();
    assert_eq!(r.json()["timeout_secs"], 7);
    push_tiny_image(&reg, "team/app");
    let repos = sb
        .run(&["-f", "json", "-r", &addr, "acme", "repos"])
        .ok()
        .json();
    assert_eq!(
        repos["repositories"],
        serde_json::json!(["team/app"]),
        "{repos}"
    );
}

#[test]
fn host_services_work_across_the_abi() {
    use std::io::Write;
    let sb = Sandbox::new();
    sb.add_plugin(&hello_vendor_so(), "librex_plugin_hello_vendor.so");
    // read_stdin
    let mut child = sb
        .cmd()
        .args(["-f", "json", "acme", "stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"twelve bytes")
        .unwrap();
    let r = Run::from(child.wait_with_output().unwrap()).ok();
    assert_eq!(r.json()["bytes"], 12);
    // confirm without a terminal: a usage error with the plugin's hint, through the ABI.
    let r = sb
        .cmd()
        .args(["--color", "never", "acme", "confirm"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let r = Run::from(r).code(2);
    assert!(
        r.stderr.contains("not a terminal") && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    // The plugin's `-f` short clashes with the global --format and is removed; --force works.
    let r = sb.run(&["-f", "json", "acme", "confirm", "--force"]).ok();
    assert_eq!(r.json()["confirmed"], true);
}

#[test]
fn api_version_rules_apply_to_real_libraries() {
    use rex_plugin_api::{ApiVersion, ExternalPlugin, LoadErrorKind, Plugin, API_VERSION};
    let so = hello_vendor_so();
    // A newer host minor loads an older plugin.
    let newer = ApiVersion {
        major: API_VERSION.major,
        minor: API_VERSION.minor + 3,
    };
    let p = ExternalPlugin::load_for_host(&so, newer).expect("1.x loads in 1.(x+3)");
    assert_eq!(p.manifest().api_version, API_VERSION);
    // Another major is refused before any plugin code runs, in one line.
    let other = ApiVersion {
        major: API_VERSION.major + 1,
        minor: 0,
    };
    let err = ExternalPlugin::load_for_host(&so, other).unwrap_err();
    assert!(
        matches!(err.kind, LoadErrorKind::IncompatibleApi { .. }),
        "{err:?}"
    );
    let line = err.to_string();
    assert!(
        !line.contains('\n') && line.contains("rex_plugin_hello_vendor"),
        "{line}"
    );
    // The future-API library is refused by this host, naming both versions.
    let err = ExternalPlugin::load(&bad_api_so()).unwrap_err();
    assert_eq!(
        err.kind,
        LoadErrorKind::IncompatibleApi {
            plugin: ApiVersion { major: 2, minor: 0 },
            host: API_VERSION
        }
    );
}

/// One small image as `repo:latest`, pushed through the registry's API.
fn push_tiny_image(reg: &TestRegistry, repo: &str) {
    let spec = rex_tests::fixtures::ImageSpec::new(7);
    rex_tests::block_on(rex_tests::fixtures::push_image(
        &reg.pusher(),
        repo,
        &spec,
        &["latest"],
    ))
    .expect("push an image");
}

/// The quick start of docs/plugins.md is real: its `src/lib.rs` is the example crate
/// `plugins/examples/quickstart` verbatim, and the library it builds installs and runs as
/// the guide's console session shows.
#[test]
fn the_guides_quick_start_plugin_builds_installs_and_runs() {
    let root = workspace_root();
    let guide = std::fs::read_to_string(root.join("docs/plugins.md")).unwrap();
    let quick = &guide[guide.find("## Quick start").expect("a quick start")..];
    let code = quick
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("```\n").next())
        .expect("a rust block in the quick start");
    let crate_src =
        std::fs::read_to_string(root.join("plugins/examples/quickstart/src/lib.rs")).unwrap();
    assert_eq!(
        code, crate_src,
        "docs/plugins.md's quick start and plugins/examples/quickstart/src/lib.rs differ"
    );

    let sb = Sandbox::new();
    let so = plugin_artifacts().join("librex_plugin_acme.so");
    let r = sb
        .run(&["-f", "pretty", "plugin", "install", so.to_str().unwrap()])
        .ok();
    let line = r.stdout.trim();
    assert!(
        line.starts_with("✓ Installed plugin 'acme' 0.1.0 (API 1.0) to ")
            && line.ends_with("/rex/plugins/librex_plugin_acme.so; commands: acme"),
        "{line}"
    );
    let r = Run::from(
        sb.cmd()
            .env("REX_PLUGIN_PATH", sb.installed_dir())
            .args(["-f", "pretty", "acme", "hello", "rex"])
            .output()
            .unwrap(),
    )
    .ok();
    assert_eq!(r.stdout.trim(), "✓ hello rex");
    let r = Run::from(
        sb.cmd()
            .env("REX_PLUGIN_PATH", sb.installed_dir())
            .args(["-f", "json", "acme", "hello"])
            .output()
            .unwrap(),
    )
    .ok();
    assert_eq!(r.json(), serde_json::json!({ "greeting": "hello world" }));
}

/// A differently named external plugin adds a subcommand to the built-in `registry`
/// group: help shows it beside the built-ins, it runs in the external library against the
/// real registry, and the built-in subcommands still run in the built-in plugin.
#[test]
fn an_external_plugin_extends_a_builtin_group() {
    let reg = TestRegistry::start(Mode::Anonymous);
    push_tiny_image(&reg, "team/app");
    push_tiny_image(&reg, "team/db");
    let sb = Sandbox::new();
    let before = sb.run(&["registry", "--help"]).ok();
    assert!(!help_commands(&before.stdout).contains(&"usage".to_owned()));
    sb.run(&["registry", "usage"]).code(2);

    sb.add_plugin(
        &plugin_artifacts().join("librex_plugin_registry_usage.so"),
        "librex_plugin_registry_usage.so",
    );
    let help = sb.run(&["registry", "--help"]).ok();
    let commands = help_commands(&help.stdout);
    for c in ["usage", "list", "login", "cache", "init"] {
        assert!(
            commands.contains(&c.to_owned()),
            "{c} missing:\n{}",
            help.stdout
        );
    }
    assert!(
        help.stderr.is_empty(),
        "no collision warning: {}",
        help.stderr
    );
    let usage_help = sb.run(&["registry", "usage", "--help"]).ok();
    assert!(
        usage_help.stdout.contains("--tags"),
        "{}",
        usage_help.stdout
    );

    let addr = reg.host_port();
    let usage = sb
        .run(&["-f", "json", "-r", &addr, "registry", "usage", "--tags"])
        .ok()
        .json();
    assert_eq!(usage, serde_json::json!({ "repositories": 2, "tags": 2 }));
    // The built-in group's own commands are unaffected.
    sb.run(&["registry", "init", "local", &reg.url()]).ok();
    let list = sb.run(&["-f", "json", "registry", "list"]).ok().json();
    assert!(list.to_string().contains("local"), "{list}");
    let info = sb.run(&["-f", "json", "plugin", "list"]).ok().json();
    let ext = info
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "registry-usage")
        .expect("listed");
    assert_eq!(ext["status"], "ok", "{ext}");
}
