//! `rex image` end to end: the real `rex` binary (build it first: `cargo build -p rex-cli`)
//! against real `docker-registry` processes from the rex-tests harness. Expected values
//! come from the harness' `Fixtures` (what was pushed), never from hard-coded digests.

use rex_tests::cli::{rex_bin, rex_command, RexHome, Run};
use rex_tests::fixtures::{push_image, ImageInfo, ImageSpec};
use rex_tests::{Fixtures, Mode, SharedRegistry, TestRegistry};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

fn shared() -> &'static SharedRegistry {
    TestRegistry::shared("anonymous")
}

fn fx() -> &'static Fixtures {
    &shared().fixtures
}

/// `rex -r <url> ARGS` in an isolated home, without a cache (each run asks the registry).
fn rex_at(url: &str, args: &[&str]) -> Run {
    let home = RexHome::new();
    Run::of(
        rex_command(rex_bin(), &home)
            .args(["--registry", url, "--no-cache"])
            .args(args),
    )
}

fn rex(args: &[&str]) -> Run {
    rex_at(&shared().url(), args)
}

/// The rows of `rex image -f json` by name.
fn images_by_name(v: &Value) -> BTreeMap<String, Value> {
    v["images"]
        .as_array()
        .expect("images array")
        .iter()
        .map(|i| (i["name"].as_str().unwrap().to_owned(), i.clone()))
        .collect()
}

/// Push an image to a repository of its own in the shared registry (tests that push use
/// distinct repositories, so the shared fixtures stay as described).
fn push(repo: &str, spec: &ImageSpec, tags: &[&str]) -> ImageInfo {
    let pusher = shared().pusher();
    rex_tests::block_on(push_image(&pusher, repo, spec, tags)).expect("push image")
}

fn tag_names(v: &Value) -> Vec<String> {
    v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap().to_owned())
        .collect()
}

// ───────────────────────────── rex image ─────────────────────────────

#[test]
fn list_json_has_tag_counts_and_newest_created() {
    let f = fx();
    let v = rex(&["image", "-f", "json"]).ok().json();
    let rows = images_by_name(&v);
    for (repo, tags) in f.tags() {
        let row = rows
            .get(&repo)
            .unwrap_or_else(|| panic!("{repo} missing: {v}"));
        assert_eq!(row["tags"], tags.len(), "{repo}");
        assert_eq!(
            row.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["name", "tags", "last_updated"]
        );
    }
    // Newest created among the tags: 2.0 is newer than 1.0.
    assert_eq!(
        rows["rex/oci-image"]["last_updated"],
        f.oci_image_v2.created()
    );
    let newest_alpine = f.alpine.iter().map(|a| a.created()).max().unwrap();
    assert_eq!(rows["library/alpine"]["last_updated"], newest_alpine);
    let amd64 = f.multiarch.entry("linux/amd64").unwrap();
    assert_eq!(rows["rex/multiarch"]["last_updated"], amd64.image.created());
    // Null tags: listed with 0 tags and no date, no crash.
    assert_eq!(rows[&f.deleted.repo]["tags"], 0);
    assert_eq!(rows[&f.deleted.repo]["last_updated"], Value::Null);
}

#[test]
fn list_pretty_and_yaml_agree_with_json() {
    let json = rex(&["image", "-f", "json"]).ok().json();
    let yaml = rex(&["image", "-f", "yaml"]).ok().yaml();
    assert_eq!(json, yaml);
    let pretty = rex(&["image", "-f", "pretty"]).ok().stdout;
    let header = pretty.lines().next().unwrap();
    assert!(header.starts_with("NAME"), "{pretty}");
    assert!(header.contains("TAGS") && header.contains("LAST UPDATED"));
    let f = fx();
    let oci = pretty
        .lines()
        .find(|l| l.split_whitespace().next() == Some(f.oci_image.repo.as_str()))
        .unwrap_or_else(|| panic!("{pretty}"));
    let n = f.tags()[&f.oci_image.repo].len().to_string();
    assert_eq!(oci.split_whitespace().nth(1), Some(n.as_str()), "{oci}");
}

