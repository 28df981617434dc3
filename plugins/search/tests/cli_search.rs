//! End-to-end tests of `rex search image|tags` through the real `rex` binary against real
//! `docker-registry` processes: the harness' shared fixtures (Docker Hub-style
//! `library/alpine`, deep paths, a repository whose tags were all deleted) and a private
//! registry with names chosen for ranking (`alpine`, `alpine-base`, `myapp-alpine`, …).
//!
//! Needs the `rex` binary built next to the test executable (`cargo build -p rex-cli`).

use rex_core::search::{search, Query};
use rex_tests::cli::{rex_bin, rex_command, RexHome, Run};
use rex_tests::fixtures::{push_image, ImageSpec};
use rex_tests::{Mode, TestRegistry};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

fn rex(home: &RexHome) -> Command {
    let mut c = rex_command(rex_bin(), home);
    c.env("REX_NO_KEYRING", "1");
    c
}

fn run(registry: &TestRegistry, args: &[&str]) -> Run {
    let home = RexHome::new();
    Run::of(rex(&home).args(["--registry", &registry.url()]).args(args))
}

/// Repository -> (tag -> created) pushed to the ranking registry.
type Pushed = BTreeMap<&'static str, Vec<(&'static str, &'static str)>>;

struct Ranking {
    registry: TestRegistry,
    pushed: Pushed,
    /// (repo, tag) -> (digest, size) as pushed.
    truth: BTreeMap<(String, String), (String, u64)>,
}

/// A registry with names picked for ranking; started once per test process.
fn ranking() -> &'static Ranking {
    static R: OnceLock<Ranking> = OnceLock::new();
    R.get_or_init(|| {
        let registry = TestRegistry::start(Mode::Anonymous);
        let pushed: Pushed = BTreeMap::from([
            (
                "alpine",
                vec![
                    ("3.19", "2024-01-10T08:00:00Z"),
                    ("3.20", "2024-01-15T10:30:00Z"),
                    ("latest", "2024-01-15T10:30:00Z"),
                ],
            ),
            (
                "alpine-base",
                vec![
                    ("3.19", "2024-01-14T08:20:00Z"),
                    ("edge", "2023-12-01T00:00:00Z"),
                ],
            ),
            ("myapp-alpine", vec![("v1", "2024-01-13T12:15:00Z")]),
            ("tools/alpine", vec![("stable", "2024-02-01T00:00:00Z")]),
            (
                "nginx",
                vec![
                    ("alpine", "2024-01-01T00:00:00Z"),
                    ("1.24-alpine", "2024-01-02T00:00:00Z"),
                    ("latest", "2024-01-03T00:00:00Z"),
                ],
            ),
            (
                "myapp",
                vec![
                    ("v1.0.0", "2024-01-01T00:00:00Z"),
                    ("v1.0.1", "2024-01-02T00:00:00Z"),
                    ("v1.1.0", "2024-01-03T00:00:00Z"),
                    ("v1.2.0", "2024-01-04T00:00:00Z"),
                    ("alpine-v1", "2024-01-05T00:00:00Z"),
                    ("v2.0.0", "2024-01-06T00:00:00Z"),
                ],
            ),
            ("postgres", vec![("16-alpine", "2024-01-07T00:00:00Z")]),
        ]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let pusher = registry.pusher();
        let mut truth = BTreeMap::new();
        let mut seed = 100;
        for (repo, tags) in &pushed {
            // Tags with the same date share one image (and digest), like `3.20`/`latest`.
            let mut by_date: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (tag, created) in tags {
                by_date.entry(created).or_default().push(tag);
            }
            for (created, tags) in by_date {
                seed += 1;
                let spec = ImageSpec::new(seed).created(created);
                let info = rt
                    .block_on(push_image(&pusher, repo, &spec, &tags))
                    .unwrap_or_else(|e| panic!("push {repo}: {e:#}"));
                for t in tags {
                    truth.insert(
                        (repo.to_string(), t.to_string()),
                        (info.digest.clone(), info.total_size()),
                    );
                }
            }
        }
        Ranking {
            registry,
            pushed,
            truth,
        }
    })
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results array: {v}"))
        .iter()
        .map(|r| r[key].as_str().unwrap().to_owned())
        .collect()
}

