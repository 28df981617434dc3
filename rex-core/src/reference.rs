//! Image references (seed 1.5): `[registry/]repository[:tag][@digest]`, parsed by the
//! grammar of the distribution project (`distribution/reference`):
//!
//! ```text
//! reference      := name [ ":" tag ] [ "@" digest ]
//! name           := [ domain "/" ] path-component [ "/" path-component ]*
//! domain         := host [ ":" port ]            host = DNS name | IPv4 | "[" IPv6 "]"
//! path-component := [a-z0-9]+ ( separator [a-z0-9]+ )*
//! separator      := "." | "_" | "__" | "-"+
//! tag            := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! ```
//!
//! The first component is a registry when it contains `.` or `:` or is `localhost`
//! (Docker's rule), so `alpine` and `library/alpine` have no registry while
//! `localhost:5000/app` and `ghcr.io/org/app` do.

use crate::digest::Digest;
use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// Docker Hub's canonical name in references.
pub const DOCKER_HUB: &str = "docker.io";
/// Hostnames that mean Docker Hub.
pub const DOCKER_HUB_ALIASES: &[&str] = &["docker.io", "index.docker.io", "registry-1.docker.io"];
/// The tag assumed when a reference names neither a tag nor a digest.
pub const DEFAULT_TAG: &str = "latest";
/// Longest name (registry + "/" + repository) the distribution grammar allows.
pub const NAME_TOTAL_MAX: usize = 255;
/// Longest tag.
pub const TAG_MAX: usize = 128;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    registry: Option<String>,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parse a reference. Errors are Usage errors of the form
    /// `invalid reference '<input>': <why>`.
    pub fn parse(input: &str) -> Result<Reference> {
        parse(input).map_err(|why| Error::usage(format!("invalid reference '{input}': {why}")))
    }

    /// Build from parts, validating each.
    pub fn new(
        registry: Option<&str>,
        repository: &str,
        tag: Option<&str>,
        digest: Option<Digest>,
    ) -> Result<Reference> {
        if let Some(r) = registry {
            check_registry(r)
                .map_err(|why| Error::usage(format!("invalid registry '{r}': {why}")))?;
        }
        validate_repository(repository)?;
        if let Some(t) = tag {
            validate_tag(t)?;
        }
        let r = Reference {
            registry: registry.map(str::to_owned),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        };
        if r.name_len() > NAME_TOTAL_MAX {
            return Err(Error::usage(format!(
                "invalid reference '{r}': the name is longer than {NAME_TOTAL_MAX} characters"
            )));
        }
        Ok(r)
    }

    /// The registry (`host[:port]`) if the reference names one.
    pub fn registry(&self) -> Option<&str> {
        self.registry.as_deref()
    }

    /// The repository path, e.g. `library/alpine` or `org/team/app`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The tag, or `latest` when neither tag nor digest was given. `None` for a
    /// digest-only reference.
    pub fn tag_or_default(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some(DEFAULT_TAG),
            (None, Some(_)) => None,
        }
    }

    /// What goes into `/v2/<name>/manifests/<reference>`: the digest when present (it pins
    /// the content), else the tag, else `latest`.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => DEFAULT_TAG.to_owned(),
        }
    }

    /// Whether a tag or digest was given.
    pub fn has_version(&self) -> bool {
        self.tag.is_some() || self.digest.is_some()
    }

    pub fn with_registry(mut self, registry: Option<&str>) -> Self {
        self.registry = registry.map(str::to_owned);
        self
    }

    pub fn with_tag(mut self, tag: Option<&str>) -> Self {
        self.tag = tag.map(str::to_owned);
        self
    }

    pub fn with_digest(mut self, digest: Option<Digest>) -> Self {
        self.digest = digest;
        self
    }

    /// `registry/repository` (or just the repository), without tag or digest.
    pub fn name(&self) -> String {
        match &self.registry {
            Some(r) => format!("{r}/{}", self.repository),
            None => self.repository.clone(),
        }
    }

    fn name_len(&self) -> usize {
        self.registry.as_ref().map_or(0, |r| r.len() + 1) + self.repository.len()
    }

    /// Normalise for use against `registry_host` (the registry the reference will be
    /// resolved against when it names none). When the effective registry is Docker Hub,
    /// a one-component repository gets the `library/` prefix and Hub aliases become
    /// `docker.io`. The registry part itself is left as given (absent stays absent).
    pub fn normalized_for(&self, registry_host: &str) -> Reference {
        let mut r = self.clone();
        let effective = self.registry.as_deref().unwrap_or(registry_host);
        if is_docker_hub(effective) {
            if r.registry.is_some() {
                r.registry = Some(DOCKER_HUB.to_owned());
            }
            if !r.repository.contains('/') {
                r.repository = format!("library/{}", r.repository);
            }
        }
        r
    }

    /// Docker's reading: no registry means Docker Hub. Returns the fully qualified form
    /// (`alpine` → `docker.io/library/alpine`).
    pub fn docker_hub_normalize(&self) -> Reference {
        let mut r = self.normalized_for(DOCKER_HUB);
        if r.registry.is_none() {
            r.registry = Some(DOCKER_HUB.to_owned());
        }
        r
    }

    /// The short form people type: Docker Hub's `docker.io/` and `library/` dropped.
    pub fn familiar(&self) -> String {
        let hub = self.registry.as_deref().is_some_and(is_docker_hub);
        let mut s = String::new();
        if let Some(r) = &self.registry {
            if !hub {
                s.push_str(r);
                s.push('/');
            }
        }
        let repo = if hub || self.registry.is_none() {
            match self.repository.strip_prefix("library/") {
                Some(rest) if !rest.contains('/') && hub => rest,
                _ => &self.repository,
            }
        } else {
            &self.repository
        };
        s.push_str(repo);
        self.push_version(&mut s);
        s
    }

    fn push_version(&self, s: &mut String) {
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d.as_str());
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        self.push_version(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Reference::parse(s)
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Reference::parse(&s).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

/// Whether `host` is one of Docker Hub's names.
pub fn is_docker_hub(host: &str) -> bool {
    DOCKER_HUB_ALIASES
        .iter()
        .any(|h| h.eq_ignore_ascii_case(host))
}

/// Validate a repository name (`org/app`) by the distribution grammar.
pub fn validate_repository(name: &str) -> Result<()> {
    check_repository(name)
        .map_err(|why| Error::usage(format!("invalid repository name '{name}': {why}")))?;
    if name.len() > NAME_TOTAL_MAX {
        return Err(Error::usage(format!(
            "invalid repository name '{name}': longer than {NAME_TOTAL_MAX} characters"
        )));
    }
    Ok(())
}

/// Validate a tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`).
pub fn validate_tag(tag: &str) -> Result<()> {
    check_tag(tag).map_err(|why| Error::usage(format!("invalid tag '{tag}': {why}")))
}

fn parse(input: &str) -> std::result::Result<Reference, String> {
    if input.is_empty() {
        return Err("the reference is empty".into());
    }
    if let Some(c) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "it contains '{}'; references have no spaces or control characters",
            c.escape_default()
        ));
    }
    if let Some((scheme, _)) = input.split_once("://") {
        return Err(format!(
            "a reference has no scheme; drop '{scheme}://' (write host[:port]/repository)"
        ));
    }

    let (rest, digest) = match input.split_once('@') {
        Some((rest, d)) => {
            let digest = Digest::parse(d).map_err(|e| e.message().to_owned())?;
            (rest, Some(digest))
        }
        None => (input, None),
    };
    if rest.is_empty() {
        return Err("the repository is missing before '@'".into());
    }

    // The tag follows the last ':' that comes after the last '/'.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => {
            let at = last_slash + i;
            let tag = &rest[at + 1..];
            check_tag(tag).map_err(|why| format!("invalid tag '{tag}': {why}"))?;
            (&rest[..at], Some(tag))
        }
        None => (rest, None),
    };

    let (registry, repository) = match name.split_once('/') {
        Some((first, remainder)) if looks_like_registry(first) => {
            check_registry(first)?;
            (Some(first), remainder)
        }
        _ => (None, name),
    };
    if repository.is_empty() {
        return Err("the repository is missing".into());
    }
    check_repository(repository)?;
    if name.len() > NAME_TOTAL_MAX {
        return Err(format!(
            "the name is {} characters long; at most {NAME_TOTAL_MAX} are allowed",
            name.len()
        ));
    }
    Ok(Reference {
        registry: registry.map(str::to_owned),
        repository: repository.to_owned(),
        tag: tag.map(str::to_owned),
        digest,
    })
}