#[test]
fn list_filter_limit_quiet() {
    let f = fx();
    let v = rex(&["image", "--filter", "multiarch", "-f", "json"])
        .ok()
        .json();
    let names: Vec<&str> = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&f.multiarch.repo.as_str()), "{names:?}");
    assert!(!names.contains(&"library/alpine"), "{names:?}");

    let v = rex(&["image", "--limit", "2", "-f", "json"]).ok().json();
    assert_eq!(v["images"].as_array().unwrap().len(), 2);

    let quiet = rex(&["image", "-q", "-f", "pretty"]).ok().stdout;
    let lines: BTreeSet<&str> = quiet.lines().collect();
    for repo in f.repositories() {
        assert!(lines.contains(repo.as_str()), "{repo} not in\n{quiet}");
    }
    assert!(!quiet.contains("TAGS"));
    let v = rex(&["image", "-q", "-f", "json"]).ok().json();
    assert!(v["images"][0].get("tags").is_none(), "{v}");
}

#[test]
fn requests_quiet_fetches_nothing_and_shared_digests_once() {
    // A registry of our own: its access log counts only our requests.
    let reg = TestRegistry::start(Mode::Anonymous);
    let f = reg.push_standard().expect("push");
    let url = reg.url();
    let count = |path: &str| reg.request_count("GET", path);

    let before_tags = count("/tags/list");
    let before_manifests = count("/manifests/");
    rex_at(&url, &["image", "-q", "-f", "json"]).ok();
    assert_eq!(count("/tags/list"), before_tags, "--quiet listed tags");
    assert_eq!(count("/manifests/"), before_manifests);

    rex_at(&url, &["image", &f.oci_image.repo, "-q", "-f", "json"]).ok();
    assert_eq!(
        count("/manifests/"),
        before_manifests,
        "-q fetched manifests"
    );

    let repo = &f.oci_image.repo;
    let before_blobs = count(&format!("/v2/{repo}/blobs/"));
    let before_m = count(&format!("/v2/{repo}/manifests/"));
    let v = rex_at(&url, &["image", repo, "-f", "json"]).ok().json();
    let tags = f.tags()[repo].clone();
    assert_eq!(tag_names(&v).len(), tags.len());
    let distinct: BTreeSet<&String> = tags.values().collect();
    assert_eq!(
        count(&format!("/v2/{repo}/manifests/")) - before_m,
        tags.len()
    );
    assert_eq!(
        count(&format!("/v2/{repo}/blobs/")) - before_blobs,
        distinct.len(),
        "one config per distinct digest"
    );
}

// ───────────────────────────── rex image NAME ─────────────────────────────

#[test]
fn tags_json_matches_fixtures() {
    let f = fx();
    for img in [&f.oci_image, &f.oci_image_v2] {
        let v = rex(&["image", &img.repo, "-f", "json"]).ok().json();
        assert_eq!(v["name"], img.repo);
        for row in v["tags"].as_array().unwrap() {
            let tag = row["tag"].as_str().unwrap();
            if !img.tags.iter().any(|t| t == tag) {
                continue;
            }
            assert_eq!(
                row,
                &json!({
                    "tag": tag,
                    "digest": img.digest,
                    "size": img.total_size(),
                    "created": img.created(),
                    "platforms": [img.platform().to_string()],
                })
            );
        }
    }
    let expected: BTreeSet<String> = f.tags()[&f.oci_image.repo].keys().cloned().collect();
    let v = rex(&["image", &f.oci_image.repo, "-f", "yaml"]).ok().yaml();
    let got: BTreeSet<String> = tag_names(&v).into_iter().collect();
    assert_eq!(got, expected);
}

#[test]
fn tags_of_index_list_runnable_platforms_only() {
    let f = fx();
    for idx in [&f.multiarch, &f.docker_list] {
        let v = rex(&["image", &idx.repo, "-f", "json"]).ok().json();
        let amd64 = idx.entry("linux/amd64").unwrap();
        let want: Vec<String> = idx
            .image_platforms()
            .iter()
            .map(|p| p.to_string())
            .collect();
        for row in v["tags"].as_array().unwrap() {
            assert_eq!(row["digest"], idx.digest);
            assert_eq!(row["platforms"], json!(want));
            assert_eq!(row["size"], amd64.image.total_size());
            assert_eq!(row["created"], amd64.image.created());
        }
        assert!(!v.to_string().contains("unknown/unknown"));
    }
}