/// What rex-core's matcher ranks for `q` over `candidates` (the CLI must agree).
fn core_rank(q: &str, exact: bool, candidates: &[String], limit: usize) -> Vec<String> {
    let query = Query::parse(q, exact).unwrap();
    search(&query, candidates.iter().map(String::as_str), Some(limit))
        .into_iter()
        .map(|h| candidates[h.index].clone())
        .collect()
}

#[test]
fn image_fuzzy_ranks_exact_then_prefix_then_word_boundary() {
    let r = ranking();
    let out = run(&r.registry, &["-f", "pretty", "search", "image", "alpine"]).ok();
    // Exact names first (whole name, then last segment), then prefix, then a later word.
    assert_eq!(
        out.lines(),
        ["alpine", "tools/alpine", "alpine-base", "myapp-alpine"],
        "{}",
        out.stderr
    );
    let repos: Vec<String> = r.pushed.keys().map(|s| s.to_string()).collect();
    for q in ["alpine", "alp", "app", "ngx", "pstgr"] {
        let got = run(&r.registry, &["-f", "json", "search", "image", q])
            .ok()
            .json();
        assert_eq!(
            names(&got, "name"),
            core_rank(q, false, &repos, 50),
            "query {q}"
        );
    }
}

#[test]
fn image_json_has_design_fields_tag_counts_and_newest_date() {
    let r = ranking();
    let v = run(&r.registry, &["-f", "json", "search", "image", "alpine"])
        .ok()
        .json();
    assert_eq!(v["query"], "alpine");
    assert_eq!(v["search_type"], "image");
    assert_eq!(v["tag_filter"], Value::Null);
    assert_eq!(v["total_results"], 4);
    let first = &v["results"][0];
    assert_eq!(first["name"], "alpine");
    assert_eq!(first["tags"], 3);
    assert_eq!(first["last_updated"], "2024-01-15T10:30:00Z");
    assert!(first.get("matching_tag").is_none(), "{first}");
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["name", "tags", "last_updated"], "design order");
    let base = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "alpine-base")
        .unwrap();
    assert_eq!(base["tags"], 2);
    assert_eq!(base["last_updated"], "2024-01-14T08:20:00Z");
}

#[test]
fn image_tag_filter_keeps_only_repos_with_that_exact_tag() {
    let r = ranking();
    let out = run(
        &r.registry,
        &["-f", "pretty", "search", "image", "alpine", "--tag", "3.19"],
    )
    .ok();
    assert_eq!(out.lines(), ["alpine", "alpine-base"]);
    let v = run(
        &r.registry,
        &["-f", "json", "search", "image", "alpine", "--tag", "3.19"],
    )
    .ok()
    .json();
    assert_eq!(v["tag_filter"], "3.19");
    assert_eq!(v["total_results"], 2);
    for hit in v["results"].as_array().unwrap() {
        assert_eq!(hit["matching_tag"], "3.19");
    }
    // `3.1` is not `3.19`: exact tag, not fuzzy.
    let none = run(
        &r.registry,
        &["-f", "json", "search", "image", "alpine", "--tag", "3.1"],
    )
    .ok()
    .json();
    assert_eq!(none["total_results"], 0);
    assert_eq!(none["results"], serde_json::json!([]));
    // The limit counts qualifying repositories, not candidates.
    let one = run(
        &r.registry,
        &[
            "-f", "pretty", "search", "image", "alpine", "--tag", "3.19", "--limit", "1",
        ],
    )
    .ok();
    assert_eq!(one.lines(), ["alpine"]);
}

