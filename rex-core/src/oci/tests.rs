use super::*;
use crate::ErrorKind;

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const D3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
const D4: &str = "sha256:4444444444444444444444444444444444444444444444444444444444444444";

fn oci_image_json(with_media_type: bool) -> String {
    let mt = if with_media_type {
        r#""mediaType": "application/vnd.oci.image.manifest.v1+json","#
    } else {
        ""
    };
    format!(
        r#"{{
  "schemaVersion": 2,
  {mt}
  "config": {{
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": "{D1}",
    "size": 1472
  }},
  "layers": [
    {{
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "{D2}",
      "size": 3408729
    }},
    {{
      "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
      "digest": "{D3}",
      "size": 100,
      "annotations": {{"org.opencontainers.image.title": "extra"}}
    }}
  ],
  "annotations": {{"org.opencontainers.image.created": "2024-01-15T14:30:00Z"}},
  "somethingNew": [1, 2, 3]
}}"#
    )
}

#[test]
fn oci_image_manifest() {
    let m = Manifest::parse(oci_image_json(true).as_bytes(), None).unwrap();
    assert!(matches!(m, Manifest::OciImage(_)));
    assert_eq!(m.kind_name(), "OCI Image Manifest");
    assert_eq!(m.media_type(), media_types::OCI_MANIFEST);
    assert!(!m.is_index());
    assert_eq!(m.config().unwrap().digest.as_str(), D1);
    assert_eq!(m.layers().len(), 2);
    assert_eq!(
        m.layers()[1].annotations["org.opencontainers.image.title"],
        "extra"
    );
    assert!(m.manifests().is_empty());
    assert_eq!(m.total_size(), 1472 + 3408729 + 100);
    assert_eq!(m.layers_size(), 3408729 + 100);
    assert_eq!(
        m.annotations()["org.opencontainers.image.created"],
        "2024-01-15T14:30:00Z"
    );
    assert!(m.subject().is_none());
}

#[test]
fn missing_media_type_uses_header_then_shape() {
    let body = oci_image_json(false);
    let m = Manifest::parse(body.as_bytes(), None).unwrap();
    assert!(matches!(m, Manifest::OciImage(_)), "shape says image");
    let m = Manifest::parse(
        body.as_bytes(),
        Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
    )
    .unwrap();
    assert!(matches!(m, Manifest::OciImage(_)));
    // An unhelpful Content-Type falls through to the shape.
    let m = Manifest::parse(body.as_bytes(), Some("application/json")).unwrap();
    assert!(matches!(m, Manifest::OciImage(_)));

    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{D1}","size":500,"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#
    );
    let m = Manifest::parse(index.as_bytes(), None).unwrap();
    assert_eq!(m.kind_name(), "OCI Image Index");
    assert_eq!(m.total_size(), 500);
}

#[test]
fn header_wins_over_document() {
    // A Docker list served with its Content-Type but an OCI-looking body.
    let body = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"x","digest":"{D1}","size":1}}]}}"#
    );
    let m = Manifest::parse(body.as_bytes(), Some(media_types::DOCKER_MANIFEST_LIST)).unwrap();
    assert!(matches!(m, Manifest::DockerList(_)));
    assert_eq!(m.kind_name(), "Docker Manifest List");
}

#[test]
fn docker_v2_manifest() {
    let body = format!(
        r#"{{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {{
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 7023,
      "digest": "{D1}"
   }},
   "layers": [
      {{
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 32654,
         "digest": "{D2}"
      }},
      {{
         "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
         "size": 1000,
         "digest": "{D3}",
         "urls": ["https://mcr.microsoft.com/v2/windows/blobs/{D3}"]
      }}
   ]
}}"#
    );
    let m = Manifest::parse(body.as_bytes(), Some("application/json")).unwrap();
    assert!(matches!(m, Manifest::DockerV2(_)));
    assert_eq!(m.kind_name(), "Docker Image Manifest V2");
    assert!(m.is_docker());
    assert_eq!(m.layers()[1].urls.len(), 1);
    assert!(media_types::is_layer(&m.layers()[1].media_type));
    assert_eq!(m.total_size(), 7023 + 32654 + 1000);
}