#[test]
fn tags_sort_orders_and_limit() {
    let repo = "image-tests/semver";
    let mut specs = Vec::new();
    for (i, (tag, created, layers)) in [
        ("1.9", "2024-03-01T00:00:00Z", 1),
        ("1.10", "2024-01-01T00:00:00Z", 3),
        ("1.2", "2024-02-01T00:00:00Z", 2),
        ("latest", "2023-01-01T00:00:00Z", 1),
    ]
    .into_iter()
    .enumerate()
    {
        let spec = ImageSpec::new(500 + i as u64)
            .created(created)
            .layer_count(500 + i as u64, layers);
        specs.push((tag, push(repo, &spec, &[tag])));
    }
    let order = |args: &[&str]| {
        let mut a = vec!["image", repo, "-f", "json"];
        a.extend_from_slice(args);
        tag_names(&rex(&a).ok().json())
    };
    assert_eq!(order(&[]), ["1.2", "1.9", "1.10", "latest"]);
    assert_eq!(order(&["--sort", "name"]), ["1.2", "1.9", "1.10", "latest"]);
    // Newest first, from what was pushed.
    let mut by_date = specs.clone();
    by_date.sort_by(|a, b| b.1.created().cmp(a.1.created()));
    let want: Vec<&str> = by_date.iter().map(|(t, _)| *t).collect();
    assert_eq!(order(&["--sort", "date"]), want);
    // Largest first.
    let mut by_size = specs.clone();
    by_size.sort_by_key(|(_, i)| std::cmp::Reverse(i.total_size()));
    let want: Vec<&str> = by_size.iter().map(|(t, _)| *t).collect();
    assert_eq!(order(&["--sort", "size"]), want);
    assert_eq!(order(&["--sort", "date", "--limit", "1"]), [by_date[0].0]);
    assert_eq!(order(&["--limit", "2"]), ["1.2", "1.9"]);
    // Quiet: names only, same order.
    let q = rex(&["image", repo, "-q", "-f", "pretty"]).ok().stdout;
    assert_eq!(
        q.lines().collect::<Vec<_>>(),
        ["1.2", "1.9", "1.10", "latest"]
    );
    // Bad sort key: usage error.
    rex(&["image", repo, "--sort", "colour"]).code(2);
}

#[test]
fn tags_filter_and_pretty_table() {
    let f = fx();
    let v = rex(&["image", &f.oci_image.repo, "--filter", "1.0", "-f", "json"])
        .ok()
        .json();
    let names = tag_names(&v);
    assert!(names.contains(&"1.0".to_owned()) && names.contains(&"1.0.1".to_owned()));
    assert!(!names.contains(&"2.0".to_owned()), "{names:?}");

    let pretty = rex(&["image", &f.multiarch.repo, "-f", "pretty"])
        .ok()
        .stdout;
    let header: Vec<&str> = pretty.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["TAG", "DIGEST", "SIZE", "CREATED", "PLATFORMS"]);
    // Digest truncated, platforms listed.
    assert!(pretty.contains(&f.multiarch.digest[..19]), "{pretty}");
    assert!(!pretty.contains(&f.multiarch.digest), "{pretty}");
    assert!(pretty.contains("linux/arm64/v8"), "{pretty}");
}

#[test]
fn tags_of_deleted_deep_and_library_repositories() {
    let f = fx();
    let v = rex(&["image", &f.deleted.repo, "-f", "json"]).ok().json();
    assert_eq!(v, json!({"name": f.deleted.repo, "tags": []}));
    rex(&["image", &f.deleted.repo, "-f", "pretty"]).ok();

    let v = rex(&["image", &f.deep.repo, "-f", "json"]).ok().json();
    assert_eq!(tag_names(&v), f.deep.tags);
    assert_eq!(v["tags"][0]["digest"], f.deep.digest);

    let v = rex(&["image", "library/alpine", "-f", "json"]).ok().json();
    let want: BTreeSet<String> = f.tags()["library/alpine"].keys().cloned().collect();
    assert_eq!(tag_names(&v).into_iter().collect::<BTreeSet<_>>(), want);
}