#[test]
fn image_modes_exact_quoted_wildcard_regex() {
    let r = ranking();
    let lines = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["-f", "pretty", "search", "image"];
        a.extend_from_slice(args);
        run(&r.registry, &a)
            .ok()
            .lines()
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    assert_eq!(lines(&["alpine", "--exact"]), ["alpine", "tools/alpine"]);
    assert_eq!(lines(&["\"alpine\""]), ["alpine", "tools/alpine"]);
    assert_eq!(lines(&["myapp", "--exact"]), ["myapp"]);
    // Wildcards anchor on the name or its last segment.
    assert_eq!(lines(&["alp*"]), ["alpine", "tools/alpine", "alpine-base"]);
    assert_eq!(lines(&["*-alpine"]), ["myapp-alpine"]);
    // Regexes are searched in the whole name; anchors are the user's.
    assert_eq!(lines(&["^alpine"]), ["alpine", "alpine-base"]);
    // Pattern hits rank by matched length, then alphabetically.
    assert_eq!(
        lines(&["alpine$"]),
        ["alpine", "myapp-alpine", "tools/alpine"]
    );
}

#[test]
fn image_limit_quiet_and_yaml() {
    let r = ranking();
    let out = run(
        &r.registry,
        &["-f", "pretty", "search", "image", "alpine", "--limit", "2"],
    )
    .ok();
    assert_eq!(out.lines(), ["alpine", "tools/alpine"]);
    let zero = run(
        &r.registry,
        &["-f", "json", "search", "image", "alpine", "--limit", "0"],
    )
    .ok()
    .json();
    assert_eq!(zero["total_results"], 0);
    let quiet = run(
        &r.registry,
        &["-q", "-f", "pretty", "search", "image", "alp"],
    )
    .ok();
    assert_eq!(quiet.lines()[0], "alpine");
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    let y: Value = serde_yaml::from_str(
        &run(&r.registry, &["-f", "yaml", "search", "image", "nginx"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(y["search_type"], "image");
    assert_eq!(y["results"][0]["name"], "nginx");
    assert_eq!(y["results"][0]["tags"], 3);
    assert_eq!(y["results"][0]["last_updated"], "2024-01-03T00:00:00Z");
    // Quiet: last_updated is not fetched (it costs a manifest and a config per tag).
    let q = run(
        &r.registry,
        &["-q", "-f", "json", "search", "image", "nginx"],
    )
    .ok()
    .json();
    assert_eq!(q["results"][0]["last_updated"], Value::Null);
    assert_eq!(q["results"][0]["tags"], 3);
    let bad = run(&r.registry, &["search", "image", "x", "--limit", "many"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn no_results_exit_zero_with_empty_output() {
    let r = ranking();
    let out = run(&r.registry, &["-f", "pretty", "search", "image", "zzzzqqq"]).ok();
    assert_eq!(out.stdout.trim(), "No images match 'zzzzqqq'.");
    let out = run(
        &r.registry,
        &["-q", "-f", "pretty", "search", "tags", "zzzzqqq"],
    )
    .ok();
    assert_eq!(out.stdout, "");
    let v = run(&r.registry, &["-f", "json", "search", "tags", "zzzzqqq"])
        .ok()
        .json();
    assert_eq!(v["total_results"], 0);
    assert_eq!(v["results"], serde_json::json!([]));
}

#[test]
fn invalid_regex_is_a_usage_error_before_any_request() {
    let r = ranking();
    for cmd in ["image", "tags"] {
        let out = run(&r.registry, &["search", cmd, "^(unclosed"]).code(2);
        assert!(out.stderr.contains("(unclosed"), "{}", out.stderr);
    }
    // Not even a registry is needed to reject it.
    let home = RexHome::new();
    let out = rex(&home)
        .args(["--registry", "127.0.0.1:1", "search", "image", "^[z-a]$"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn tags_across_all_images_rank_and_carry_digest_and_size() {
    let r = ranking();
    let out = run(&r.registry, &["-f", "pretty", "search", "tags", "alpine"]).ok();
    let lines = out.lines();
    // Exact tag first, then prefix, then word boundary.
    assert_eq!(lines[0], "nginx:alpine", "{lines:?}");
    assert_eq!(lines[1], "myapp:alpine-v1", "{lines:?}");
    for want in ["nginx:1.24-alpine", "postgres:16-alpine"] {
        assert!(lines.contains(&want), "{want} missing: {lines:?}");
    }
    assert!(lines.iter().all(|l| l.contains(':')), "{lines:?}");

    let v = run(&r.registry, &["-f", "json", "search", "tags", "alpine"])
        .ok()
        .json();
    assert_eq!(v["search_type"], "tags");
    assert_eq!(v["image_scope"], Value::Null);
    assert_eq!(v["total_results"], lines.len());
    for hit in v["results"].as_array().unwrap() {
        let (image, tag) = (hit["image"].as_str().unwrap(), hit["tag"].as_str().unwrap());
        assert_eq!(hit["reference"], format!("{image}:{tag}"));
        let (digest, size) = &r.truth[&(image.to_owned(), tag.to_owned())];
        assert_eq!(hit["digest"], digest.as_str(), "{hit}");
        assert_eq!(hit["size"], *size, "{hit}");
        let keys: Vec<&String> = hit.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["image", "tag", "reference", "digest", "size"],
            "design order"
        );
    }
}

#[test]
fn tags_within_one_image_and_shared_digests_fetched_once() {
    let r = ranking();
    let out = run(
        &r.registry,
        &["-f", "pretty", "search", "tags", "v1", "--image", "myapp"],
    )
    .ok();
    let tags: Vec<String> = r.pushed["myapp"]
        .iter()
        .map(|(t, _)| t.to_string())
        .collect();
    assert_eq!(out.lines(), core_rank("v1", false, &tags, 50));
    assert!(
        out.lines().iter().all(|l| !l.contains(':')),
        "{}",
        out.stdout
    );
    assert!(!out.lines().contains(&"v2.0.0"));

    let v = run(
        &r.registry,
        &[
            "-f", "json", "search", "tags", "v1", "--image", "myapp", "--limit", "2",
        ],
    )
    .ok()
    .json();
    assert_eq!(v["image_scope"], "myapp");
    assert_eq!(v["total_results"], 2);
    let first = &v["results"][0];
    assert!(first.get("image").is_none(), "{first}");
    assert_eq!(
        first["reference"],
        format!("myapp:{}", first["tag"].as_str().unwrap())
    );

    // `3.20` and `latest` of alpine are one image: one manifest GET each by tag, but the
    // config blob is fetched once.
    let before = r.registry.request_count("GET", "/v2/alpine/blobs/");
    let v = run(
        &r.registry,
        &[
            "-f",
            "json",
            "--no-cache",
            "search",
            "tags",
            "*",
            "--image",
            "alpine",
        ],
    )
    .ok()
    .json();
    assert_eq!(v["total_results"], 3);
    let after = r.registry.request_count("GET", "/v2/alpine/blobs/");
    assert_eq!(after - before, 2, "one config per distinct image");
    let latest = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["tag"] == "latest")
        .unwrap();
    let t320 = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["tag"] == "3.20")
        .unwrap();
    assert_eq!(latest["digest"], t320["digest"]);
}

#[test]
fn pretty_output_fetches_no_details() {
    let r = ranking();
    let before = r.registry.request_count("GET", "/manifests/");
    run(&r.registry, &["-f", "pretty", "search", "tags", "v1"]).ok();
    run(&r.registry, &["-f", "pretty", "search", "image", "alpine"]).ok();
    assert_eq!(r.registry.request_count("GET", "/manifests/"), before);
}

#[test]
fn tags_unknown_image_is_not_found() {
    let r = ranking();
    let out = run(
        &r.registry,
        &["search", "tags", "v1", "--image", "no-such-image"],
    );
    assert_eq!(out.code, 5, "not found: {}", out.stderr);
    let out = run(
        &r.registry,
        &["search", "tags", "v1", "--image", "myapp:v1"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
}

// ───────────────────────── the shared fixtures ─────────────────────────

#[test]
fn shared_fixtures_hub_style_deep_paths_and_deleted_tags() {
    let shared = TestRegistry::shared("anonymous");
    let f = &shared.fixtures;
    // library/alpine: a Docker Hub-style name, found by its last segment.
    let v = run(
        shared,
        &["-f", "json", "search", "image", "alpine", "--exact"],
    )
    .ok()
    .json();
    assert_eq!(names(&v, "name"), ["library/alpine"]);
    let alpine_tags: usize = f.alpine.iter().map(|i| i.tags.len()).sum();
    assert_eq!(v["results"][0]["tags"], alpine_tags);
    // Deep path: exact on the last segment.
    let out = run(shared, &["-f", "pretty", "search", "image", "image"]).ok();
    assert_eq!(out.lines()[0], f.deep.repo, "{}", out.stdout);
    // The deleted repository answers `tags: null`: listed with 0 tags, never fails.
    let v = run(
        shared,
        &["-f", "json", "search", "image", "deleted", "--exact"],
    )
    .ok()
    .json();
    assert_eq!(names(&v, "name"), std::slice::from_ref(&f.deleted.repo));
    assert_eq!(v["results"][0]["tags"], 0);
    assert_eq!(v["results"][0]["last_updated"], Value::Null);
    let v = run(
        shared,
        &[
            "-f",
            "json",
            "search",
            "tags",
            &f.deleted.deleted_tag,
            "--exact",
        ],
    )
    .ok()
    .json();
    assert_eq!(v["total_results"], 0, "{v}");
    // The whole catalog agrees with the matcher.
    let repos: Vec<String> = f.repositories().into_iter().collect();
    let v = run(shared, &["-f", "json", "search", "image", "rex"])
        .ok()
        .json();
    let mut got = names(&v, "name");
    let mut want = core_rank("rex", false, &repos, 50);
    got.sort();
    want.sort();
    assert_eq!(got, want);
    // Exact tag across all repositories, with digests from the fixtures.
    let v = run(shared, &["-f", "json", "search", "tags", "3.19", "--exact"])
        .ok()
        .json();
    assert_eq!(v["total_results"], 1, "{v}");
    let hit = &v["results"][0];
    assert_eq!(hit["reference"], "library/alpine:3.19");
    let img = f
        .alpine
        .iter()
        .find(|i| i.tags.iter().any(|t| t == "3.19"))
        .unwrap();
    assert_eq!(hit["digest"], img.digest.as_str());
    assert_eq!(hit["size"], img.total_size());
    // Deep path in tags output too.
    let out = run(
        shared,
        &["-f", "pretty", "search", "tags", "deep", "--exact"],
    )
    .ok();
    assert_eq!(out.lines(), [format!("{}:deep", f.deep.repo)]);
}

#[test]
fn tag_filter_lists_tags_only_of_matching_candidates() {
    let r = ranking();
    let before = |repo: &str| {
        r.registry
            .request_count("GET", &format!("/v2/{repo}/tags/list"))
    };
    let (nginx, postgres, alpine) = (before("nginx"), before("postgres"), before("alpine"));
    run(
        &r.registry,
        &["-f", "pretty", "search", "image", "alpine", "--tag", "3.19"],
    )
    .ok();
    assert_eq!(before("nginx"), nginx, "nginx does not match 'alpine'");
    assert_eq!(before("postgres"), postgres);
    assert_eq!(before("alpine"), alpine + 1);
}

// ───────────────────────── a hostile registry ─────────────────────────

/// A minimal registry over plain HTTP whose catalog and tag lists carry terminal escape
/// sequences and an invalid repository name (a real `docker-registry` refuses to store
/// such names, a hostile or broken server may still send them).
fn hostile_registry() -> String {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // Skip the headers.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) <= 2 {
                    break;
                }
            }
            let path = request.split(' ').nth(1).unwrap_or("/").to_owned();
            let body = if path.starts_with("/v2/_catalog") {
                r#"{"repositories":["evil/\u001b]0;pwned\u0007app","good/app"]}"#
            } else if path.starts_with("/v2/good/app/tags/list") {
                r#"{"name":"good/app","tags":["v1\u001b[2J","v1.0"]}"#
            } else if path == "/v2/" || path.starts_with("/v2/?") {
                "{}"
            } else {
                r#"{"errors":[{"code":"NAME_UNKNOWN","message":"no"}]}"#
            };
            let status = if body.starts_with(r#"{"errors"#) {
                "404 Not Found"
            } else {
                "200 OK"
            };
            let mut s = stream;
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\
                 Docker-Distribution-API-Version: registry/2.0\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn registry_strings_are_sanitised_and_bad_names_skipped() {
    let url = hostile_registry();
    let home = RexHome::new();
    let go = |args: &[&str]| {
        let out = rex(&home)
            .args(["--registry", &url, "--no-cache", "-f", "pretty"])
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
        assert!(
            !stdout.chars().any(|c| c.is_control() && c != '\n'),
            "control characters reached the terminal: {stdout:?}"
        );
        stdout
    };
    let images = go(&["search", "image", "app"]);
    let lines: Vec<&str> = images.lines().collect();
    assert_eq!(lines.len(), 2, "{images:?}");
    assert!(lines.contains(&"good/app"), "{images:?}");
    assert!(lines.iter().any(|l| l.starts_with("evil/")), "{images:?}");
    // Its tags cannot be listed (invalid name): still a match, with an unknown count.
    let out = rex(&home)
        .args([
            "--registry",
            &url,
            "--no-cache",
            "-f",
            "json",
            "search",
            "image",
            "evil",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["tags"], Value::Null, "{v}");
    assert_eq!(
        v["results"][0]["name"], "evil/\u{1b}]0;pwned\u{7}app",
        "json keeps the bytes"
    );
    // Across all images: the invalid name is skipped, the rest still searched.
    let tags = go(&["search", "tags", "v1"]);
    let lines: Vec<&str> = tags.lines().collect();
    assert_eq!(lines.len(), 2, "{tags:?}");
    assert!(lines.contains(&"good/app:v1.0"), "{tags:?}");
    assert!(lines
        .iter()
        .any(|l| l.starts_with("good/app:v1") && *l != "good/app:v1.0"));
}

#[test]
fn large_catalog_across_pages() {
    let shared = TestRegistry::shared("large");
    let large = shared.fixtures.large.as_ref().expect("large fixtures");
    let out = run(shared, &["-f", "pretty", "search", "image", "repo-0999"]).ok();
    assert_eq!(out.lines()[0], "many/repo-0999", "{}", out.stdout);
    // 1100 repositories (two catalog pages), each with `latest`: tags/list of every one.
    let v = run(
        shared,
        &[
            "-f", "json", "-q", "search", "tags", "latest", "--exact", "--limit", "2000",
        ],
    )
    .ok()
    .json();
    let refs: Vec<String> = names(&v, "reference");
    for repo in [&large.repos[0], &large.repos[large.repos.len() - 1]] {
        assert!(refs.contains(&format!("{repo}:latest")), "{repo} missing");
    }
    assert!(refs.len() > large.repos.len(), "{}", refs.len());
}

#[test]
fn token_registry_after_login() {
    use std::io::Write as _;
    let shared = TestRegistry::shared("token");
    let home = RexHome::new();
    let url = shared.url();
    let mut login = rex(&home)
        .args([
            "registry",
            "login",
            &url,
            "-u",
            rex_tests::registry::SHARED_USER,
        ])
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    login
        .stdin
        .take()
        .unwrap()
        .write_all(rex_tests::registry::SHARED_PASSWORD.as_bytes())
        .unwrap();
    let out = login.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = rex(&home)
        .args([
            "--registry",
            &url,
            "-f",
            "json",
            "search",
            "tags",
            "3.19",
            "--exact",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(names(&v, "reference"), ["library/alpine:3.19"]);
    assert!(v["results"][0]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    let out = rex(&home)
        .args([
            "--registry",
            &url,
            "-f",
            "pretty",
            "search",
            "image",
            "alpine",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some("library/alpine")
    );
}

#[test]
fn empty_query_lists_catalog_and_uppercase_is_case_sensitive() {
    let r = ranking();
    let v = run(&r.registry, &["-f", "json", "search", "image", ""])
        .ok()
        .json();
    let all: Vec<String> = r.pushed.keys().map(|s| s.to_string()).collect();
    assert_eq!(names(&v, "name"), all, "catalog order");
    let v = run(&r.registry, &["-f", "json", "search", "image", "Alpine"])
        .ok()
        .json();
    assert_eq!(v["total_results"], 0, "smart case: {v}");
}
