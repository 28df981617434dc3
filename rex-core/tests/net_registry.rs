//! Every registry operation against real `docker-registry` processes, in every auth
//! mode the harness offers: anonymous, htpasswd basic, token (own token server), TLS
//! with the generated CA, and TLS + basic.

mod net_common;

use futures::StreamExt;
use net_common::{connect, connect_anonymous, Conn};
use rex_core::digest::Digest;
use rex_core::oci::{media_types, PlatformSelector};
use rex_core::reference::Reference;
use rex_core::registry::Rex;
use rex_core::ErrorKind;
use rex_tests::{Fixtures, SharedRegistry, TestRegistry};
use std::collections::BTreeSet;

fn d(s: &str) -> Digest {
    Digest::parse(s).expect("fixture digest parses")
}

fn r(s: &str) -> Reference {
    Reference::parse(s).expect("reference parses")
}

/// The whole read API against one registry whose fixtures are known.
async fn exercise(rex: &Rex, f: &Fixtures, expect_scheme: &str) {
    // ping
    let ping = rex.ping().await.expect("ping");
    assert_eq!(ping.api_version.as_deref(), Some("registry/2.0"));
    assert_eq!(ping.auth_scheme, expect_scheme);

    // catalog
    let repos = rex.list_repositories().await.expect("catalog");
    for want in [
        "rex/oci-image",
        "rex/multiarch",
        "rex/docker-image",
        "rex/docker-list",
        "a/b/c/d/e/image",
        "library/alpine",
        "rex/deleted",
        "rex/artifact",
    ] {
        assert!(
            repos.iter().any(|x| x == want),
            "{want} missing from {repos:?}"
        );
    }

    // tags: every tag, `null` as empty
    let tags: BTreeSet<String> = rex
        .list_tags("rex/oci-image")
        .await
        .expect("tags")
        .into_iter()
        .collect();
    let mut want: BTreeSet<String> = f.oci_image.tags.iter().cloned().collect();
    want.extend(f.oci_image_v2.tags.iter().cloned());
    assert_eq!(tags, want);
    assert!(rex
        .list_tags(&f.deleted.repo)
        .await
        .expect("deleted")
        .is_empty());

    // manifests: original bytes, digest, media type for every kind
    let m = rex
        .get_manifest(&r("rex/oci-image:1.0"))
        .await
        .expect("oci manifest");
    assert_eq!(m.bytes.as_ref(), f.oci_image.manifest.as_slice());
    assert_eq!(m.digest, d(&f.oci_image.digest));
    assert_eq!(m.media_type, media_types::OCI_MANIFEST);
    let m = rex
        .get_manifest(&r(&format!(
            "{}:{}",
            f.docker_image.repo, f.docker_image.tags[0]
        )))
        .await
        .expect("docker manifest");
    assert_eq!(
        m.digest,
        d(&f.docker_image.digest),
        "schema2 must not be rewritten"
    );
    assert_eq!(m.media_type, media_types::DOCKER_MANIFEST);
    let m = rex
        .get_manifest(&r(&format!("{}:latest", f.docker_list.repo)))
        .await
        .expect("docker list");
    assert_eq!(m.digest, d(&f.docker_list.digest));
    assert_eq!(m.media_type, media_types::DOCKER_MANIFEST_LIST);
    assert!(m.manifest.is_index());
    let m = rex
        .get_manifest(&r(&format!("{}:latest", f.no_media_type.repo)))
        .await
        .expect("no mediaType");
    assert_eq!(m.digest, d(&f.no_media_type.digest));
    assert!(!m.manifest.is_index());
    let m = rex
        .get_manifest(&r(&format!("{}@{}", f.multiarch.repo, f.multiarch.digest)))
        .await
        .expect("index by digest");
    assert_eq!(m.bytes.as_ref(), f.multiarch.manifest.as_slice());

    // HEAD + resolve
    let head = rex
        .client()
        .head_manifest(&f.multiarch.repo, "latest")
        .await
        .expect("head");
    assert_eq!(head.digest, d(&f.multiarch.digest));
    assert_eq!(head.size, f.multiarch.manifest.len() as u64);
    assert_eq!(head.media_type, media_types::OCI_INDEX);
    assert_eq!(
        rex.resolve(&r("rex/oci-image:stable"))
            .await
            .expect("resolve"),
        d(&f.oci_image.digest)
    );

    // blobs: capped + verified, streamed + verified, HEAD
    let cfg = rex
        .client()
        .get_blob(&f.oci_image.repo, &d(&f.oci_image.config_digest))
        .await
        .expect("config blob");
    assert_eq!(cfg.as_ref(), f.oci_image.config.as_slice());
    let layer = &f.oci_image.layers[0];
    let mut stream = rex
        .client()
        .get_blob_stream(&f.oci_image.repo, &d(&layer.digest))
        .await
        .expect("blob stream");
    let mut n = 0u64;
    while let Some(chunk) = stream.next().await {
        n += chunk.expect("chunk verifies").len() as u64;
    }
    assert_eq!(n, layer.size);
    let bh = rex
        .client()
        .head_blob(&f.oci_image.repo, &d(&layer.digest))
        .await
        .expect("head blob");
    assert_eq!(bh.size, Some(layer.size));

    // inspect: multi-platform with selection and default
    let sel = PlatformSelector::parse("linux/arm64/v8").unwrap();
    let info = rex
        .inspect(&r("rex/multiarch:latest"), Some(&sel))
        .await
        .expect("inspect arm64");
    let entry = f.multiarch.entry("linux/arm64/v8").expect("fixture entry");
    assert_eq!(info.digest, d(&f.multiarch.digest));
    assert_eq!(info.image_digest, Some(d(&entry.image.digest)));
    assert_eq!(info.platforms.len(), f.multiarch.entries.len());
    assert_eq!(
        info.platforms.iter().filter(|p| p.attestation).count(),
        f.multiarch
            .entries
            .iter()
            .filter(|e| e.is_attestation())
            .count()
    );
    assert_eq!(info.created.as_deref(), Some(entry.image.created()));
    assert_eq!(info.total_size, entry.image.total_size());
    assert_eq!(
        info.raw_config.as_deref(),
        Some(entry.image.config.as_slice())
    );
    assert_eq!(info.layers.len(), entry.image.layers.len());
    let info = rex
        .inspect(&r("rex/multiarch:latest"), None)
        .await
        .expect("inspect default");
    assert_eq!(
        info.image_digest,
        Some(d(&f.multiarch.entry("linux/amd64").unwrap().image.digest))
    );
    let err = rex
        .inspect(
            &r("rex/multiarch:latest"),
            Some(&PlatformSelector::parse("linux/s390x").unwrap()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("linux/amd64"), "{}", err.message());
    let info = rex
        .inspect(&r("rex/oci-image:1.0"), None)
        .await
        .expect("inspect single");
    assert_eq!(info.labels, f.oci_image.spec.labels);
    assert!(info.platforms.is_empty());
    assert_eq!(info.platform.as_deref(), Some("linux/amd64"));

    // tag details
    let tags: Vec<String> = rex.list_tags("rex/oci-image").await.unwrap();
    let details = rex
        .tag_details("rex/oci-image", &tags, |_, _| {})
        .await
        .expect("details");
    assert_eq!(details.len(), tags.len());
    for (t, det) in tags.iter().zip(&details) {
        assert_eq!(&det.tag, t, "order kept");
        let img = if f.oci_image.tags.contains(t) {
            &f.oci_image
        } else {
            &f.oci_image_v2
        };
        assert_eq!(det.digest, d(&img.digest));
        assert_eq!(det.created.as_deref(), Some(img.created()));
        assert_eq!(det.size, img.total_size());
        assert_eq!(det.platforms, vec!["linux/amd64".to_owned()]);
    }

    // referrers: distribution has no API; the sha256-<hex> tag fallback works
    let refs = rex
        .referrers(&f.artifact.repo, &d(&f.artifact.subject.digest))
        .await
        .expect("referrers");
    assert!(
        refs.iter().any(|x| x.digest == d(&f.artifact.digest)),
        "{refs:?}"
    );
    assert!(rex
        .referrers(&f.oci_image.repo, &d(&f.oci_image.digest))
        .await
        .expect("no referrers")
        .is_empty());

    // not found
    let e = rex.list_tags("rex/does-not-exist").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.registry_errors()[0].code, "NAME_UNKNOWN");
    let e = rex
        .get_manifest(&r("rex/oci-image:nope"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.registry_errors()[0].code, "MANIFEST_UNKNOWN");
    assert!(e.hint().is_some());
}

fn run(name: &str, expect_scheme: &str) -> &'static SharedRegistry {
    let reg = TestRegistry::shared(name);
    let rex = connect(reg);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(exercise(&rex, &reg.fixtures, expect_scheme));
    reg
}