#[test]
fn docker_list_with_windows_platform() {
    let body = format!(
        r#"{{
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "manifests": [
    {{
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "size": 1357, "digest": "{D1}",
      "platform": {{"architecture": "amd64", "os": "linux"}}
    }},
    {{
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "size": 1200, "digest": "{D2}",
      "platform": {{"architecture": "arm", "os": "linux", "variant": "v7"}}
    }},
    {{
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "size": 2000, "digest": "{D3}",
      "platform": {{
        "architecture": "amd64", "os": "windows",
        "os.version": "10.0.17763.5329", "os.features": ["win32k"]
      }}
    }}
  ]
}}"#
    );
    let m = Manifest::parse(body.as_bytes(), None).unwrap();
    assert!(matches!(m, Manifest::DockerList(_)));
    assert!(m.is_index());
    assert!(m.config().is_none());
    assert!(m.layers().is_empty());
    assert_eq!(m.manifests().len(), 3);
    let win = m.manifests()[2].platform.as_ref().unwrap();
    assert_eq!(win.os_version.as_deref(), Some("10.0.17763.5329"));
    assert_eq!(win.os_features, vec!["win32k"]);
    assert_eq!(win.to_string(), "windows/amd64");
    assert_eq!(
        m.manifests()[1].platform.as_ref().unwrap().to_string(),
        "linux/arm/v7"
    );
    assert_eq!(m.total_size(), 1357 + 1200 + 2000);

    let idx = m.as_index().unwrap();
    let sel = PlatformSelector::parse("windows/amd64").unwrap();
    assert_eq!(idx.find_platform(&sel).unwrap().digest.as_str(), D3);
    let sel = PlatformSelector::parse("linux/arm").unwrap();
    assert_eq!(idx.find_platform(&sel).unwrap().digest.as_str(), D2);

    // Round trip keeps the dotted keys.
    let json = serde_json::to_value(win).unwrap();
    assert_eq!(json["os.version"], "10.0.17763.5329");
}

#[test]
fn oci_index_with_attestations() {
    let body = format!(
        r#"{{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {{
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "{D1}", "size": 1050,
      "platform": {{"architecture": "amd64", "os": "linux"}}
    }},
    {{
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "{D2}", "size": 1051,
      "platform": {{"architecture": "arm64", "os": "linux", "variant": "v8"}}
    }},
    {{
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "{D3}", "size": 566,
      "annotations": {{
        "vnd.docker.reference.digest": "{D1}",
        "vnd.docker.reference.type": "attestation-manifest"
      }},
      "platform": {{"architecture": "unknown", "os": "unknown"}}
    }}
  ],
  "annotations": null
}}"#
    );
    let m = Manifest::parse(body.as_bytes(), Some(media_types::OCI_INDEX)).unwrap();
    assert!(matches!(m, Manifest::OciIndex(_)));
    assert!(m.annotations().is_empty(), "null annotations read as empty");
    let idx = m.as_index().unwrap();
    assert!(idx.manifests[2].is_attestation());
    assert!(!idx.manifests[0].is_attestation());
    assert_eq!(idx.platform_manifests().count(), 2);
    // arm64 without a variant means v8.
    let sel = PlatformSelector::parse("linux/arm64").unwrap();
    assert_eq!(idx.find_platform(&sel).unwrap().digest.as_str(), D2);
    let sel = PlatformSelector::parse("linux/arm64/v8").unwrap();
    assert_eq!(idx.find_platform(&sel).unwrap().digest.as_str(), D2);
    let sel = PlatformSelector::parse("unknown/unknown").unwrap();
    assert!(
        idx.find_platform(&sel).is_none(),
        "attestations never match"
    );
}

#[test]
fn artifact_with_subject() {
    let body = format!(
        r#"{{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "artifactType": "application/vnd.example.sbom.v1",
  "config": {{"mediaType": "application/vnd.oci.empty.v1+json", "digest": "{D4}", "size": 2, "data": "e30="}},
  "layers": [{{"mediaType": "application/spdx+json", "digest": "{D2}", "size": 900}}],
  "subject": {{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "{D1}", "size": 1050}}
}}"#
    );
    let m = Manifest::parse(body.as_bytes(), None).unwrap();
    assert_eq!(m.artifact_type(), Some("application/vnd.example.sbom.v1"));
    assert_eq!(m.subject().unwrap().digest.as_str(), D1);
}