fn looks_like_registry(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost"
}

fn check_registry(reg: &str) -> std::result::Result<(), String> {
    let (host, port) = if let Some(rest) = reg.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return Err(format!("unclosed '[' in registry '{reg}'"));
        };
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("'{ip}' in registry '{reg}' is not an IPv6 address"));
        }
        match after {
            "" => (None, None),
            p => match p.strip_prefix(':') {
                Some(p) => (None, Some(p)),
                None => return Err(format!("unexpected '{p}' after ']' in registry '{reg}'")),
            },
        }
    } else {
        match reg.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(reg), None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.parse::<u16>().is_err() {
            return Err(format!("invalid port '{p}' in registry '{reg}'"));
        }
    }
    if let Some(h) = host {
        if h.is_empty() {
            return Err(format!("the host is missing in registry '{reg}'"));
        }
        let ok = h.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        if !ok {
            return Err(format!("'{h}' is not a valid registry host name"));
        }
    }
    Ok(())
}

fn check_repository(repo: &str) -> std::result::Result<(), String> {
    if repo.is_empty() {
        return Err("the repository is empty".into());
    }
    if repo.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err("repository names must be lowercase".into());
    }
    if let Some(c) = repo
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(*c)))
    {
        return Err(format!(
            "'{}' is not allowed in repository names (use a-z, 0-9, '.', '_', '-' and '/')",
            c.escape_default()
        ));
    }
    if repo.starts_with('/') || repo.ends_with('/') {
        return Err("repository names cannot start or end with '/'".into());
    }
    for comp in repo.split('/') {
        check_component(comp)?;
    }
    Ok(())
}

