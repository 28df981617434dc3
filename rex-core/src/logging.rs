//! Logging conventions (seed 1.12): structured field names, span helpers and redaction.
//!
//! rex-core only emits `tracing` events and spans; it never installs a subscriber (the
//! `rex` binary does). Field names are constants so every module logs the same keys;
//! `tracing` macros need literal identifiers, so the macros in this crate spell the same
//! names and a unit test keeps the two in sync.

use tracing::Span;

/// Registry host (`host[:port]`).
pub const REGISTRY: &str = "registry";
/// Repository name.
pub const REPOSITORY: &str = "repository";
/// Tag name.
pub const TAG: &str = "tag";
/// Content digest.
pub const DIGEST: &str = "digest";
/// Operation duration in milliseconds.
pub const DURATION_MS: &str = "duration_ms";
/// HTTP status code.
pub const STATUS: &str = "status";
/// Error message.
pub const ERROR: &str = "error";
/// Retry attempt number (1 = first retry).
pub const ATTEMPT: &str = "attempt";
/// Cache key.
pub const CACHE_KEY: &str = "cache_key";
/// Request method.
pub const METHOD: &str = "method";
/// Request URL (always redacted with [`redact_url`]).
pub const URL: &str = "url";

/// Every field name above, for subscribers that want to whitelist them.
pub const FIELDS: &[&str] = &[
    REGISTRY,
    REPOSITORY,
    TAG,
    DIGEST,
    DURATION_MS,
    STATUS,
    ERROR,
    ATTEMPT,
    CACHE_KEY,
    METHOD,
    URL,
];

/// Span for one registry operation (catalog, tags, manifest fetch, inspect).
pub fn operation_span(operation: &'static str, registry: &str, repository: Option<&str>) -> Span {
    tracing::info_span!(
        "registry_op",
        op = operation,
        registry = %registry,
        repository = repository.unwrap_or(""),
    )
}

/// Span for one manifest fetch (GET or HEAD) by tag or digest.
pub fn manifest_span(
    operation: &'static str,
    registry: &str,
    repository: &str,
    reference: &str,
) -> Span {
    tracing::info_span!(
        "registry_op",
        op = operation,
        registry = %registry,
        repository = %repository,
        reference = %reference,
    )
}

/// Span for one HTTP request (all its retry attempts). Instrument the request future with
/// it (`Instrument::instrument`); an entered guard held across `.await` makes it !Send.
pub fn request_span(method: &str, url: &str) -> Span {
    tracing::debug_span!("http", method = %method, url = %redact_url(url))
}

/// Span for an authentication flow against one registry.
pub fn auth_span(registry: &str) -> Span {
    tracing::debug_span!("auth", registry = %registry)
}

/// Query parameters whose values are secrets in the wild (signed storage URLs, OAuth).
const SECRET_QUERY_KEYS: &[&str] = &[
    "token",
    "access_token",
    "refresh_token",
    "password",
    "secret",
    "signature",
    "sig",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "code",
];

/// A URL safe to log: user info and secret-looking query values are replaced by
/// `[redacted]`. Unparseable input is returned with everything after `?` dropped.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if !u.username().is_empty() || u.password().is_some() {
                let _ = u.set_username("[redacted]");
                let _ = u.set_password(None);
            }
            if u.query().is_some() {
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .map(|(k, v)| {
                        let secret = SECRET_QUERY_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s));
                        let v = if secret {
                            "[redacted]".to_owned()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => url.split('?').next().unwrap_or("").to_owned(),
    }
}

/// Headers whose values are credentials.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-registry-auth",
    "x-amz-security-token",
];

/// A header value safe to log. Credential headers keep only their scheme
/// (`Bearer [redacted]`).
pub fn redact_header(name: &str, value: &str) -> String {
    if SECRET_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
        match value.split_once(' ') {
            Some((scheme, _)) if !scheme.is_empty() && scheme.len() < 16 => {
                format!("{scheme} [redacted]")
            }
            _ => "[redacted]".to_owned(),
        }
    } else {
        value.to_owned()
    }
}

/// A whole header map rendered for trace logs, redacted.
pub fn redact_headers(headers: &http::HeaderMap) -> String {
    let mut out = String::new();
    for (name, value) in headers {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let v = value.to_str().unwrap_or("<binary>");
        out.push_str(name.as_str());
        out.push_str(": ");
        out.push_str(&redact_header(name.as_str(), v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_match_the_design() {
        assert_eq!(
            &FIELDS[..9],
            &[
                "registry",
                "repository",
                "tag",
                "digest",
                "duration_ms",
                "status",
                "error",
                "attempt",
                "cache_key"
            ]
        );
    }

    #[test]
    fn urls_lose_userinfo_and_secret_query_values() {
        let r = redact_url("https://bob:hunter2@reg.example/token?service=x&token=abc&scope=a");
        assert!(!r.contains("hunter2"), "{r}");
        assert!(!r.contains("abc"), "{r}");
        assert!(r.contains("service=x"), "{r}");
        assert!(r.contains("scope=a"), "{r}");
        let s3 = redact_url("https://s3.example/blob?X-Amz-Signature=deadbeef&X-Amz-Date=1");
        assert!(!s3.contains("deadbeef"));
        assert!(s3.contains("X-Amz-Date=1"));
        assert_eq!(redact_url("not a url?token=x"), "not a url");
        assert_eq!(
            redact_url("http://localhost:5000/v2/"),
            "http://localhost:5000/v2/"
        );
    }

    #[test]
    fn credential_headers_keep_only_the_scheme() {
        assert_eq!(
            redact_header("Authorization", "Bearer eyJhbGciOi"),
            "Bearer [redacted]"
        );
        assert_eq!(
            redact_header("authorization", "Basic Ym9iOmh1bnRlcjI="),
            "Basic [redacted]"
        );
        assert_eq!(redact_header("Cookie", "session=abc"), "[redacted]");
        assert_eq!(
            redact_header("Accept", "application/json"),
            "application/json"
        );
        let mut h = http::HeaderMap::new();
        h.insert("authorization", "Bearer secret-token".parse().unwrap());
        h.insert("accept", "*/*".parse().unwrap());
        let s = redact_headers(&h);
        assert!(!s.contains("secret-token"));
        assert!(s.contains("accept: */*"));
    }
}
