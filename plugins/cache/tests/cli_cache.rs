//! End-to-end: the real `rex` binary against real `docker-registry` processes. Request
//! counts from the registry's access log prove what the cache served; concurrent and
//! killed processes and damaged files prove the disk tier stays usable.
//!
//! Needs the `rex` binary built next to the test executable (`cargo build -p rex-cli`).

use rex_tests::cli::{rex_bin, rex_command, RexHome};
use rex_tests::{Mode, TestRegistry};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    reg: TestRegistry,
    home: RexHome,
}

impl Env {
    fn new() -> Env {
        let reg = TestRegistry::start(Mode::Anonymous);
        reg.push_standard().expect("push fixtures");
        Env {
            reg,
            home: RexHome::new(),
        }
    }

    fn cache_dir(&self) -> PathBuf {
        self.home.rex_cache_dir()
    }

    fn config(&self, toml: &str) {
        std::fs::create_dir_all(self.home.rex_config_dir()).unwrap();
        std::fs::write(self.home.rex_config_dir().join("config.toml"), toml).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = rex_command(rex_bin(), &self.home);
        c.arg("-r").arg(self.reg.url()).args(args);
        c
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(self.cmd(args))
    }

    #[track_caller]
    fn run_with(&self, mut c: Command) -> Output {
        let out = c.output().expect("run rex");
        assert!(
            out.status.success(),
            "rex failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-f", "json"]);
        serde_json::from_slice(&self.run(&a).stdout).expect("json output")
    }

    /// (tag lists, manifest requests, blob requests) so far.
    fn counts(&self) -> (usize, usize, usize) {
        (
            self.reg.request_count("GET", "/tags/list"),
            self.reg.request_count("*", "/manifests/"),
            self.reg.request_count("GET", "/blobs/"),
        )
    }
}

fn entry_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(entry_files(&p));
        } else if p.extension().is_some_and(|x| x == "json") && !p.ends_with("metadata.json") {
            out.push(p);
        }
    }
    out
}

#[test]
fn second_image_run_with_a_warm_cache_makes_no_registry_request() {
    let env = Env::new();
    let cold = env.json(&["image", "rex/multiarch"]);
    let before = env.counts();
    assert!(before.1 > 0 && before.2 > 0, "{before:?}");
    let warm = env.json(&["image", "rex/multiarch"]);
    assert_eq!(warm, cold);
    assert_eq!(
        env.counts(),
        before,
        "tag list, manifests and configs all cached"
    );
}

#[test]
fn tags_ttl_from_config_expires_the_list() {
    let env = Env::new();
    env.config("[cache.ttl]\ntags = 1\n");
    env.json(&["image", "rex/oci-image"]);
    let (tags, _, blobs) = env.counts();
    env.json(&["image", "rex/oci-image"]);
    assert_eq!(env.counts().0, tags, "within the TTL");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    env.json(&["image", "rex/oci-image"]);
    let after = env.counts();
    assert_eq!(after.0, tags + 1, "fetched again after the TTL");
    assert_eq!(after.2, blobs, "configs are digest-addressed: still cached");
}

/// Eventual consistency through the binary: an expired tag list is served at once and
/// refreshed in the background of the same run (alongside the rest of the command, and
/// waited for before the process ends), so the next run reads the new list. Without the
/// wait the refresh died with the run's runtime and the old list was served for ever.
#[test]
fn eventual_serves_the_expired_list_and_the_next_run_reads_the_refreshed_one() {
    let env = Env::new();
    env.config("[cache.ttl]\ntags = 1\n\n[cache.behavior]\nconsistency = \"eventual\"\n");
    let names = |v: Value| -> Vec<String> {
        v["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .map(|t| {
                t["tag"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{t}"))
                    .to_string()
            })
            .collect()
    };
    let first = names(env.json(&["image", "rex/oci-image", "-q"]));
    assert!(!first.contains(&"eventual-new".to_string()), "{first:?}");
    let spec = rex_tests::fixtures::ImageSpec::new(77).created("2024-06-01T00:00:00Z");
    rex_tests::block_on(rex_tests::fixtures::push_image(
        &env.reg.pusher(),
        "rex/oci-image",
        &spec,
        &["eventual-new"],
    ))
    .expect("push a new tag");
    std::thread::sleep(std::time::Duration::from_millis(2100));

    let lists = env.counts().0;
    let stale = names(env.json(&["image", "rex/oci-image", "-q"]));
    assert_eq!(stale, first, "the expired list is served as it was");
    assert_eq!(
        env.counts().0,
        lists + 1,
        "and refreshed behind, in the same run"
    );

    let next = names(env.json(&["image", "rex/oci-image", "-q"]));
    assert!(next.contains(&"eventual-new".to_string()), "{next:?}");
}