#[test]
fn anonymous_registry_all_operations() {
    run("anonymous", "anonymous");
}

#[test]
fn basic_registry_all_operations() {
    let reg = run("basic", "basic");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // without credentials: a clear Auth error pointing at login
        let anon = connect_anonymous(reg);
        let p = anon.ping().await.expect("ping is not an error");
        assert_eq!(p.auth_scheme, "basic");
        assert!(!p.authenticated);
        let e = anon.list_repositories().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(e.hint().unwrap().contains("rex registry login"));
        // wrong password
        let bad = Conn::new(reg.url()).creds("alice", "wrong").connect();
        let e = bad.list_tags("rex/oci-image").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(
            e.message().contains("invalid username or password"),
            "{}",
            e.message()
        );
        let e = bad.ping().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
    });
}

#[test]
fn token_registry_all_operations() {
    let reg = run("token", "bearer");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // Anonymous pulls are allowed on the shared token registry, the catalog is not.
        let anon = connect_anonymous(reg);
        assert!(!anon.list_tags("rex/oci-image").await.unwrap().is_empty());
        let e = anon.list_repositories().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(
            e.message().contains("insufficient_scope"),
            "{}",
            e.message()
        );
        let bad = Conn::new(reg.url()).creds("alice", "wrong").connect();
        let e = bad.list_tags("rex/oci-image").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
    });
}

