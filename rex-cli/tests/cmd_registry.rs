//! End-to-end tests of `rex registry init|use|list|login|logout|remove` through the real
//! binary, against real `docker-registry` processes (anonymous, basic, token), in an
//! isolated HOME. Credentials go to rex's 0600 fallback file (no keyring in tests).

use rex_tests::cli::{rex_command, RexHome, Run};
use rex_tests::{Mode, TestRegistry};
use serde_json::Value;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const USER: &str = "carol";
const PASSWORD: &str = "s3cr3t-Pa55word";

fn rex(home: &RexHome) -> Command {
    let mut c = rex_command(env!("CARGO_BIN_EXE_rex"), home);
    c.env("REX_NO_KEYRING", "1");
    c
}

fn run_with_stdin(home: &RexHome, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = rex(home);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("run rex");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).unwrap();
    }
    Run::from(child.wait_with_output().unwrap())
}

fn run(home: &RexHome, args: &[&str]) -> Run {
    run_with_stdin(home, args, None)
}

fn config_text(home: &RexHome) -> String {
    std::fs::read_to_string(home.rex_config_dir().join("config.toml")).unwrap_or_default()
}

fn credentials_file(home: &RexHome) -> PathBuf {
    home.data_home().join("rex/credentials.json")
}

/// An address where nothing listens.
fn closed_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

fn list(home: &RexHome) -> Value {
    run(home, &["-f", "json", "registry", "list"]).ok().json()
}

fn status_of(list: &Value, name: &str) -> String {
    list["registries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed: {list}"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn init_use_list_remove_round_trip_on_anonymous_registry() {
    let reg = TestRegistry::start(Mode::Anonymous);
    let home = RexHome::new();
    let out = run(
        &home,
        &[
            "-f",
            "pretty",
            "--color",
            "never",
            "registry",
            "init",
            "local",
            &reg.url(),
            "--set-current",
        ],
    )
    .ok();
    let lines: Vec<&str> = out.stdout.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines,
        [
            format!("✓ Connected to {}", reg.url()).as_str(),
            "✓ Registry 'local' added successfully",
            "✓ Set 'local' as current registry",
        ]
    );
    let cfg = config_text(&home);
    assert!(cfg.contains("current = \"local\""), "{cfg}");
    assert!(cfg.contains(&reg.url()), "{cfg}");

    // Same name again: usage error, file unchanged.
    run(&home, &["registry", "init", "local", &reg.url()]).code(2);
    assert_eq!(config_text(&home), cfg);

    let out = run(
        &home,
        &["-f", "json", "registry", "init", "other", &reg.host_port()],
    )
    .ok();
    let v = out.json();
    assert_eq!(v["name"], "other");
    assert_eq!(v["status"], "online");
    assert_eq!(v["current"], false);

    let l = list(&home);
    assert_eq!(l["current"], "local");
    assert_eq!(l["registries"].as_array().unwrap().len(), 2);
    assert_eq!(l["registries"][0]["name"], "local");
    assert_eq!(l["registries"][0]["current"], true);
    assert_eq!(l["registries"][0]["status"], "online");

    // `ls` alias and the pretty table.
    let out = run(
        &home,
        &["-f", "pretty", "--color", "never", "registry", "ls"],
    )
    .ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("CURRENT"), "{}", out.stdout);
    assert!(lines[0].contains("NAME") && lines[0].contains("URL") && lines[0].contains("STATUS"));
    assert!(lines[1].starts_with('*') && lines[1].contains("local") && lines[1].contains("online"));
    assert!(!lines[2].starts_with('*') && lines[2].contains("other"));

    // --quiet: names only.
    let out = run(&home, &["-q", "-f", "pretty", "registry", "list"]).ok();
    assert_eq!(out.stdout, "local\nother\n");

    let out = run(
        &home,
        &[
            "-f", "pretty", "--color", "never", "registry", "use", "other",
        ],
    )
    .ok();
    assert!(
        out.stdout.contains("✓ Current registry set to 'other'"),
        "{}",
        out.stdout
    );
    assert_eq!(list(&home)["current"], "other");
    run(&home, &["registry", "use", "nope"]).code(5);

    // No terminal and no --force: refuse, keep everything.
    let out = run(&home, &["registry", "remove", "other"]).code(2);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(list(&home)["registries"].as_array().unwrap().len(), 2);

    let out = run(&home, &["-f", "json", "registry", "rm", "other", "--force"]).ok();
    assert_eq!(out.json()["was_current"], true);
    let l = list(&home);
    assert_eq!(l["current"], Value::Null);
    assert_eq!(l["registries"].as_array().unwrap().len(), 1);
    run(&home, &["registry", "rm", "other", "--force"]).code(5);
}