#[test]
fn rejects_schema1_and_garbage() {
    let s1 = r#"{"schemaVersion":1,"name":"library/alpine","tag":"latest","architecture":"amd64","fsLayers":[],"history":[],"signatures":[]}"#;
    let err = Manifest::parse(s1.as_bytes(), None).unwrap_err();
    assert!(err.message().contains("schema 1"), "{}", err.message());
    let err = Manifest::parse(
        b"{}",
        Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
    )
    .unwrap_err();
    assert!(err.message().contains("schema 1"));

    for (body, ct, needle) in [
        (&b"not json"[..], None, "not valid JSON"),
        (b"[1,2]", None, "not a JSON object"),
        (b"{\"schemaVersion\":2}", None, "unrecognised manifest"),
        (
            b"{\"schemaVersion\":2}",
            Some(media_types::OCI_INDEX),
            "invalid OCI Image Index: the 'manifests' field is missing",
        ),
        (
            b"{\"schemaVersion\":2,\"layers\":[]}",
            None,
            "invalid OCI Image Manifest: the 'config' field is missing",
        ),
        (
            b"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:bad\",\"size\":1},\"layers\":[]}",
            None,
            "invalid digest",
        ),
        (
            b"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:bad\",\"size\":-1},\"layers\":[]}",
            None,
            "invalid OCI Image Manifest",
        ),
    ] {
        let err = Manifest::parse(body, ct).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::General);
        assert!(err.message().contains(needle), "{}", err.message());
    }
}

#[test]
fn image_config_docker_style() {
    let body = format!(
        r#"{{
  "architecture": "amd64",
  "config": {{
    "Hostname": "",
    "User": "nginx",
    "ExposedPorts": {{"80/tcp": {{}}, "443/tcp": {{}}}},
    "Env": ["PATH=/usr/local/sbin:/usr/bin", "NGINX_VERSION=1.25.3"],
    "Entrypoint": ["/docker-entrypoint.sh"],
    "Cmd": ["nginx", "-g", "daemon off;"],
    "Volumes": null,
    "WorkingDir": "/",
    "Labels": {{"maintainer": "NGINX Docker Maintainers"}},
    "StopSignal": "SIGQUIT",
    "OnBuild": null
  }},
  "container": "abc",
  "created": "2024-01-15T14:30:00.123456789Z",
  "docker_version": "20.10.23",
  "history": [
    {{"created": "2024-01-10T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:abc in / "}},
    {{"created": "2024-01-10T00:00:01Z", "created_by": "/bin/sh -c #(nop)  CMD [\"bash\"]", "empty_layer": true}},
    {{"created": "2024-01-15T14:30:00Z", "created_by": "RUN apt-get install", "comment": "buildkit.dockerfile.v0"}}
  ],
  "os": "linux",
  "rootfs": {{"type": "layers", "diff_ids": ["{D1}", "{D2}"]}}
}}"#
    );
    let c = ImageConfig::parse(body.as_bytes()).unwrap();
    assert_eq!(c.architecture, "amd64");
    assert_eq!(c.os, "linux");
    assert_eq!(c.created.as_deref(), Some("2024-01-15T14:30:00.123456789Z"));
    let cc = c.config.as_ref().unwrap();
    assert_eq!(cc.user.as_deref(), Some("nginx"));
    assert_eq!(cc.exposed_ports, vec!["443/tcp", "80/tcp"]);
    assert_eq!(cc.env.len(), 2);
    assert_eq!(cc.entrypoint, vec!["/docker-entrypoint.sh"]);
    assert_eq!(cc.cmd, vec!["nginx", "-g", "daemon off;"]);
    assert!(cc.volumes.is_empty());
    assert_eq!(cc.working_dir.as_deref(), Some("/"));
    assert_eq!(c.labels()["maintainer"], "NGINX Docker Maintainers");
    assert_eq!(cc.stop_signal.as_deref(), Some("SIGQUIT"));
    let rootfs = c.rootfs.as_ref().unwrap();
    assert_eq!(rootfs.fs_type, "layers");
    assert_eq!(rootfs.diff_ids.len(), 2);
    assert_eq!(c.history.len(), 3);
    assert!(c.history[1].empty_layer);
    assert!(!c.history[0].empty_layer);
    assert_eq!(
        c.history[2].comment.as_deref(),
        Some("buildkit.dockerfile.v0")
    );
    assert_eq!(c.platform().to_string(), "linux/amd64");
    assert_eq!(c.created_time().unwrap().timestamp(), 1705329000);
    assert_eq!(c.layer_history().count(), 2);

    // Serialising writes the spec's shape back (ports as an object of empty objects).
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["config"]["ExposedPorts"]["80/tcp"], serde_json::json!({}));
}