#[test]
fn catalog_ttl_from_config_is_honoured_across_image_runs() {
    let env = Env::new();
    // Long enough for a second cold-ish run to land inside it, short enough to wait out.
    let ttl = 6;
    env.config(&format!("[cache.ttl]\ncatalog = {ttl}\n"));
    let catalog = || env.reg.request_count("GET", "/v2/_catalog");
    let first = env.json(&["image"]);
    assert_eq!(catalog(), 1);
    let (tags, _, _) = env.counts();
    assert!(tags > 0, "the listing read tag lists");
    let second = env.json(&["image"]);
    assert_eq!(second, first);
    // The entry records when it was stored: the second run must have been inside the TTL
    // for its zero requests to mean anything.
    let entry: Value = serde_json::from_slice(
        &std::fs::read(
            entry_files(&env.cache_dir().join("catalogs"))
                .first()
                .expect("a catalog entry"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        entry["ttl_seconds"], ttl,
        "the configured TTL, not the default"
    );
    let cached_at: chrono::DateTime<chrono::Utc> =
        entry["cached_at"].as_str().unwrap().parse().unwrap();
    let age = (chrono::Utc::now() - cached_at)
        .to_std()
        .unwrap_or_default();
    assert!(
        age.as_secs() < ttl,
        "second run finished within the TTL ({age:?})"
    );
    assert_eq!(catalog(), 1, "served from the cache within the TTL");
    assert_eq!(env.counts().0, tags, "tag lists too (their own TTL)");

    std::thread::sleep(
        std::time::Duration::from_secs(ttl).saturating_sub(age)
            + std::time::Duration::from_millis(300),
    );
    assert_eq!(env.json(&["image"]), first);
    assert_eq!(catalog(), 2, "fetched again after the catalog TTL");
    assert_eq!(
        env.counts().0,
        tags,
        "tag lists keep their 300 s default TTL"
    );
}

/// Manifest requests the registry answered `304 Not Modified`.
fn not_modified(reg: &TestRegistry) -> usize {
    reg.request_count("*", "/manifests/");
    reg.access_log()
        .iter()
        .filter(|e| e.status == 304 && e.target.contains("/manifests/"))
        .count()
}

#[test]
fn no_cache_flag_and_env_revalidate_lists_and_tags() {
    let env = Env::new();
    env.json(&["image", "rex/oci-image"]);
    let (tags, manifests, blobs) = env.counts();
    assert_eq!(not_modified(&env.reg), 0);
    env.json(&["image", "rex/oci-image", "--no-cache"]);
    let after = env.counts();
    assert_eq!(after.0, tags + 1);
    assert!(after.1 > manifests, "every tag resolved again");
    // ...conditionally: each tag answered 304, its manifest body not downloaded again.
    assert_eq!(not_modified(&env.reg), after.1 - manifests);
    assert_eq!(after.2, blobs, "configs by digest need no revalidation");
    let mut c = env.cmd(&["image", "rex/oci-image", "-f", "json"]);
    c.env("REX_NO_CACHE", "1");
    env.run_with(c);
    assert_eq!(env.counts().0, tags + 2);
}

#[test]
fn disabled_cache_fetches_on_every_run_and_writes_nothing() {
    let env = Env::new();
    env.config("[cache]\nenabled = false\n");
    env.json(&["image", "rex/docker-image"]);
    let first = env.counts();
    env.json(&["image", "rex/docker-image"]);
    let second = env.counts();
    assert_eq!(second.0, first.0 + 1);
    assert!(second.1 > first.1 && second.2 > first.2);
    assert!(entry_files(&env.cache_dir()).is_empty());
}

#[test]
fn twenty_processes_on_one_cache_dir_leave_no_corrupt_entry() {
    let env = Env::new();
    let children: Vec<_> = (0..20)
        .map(|i| {
            let repo = [
                "rex/multiarch",
                "rex/oci-image",
                "library/alpine",
                "rex/docker-list",
            ][i % 4];
            env.cmd(&["image", repo, "-f", "json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let report = env.json(&["registry", "cache", "prune", "--all", "--dry-run"]);
    assert_eq!(report["corrupt"], 0, "{report}");
    assert!(!entry_files(&env.cache_dir()).is_empty());
    // And every entry is served: a warm run asks for nothing.
    let before = env.counts();
    env.json(&["image", "rex/multiarch"]);
    env.json(&["image", "library/alpine"]);
    assert_eq!(env.counts(), before);
}

#[test]
fn a_process_killed_while_writing_leaves_no_corrupt_entry() {
    let env = Env::new();
    let large = TestRegistry::shared("large");
    let repo = large.fixtures.large.as_ref().unwrap().tags_repo.clone();
    let mut child = rex_command(rex_bin(), &env.home)
        .args(["-r", &large.url(), "image", &repo, "-f", "json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once it is writing entries.
    let manifests = env.cache_dir().join("manifests");
    for _ in 0..2000 {
        if entry_files(&manifests).len() >= 20 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!entry_files(&manifests).is_empty());
    let report = env.json(&["registry", "cache", "prune", "--all", "--dry-run"]);
    assert_eq!(report["corrupt"], 0, "{report}");
    // The next run completes from what is there.
    let out = env.run_with({
        let mut c = rex_command(rex_bin(), &env.home);
        c.args(["-r", &large.url(), "image", &repo, "-f", "json"]);
        c
    });
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tags"].as_array().map(Vec::len), Some(1200), "{v:.200}");
}

#[test]
fn truncated_and_garbage_entries_are_refetched_with_a_warning() {
    let env = Env::new();
    let cold = env.json(&["image", "rex/oci-image"]);
    let files = entry_files(&env.cache_dir());
    let tags_file = files.iter().find(|p| p.ends_with("tags.json")).unwrap();
    std::fs::write(tags_file, b"\x00garbage{{").unwrap();
    let manifest = files
        .iter()
        .find(|p| p.to_string_lossy().contains("/manifests/"))
        .unwrap();
    let text = std::fs::read(manifest).unwrap();
    std::fs::write(manifest, &text[..text.len() / 2]).unwrap();
    let before = env.counts();
    let out = env.run(&["image", "rex/oci-image", "-f", "json"]);
    let warm: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(warm, cold);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.to_lowercase().contains("cache"),
        "warning expected: {stderr}"
    );
    assert_eq!(env.counts().0, before.0 + 1, "tag list refetched");
    let report = env.json(&["registry", "cache", "prune", "--all", "--dry-run"]);
    assert_eq!(
        report["corrupt"], 0,
        "damaged files were replaced: {report}"
    );
}

#[test]
fn an_unusable_cache_dir_fails_with_exit_7_only_when_named() {
    let env = Env::new();
    let file = env.home.root().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = env
        .cmd(&[
            "--cache-dir",
            file.to_str().unwrap(),
            "image",
            "rex/oci-image",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = env.cmd(&["image", "rex/oci-image"]);
    c.env("REX_CACHE_DIR", &file);
    assert_eq!(c.output().unwrap().status.code(), Some(7));
    // The default location (XDG) being unusable only disables the cache.
    let mut c = env.cmd(&["image", "rex/oci-image", "-f", "json"]);
    c.env("XDG_CACHE_HOME", &file);
    env.run_with(c);
}

#[test]
fn stats_clear_and_prune_report_what_is_cached() {
    let env = Env::new();
    env.json(&["image", "rex/multiarch"]);
    env.json(&["image", "rex/multiarch"]);
    let s = env.json(&["registry", "cache", "stats"]);
    // `-r URL`: named by the address as given.
    assert_eq!(s["registry"], env.reg.url());
    assert_eq!(s["url"], env.reg.url());
    assert!(s["disk_entries"].as_u64().unwrap() > 0, "{s}");
    assert!(s["by_type"]["manifests"]["entries"].as_u64().unwrap() > 0);
    assert!(s["by_type"]["configs"]["entries"].as_u64().unwrap() > 0);
    assert!(s["by_type"]["tags"]["entries"].as_u64().unwrap() > 0);
    assert!(s["hit_rate"].as_f64().unwrap() > 0.4, "second run hit: {s}");
    assert_eq!(
        s["cache_path"].as_str().map(PathBuf::from),
        Some(env.cache_dir())
    );
    let pretty = env.run(&["registry", "cache", "stats", "-f", "pretty"]);
    let text = String::from_utf8_lossy(&pretty.stdout);
    assert!(text.contains("Cache Statistics for"), "{text}");
    assert!(text.contains("Manifests:"), "{text}");

    // No terminal, no --force: refused with exit 2 and a hint.
    let out = env.cmd(&["registry", "cache", "clear"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));

    let dry = env.json(&["registry", "cache", "prune", "--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["entries"], 0, "nothing expired yet: {dry}");
    let dry_text = env.run(&["registry", "cache", "prune", "--dry-run", "-f", "pretty"]);
    assert!(String::from_utf8_lossy(&dry_text.stdout).contains("manifest entries"));

    let c = env.json(&[
        "registry", "cache", "clear", "--type", "manifest", "--force",
    ]);
    assert_eq!(c["cleared"], true);
    assert!(c["entries"].as_u64().unwrap() > 0);
    let s2 = env.json(&["registry", "cache", "stats"]);
    assert_eq!(s2["by_type"]["manifests"]["entries"], 0);
    assert_eq!(s2["by_type"]["tags"], s["by_type"]["tags"]);
    let c = env.json(&["registry", "cache", "clear", "--all", "--force"]);
    assert!(c["entries"].as_u64().unwrap() > 0);
    assert_eq!(env.json(&["registry", "cache", "stats"])["disk_entries"], 0);
}