#[test]
fn init_unreachable_exits_3_and_writes_nothing() {
    let home = RexHome::new();
    let out = run(
        &home,
        &["registry", "init", "gone", &closed_url(), "--set-current"],
    )
    .code(3);
    assert!(!out.stderr.is_empty());
    assert!(!config_text(&home).contains("gone"));
}

#[test]
fn init_rejects_bad_names_and_urls_with_exit_2() {
    let home = RexHome::new();
    run(
        &home,
        &["registry", "init", "bad name", "http://127.0.0.1:5000"],
    )
    .code(2);
    run(&home, &["registry", "init", "x", "ftp://example.com"]).code(2);
    // Plain http to a non-loopback host needs --insecure.
    run(
        &home,
        &["registry", "init", "x", "http://registry.example.com"],
    )
    .code(2);
    assert!(!config_text(&home).contains("[[registries.list]]"));
}

#[test]
fn list_reports_online_offline_and_auth_required() {
    let anon = TestRegistry::start(Mode::Anonymous);
    let basic = TestRegistry::start(Mode::basic(USER, PASSWORD));
    let doomed = TestRegistry::start(Mode::Anonymous);
    let home = RexHome::new();
    run(&home, &["registry", "init", "anon", &anon.url()]).ok();
    let v = run(
        &home,
        &["-f", "json", "registry", "init", "basic", &basic.url()],
    )
    .ok()
    .json();
    assert_eq!(v["status"], "auth-required");
    let out = run(
        &home,
        &[
            "-f",
            "pretty",
            "--color",
            "never",
            "registry",
            "init",
            "basic2",
            &basic.url(),
        ],
    )
    .ok();
    assert!(
        out.stdout.contains("rex registry login basic2"),
        "{}",
        out.stdout
    );
    run(&home, &["registry", "init", "doomed", &doomed.url()]).ok();
    doomed.stop();
    let started = std::time::Instant::now();
    let l = list(&home);
    assert_eq!(status_of(&l, "anon"), "online");
    assert_eq!(status_of(&l, "basic"), "auth-required");
    assert_eq!(status_of(&l, "doomed"), "offline");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // `use` of an offline registry switches anyway, with a warning.
    let out = run(&home, &["-f", "json", "registry", "use", "doomed"]).ok();
    assert_eq!(out.json()["status"], "offline");
    assert!(out.json()["warning"].is_string());
}

fn login_logout_cycle(mode: Mode) {
    let reg = TestRegistry::start(mode);
    let home = RexHome::new();
    run(
        &home,
        &["registry", "init", "r", &reg.url(), "--set-current"],
    )
    .ok();

    // Wrong password: exit 4, nothing stored.
    run_with_stdin(
        &home,
        &["registry", "login", "r", "-u", USER, "--password-stdin"],
        Some("wrong-password\n"),
    )
    .code(4)
    .no_secret("wrong-password");
    assert!(
        !credentials_file(&home).exists()
            || !std::fs::read_to_string(credentials_file(&home))
                .unwrap()
                .contains(&reg.host_port())
    );

    let out = run_with_stdin(
        &home,
        &[
            "-f",
            "pretty",
            "--color",
            "never",
            "registry",
            "login",
            "-u",
            USER,
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    )
    .ok()
    .no_secret(PASSWORD);
    assert!(
        out.stdout.contains(&format!(
            "✓ Successfully authenticated with {}",
            reg.host_port()
        )),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("credentials.json"), "{}", out.stdout);

    let file = credentials_file(&home);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "credentials file mode {mode:o}");
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(
        stored["auths"][reg.host_port()]["auth"].is_string(),
        "{stored}"
    );

    // Logged in: the registry now answers to rex.
    assert_eq!(status_of(&list(&home), "r"), "online");

    let v = run(&home, &["-f", "json", "registry", "logout"])
        .ok()
        .json();
    assert_eq!(v["credentials_removed"], true);
    assert_eq!(v["registry"], reg.host_port());
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(stored["auths"].get(reg.host_port()).is_none(), "{stored}");
    let v = run(&home, &["-f", "json", "registry", "logout", "r"])
        .ok()
        .json();
    assert_eq!(v["credentials_removed"], false);
}