#[test]
fn not_found_exits_5_with_hint() {
    let r = rex(&["image", "no/such-repo", "-f", "json"]).code(5);
    assert!(r.stderr.contains("rex image"), "{}", r.stderr);
    let f = fx();
    let r = rex(&["image", &format!("{}:no-such-tag", f.oci_image.repo)]).code(5);
    assert!(r.stderr.contains("rex image"), "{}", r.stderr);
    rex(&["image", "inspect", "no/such-repo:1"]).code(5);
    let missing = format!("{}@sha256:{}", f.oci_image.repo, "0".repeat(64));
    rex(&["image", &missing]).code(5);
    // A network failure is exit 3.
    rex_at("http://127.0.0.1:9", &["image", "--timeout", "2"]).code(3);
}

// ───────────────────────────── rex image NAME:TAG ─────────────────────────────

fn assert_summary_of(v: &Value, img: &ImageInfo) {
    let s = &img.spec;
    assert_eq!(v["config"]["entrypoint"], json!(s.entrypoint));
    assert_eq!(v["config"]["env"], json!(s.env));
    assert_eq!(v["config"]["working_dir"], s.working_dir);
    assert_eq!(v["config"]["user"], s.user);
    let layers: Vec<Value> = img
        .layers
        .iter()
        .map(|l| json!({"digest": l.digest, "size": l.size}))
        .collect();
    assert_eq!(v["layers"], json!(layers));
    assert_eq!(v["labels"], json!(s.labels));
    assert_eq!(v["created"], s.created);
    assert_eq!(v["size"], img.total_size());
}

#[test]
fn show_image_in_every_format() {
    let f = fx();
    let img = &f.oci_image;
    let reference = format!("{}:1.0", img.repo);
    let v = rex(&["image", &reference, "-f", "json"]).ok().json();
    assert_eq!(v["reference"], reference);
    assert_eq!(v["digest"], img.digest);
    assert_eq!(v["manifest_type"], "OCI Image Manifest");
    assert_eq!(v["platforms"], json!([img.platform().to_string()]));
    assert_summary_of(&v, img);
    for key in [
        "reference",
        "digest",
        "manifest_type",
        "size",
        "platforms",
        "config",
        "layers",
        "labels",
        "created",
    ] {
        assert!(v.get(key).is_some(), "{key} missing in {v}");
    }
    assert_eq!(rex(&["image", &reference, "-f", "yaml"]).ok().yaml(), v);
    // The design's layout line for line, built from what was pushed.
    let pretty = rex(&["image", &reference, "-f", "pretty"]).ok().stdout;
    let spec = &img.spec;
    let mut want = vec![
        format!("Image: {reference}"),
        format!("Digest: {}", img.digest),
        "Type: OCI Image Manifest".to_owned(),
    ];
    let head: Vec<&str> = pretty.lines().take(4).collect();
    assert_eq!(head[..3], want[..], "{pretty}");
    assert!(head[3].starts_with("Size: "), "{pretty}");
    want = vec![
        "Configuration:".to_owned(),
        format!("  Entrypoint: {}", spec.entrypoint.join(" ")),
        format!("  Env: {}", spec.env[0]),
    ];
    want.extend(spec.env[1..].iter().map(|e| format!("       {e}")));
    want.push(format!("  WorkingDir: {}", spec.working_dir));
    want.push(format!("  User: {}", spec.user));
    want.push(String::new());
    want.push(format!("Layers: {}", img.layers.len()));
    for l in &img.layers {
        want.push(format!("  {}... (", &l.digest[..19]));
    }
    let lines: Vec<&str> = pretty.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "Configuration:")
        .unwrap_or_else(|| panic!("{pretty}"));
    for (n, w) in want.iter().enumerate() {
        let got = lines[at + n];
        let ok = if w.ends_with('(') {
            got.starts_with(w.as_str())
        } else {
            got == w
        };
        assert!(ok, "line {n}: {got:?}, want {w:?}\n{pretty}");
    }
    for (k, v) in &spec.labels {
        assert!(pretty.contains(&format!("\n  {k}: {v}\n")), "{k}\n{pretty}");
    }
    assert!(
        pretty.ends_with(&format!("\n\nCreated: {}\n", img.created())),
        "{pretty}"
    );
}

