//! The HTTP layer (seed 1.1): one pooled `reqwest` client per process, bounded retries
//! with backoff, capped body reads, request logging with redaction, and the mapping of
//! transport failures and registry error bodies to [`Error`] kinds.
//!
//! Redirects are never followed here: the registry layer follows them itself so that
//! credentials never travel to another host.

use crate::config::{NetworkSettings, ProxySettings};
use crate::error::{Error, ErrorKind, RegistryErrorDetail, Result};
use crate::logging::{redact_headers, redact_url, request_span};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http::{HeaderMap, Method, StatusCode};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tracing::Instrument as _;
use url::Url;

/// How the HTTP client behaves. Built from [`NetworkSettings`]; tests shorten the
/// backoff through the fields that have no config-file equivalent.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientOptions {
    /// Connect timeout and the longest wait for any read (headers or a body chunk).
    pub timeout: Duration,
    /// Retries after the first attempt for transient failures.
    pub retry_attempts: u32,
    /// First backoff delay; doubled per attempt, plus up to 50 % jitter.
    pub backoff_base: Duration,
    /// Longest backoff delay.
    pub backoff_max: Duration,
    /// Cap on a server's `Retry-After`.
    pub max_retry_after: Duration,
    pub verify_tls: bool,
    pub ca_certs: Vec<PathBuf>,
    pub user_agent: String,
    pub proxy: ProxySettings,
    /// Largest manifest/config/JSON body read into memory.
    pub max_body_bytes: u64,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self::from_settings(&NetworkSettings::default())
    }
}

impl ClientOptions {
    pub fn from_settings(net: &NetworkSettings) -> Self {
        ClientOptions {
            timeout: Duration::from_secs(net.timeout.max(1)),
            retry_attempts: net.retry_attempts,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(net.max_retry_after),
            verify_tls: net.verify_tls,
            ca_certs: net.ca_certs.clone(),
            user_agent: net
                .user_agent
                .clone()
                .unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned()),
            proxy: net.proxy.clone(),
            max_body_bytes: net.max_manifest_bytes,
        }
    }
}

/// `rex/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("rex/", env!("CARGO_PKG_VERSION"));

/// One request, re-buildable for retries (registry reads carry no body).
#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    /// Accept any certificate (per-registry `skip_verify`).
    pub skip_verify: bool,
}

impl RequestSpec {
    pub fn get(url: Url) -> Self {
        RequestSpec {
            method: Method::GET,
            url,
            headers: HeaderMap::new(),
            skip_verify: false,
        }
    }
    pub fn head(url: Url) -> Self {
        RequestSpec {
            method: Method::HEAD,
            ..Self::get(url)
        }
    }
}

/// A response whose body was read in full (and capped).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub url: Url,
    pub body: Bytes,
}

/// The process-wide HTTP client. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    options: ClientOptions,
    verified: reqwest::Client,
    /// Built on first use by a registry with `skip_verify` (or when `verify_tls` is off).
    unverified: OnceLock<std::result::Result<reqwest::Client, String>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("options", &self.inner.options)
            .finish()
    }
}