fn check_component(comp: &str) -> std::result::Result<(), String> {
    if comp.is_empty() {
        return Err("empty path component ('//')".into());
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = comp.as_bytes();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err(format!(
            "path component '{comp}' must start and end with a letter or digit"
        ));
    }
    // Separators between alphanumeric runs: ".", "_", "__" or one or more "-".
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &comp[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return Err(format!(
                "invalid separator '{sep}' in '{comp}' (use '.', '_', '__' or dashes)"
            ));
        }
    }
    Ok(())
}

fn check_tag(tag: &str) -> std::result::Result<(), String> {
    if tag.is_empty() {
        return Err("the tag is empty".into());
    }
    if tag.len() > TAG_MAX {
        return Err(format!(
            "tags are at most {TAG_MAX} characters, this one has {}",
            tag.len()
        ));
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let first = tag.chars().next().unwrap_or('_');
    if !word(first) {
        return Err("tags must start with a letter, digit or '_'".into());
    }
    if let Some(c) = tag.chars().find(|&c| !(word(c) || c == '.' || c == '-')) {
        return Err(format!(
            "'{}' is not allowed in tags (use letters, digits, '_', '.' and '-')",
            c.escape_default()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn valid_references() {
        let long_tag = "t".repeat(128);
        type Case<'a> = (String, Option<&'a str>, &'a str, Option<&'a str>, bool);
        let cases: Vec<Case> = vec![
            ("alpine".into(), None, "alpine", None, false),
            ("alpine:3.19".into(), None, "alpine", Some("3.19"), false),
            ("library/alpine".into(), None, "library/alpine", None, false),
            (
                "myorg/team/app:v1".into(),
                None,
                "myorg/team/app",
                Some("v1"),
                false,
            ),
            (
                "myrepo:latest".into(),
                None,
                "myrepo",
                Some("latest"),
                false,
            ),
            (
                "localhost:5000/myrepo:v1".into(),
                Some("localhost:5000"),
                "myrepo",
                Some("v1"),
                false,
            ),
            (
                "localhost/myrepo".into(),
                Some("localhost"),
                "myrepo",
                None,
                false,
            ),
            (
                format!("ghcr.io/user/repo@{D}"),
                Some("ghcr.io"),
                "user/repo",
                None,
                true,
            ),
            (
                format!("ghcr.io/user/repo:1.0@{D}"),
                Some("ghcr.io"),
                "user/repo",
                Some("1.0"),
                true,
            ),
            (format!("repo@{D}"), None, "repo", None, true),
            (
                "[::1]:5000/app:x".into(),
                Some("[::1]:5000"),
                "app",
                Some("x"),
                false,
            ),
            (
                "[fe80::1]/app".into(),
                Some("[fe80::1]"),
                "app",
                None,
                false,
            ),
            (
                "127.0.0.1:5000/a/b".into(),
                Some("127.0.0.1:5000"),
                "a/b",
                None,
                false,
            ),
            (
                "reg.example.com/a.b/c_d/e__f/g-h/i---j".into(),
                Some("reg.example.com"),
                "a.b/c_d/e__f/g-h/i---j",
                None,
                false,
            ),
            (
                "registry-1.docker.io/library/alpine".into(),
                Some("registry-1.docker.io"),
                "library/alpine",
                None,
                false,
            ),
            (
                "app:Latest_V-1.2".into(),
                None,
                "app",
                Some("Latest_V-1.2"),
                false,
            ),
            ("app:_x".into(), None, "app", Some("_x"), false),
            (
                format!("app:{long_tag}"),
                None,
                "app",
                Some(long_tag.as_str()),
                false,
            ),
            ("a0/9z".into(), None, "a0/9z", None, false),
            (
                "my-host.example:443/x".into(),
                Some("my-host.example:443"),
                "x",
                None,
                false,
            ),
            (
                "localhost:5000".into(),
                None,
                "localhost",
                Some("5000"),
                false,
            ),
        ];
        for (input, reg, repo, tag, has_digest) in cases {
            let r = Reference::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.registry(), reg, "{input}");
            assert_eq!(r.repository(), repo, "{input}");
            assert_eq!(r.tag(), tag, "{input}");
            assert_eq!(r.digest().is_some(), has_digest, "{input}");
            assert_eq!(r.to_string(), input, "display round-trips {input}");
        }
    }

    #[test]
    fn invalid_references_say_why() {
        let long_tag = "t".repeat(129);
        let long_name = format!("reg.example.com/{}", "a".repeat(250));
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "the reference is empty"),
            ("Alpine".into(), "repository names must be lowercase"),
            (
                "library/Alpine:3".into(),
                "repository names must be lowercase",
            ),
            ("alpine:".into(), "the tag is empty"),
            (
                "alpine:-x".into(),
                "tags must start with a letter, digit or '_'",
            ),
            ("alpine:.x".into(), "tags must start"),
            ("alpine:a+b".into(), "'+' is not allowed in tags"),
            (
                format!("alpine:{long_tag}"),
                "tags are at most 128 characters",
            ),
            ("alpine@sha256:abc".into(), "needs 64 hex characters"),
            ("alpine@md5:abc".into(), "unsupported algorithm 'md5'"),
            ("alpine@".into(), "expected 'algorithm:hex'"),
            (format!("@{D}"), "repository is missing before '@'"),
            ("a//b".into(), "empty path component"),
            ("/a".into(), "cannot start or end with '/'"),
            ("a/".into(), "cannot start or end with '/'"),
            ("a..b".into(), "invalid separator '..'"),
            ("a___b".into(), "invalid separator '___'"),
            ("a._b".into(), "invalid separator '._'"),
            ("-a".into(), "must start and end with a letter or digit"),
            ("a-".into(), "must start and end with a letter or digit"),
            ("org/_a".into(), "must start and end"),
            ("a!b".into(), "'!' is not allowed in repository names"),
            ("al pine".into(), "no spaces"),
            ("https://reg.example.com/app".into(), "drop 'https://'"),
            ("reg.example.com:abc/app".into(), "invalid port 'abc'"),
            ("reg.example.com:99999/app".into(), "invalid port '99999'"),
            ("reg..example.com/app".into(), "not a valid registry host"),
            ("-reg.example.com/app".into(), "not a valid registry host"),
            ("[::1/app".into(), "unclosed '['"),
            ("[zz]:5000/app".into(), "not an IPv6 address"),
            ("localhost:5000/".into(), "repository is missing"),
            (long_name, "at most 255 are allowed"),
            ("ünïcode".into(), "is not allowed in repository names"),
        ];
        for (input, needle) in cases {
            let err = Reference::parse(&input).expect_err(&input);
            assert_eq!(err.kind(), ErrorKind::Usage, "{input}");
            let msg = err.message();
            assert!(
                msg.starts_with(&format!("invalid reference '{input}': ")),
                "{input}: {msg}"
            );
            assert!(msg.contains(needle), "{input}: {msg} (wanted '{needle}')");
        }
        assert_eq!(
            Reference::parse("Alpine").unwrap_err().message(),
            "invalid reference 'Alpine': repository names must be lowercase"
        );
    }

    #[test]
    fn docker_hub_normalisation() {
        let r = Reference::parse("alpine:3").unwrap();
        assert_eq!(r.normalized_for("docker.io").repository(), "library/alpine");
        assert_eq!(
            r.normalized_for("index.docker.io").repository(),
            "library/alpine"
        );
        assert_eq!(r.normalized_for("localhost:5000").repository(), "alpine");
        assert_eq!(r.normalized_for("docker.io").registry(), None);
        assert_eq!(
            r.docker_hub_normalize().to_string(),
            "docker.io/library/alpine:3"
        );
        let r = Reference::parse("index.docker.io/alpine").unwrap();
        assert_eq!(
            r.normalized_for("ghcr.io").to_string(),
            "docker.io/library/alpine"
        );
        let r = Reference::parse("bitnami/redis").unwrap();
        assert_eq!(
            r.docker_hub_normalize().to_string(),
            "docker.io/bitnami/redis"
        );
        let r = Reference::parse("ghcr.io/alpine").unwrap();
        assert_eq!(r.normalized_for("docker.io").repository(), "alpine");
    }

    #[test]
    fn familiar_form() {
        for (input, familiar) in [
            ("docker.io/library/alpine:3", "alpine:3"),
            ("docker.io/bitnami/redis", "bitnami/redis"),
            ("index.docker.io/library/alpine", "alpine"),
            ("library/alpine", "library/alpine"),
            (
                "localhost:5000/library/alpine",
                "localhost:5000/library/alpine",
            ),
            ("ghcr.io/o/app:v1", "ghcr.io/o/app:v1"),
            ("docker.io/library/a/b", "library/a/b"),
        ] {
            assert_eq!(
                Reference::parse(input).unwrap().familiar(),
                familiar,
                "{input}"
            );
        }
    }

    #[test]
    fn manifest_reference_and_defaults() {
        let r = Reference::parse("app").unwrap();
        assert_eq!(r.manifest_reference(), "latest");
        assert_eq!(r.tag_or_default(), Some("latest"));
        assert!(!r.has_version());
        let r = Reference::parse(&format!("app:v1@{D}")).unwrap();
        assert_eq!(r.manifest_reference(), D);
        let r = Reference::parse(&format!("app@{D}")).unwrap();
        assert_eq!(r.tag_or_default(), None);
        assert_eq!(r.name(), "app");
    }

    #[test]
    fn standalone_validators() {
        validate_repository("a/b-c/d.e").unwrap();
        validate_tag("v1.2.3").unwrap();
        let e = validate_repository("A").unwrap_err();
        assert_eq!(
            e.message(),
            "invalid repository name 'A': repository names must be lowercase"
        );
        let e = validate_tag("").unwrap_err();
        assert_eq!(e.message(), "invalid tag '': the tag is empty");
        assert!(validate_repository(&"a".repeat(256)).is_err());
    }

    #[test]
    fn new_validates_and_serde_round_trips() {
        let r = Reference::new(Some("localhost:5000"), "a/b", Some("v1"), None).unwrap();
        assert_eq!(r.to_string(), "localhost:5000/a/b:v1");
        assert!(Reference::new(Some("bad host"), "a", None, None).is_err());
        assert!(Reference::new(None, "A", None, None).is_err());
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"localhost:5000/a/b:v1\"");
        assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);
    }

    #[test]
    fn random_inputs_never_panic_and_round_trip() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let alphabet: Vec<char> = "abcz09AZ._-/:@[]é \n".chars().collect();
        let mut ok = 0;
        for _ in 0..20_000 {
            let len = rng.gen_range(0..24);
            let mut s: String = (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect();
            if rng.gen_bool(0.2) {
                s.push('@');
                s.push_str(D);
            }
            match Reference::parse(&s) {
                Ok(r) => {
                    ok += 1;
                    assert_eq!(Reference::parse(&r.to_string()).unwrap(), r, "{s}");
                    assert_eq!(r.to_string(), s);
                }
                Err(e) => assert!(e.message().starts_with("invalid reference '"), "{s}"),
            }
        }
        assert!(
            ok > 100,
            "the generator produces some valid references ({ok})"
        );
    }
}