#[test]
fn tls_registry_all_operations() {
    run("tls", "anonymous");
}

#[test]
fn tls_basic_registry_all_operations() {
    let reg = run("tls-basic", "basic");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // Without the CA the TLS failure is a Network error with a hint.
        let rex = Conn::new(reg.url()).creds("alice", "wonderland").connect();
        let e = rex.ping().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network);
        assert!(e.hint().unwrap().contains("ca_certs"), "{:?}", e.hint());
        // skip_verify for this registry works without the CA
        let endpoint = rex_core::endpoint::Endpoint::parse_with(
            &reg.url(),
            rex_core::endpoint::EndpointOptions {
                insecure: false,
                skip_verify: true,
            },
        )
        .unwrap();
        let rex = Rex::connect(
            endpoint,
            rex_core::registry::ConnectOptions {
                network: net_common::network(),
                credentials: Some(rex_core::credentials::Credentials::new(
                    "alice",
                    "wonderland",
                )),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(rex.ping().await.unwrap().authenticated);
    });
}

/// Every facade future must be `Send` so hosts and the TUI can spawn them.
#[test]
fn facade_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let rex = Conn::new("http://127.0.0.1:9").connect();
    let reference = r("rex/oci-image:1.0");
    let tags = vec!["a".to_owned()];
    assert_send(&rex.ping());
    assert_send(&rex.list_repositories());
    assert_send(&rex.list_tags("x"));
    assert_send(&rex.get_manifest(&reference));
    assert_send(&rex.resolve(&reference));
    assert_send(&rex.inspect(&reference, None));
    assert_send(&rex.tag_details("x", &tags, |_, _| {}));
    assert_send(&rex.client().get_blob_stream("x", &Digest::sha256_of(b"")));
}