impl HttpClient {
    pub fn new(options: ClientOptions) -> Result<HttpClient> {
        let verified = build_client(&options, !options.verify_tls)?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                options,
                verified,
                unverified: OnceLock::new(),
            }),
        })
    }

    pub fn from_settings(net: &NetworkSettings) -> Result<HttpClient> {
        Self::new(ClientOptions::from_settings(net))
    }

    /// The process-wide client for `options`: built on first use, then shared, so every
    /// facade of a process (the TUI's, bulk listings, each registry) reuses one connection
    /// pool. Keyed by the whole options value; different options get their own client.
    pub fn shared(options: ClientOptions) -> Result<HttpClient> {
        static POOL: OnceLock<Mutex<Vec<HttpClient>>> = OnceLock::new();
        // A process uses one or two option sets; the cap only bounds odd callers (tests
        // building many), dropping the oldest (its clones keep working).
        const MAX_SHARED: usize = 16;
        let pool = POOL.get_or_init(|| Mutex::new(Vec::new()));
        let mut clients = pool.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.iter().find(|c| c.inner.options == options) {
            return Ok(c.clone());
        }
        let client = HttpClient::new(options)?;
        if clients.len() >= MAX_SHARED {
            clients.remove(0);
        }
        clients.push(client.clone());
        Ok(client)
    }

    /// Whether `self` and `other` share one connection pool (clones of one client).
    pub fn shares_pool_with(&self, other: &HttpClient) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// The underlying client (for callers that stream). Redirects are disabled on it.
    pub fn reqwest(&self, skip_verify: bool) -> Result<&reqwest::Client> {
        if !skip_verify || !self.inner.options.verify_tls {
            return Ok(&self.inner.verified);
        }
        self.inner
            .unverified
            .get_or_init(|| build_client(&self.inner.options, true).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::config(e.clone()))
    }

    /// Send one request with retries on transient failures (connect errors, timeouts,
    /// 408/429/500/502/503/504). The last response is returned whatever its status; a
    /// transport failure after the last attempt becomes an [`ErrorKind::Network`] error.
    /// Runs inside [`request_span`] (method and redacted URL), so every event of the
    /// request, its retries included, carries them.
    pub async fn execute(&self, spec: &RequestSpec) -> Result<reqwest::Response> {
        let span = request_span(spec.method.as_str(), spec.url.as_str());
        self.execute_attempts(spec).instrument(span).await
    }

    async fn execute_attempts(&self, spec: &RequestSpec) -> Result<reqwest::Response> {
        let opts = &self.inner.options;
        let client = self.reqwest(spec.skip_verify)?;
        let mut attempt: u32 = 0;
        loop {
            let started = Instant::now();
            tracing::debug!(method = %spec.method, url = %redact_url(spec.url.as_str()), attempt, "request");
            if tracing::enabled!(tracing::Level::TRACE) {
                tracing::trace!(headers = %redact_headers(&spec.headers), "request headers");
            }
            let result = client
                .request(spec.method.clone(), spec.url.clone())
                .headers(spec.headers.clone())
                .send()
                .await;
            let duration_ms = started.elapsed().as_millis() as u64;
            let last = attempt >= opts.retry_attempts;
            match result {
                Ok(resp) => {
                    let status = resp.status();
                    tracing::debug!(
                        method = %spec.method,
                        url = %redact_url(spec.url.as_str()),
                        status = status.as_u16(),
                        duration_ms,
                        "response"
                    );
                    if tracing::enabled!(tracing::Level::TRACE) {
                        tracing::trace!(headers = %redact_headers(resp.headers()), "response headers");
                    }
                    if is_retryable_status(status) && !last {
                        let wait = retry_after(resp.headers(), opts.max_retry_after)
                            .unwrap_or_else(|| backoff(opts, attempt));
                        tracing::warn!(
                            url = %redact_url(spec.url.as_str()),
                            status = status.as_u16(),
                            attempt = attempt + 1,
                            wait_ms = wait.as_millis() as u64,
                            "retrying after a transient status"
                        );
                        drop(resp);
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    return Ok(resp);
                }
                Err(err) => {
                    let retryable = is_retryable_transport(&err);
                    if retryable && !last {
                        let wait = backoff(opts, attempt);
                        tracing::warn!(
                            url = %redact_url(spec.url.as_str()),
                            error = %err,
                            attempt = attempt + 1,
                            wait_ms = wait.as_millis() as u64,
                            "retrying after a transport error"
                        );
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(map_transport_error(err, &spec.url, opts.timeout));
                }
            }
        }
    }

    /// [`execute`](Self::execute) and read the body, capped at `limit` bytes. A body that
    /// breaks off mid-way (connection reset) is retried like a connect error.
    pub async fn fetch(&self, spec: &RequestSpec, limit: u64, what: &str) -> Result<HttpResponse> {
        let opts = &self.inner.options;
        let mut attempt = 0;
        loop {
            let resp = self.execute(spec).await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let url = resp.url().clone();
            match read_body_capped(resp, limit, what).await {
                Ok(body) => {
                    return Ok(HttpResponse {
                        status,
                        headers,
                        url,
                        body,
                    })
                }
                Err(e) if e.kind() == ErrorKind::Network && attempt < opts.retry_attempts => {
                    let wait = backoff(opts, attempt);
                    tracing::warn!(
                        url = %redact_url(spec.url.as_str()),
                        error = %e,
                        attempt = attempt + 1,
                        "retrying after the body broke off"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn build_client(options: &ClientOptions, accept_invalid_certs: bool) -> Result<reqwest::Client> {
    // Never let reqwest read the environment: proxies come only from the settings.
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(options.user_agent.clone())
        .connect_timeout(options.timeout)
        .read_timeout(options.timeout)
        .pool_max_idle_per_host(64)
        .danger_accept_invalid_certs(accept_invalid_certs);
    for path in &options.ca_certs {
        let pem = std::fs::read(path).map_err(|e| {
            Error::config(format!(
                "cannot read CA certificate {}: {e}",
                path.display()
            ))
            .with_hint("fix or remove the path in network.ca_certs")
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            Error::config(format!(
                "{} is not a PEM certificate bundle: {e}",
                path.display()
            ))
            .with_hint("network.ca_certs takes PEM files")
        })?;
        if certs.is_empty() {
            return Err(Error::config(format!(
                "{} contains no PEM certificate",
                path.display()
            )));
        }
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    let no_proxy = options
        .proxy
        .no_proxy
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(reqwest::NoProxy::from_string);
    if let Some(p) = options
        .proxy
        .http
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        let proxy = reqwest::Proxy::http(p)
            .map_err(|e| Error::config(format!("invalid http proxy '{}': {e}", redact_url(p))))?
            .no_proxy(no_proxy.clone());
        b = b.proxy(proxy);
    }
    if let Some(p) = options
        .proxy
        .https
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        let proxy = reqwest::Proxy::https(p)
            .map_err(|e| Error::config(format!("invalid https proxy '{}': {e}", redact_url(p))))?
            .no_proxy(no_proxy);
        b = b.proxy(proxy);
    }
    b.build()
        .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")).with_source(e))
}

/// Statuses worth another try.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

fn is_retryable_transport(err: &reqwest::Error) -> bool {
    if err.is_builder() || err.is_redirect() {
        return false;
    }
    if is_tls_error(err) {
        return false;
    }
    err.is_connect() || err.is_timeout() || err.is_request() || err.is_body()
}

/// Exponential backoff with jitter: base * 2^attempt (capped) plus up to 50 %.
pub fn backoff(options: &ClientOptions, attempt: u32) -> Duration {
    let base = options.backoff_base.as_millis() as u64;
    let exp = base.saturating_mul(1u64 << attempt.min(16));
    let capped = exp.min(options.backoff_max.as_millis() as u64);
    let jitter = if capped > 1 {
        rand::random::<u64>() % (capped / 2 + 1)
    } else {
        0
    };
    Duration::from_millis(capped + jitter)
}

/// `Retry-After` as seconds or an HTTP date, capped.
pub fn retry_after(headers: &HeaderMap, cap: Duration) -> Option<Duration> {
    let v = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = if let Ok(secs) = v.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
        let now = chrono::Utc::now();
        let delta = when.with_timezone(&chrono::Utc) - now;
        delta.to_std().unwrap_or(Duration::ZERO)
    };
    Some(wait.min(cap))
}

/// Read a body into memory, refusing more than `limit` bytes (checked against
/// `Content-Length` first, then while streaming so a lying server is cut off too).
pub async fn read_body_capped(resp: reqwest::Response, limit: u64, what: &str) -> Result<Bytes> {
    let url = resp.url().clone();
    if let Some(len) = resp.content_length() {
        if len > limit {
            return Err(too_large(what, &url, limit));
        }
    }
    let mut buf = BytesMut::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            Error::network(format!(
                "reading the {what} from {} failed: {}",
                origin(&url),
                describe_chain(&e)
            ))
            .with_source(e)
        })?;
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(too_large(what, &url, limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

fn too_large(what: &str, url: &Url, limit: u64) -> Error {
    Error::general(format!(
        "{what} from {} exceeds the {} limit",
        origin(url),
        human_limit(limit)
    ))
    .with_hint("raise network.max_manifest_bytes if this is expected")
}

fn human_limit(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    const KIB: u64 = 1024;
    // Powers of two: a mask test keeps this free of newer std APIs (MSRV 1.80).
    if bytes >= MIB && bytes & (MIB - 1) == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes & (KIB - 1) == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// `host[:port]` of a URL, for messages.
pub fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

fn describe_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

fn chain_has_io(err: &(dyn std::error::Error + 'static), kind: std::io::ErrorKind) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == kind {
                return true;
            }
        }
        cur = e.source();
    }
    false
}

fn is_tls_error(err: &reqwest::Error) -> bool {
    let s = describe_chain(err).to_ascii_lowercase();
    s.contains("certificate") || s.contains("tls") || s.contains("handshake") || s.contains("ssl")
}

/// Map a transport failure to a Network error with a hint.
pub fn map_transport_error(err: reqwest::Error, url: &Url, timeout: Duration) -> Error {
    let base = format!("{}://{}", url.scheme(), origin(url));
    let chain = describe_chain(&err);
    let lower = chain.to_ascii_lowercase();
    let e = if is_tls_error(&err) {
        Error::network(format!("TLS connection to {base} failed: {chain}")).with_hint(
            "use --no-verify-tls (or skip_verify for this registry) or add the CA with network.ca_certs",
        )
    } else if err.is_timeout() {
        Error::network(format!(
            "request to {base} timed out after {}s",
            timeout.as_secs_f64()
        ))
        .with_hint("raise network.timeout or check the network")
    } else if chain_has_io(&err, std::io::ErrorKind::ConnectionRefused)
        || lower.contains("connection refused")
    {
        Error::network(format!(
            "failed to connect to registry at {base}: connection refused"
        ))
        .with_hint("Is the registry running?")
    } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
        Error::network(format!("cannot resolve the host of {base}: {chain}"))
            .with_hint("check the registry address and your DNS")
    } else if chain_has_io(&err, std::io::ErrorKind::ConnectionReset)
        || lower.contains("connection reset")
        || lower.contains("connection closed")
        || lower.contains("incomplete message")
    {
        Error::network(format!("connection to {base} was reset: {chain}"))
            .with_hint("retry; if it persists, check proxies and the registry's logs")
    } else if err.is_connect() {
        Error::network(format!("failed to connect to registry at {base}: {chain}"))
            .with_hint("Is the registry running?")
    } else {
        Error::network(format!("request to {base} failed: {chain}"))
    };
    e.with_source(err)
}

/// The `{"errors":[...]}` body most registries send with 4xx/5xx.
pub fn parse_registry_errors(body: &[u8]) -> Vec<RegistryErrorDetail> {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        errors: Vec<RegistryErrorDetail>,
    }
    serde_json::from_slice::<Body>(body)
        .map(|b| b.errors)
        .unwrap_or_default()
}

/// Turn an unsuccessful response into an error with the right kind and hint.
/// `what` names the thing asked for ("manifest alpine:3.19", "the catalog").
pub fn status_error(status: StatusCode, body: &[u8], url: &Url, what: &str) -> Error {
    let registry = origin(url);
    let errors = parse_registry_errors(body);
    let e = match status.as_u16() {
        401 => Error::auth(format!("authentication failed for {registry} ({what})"))
            .with_hint("run 'rex registry login' to store credentials"),
        403 => Error::auth(format!("access to {what} denied by {registry}"))
            .with_hint("check your permissions, or run 'rex registry login' with another account"),
        404 => Error::not_found(format!("{what} not found in registry {registry}"))
            .with_hint("use 'rex image' and 'rex image NAME' to see what exists"),
        429 => Error::network(format!("{registry} is rate limiting requests ({what})"))
            .with_hint("wait and retry, or log in for a higher limit"),
        s if s >= 500 => Error::network(format!(
            "{registry} failed with HTTP {s} while fetching {what}"
        ))
        .with_hint("the registry has a problem; retry later"),
        s => Error::general(format!(
            "{registry} answered HTTP {s} while fetching {what}"
        )),
    };
    e.with_status(status.as_u16()).with_registry_errors(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ClientOptions {
        ClientOptions {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(1000),
            ..ClientOptions::default()
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let o = opts();
        for attempt in 0..10 {
            let d = backoff(&o, attempt).as_millis() as u64;
            let nominal = (100u64 << attempt).min(1000);
            assert!(d >= nominal && d <= nominal + nominal / 2, "{attempt}: {d}");
        }
    }

    #[test]
    fn retry_after_seconds_date_and_cap() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(
            retry_after(&h, Duration::from_secs(30)),
            Some(Duration::from_secs(2))
        );
        h.insert("retry-after", "3600".parse().unwrap());
        assert_eq!(
            retry_after(&h, Duration::from_secs(30)),
            Some(Duration::from_secs(30))
        );
        let future = chrono::Utc::now() + chrono::Duration::seconds(10);
        h.insert(
            "retry-after",
            future
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string()
                .parse()
                .unwrap(),
        );
        let d = retry_after(&h, Duration::from_secs(30)).unwrap();
        assert!(
            d > Duration::from_secs(7) && d <= Duration::from_secs(10),
            "{d:?}"
        );
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(
            retry_after(&h, Duration::from_secs(30)),
            Some(Duration::ZERO)
        );
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h, Duration::from_secs(30)), None);
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(StatusCode::from_u16(s).unwrap()));
        }
        for s in [200, 400, 401, 403, 404, 501] {
            assert!(!is_retryable_status(StatusCode::from_u16(s).unwrap()));
        }
    }

    #[test]
    fn registry_error_bodies_map_to_kinds() {
        let url = Url::parse("http://localhost:5000/v2/x/manifests/y").unwrap();
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"y"}}]}"#;
        let e = status_error(StatusCode::NOT_FOUND, body, &url, "manifest x:y");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.status(), Some(404));
        assert_eq!(e.registry_errors()[0].code, "MANIFEST_UNKNOWN");
        assert!(e.to_string().contains("manifest unknown"));
        // The hint names commands that exist (design 2.5).
        assert_eq!(
            e.hint(),
            Some("use 'rex image' and 'rex image NAME' to see what exists")
        );
        let e = status_error(StatusCode::UNAUTHORIZED, b"not json", &url, "x");
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(e.hint().unwrap().contains("rex registry login"));
        assert!(e.registry_errors().is_empty());
        assert_eq!(
            status_error(StatusCode::FORBIDDEN, b"", &url, "x").kind(),
            ErrorKind::Auth
        );
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, b"", &url, "x").kind(),
            ErrorKind::Network
        );
        assert_eq!(
            status_error(StatusCode::BAD_REQUEST, b"", &url, "x").kind(),
            ErrorKind::General
        );
    }

    #[test]
    fn human_limits() {
        assert_eq!(human_limit(4 * 1024 * 1024), "4 MiB");
        assert_eq!(human_limit(2048), "2 KiB");
        assert_eq!(human_limit(1000), "1000 bytes");
    }

    #[test]
    fn bad_ca_file_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ca.pem");
        std::fs::write(&p, "not pem").unwrap();
        let o = ClientOptions {
            ca_certs: vec![p],
            ..opts()
        };
        let e = HttpClient::new(o).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        let o = ClientOptions {
            ca_certs: vec![dir.path().join("missing.pem")],
            ..opts()
        };
        assert_eq!(HttpClient::new(o).unwrap_err().kind(), ErrorKind::Config);
    }

    #[test]
    fn proxies_are_validated() {
        let o = ClientOptions {
            proxy: ProxySettings {
                http: Some("http://proxy.example:3128".into()),
                https: Some("http://proxy.example:3128".into()),
                no_proxy: Some("localhost,127.0.0.1".into()),
            },
            ..opts()
        };
        HttpClient::new(o).unwrap();
    }

    #[test]
    fn shared_clients_are_one_pool_per_options() {
        let o = ClientOptions {
            user_agent: "rex-test/shared-pool".into(),
            ..opts()
        };
        let a = HttpClient::shared(o.clone()).unwrap();
        let b = HttpClient::shared(o.clone()).unwrap();
        assert!(a.shares_pool_with(&b));
        let other = HttpClient::shared(ClientOptions {
            timeout: Duration::from_secs(7),
            ..o.clone()
        })
        .unwrap();
        assert!(!a.shares_pool_with(&other));
        assert!(!a.shares_pool_with(&HttpClient::new(o).unwrap()));
        // Bad options are still an error, and are not remembered.
        let bad = ClientOptions {
            ca_certs: vec!["/nonexistent/ca.pem".into()],
            ..opts()
        };
        assert!(HttpClient::shared(bad.clone()).is_err());
        assert!(HttpClient::shared(bad).is_err());
    }

    #[tokio::test]
    async fn connection_refused_is_a_network_error_with_a_hint() {
        // Bind then drop a listener to get a port nobody listens on.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let client = HttpClient::new(ClientOptions {
            retry_attempts: 1,
            backoff_base: Duration::from_millis(1),
            ..opts()
        })
        .unwrap();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/v2/")).unwrap();
        let e = client.execute(&RequestSpec::get(url)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network);
        assert!(
            e.message().contains("connection refused"),
            "{}",
            e.message()
        );
        assert_eq!(e.hint(), Some("Is the registry running?"));
    }
}