#[test]
fn show_every_manifest_type() {
    let f = fx();
    let cases = [
        (
            format!("{}:v1", f.docker_image.repo),
            "Docker Image Manifest V2",
        ),
        (
            format!("{}:latest", f.docker_list.repo),
            "Docker Manifest List",
        ),
        (format!("{}:latest", f.multiarch.repo), "OCI Image Index"),
        (
            format!("{}:latest", f.no_media_type.repo),
            "OCI Image Manifest",
        ),
        (format!("{}:deep", f.deep.repo), "OCI Image Manifest"),
    ];
    for (reference, kind) in cases {
        let v = rex(&["image", &reference, "-f", "json"]).ok().json();
        assert_eq!(v["manifest_type"], kind, "{reference}");
    }
    let v = rex(&[
        "image",
        &format!("{}:v1", f.docker_image.repo),
        "-f",
        "json",
    ])
    .ok()
    .json();
    assert_summary_of(&v, &f.docker_image);
}

#[test]
fn show_multiplatform_with_platform_selection_and_windows_version() {
    let f = fx();
    let idx = &f.multiarch;
    let reference = format!("{}:latest", idx.repo);
    let v = rex(&["image", &reference, "-f", "json"]).ok().json();
    let want: Vec<String> = idx
        .image_platforms()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(v["platforms"], json!(want), "attestation not listed");
    assert_eq!(v["digest"], idx.digest);
    assert_summary_of(&v, &idx.entry("linux/amd64").unwrap().image);

    let arm = idx.entry("linux/arm64/v8").unwrap();
    let v = rex(&[
        "image",
        &reference,
        "--platform",
        "linux/arm64",
        "-f",
        "json",
    ])
    .ok()
    .json();
    assert_summary_of(&v, &arm.image);
    assert_eq!(v["platform"], "linux/arm64/v8");

    let win = idx
        .entries
        .iter()
        .find(|e| e.platform.as_ref().is_some_and(|p| p.os == "windows"))
        .unwrap();
    let version = win.platform.as_ref().unwrap().os_version.clone().unwrap();
    let pretty = rex(&["image", &reference, "-f", "pretty"]).ok().stdout;
    assert!(pretty.contains(&version), "os.version missing:\n{pretty}");
    assert!(pretty.contains("attestation"), "{pretty}");
    assert!(!pretty.contains("unknown/unknown"), "{pretty}");
    let v = rex(&[
        "image",
        &reference,
        "--platform",
        "windows/amd64",
        "-f",
        "json",
    ])
    .ok()
    .json();
    assert_summary_of(&v, &win.image);

    let r = rex(&["image", &reference, "--platform", "linux/s390x"]).code(5);
    assert!(
        r.stderr.contains("linux/amd64"),
        "lists what exists: {}",
        r.stderr
    );
    rex(&["image", &reference, "--platform", "nonsense"]).code(2);
}