#[test]
fn login_logout_basic_registry() {
    login_logout_cycle(Mode::basic(USER, PASSWORD));
}

#[test]
fn login_logout_token_registry() {
    login_logout_cycle(Mode::token(&[(USER, PASSWORD)]));
}

#[test]
fn login_with_password_flag_warns_and_never_echoes_it() {
    let reg = TestRegistry::start(Mode::basic(USER, PASSWORD));
    let home = RexHome::new();
    run(&home, &["registry", "init", "b", &reg.url()]).ok();
    let out = run(
        &home,
        &["registry", "login", "b", "-u", USER, "-p", PASSWORD],
    )
    .ok()
    .no_secret(PASSWORD);
    assert!(out.stderr.contains("--password-stdin"), "{}", out.stderr);
    // remove takes the credentials with it.
    run(&home, &["registry", "remove", "b", "--force"]).ok();
    let stored = std::fs::read_to_string(credentials_file(&home)).unwrap();
    assert!(!stored.contains(&reg.host_port()), "{stored}");
}

#[test]
fn login_without_terminal_needs_username_and_password() {
    let reg = TestRegistry::start(Mode::basic(USER, PASSWORD));
    let home = RexHome::new();
    run(&home, &["registry", "init", "b", &reg.url()]).ok();
    run(&home, &["registry", "login", "b"]).code(2);
    run(&home, &["registry", "login", "b", "-u", USER]).code(2);
    run_with_stdin(
        &home,
        &["registry", "login", "b", "--password-stdin"],
        Some("x\n"),
    )
    .code(2);
    run(
        &home,
        &["registry", "login", "nosuch", "-u", USER, "-p", "x"],
    )
    .code(5);
}

/// Registry directories (hashed names) that hold cache entries of any kind.
fn cached_registry_dirs(home: &RexHome) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for kind in ["catalogs", "tags", "manifests", "configs"] {
        let Ok(rd) = std::fs::read_dir(home.rex_cache_dir().join(kind)) else {
            continue;
        };
        for dir in rd.flatten() {
            let has_entry = walkdir_has_json(&dir.path());
            if has_entry {
                out.insert(dir.file_name().to_string_lossy().into_owned());
            }
        }
    }
    out
}

fn walkdir_has_json(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let p = e.path();
            if p.is_dir() {
                walkdir_has_json(&p)
            } else {
                p.extension().is_some_and(|x| x == "json")
            }
        })
}

fn logout_clears_only_that_registrys_cache(cache_enabled: bool) {
    let basic = TestRegistry::start(Mode::basic(USER, PASSWORD));
    let other = TestRegistry::start(Mode::Anonymous);
    let home = RexHome::new();
    run(&home, &["registry", "init", "b", &basic.url()]).ok();
    run(&home, &["registry", "init", "o", &other.url()]).ok();
    run_with_stdin(
        &home,
        &["registry", "login", "b", "-u", USER, "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    )
    .ok();
    // Fill the cache from both registries (catalog listings).
    run(&home, &["-f", "json", "-r", "b", "image"]).ok();
    let only_b = cached_registry_dirs(&home);
    assert!(!only_b.is_empty(), "rex image cached nothing");
    run(&home, &["-f", "json", "-r", "o", "image"]).ok();
    let both = cached_registry_dirs(&home);
    let b_dirs = only_b.clone();
    let o_dirs: std::collections::BTreeSet<String> = both.difference(&b_dirs).cloned().collect();
    assert!(!o_dirs.is_empty(), "the second registry cached nothing");

    if !cache_enabled {
        run(&home, &["config", "set", "cache.enabled", "false"]).ok();
    }
    let v = run(&home, &["-f", "json", "registry", "logout", "b"])
        .ok()
        .json();
    assert_eq!(v["credentials_removed"], true);
    let after = cached_registry_dirs(&home);
    assert!(
        after.is_disjoint(&b_dirs),
        "logged-out registry still cached: {after:?} (its dirs {b_dirs:?})"
    );
    assert_eq!(after, o_dirs, "the other registry's entries must stay");
}

#[test]
fn logout_clears_that_registrys_cache_entries() {
    logout_clears_only_that_registrys_cache(true);
}

#[test]
fn logout_clears_cache_entries_even_with_the_cache_disabled() {
    logout_clears_only_that_registrys_cache(false);
}