#[test]
fn image_config_nulls_and_minimal() {
    let c = ImageConfig::parse(
        br#"{"architecture":"arm64","variant":"v8","os":"linux","config":{"Env":null,"Cmd":null,"Entrypoint":null,"Labels":null,"ExposedPorts":null},"history":null,"rootfs":{"type":"layers","diff_ids":null}}"#,
    )
    .unwrap();
    let cc = c.config.unwrap();
    assert!(cc.env.is_empty() && cc.cmd.is_empty() && cc.entrypoint.is_empty());
    assert!(cc.labels.is_empty() && cc.exposed_ports.is_empty());
    assert!(c.history.is_empty());
    assert_eq!(c.variant.as_deref(), Some("v8"));

    let c = ImageConfig::parse(b"{}").unwrap();
    assert!(c.config.is_none());
    assert!(c.labels().is_empty());

    let c = ImageConfig::parse(
        br#"{"architecture":"amd64","os":"windows","os.version":"10.0.20348.2227"}"#,
    )
    .unwrap();
    assert_eq!(c.os_version.as_deref(), Some("10.0.20348.2227"));

    let err = ImageConfig::parse(b"{\"config\": 5}").unwrap_err();
    assert!(err.message().starts_with("invalid image config"));
}

#[test]
fn platform_selector_and_matching() {
    let p = |os: &str, arch: &str, v: Option<&str>| Platform::new(os, arch, v);
    let s = |x: &str| PlatformSelector::parse(x).unwrap();
    assert!(p("linux", "amd64", None).matches(&s("linux/amd64")));
    assert!(p("linux", "amd64", None).matches(&s("Linux/AMD64")));
    assert!(p("linux", "x86_64", None).matches(&s("linux/amd64")));
    assert!(p("linux", "amd64", Some("v1")).matches(&s("linux/amd64")));
    assert!(!p("linux", "amd64", None).matches(&s("linux/arm64")));
    assert!(!p("windows", "amd64", None).matches(&s("linux/amd64")));
    assert!(p("linux", "arm64", None).matches(&s("linux/arm64/v8")));
    assert!(p("linux", "arm64", Some("v8")).matches(&s("linux/arm64")));
    assert!(p("linux", "aarch64", None).matches(&s("linux/arm64")));
    assert!(!p("linux", "arm", Some("v6")).matches(&s("linux/arm/v7")));
    assert!(p("linux", "arm", Some("v6")).matches(&s("linux/arm")));
    assert!(!p("linux", "arm", Some("v6")).matches_exactly(&s("linux/arm")));
    assert!(p("linux", "arm", Some("v7")).matches_exactly(&s("linux/arm")));
    assert!(p("linux", "arm64", None).matches_exactly(&s("linux/arm64/v8")));
    assert!(p("linux", "arm", None).matches(&s("linux/arm/v7")));
    assert!(!p("linux", "amd64", Some("v3")).matches(&s("linux/amd64/v2")));
    assert_eq!(s("linux/arm64/v8").to_string(), "linux/arm64/v8");
    assert_eq!(
        p("linux", "arm64", Some("v8")).to_string(),
        "linux/arm64/v8"
    );

    for (bad, needle) in [
        ("linux", "expected os/arch"),
        ("linux/amd64/v8/x", "expected os/arch"),
        ("linux//v8", "empty"),
        ("linux/am d64", "only letters"),
    ] {
        let err = PlatformSelector::parse(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(err.message().contains(needle), "{bad}: {}", err.message());
        assert!(err.message().contains(&format!("'{bad}'")));
    }
}

#[test]
fn media_type_helpers() {
    assert!(media_types::is_manifest(media_types::OCI_MANIFEST));
    assert!(media_types::is_manifest(
        "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8"
    ));
    assert!(!media_types::is_manifest(media_types::OCI_INDEX));
    assert!(media_types::is_index(media_types::OCI_INDEX));
    assert!(media_types::is_index(media_types::DOCKER_MANIFEST_LIST));
    assert!(!media_types::is_index(media_types::OCI_CONFIG));
    assert!(media_types::is_config(media_types::DOCKER_CONFIG));
    assert!(media_types::is_layer(media_types::OCI_LAYER_TAR_ZSTD));
    for mt in MANIFEST_MEDIA_TYPES {
        assert!(MANIFEST_ACCEPT.contains(mt));
        assert!(media_types::is_any_manifest(mt));
    }
    assert_eq!(MANIFEST_ACCEPT.split(", ").count(), 4);
    assert_eq!(
        media_types::short_name(media_types::OCI_LAYER_TAR_GZIP),
        "OCI layer (gzip)"
    );
    assert_eq!(
        media_types::short_name("application/x-custom"),
        "application/x-custom"
    );
}

#[test]
fn manifest_serialises_as_the_document() {
    let m = Manifest::parse(oci_image_json(true).as_bytes(), None).unwrap();
    let v = serde_json::to_value(&m).unwrap();
    assert_eq!(v["schemaVersion"], 2);
    assert_eq!(v["config"]["digest"], D1);
    assert!(v.get("somethingNew").is_none());
    let back: Manifest = serde_json::from_value(v).unwrap();
    assert_eq!(back, m);
}

#[test]
fn find_platform_prefers_the_default_variant() {
    let entry = |d: &str, arch: &str, v: Option<&str>| {
        let mut e = Descriptor::new(media_types::OCI_MANIFEST, Digest::parse(d).unwrap(), 10);
        e.platform = Some(Platform::new("linux", arch, v));
        e
    };
    let idx = ImageIndex {
        schema_version: 2,
        media_type: None,
        artifact_type: None,
        manifests: vec![entry(D1, "arm", Some("v6")), entry(D2, "arm", Some("v7"))],
        subject: None,
        annotations: BTreeMap::new(),
    };
    let sel = |x: &str| PlatformSelector::parse(x).unwrap();
    assert_eq!(
        idx.find_platform(&sel("linux/arm"))
            .unwrap()
            .digest
            .as_str(),
        D2
    );
    assert_eq!(
        idx.find_platform(&sel("linux/arm/v6"))
            .unwrap()
            .digest
            .as_str(),
        D1
    );
    assert!(idx.find_platform(&sel("linux/arm/v5")).is_none());
    let only_v6 = ImageIndex {
        manifests: vec![entry(D1, "arm", Some("v6"))],
        ..idx
    };
    assert_eq!(
        only_v6
            .find_platform(&sel("linux/arm"))
            .unwrap()
            .digest
            .as_str(),
        D1
    );
}

#[test]
fn random_json_never_panics() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let pieces = [
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"schemaVersion\"",
        "2",
        "1",
        "null",
        "\"manifests\"",
        "\"config\"",
        "\"layers\"",
        "\"mediaType\"",
        "\"digest\"",
        "\"size\"",
        "\"platform\"",
        "\"os.version\"",
        "\"Env\"",
        "\"x\"",
        "-1",
        "true",
    ];
    let cts = [
        None,
        Some(media_types::OCI_INDEX),
        Some(media_types::DOCKER_MANIFEST),
        Some("text/plain"),
    ];
    for _ in 0..20_000 {
        let n = rng.gen_range(0..20);
        let s: String = (0..n)
            .map(|_| pieces[rng.gen_range(0..pieces.len())])
            .collect();
        let _ = Manifest::parse(s.as_bytes(), cts[rng.gen_range(0..cts.len())]);
        let _ = ImageConfig::parse(s.as_bytes());
    }
    // Structurally valid documents with random sizes and kinds parse or fail cleanly.
    let m = Manifest::parse(
        oci_image_json(true).as_bytes(),
        Some(media_types::DOCKER_MANIFEST_LIST),
    );
    assert!(m
        .unwrap_err()
        .message()
        .contains("'manifests' field is missing"));
}