#[test]
fn show_untagged_by_digest_and_with_registry_prefix() {
    let f = fx();
    let u = &f.untagged;
    let v = rex(&["image", &format!("{}@{}", u.repo, u.digest), "-f", "json"])
        .ok()
        .json();
    assert_eq!(v["digest"], u.digest);
    assert_summary_of(&v, u);

    // A registry in the reference is used instead of --registry (here: a bogus one).
    let home = RexHome::new();
    let reference = format!("{}/{}:1.0", shared().host_port(), f.oci_image.repo);
    let out = rex_command(rex_bin(), &home)
        .args(["--no-cache", "image", &reference, "-f", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["digest"], f.oci_image.digest);
}

// ───────────────────────────── rex image inspect ─────────────────────────────

#[test]
fn inspect_json_and_pretty_have_everything() {
    let f = fx();
    let img = &f.oci_image;
    let reference = format!("{}:1.0", img.repo);
    let v = rex(&["image", "inspect", &reference, "-f", "json"])
        .ok()
        .json();
    assert_eq!(v["digest"], img.digest);
    assert_eq!(v["media_type"], img.media_type);
    assert_eq!(v["config_digest"], img.config_digest);
    assert_eq!(v["total_size"], img.total_size());
    let layers: Vec<(String, u64, String)> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["digest"].as_str().unwrap().to_owned(),
                l["size"].as_u64().unwrap(),
                l["mediaType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, u64, String)> = img
        .layers
        .iter()
        .map(|l| (l.digest.clone(), l.size, l.media_type.clone()))
        .collect();
    assert_eq!(layers, want);
    let diff_ids: Vec<&str> = img.layers.iter().map(|l| l.diff_id.as_str()).collect();
    assert_eq!(v["rootfs"]["diff_ids"], json!(diff_ids));
    assert_eq!(
        v["history"].as_array().unwrap().len(),
        img.spec.effective_history().len()
    );
    assert_eq!(v["annotations"], json!(img.spec.annotations));
    assert_eq!(v["config"]["config"]["Cmd"], json!(img.spec.cmd));
    assert_eq!(
        rex(&["image", "inspect", &reference, "-f", "yaml"])
            .ok()
            .yaml(),
        v
    );

    let pretty = rex(&["image", "inspect", &reference, "-f", "pretty"])
        .ok()
        .stdout;
    let l0 = &img.layers[0];
    for want in [
        format!("Digest:     {}", img.digest),
        format!("Config Digest:   {}", img.config_digest),
        format!("Layers ({})", img.layers.len()),
        format!("1. {}", l0.digest),
        format!("{} bytes)", rex_core::format::format_bytes_exact(l0.size)),
        l0.media_type.clone(),
        format!("History ({} entries)", img.spec.effective_history().len()),
        format!("- {}", l0.diff_id),
        "RootFS".to_owned(),
        "ExposedPorts".to_owned(),
        img.spec.cmd.join("\n      - "),
    ] {
        assert!(pretty.contains(&want), "{want:?} not in\n{pretty}");
    }
}

#[test]
fn inspect_index_lists_platforms_with_attestation_flag() {
    let f = fx();
    let idx = &f.multiarch;
    let v = rex(&[
        "image",
        "inspect",
        &format!("{}:v1", idx.repo),
        "-f",
        "json",
    ])
    .ok()
    .json();
    let platforms = v["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), idx.entries.len());
    for (p, e) in platforms.iter().zip(&idx.entries) {
        assert_eq!(p["digest"], e.image.digest);
        assert_eq!(p["size"], e.image.manifest_size());
        assert_eq!(p["attestation"], e.is_attestation());
        let want = e.platform.as_ref().and_then(|p| p.os_version.clone());
        assert_eq!(p["os_version"], json!(want));
    }
    let pretty = rex(&[
        "image",
        "inspect",
        &format!("{}:v1", idx.repo),
        "-f",
        "pretty",
    ])
    .ok()
    .stdout;
    assert!(pretty.contains("Platforms Available"), "{pretty}");
    assert!(pretty.contains("attestation manifest for"), "{pretty}");
    assert!(pretty.contains("Configuration (linux/amd64)"), "{pretty}");
}

#[test]
fn inspect_artifact_subject_and_referrers() {
    let f = fx();
    let a = &f.artifact;
    let v = rex(&["image", "inspect", &format!("{}:v1", a.repo), "-f", "json"])
        .ok()
        .json();
    let referrers: Vec<&str> = v["referrers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["digest"].as_str().unwrap())
        .collect();
    assert_eq!(referrers, [a.digest.as_str()]);
    let v = rex(&[
        "image",
        "inspect",
        &format!("{}@{}", a.repo, a.digest),
        "-f",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(v["subject"]["digest"], a.subject.digest);
    assert_eq!(v["artifact_type"], a.artifact_type);
}

#[test]
fn raw_manifest_and_config_are_the_registry_bytes() {
    use rex_tests::oci::sha256_digest;
    let f = fx();
    for m in f.manifests() {
        let reference = format!("{}@{}", m.repo, m.digest);
        let r = rex(&["image", "inspect", &reference, "--raw-manifest"]).ok();
        // Piped: exactly the registry's bytes, no newline added, so the hash is the digest.
        assert_eq!(sha256_digest(&r.bytes), m.digest, "{reference}");
        assert!(r.bytes == m.body, "raw manifest of {reference} differs");
    }
    let img = &f.oci_image;
    let r = rex(&[
        "image",
        "inspect",
        &format!("{}:1.0", img.repo),
        "--raw-config",
        "-f",
        "json",
    ])
    .ok();
    assert!(r.bytes == img.config, "raw config differs:\n{}", r.stdout);
    assert_eq!(sha256_digest(&r.bytes), img.config_digest);

    // --platform picks the platform's manifest out of an index.
    let idx = &f.multiarch;
    let arm = idx.entry("linux/arm64/v8").unwrap();
    let r = rex(&[
        "image",
        "inspect",
        &format!("{}:latest", idx.repo),
        "--platform",
        "linux/arm64",
        "--raw-manifest",
    ])
    .ok();
    assert!(r.bytes == arm.image.manifest);
    assert_eq!(sha256_digest(&r.bytes), arm.image.digest);
    let r = rex(&[
        "image",
        "inspect",
        &format!("{}:latest", idx.repo),
        "--platform",
        "linux/arm64",
        "--raw-config",
    ])
    .ok();
    assert!(r.bytes == arm.image.config);
    assert_eq!(sha256_digest(&r.bytes), arm.image.config_digest);
    rex(&[
        "image",
        "inspect",
        &format!("{}:latest", idx.repo),
        "--raw-manifest",
        "--raw-config",
    ])
    .code(2);
}

#[test]
fn escape_sequences_from_the_registry_never_reach_the_terminal() {
    let repo = "image-tests/escape";
    // ESC/BEL sequences, DEL and C1 (U+009B is CSI for some terminals).
    let evil = "\u{1b}[31mred\u{1b}[0m\u{1b}]0;title\u{7}\u{7f}\u{9b}2J";
    let spec = ImageSpec::new(600)
        .layer_count(600, 1)
        .label("evil", evil)
        .annotation("evil", evil);
    let mut spec = spec;
    spec.env.push(format!("EVIL={evil}"));
    spec.user = evil.to_owned();
    push(repo, &spec, &["v1"]);
    let reference = format!("{repo}:v1");
    for args in [
        vec!["image", reference.as_str(), "-f", "pretty"],
        vec!["image", "inspect", reference.as_str(), "-f", "pretty"],
        vec!["image", repo, "-f", "pretty"],
        vec!["image", "--filter", "escape", "-f", "pretty"],
        vec!["image", reference.as_str(), "-f", "json"],
        vec!["image", reference.as_str(), "-f", "yaml"],
    ] {
        let r = rex(&args).ok();
        assert!(
            !r.bytes.contains(&0x1b),
            "ESC passed through for {args:?}:\n{}",
            r.stdout
        );
        assert!(!r.bytes.contains(&0x07), "BEL passed through for {args:?}");
        assert!(!r.bytes.contains(&0x7f), "DEL passed through for {args:?}");
        assert!(
            !r.stdout.contains('\u{9b}'),
            "C1 CSI passed through for {args:?}"
        );
    }
    let pretty = rex(&["image", &reference, "-f", "pretty"]).ok().stdout;
    assert!(
        pretty.contains("evil:") && pretty.contains("red"),
        "{pretty}"
    );
    // JSON keeps the value intact (escaped), for scripts.
    let v = rex(&["image", &reference, "-f", "json"]).ok().json();
    assert_eq!(v["labels"]["evil"], evil);
}

#[test]
fn inspect_pretty_shows_descriptor_and_index_annotations() {
    use rex_tests::oci;
    let repo = "image-tests/annotated";
    let img = push(
        repo,
        &ImageSpec::new(700).annotation("org.example.image", "image-level"),
        &[],
    );
    let entry = json!({
        "mediaType": img.media_type, "digest": img.digest, "size": img.manifest.len(),
        "platform": {"os": "linux", "architecture": "amd64"},
        "annotations": {"org.example.entry": "entry-level"},
    });
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": oci::OCI_INDEX, "manifests": [entry],
        "annotations": {"org.example.index": "index-level"},
    }))
    .unwrap();
    let pusher = shared().pusher();
    rex_tests::block_on(pusher.push_manifest(repo, "v1", oci::OCI_INDEX, &body)).unwrap();
    let pretty = rex(&["image", "inspect", &format!("{repo}:v1"), "-f", "pretty"])
        .ok()
        .stdout;
    for want in [
        "Index Annotations:\n  org.example.index: index-level\n",
        "    Annotations:\n      org.example.entry: entry-level\n",
        "Image Annotations (linux/amd64):\n  org.example.image: image-level\n",
    ] {
        assert!(pretty.contains(want), "{want:?} not in\n{pretty}");
    }
    // Layer descriptors' annotations (the artifact's layer has a title).
    let a = &fx().artifact;
    let pretty = rex(&[
        "image",
        "inspect",
        &format!("{}@{}", a.repo, a.digest),
        "-f",
        "pretty",
    ])
    .ok()
    .stdout;
    let layer = format!("1. {}\n", a.layers[0].digest);
    let at = pretty.find(&layer).unwrap_or_else(|| panic!("{pretty}"));
    assert!(
        pretty[at..]
            .contains("Annotations:\n      org.opencontainers.image.title: sbom.spdx.json\n"),
        "{pretty}"
    );
}

#[test]
fn options_that_mean_nothing_for_the_form_are_usage_errors() {
    let f = fx();
    let tagged = format!("{}:1.0", f.oci_image.repo);
    let by_digest = format!("{}@{}", f.oci_image.repo, f.oci_image.digest);
    for (args, names) in [
        (vec!["image", tagged.as_str(), "--sort", "date"], "--sort"),
        (vec!["image", by_digest.as_str(), "--limit", "1"], "--limit"),
        (
            vec!["image", tagged.as_str(), "--filter", "x", "--limit", "2"],
            "--filter, --limit",
        ),
        (vec!["image", "--platform", "linux/amd64"], "--platform"),
        (vec!["image", "--sort", "name"], "--sort"),
        (
            vec![
                "image",
                f.oci_image.repo.as_str(),
                "--platform",
                "linux/amd64",
            ],
            "--platform",
        ),
    ] {
        let r = rex(&args).code(2);
        assert!(
            r.stderr.contains(&format!("{names} do")) && r.stderr.contains("not apply"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{args:?}");
    }
    // Each form still takes its own options.
    rex(&["image", &tagged, "--platform", "linux/amd64", "-f", "json"]).ok();
    rex(&[
        "image",
        &f.oci_image.repo,
        "--sort",
        "date",
        "--limit",
        "1",
        "-f",
        "json",
    ])
    .ok();
    rex(&["image", "--filter", "oci", "--limit", "1", "-f", "json"]).ok();
}

#[test]
fn list_on_a_registry_that_refuses_the_catalog_hints_at_what_works() {
    // Anonymous pull is allowed, the catalog scope is not (Docker Hub style): 401.
    let reg = TestRegistry::shared("token");
    let r = rex_at(&reg.url(), &["image", "-f", "json"]).code(4);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("rex image NAME") && r.stderr.contains("rex registry login"),
        "{}",
        r.stderr
    );
    // What the hint suggests works there.
    let repo = &reg.fixtures.oci_image.repo;
    let v = rex_at(&reg.url(), &["image", repo, "-f", "json"])
        .ok()
        .json();
    assert_eq!(v["name"], repo.as_str());
}

#[test]
fn raw_config_that_is_not_utf8_and_lacks_a_newline_passes_unchanged() {
    use rex_tests::oci::{sha256_digest, OCI_MANIFEST};
    let repo = "image-tests/not-utf8";
    let img = push(repo, &ImageSpec::new(800), &[]);
    // A registry stores the blob it was sent; an unknown field with a Latin-1 byte is
    // ignored by rex's config parser, so --raw-config must hand back exactly these bytes.
    // (Manifests must be UTF-8: rex-core refuses one that is not before anything prints.)
    let with_junk = |json: &[u8]| {
        let mut b = b"{\"x-junk\":\"caf\xe9\",".to_vec();
        b.extend_from_slice(&json[1..]);
        while b.last() == Some(&b'\n') {
            b.pop();
        }
        b
    };
    let config = with_junk(&img.config);
    assert!(std::str::from_utf8(&config).is_err());
    let pusher = shared().pusher();
    let config_digest = rex_tests::block_on(pusher.push_blob(repo, &config)).unwrap();
    let mut manifest = img.manifest_json();
    manifest["config"]["digest"] = json!(config_digest);
    manifest["config"]["size"] = json!(config.len());
    let body = serde_json::to_vec(&manifest).unwrap();
    let digest =
        rex_tests::block_on(pusher.push_manifest(repo, "junk", OCI_MANIFEST, &body)).unwrap();
    assert_eq!(digest, sha256_digest(&body));

    let r = rex(&[
        "image",
        "inspect",
        &format!("{repo}:junk"),
        "--raw-manifest",
    ])
    .ok();
    assert!(r.bytes == body, "{:?}", r.stdout);
    assert_eq!(sha256_digest(&r.bytes), digest);
    let r = rex(&["image", "inspect", &format!("{repo}:junk"), "--raw-config"]).ok();
    assert!(r.bytes == config, "{:?}", r.stdout);
    assert_eq!(sha256_digest(&r.bytes), config_digest);
}
