//! Registry operations (seed 1.3) and the high-level [`Rex`] facade (seed 1.13).
//!
//! [`RegistryClient`] speaks the distribution API to one registry: ping, catalog and tag
//! listing with pagination, manifests (original bytes, verified digest), blobs (capped
//! or streamed, verified), referrers. It shares one [`HttpClient`] and one
//! [`AuthManager`] with every other client of the process.
//!
//! [`Rex`] builds on it for what users ask: inspect an image (manifest + config +
//! platforms), resolve a tag, details for many tags at once with bounded concurrency.
//! Every registry read of `Rex` that can be cached (catalog, tags, manifests and configs
//! by digest) goes through one private method of `Rex` that asks its [`Cache`] first;
//! `docs/cache.md` says what is served from the cache when.

use crate::auth::{pull_scope, AuthManager, AuthScheme, CATALOG_SCOPE};
use crate::cache::{Cache, CacheBuilder, CacheKey, FetchOutcome, Fetched, NewEntry};
use crate::client::{
    is_retryable_status, origin, read_body_capped, status_error, ClientOptions, HttpClient,
    HttpResponse, RequestSpec,
};
use crate::config::{Consistency, NetworkSettings, RegistryTarget, Settings};
use crate::credentials::{CredentialStore, Credentials};
use crate::digest::{Algorithm, Digest};
use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorKind, Result};
use crate::logging::redact_url;
use crate::oci::{
    media_types, Descriptor, ImageConfig, Manifest, Platform, PlatformSelector, MANIFEST_ACCEPT,
};
use crate::reference::{validate_repository, validate_tag, Reference};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use std::collections::{BTreeMap, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::sync::{OnceCell, Semaphore};
use tracing::Instrument as _;
use url::Url;

/// Redirects followed for one request (blob GETs to storage, moved manifests).
pub const MAX_REDIRECTS: usize = 5;

/// Largest page size distribution accepts for `n`.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Safety stop for pagination that never ends (a registry repeating its `Link`).
const MAX_PAGES: usize = 100_000;

/// What `GET /v2/` said.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PingInfo {
    /// `Docker-Distribution-API-Version` (usually `registry/2.0`).
    pub api_version: Option<String>,
    /// `anonymous`, `basic` or `bearer`.
    pub auth_scheme: String,
    /// The bearer token realm, when the registry uses tokens.
    pub realm: Option<String>,
    /// Whether credentials were available and accepted.
    pub authenticated: bool,
    pub duration_ms: u64,
}

/// One catalog page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogPage {
    pub repositories: Vec<String>,
    /// The next page's URL from the `Link` header, if any.
    pub next: Option<Url>,
}

/// A manifest as the registry sent it.
#[derive(Debug, Clone)]
pub struct ManifestResponse {
    /// The registry's original bytes (the digest is over these).
    pub bytes: Bytes,
    /// The media type (from `Content-Type`, else the document).
    pub media_type: String,
    /// The verified digest of `bytes`.
    pub digest: Digest,
    pub manifest: Manifest,
    /// The registry's `ETag` for it (distribution 2.8 sends one on manifest GET and HEAD),
    /// the validator a later `If-None-Match` revalidation sends.
    pub etag: Option<String>,
}

/// What `HEAD` on a manifest says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ManifestHead {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
}

/// What `HEAD` on a blob says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BlobHead {
    pub digest: Digest,
    pub size: Option<u64>,
}

/// A blob body as a stream of chunks. The digest is checked as the chunks pass; the
/// last item is an error when the content does not match.
pub struct BlobStream {
    pub content_length: Option<u64>,
    inner: BoxStream<'static, Result<Bytes>>,
}

impl futures::Stream for BlobStream {
    type Item = Result<Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStream")
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

/// Low-level client for one registry endpoint.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    endpoint: Endpoint,
    http: HttpClient,
    auth: Arc<AuthManager>,
    page_size: u32,
    max_body: u64,
    permits: Arc<Semaphore>,
}

impl RegistryClient {
    /// A client for `endpoint` sharing `http` and `auth` with others.
    pub fn new(
        endpoint: Endpoint,
        http: HttpClient,
        auth: Arc<AuthManager>,
        network: &NetworkSettings,
    ) -> RegistryClient {
        RegistryClient {
            endpoint,
            max_body: http.options().max_body_bytes,
            http,
            auth,
            page_size: network.page_size.clamp(1, MAX_PAGE_SIZE),
            permits: Arc::new(Semaphore::new(network.max_concurrency.max(1))),
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub fn auth(&self) -> &Arc<AuthManager> {
        &self.auth
    }

    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// Requests allowed in flight at once against this registry.
    pub fn concurrency(&self) -> usize {
        self.permits.available_permits()
    }

    // ---- transport -------------------------------------------------------------------

    /// Send one request, following redirects ourselves: `Authorization` goes only to
    /// the registry's own origin, never to the host a redirect points at.
    async fn send_redirecting(
        &self,
        method: Method,
        url: Url,
        headers: &HeaderMap,
        authorization: Option<&HeaderValue>,
    ) -> Result<reqwest::Response> {
        let mut url = url;
        let mut method = method;
        for _ in 0..=MAX_REDIRECTS {
            let mut h = headers.clone();
            if let Some(a) = authorization {
                if self.endpoint.same_origin(&url) {
                    h.insert(http::header::AUTHORIZATION, a.clone());
                }
            }
            let spec = RequestSpec {
                method: method.clone(),
                url: url.clone(),
                headers: h,
                skip_verify: self.endpoint.skip_verify,
            };
            let resp = self.http.execute(&spec).await?;
            let status = resp.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                return Ok(resp);
            }
            let Some(loc) = resp
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
            else {
                return Ok(resp);
            };
            let next = url.join(loc).map_err(|e| {
                Error::general(format!(
                    "{} sent an invalid redirect '{}': {e}",
                    origin(&url),
                    redact_url(loc)
                ))
            })?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(Error::general(format!(
                    "{} redirected to an unsupported URL scheme '{}'",
                    origin(&url),
                    next.scheme()
                )));
            }
            if url.scheme() == "https" && next.scheme() == "http" {
                return Err(Error::general(format!(
                    "{} redirected from https to plain http ({}); refusing to downgrade",
                    origin(&url),
                    origin(&next)
                )));
            }
            tracing::debug!(from = %redact_url(url.as_str()), to = %redact_url(next.as_str()), "following redirect");
            if status == StatusCode::SEE_OTHER && method != Method::HEAD {
                method = Method::GET;
            }
            url = next;
        }
        Err(Error::general(format!(
            "too many redirects (more than {MAX_REDIRECTS}) from {}",
            self.endpoint.registry_host()
        )))
    }

    /// Send with authentication: the known scheme up front, one retry after a 401.
    async fn send(
        &self,
        method: Method,
        url: Url,
        scopes: &[String],
        headers: &HeaderMap,
    ) -> Result<reqwest::Response> {
        let mut authorization = self.auth.authorization(&self.endpoint, scopes).await?;
        let mut retried = false;
        loop {
            let resp = self
                .send_redirecting(method.clone(), url.clone(), headers, authorization.as_ref())
                .await?;
            if resp.status() == StatusCode::UNAUTHORIZED
                && !retried
                && self.endpoint.same_origin(resp.url())
            {
                retried = true;
                let fresh = self
                    .auth
                    .on_unauthorized(
                        &self.endpoint,
                        resp.headers(),
                        scopes,
                        authorization.as_ref(),
                    )
                    .await?;
                authorization = Some(fresh);
                continue;
            }
            return Ok(resp);
        }
    }

    /// Send and read the body (capped). Bodies that break off are retried; error
    /// statuses become errors naming `what`.
    async fn fetch(
        &self,
        method: Method,
        url: Url,
        scopes: &[String],
        headers: &HeaderMap,
        limit: u64,
        what: &str,
    ) -> Result<HttpResponse> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::interrupted())?;
        let retries = self.http.options().retry_attempts;
        let mut attempt = 0;
        let resp = loop {
            let resp = self
                .send(method.clone(), url.clone(), scopes, headers)
                .await?;
            let status = resp.status();
            let resp_headers = resp.headers().clone();
            let resp_url = resp.url().clone();
            match read_body_capped(resp, limit, what).await {
                Ok(body) => {
                    break HttpResponse {
                        status,
                        headers: resp_headers,
                        url: resp_url,
                        body,
                    }
                }
                Err(e) if e.kind() == ErrorKind::Network && attempt < retries => {
                    attempt += 1;
                    let wait = crate::client::backoff(self.http.options(), attempt - 1);
                    tracing::warn!(error = %e, attempt, "retrying after the body broke off");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        };
        // A 304 answers a conditional request; the caller decides what it means.
        if resp.status.is_success()
            || (resp.status == StatusCode::NOT_MODIFIED
                && headers.contains_key(http::header::IF_NONE_MATCH))
        {
            return Ok(resp);
        }
        Err(self.error_for(&resp, what))
    }

    fn error_for(&self, resp: &HttpResponse, what: &str) -> Error {
        if resp.status == StatusCode::UNAUTHORIZED {
            let challenges = crate::auth::challenges_from_headers(&resp.headers);
            if challenges
                .iter()
                .any(|c| c.error() == Some("insufficient_scope"))
            {
                let host = self.endpoint.registry_host();
                return Error::auth(format!(
                    "access to {what} denied by {host}: insufficient_scope"
                ))
                .with_status(401)
                .with_registry_errors(crate::client::parse_registry_errors(&resp.body))
                .with_hint(if self.auth.has_credentials(&host) {
                    "your account lacks this permission"
                } else {
                    "run 'rex registry login' to authenticate"
                });
            }
            let host = self.endpoint.registry_host();
            if self.auth.has_credentials(&host) && self.auth.scheme(&host) == AuthScheme::Basic {
                return Error::auth(format!(
                    "authentication failed for {host}: invalid username or password"
                ))
                .with_status(401)
                .with_registry_errors(crate::client::parse_registry_errors(&resp.body))
                .with_hint("run 'rex registry login' to update credentials");
            }
        }
        let mut e = status_error(resp.status, &resp.body, &resp.url, what);
        if is_retryable_status(resp.status) {
            e = e.with_hint(format!(
                "gave up after {} retries; retry later",
                self.http.options().retry_attempts
            ));
        }
        e
    }

    fn accept(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::ACCEPT, HeaderValue::from_static(value));
        h
    }

    // ---- operations ------------------------------------------------------------------

    /// `GET /v2/`: is this a registry, which API version, which auth scheme; with
    /// credentials, also whether they are accepted.
    pub async fn ping(&self) -> Result<PingInfo> {
        let started = Instant::now();
        let url = self.endpoint.v2_url("");
        let resp = self
            .send_redirecting(Method::GET, url.clone(), &HeaderMap::new(), None)
            .await?;
        let api_version = |h: &HeaderMap| {
            h.get("docker-distribution-api-version")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = resp.status();
        let mut version = api_version(resp.headers());
        let info = |scheme: AuthScheme, authenticated: bool, version: Option<String>| PingInfo {
            api_version: version,
            auth_scheme: scheme.name().to_owned(),
            realm: match &scheme {
                AuthScheme::Bearer { realm, .. } => Some(realm.clone()),
                _ => None,
            },
            authenticated,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        if status.is_success() {
            return Ok(info(AuthScheme::Anonymous, false, version));
        }
        if status == StatusCode::UNAUTHORIZED {
            let scheme = self.auth.learn_from_headers(&self.endpoint, resp.headers());
            if !self.auth.has_credentials(&self.endpoint.registry_host()) {
                return Ok(info(scheme, false, version));
            }
            let r = self
                .fetch(
                    Method::GET,
                    url,
                    &[],
                    &HeaderMap::new(),
                    64 * 1024,
                    "the API root /v2/",
                )
                .await?;
            version = api_version(&r.headers).or(version);
            return Ok(info(scheme, true, version));
        }
        let body = read_body_capped(resp, 64 * 1024, "response")
            .await
            .unwrap_or_default();
        if status == StatusCode::NOT_FOUND {
            return Err(Error::not_found(format!(
                "{} is not a registry: GET /v2/ answered 404",
                self.endpoint
            ))
            .with_status(404)
            .with_hint("check the address; OCI registries serve the API under /v2/"));
        }
        Err(status_error(status, &body, &url, "the API root /v2/"))
    }

    /// One catalog page of at most `n` names after `last`.
    pub async fn catalog_page(&self, n: u32, last: Option<&str>) -> Result<CatalogPage> {
        let mut url = self.endpoint.v2_url("_catalog");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("n", &n.clamp(1, MAX_PAGE_SIZE).to_string());
            if let Some(l) = last {
                q.append_pair("last", l);
            }
        }
        self.catalog_page_at(url).await
    }

    async fn catalog_page_at(&self, url: Url) -> Result<CatalogPage> {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default)]
            repositories: Option<Vec<String>>,
        }
        let resp = self
            .fetch(
                Method::GET,
                url.clone(),
                &[CATALOG_SCOPE.to_owned()],
                &Self::accept("application/json"),
                self.max_body.max(16 * 1024 * 1024),
                "the catalog",
            )
            .await?;
        let body: Body = parse_json(&resp.body, "catalog", &resp.url)?;
        Ok(CatalogPage {
            repositories: body.repositories.unwrap_or_default(),
            next: next_link(&resp.headers, &resp.url)?,
        })
    }

    /// Every repository, following `Link` headers page by page.
    pub async fn list_repositories(&self) -> Result<Vec<String>> {
        // Instrumented, not entered: a guard held across `.await` makes the future !Send.
        let span = crate::logging::operation_span("catalog", &self.endpoint.registry_host(), None);
        self.list_repositories_pages().instrument(span).await
    }

    async fn list_repositories_pages(&self) -> Result<Vec<String>> {
        let mut url = self.endpoint.v2_url("_catalog");
        url.query_pairs_mut()
            .append_pair("n", &self.page_size.to_string());
        let mut all = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            seen.insert(url.to_string());
            let page = self.catalog_page_at(url).await?;
            let empty = page.repositories.is_empty();
            all.extend(page.repositories);
            match page.next {
                Some(next) if seen.contains(next.as_str()) => {
                    return Err(link_loop("the catalog", &next))
                }
                Some(next) if !empty => url = next,
                _ => break,
            }
        }
        tracing::debug!(registry = %self.endpoint.registry_host(), count = all.len(), "catalog listed");
        Ok(all)
    }

    /// Every tag of `repository`, in the registry's order, following `Link` headers.
    /// `"tags": null` (a repository whose manifests were deleted) is an empty list.
    pub async fn list_tags(&self, repository: &str) -> Result<Vec<String>> {
        let span = crate::logging::operation_span(
            "tags",
            &self.endpoint.registry_host(),
            Some(repository),
        );
        self.list_tags_pages(repository).instrument(span).await
    }

    async fn list_tags_pages(&self, repository: &str) -> Result<Vec<String>> {
        validate_repository(repository)?;
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut url = self.endpoint.v2_url(&format!("{repository}/tags/list"));
        url.query_pairs_mut()
            .append_pair("n", &self.page_size.to_string());
        let what = format!("repository '{repository}'");
        let mut all = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            seen.insert(url.to_string());
            let resp = self
                .fetch(
                    Method::GET,
                    url.clone(),
                    &[pull_scope(repository)],
                    &Self::accept("application/json"),
                    self.max_body.max(16 * 1024 * 1024),
                    &what,
                )
                .await?;
            let body: Body = parse_json(&resp.body, "tag list", &resp.url)?;
            let tags = body.tags.unwrap_or_default();
            let empty = tags.is_empty();
            all.extend(tags);
            match next_link(&resp.headers, &resp.url)? {
                Some(next) if seen.contains(next.as_str()) => return Err(link_loop(&what, &next)),
                Some(next) if !empty => url = next,
                _ => break,
            }
        }
        Ok(all)
    }

    /// A manifest by tag or digest, with all four manifest types in `Accept`. The digest
    /// is computed over the original bytes and checked against `Docker-Content-Digest`
    /// and, for a digest reference, against the digest asked for.
    pub async fn get_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<ManifestResponse> {
        self.get_manifest_if_none_match(repository, reference, None)
            .await?
            .ok_or_else(|| {
                Error::general(format!(
                    "{} answered 304 Not Modified to an unconditional manifest request",
                    self.endpoint.registry_host()
                ))
            })
    }

    /// [`get_manifest`](Self::get_manifest), conditional when `etag` is given
    /// (`If-None-Match`): `None` when the registry answers `304 Not Modified`, i.e. the
    /// reference still points at the manifest that etag came with.
    pub async fn get_manifest_if_none_match(
        &self,
        repository: &str,
        reference: &str,
        etag: Option<&str>,
    ) -> Result<Option<ManifestResponse>> {
        let span = crate::logging::manifest_span(
            "manifest",
            &self.endpoint.registry_host(),
            repository,
            reference,
        );
        self.get_manifest_once(repository, reference, etag)
            .instrument(span)
            .await
    }

    async fn get_manifest_once(
        &self,
        repository: &str,
        reference: &str,
        etag: Option<&str>,
    ) -> Result<Option<ManifestResponse>> {
        validate_repository(repository)?;
        let asked = parse_manifest_reference(reference)?;
        let what = describe(repository, reference);
        let url = self
            .endpoint
            .v2_url(&format!("{repository}/manifests/{reference}"));
        let mut headers = Self::accept(MANIFEST_ACCEPT);
        // An etag that is not a valid header value cannot have come from a registry
        // header; the request is then simply unconditional.
        if let Some(v) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
            headers.insert(http::header::IF_NONE_MATCH, v);
        }
        let resp = self
            .fetch(
                Method::GET,
                url,
                &[pull_scope(repository)],
                &headers,
                self.max_body,
                &format!("manifest {what}"),
            )
            .await?;
        if resp.status == StatusCode::NOT_MODIFIED {
            tracing::debug!(repository, reference, "manifest not modified");
            return Ok(None);
        }
        let content_type = content_type(&resp.headers);
        let algorithm = asked.as_ref().map_or(Algorithm::Sha256, Digest::algorithm);
        let digest = Digest::compute(algorithm, &resp.body);
        self.check_digest(&resp.headers, &digest, asked.as_ref(), &what)?;
        let manifest = Manifest::parse(&resp.body, content_type.as_deref()).map_err(|e| {
            Error::general(format!(
                "manifest {what} from {}: {}",
                self.endpoint.registry_host(),
                e.message()
            ))
        })?;
        let media_type = content_type
            .filter(|ct| media_types::is_any_manifest(ct))
            .unwrap_or_else(|| manifest.media_type().to_owned());
        let etag = resp
            .headers
            .get(http::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        Ok(Some(ManifestResponse {
            bytes: resp.body,
            media_type,
            digest,
            manifest,
            etag,
        }))
    }

    fn check_digest(
        &self,
        headers: &HeaderMap,
        computed: &Digest,
        asked: Option<&Digest>,
        what: &str,
    ) -> Result<()> {
        if let Some(a) = asked {
            if a != computed {
                return Err(Error::general(format!(
                    "digest mismatch for {what}: asked for {a}, the content is {computed}"
                ))
                .with_hint("the registry returned content that does not match its digest"));
            }
        }
        if let Some(h) = headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
        {
            match Digest::parse(h.trim()) {
                Ok(d) if d.algorithm() == computed.algorithm() && &d != computed => {
                    return Err(Error::general(format!(
                        "digest mismatch for {what}: the registry says {d}, the content is {computed}"
                    ))
                    .with_hint("the registry returned content that does not match its digest"));
                }
                Ok(_) => {}
                Err(_) => {
                    tracing::debug!(header = %h, "ignoring an unparseable Docker-Content-Digest")
                }
            }
        }
        Ok(())
    }

    /// `HEAD` a manifest: digest, media type and size without the body. Falls back to a
    /// GET when the registry sends no `Docker-Content-Digest`.
    pub async fn head_manifest(&self, repository: &str, reference: &str) -> Result<ManifestHead> {
        let span = crate::logging::manifest_span(
            "manifest_head",
            &self.endpoint.registry_host(),
            repository,
            reference,
        );
        self.head_manifest_once(repository, reference)
            .instrument(span)
            .await
    }

    async fn head_manifest_once(&self, repository: &str, reference: &str) -> Result<ManifestHead> {
        validate_repository(repository)?;
        let asked = parse_manifest_reference(reference)?;
        let what = describe(repository, reference);
        let url = self
            .endpoint
            .v2_url(&format!("{repository}/manifests/{reference}"));
        let resp = self
            .fetch(
                Method::HEAD,
                url,
                &[pull_scope(repository)],
                &Self::accept(MANIFEST_ACCEPT),
                self.max_body,
                &format!("manifest {what}"),
            )
            .await?;
        let header_digest = resp
            .headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| Digest::parse(s.trim()).ok());
        let (Some(digest), Some(size)) = (header_digest, content_length(&resp.headers)) else {
            let full = self.get_manifest(repository, reference).await?;
            return Ok(ManifestHead {
                digest: full.digest,
                media_type: full.media_type,
                size: full.bytes.len() as u64,
            });
        };
        if let Some(a) = &asked {
            if a != &digest {
                return Err(Error::general(format!(
                    "digest mismatch for {what}: asked for {a}, the registry says {digest}"
                )));
            }
        }
        let media_type = content_type(&resp.headers).unwrap_or_default();
        Ok(ManifestHead {
            digest,
            media_type,
            size,
        })
    }

    /// A blob read into memory (capped at `network.max_manifest_bytes`) and verified.
    pub async fn get_blob(&self, repository: &str, digest: &Digest) -> Result<Bytes> {
        self.get_blob_capped(repository, digest, self.max_body)
            .await
    }

    /// A blob read into memory, capped at `limit`, verified.
    pub async fn get_blob_capped(
        &self,
        repository: &str,
        digest: &Digest,
        limit: u64,
    ) -> Result<Bytes> {
        validate_repository(repository)?;
        let url = self
            .endpoint
            .v2_url(&format!("{repository}/blobs/{digest}"));
        let what = format!("blob {repository}@{}", digest.short());
        let resp = self
            .fetch(
                Method::GET,
                url,
                &[pull_scope(repository)],
                &HeaderMap::new(),
                limit,
                &what,
            )
            .await?;
        let actual = Digest::compute(digest.algorithm(), &resp.body);
        if &actual != digest {
            return Err(Error::general(format!(
                "digest mismatch for {what}: expected {digest}, the content is {actual}"
            ))
            .with_hint("the registry returned content that does not match its digest"));
        }
        Ok(resp.body)
    }

    /// A blob as a stream, verified while it passes (the last item is an error on a
    /// mismatch). Redirects to storage hosts are followed without credentials.
    pub async fn get_blob_stream(&self, repository: &str, digest: &Digest) -> Result<BlobStream> {
        validate_repository(repository)?;
        let url = self
            .endpoint
            .v2_url(&format!("{repository}/blobs/{digest}"));
        let what = format!("blob {repository}@{}", digest.short());
        let resp = self
            .send(
                Method::GET,
                url,
                &[pull_scope(repository)],
                &HeaderMap::new(),
            )
            .await?;
        if !resp.status().is_success() {
            let status = resp.status();
            let headers = resp.headers().clone();
            let url = resp.url().clone();
            let body = read_body_capped(resp, 64 * 1024, &what)
                .await
                .unwrap_or_default();
            return Err(self.error_for(
                &HttpResponse {
                    status,
                    headers,
                    url,
                    body,
                },
                &what,
            ));
        }
        let content_length = resp.content_length();
        let source = origin(resp.url());
        let verifier = digest.verifier();
        struct State {
            body: BoxStream<'static, reqwest::Result<Bytes>>,
            verifier: Option<crate::digest::Verifier>,
            source: String,
            what: String,
        }
        let state = State {
            body: resp.bytes_stream().boxed(),
            verifier: Some(verifier),
            source,
            what,
        };
        let inner = futures::stream::unfold(state, |mut st| async move {
            let v = st.verifier.as_mut()?;
            match st.body.next().await {
                Some(Ok(chunk)) => {
                    v.update(&chunk);
                    Some((Ok(chunk), st))
                }
                Some(Err(e)) => {
                    st.verifier = None;
                    let err = Error::network(format!(
                        "reading {} from {} failed: {e}",
                        st.what, st.source
                    ))
                    .with_source(e);
                    Some((Err(err), st))
                }
                None => {
                    let v = st.verifier.take()?;
                    match v.finish() {
                        Ok(()) => None,
                        Err(e) => Some((Err(e), st)),
                    }
                }
            }
        })
        .boxed();
        Ok(BlobStream {
            content_length,
            inner,
        })
    }

    /// `HEAD` a blob.
    pub async fn head_blob(&self, repository: &str, digest: &Digest) -> Result<BlobHead> {
        validate_repository(repository)?;
        let url = self
            .endpoint
            .v2_url(&format!("{repository}/blobs/{digest}"));
        let resp = self
            .fetch(
                Method::HEAD,
                url,
                &[pull_scope(repository)],
                &HeaderMap::new(),
                self.max_body,
                &format!("blob {repository}@{}", digest.short()),
            )
            .await?;
        Ok(BlobHead {
            digest: digest.clone(),
            size: content_length(&resp.headers),
        })
    }

    /// Referrers of `digest` (OCI 1.1). Uses the referrers API; on 404 (distribution
    /// 2.8 has none) falls back to the `sha256-<hex>` tag index; empty if neither.
    pub async fn referrers(&self, repository: &str, digest: &Digest) -> Result<Vec<Descriptor>> {
        validate_repository(repository)?;
        let url = self
            .endpoint
            .v2_url(&format!("{repository}/referrers/{digest}"));
        let what = format!("referrers of {repository}@{}", digest.short());
        match self
            .fetch(
                Method::GET,
                url,
                &[pull_scope(repository)],
                &Self::accept(media_types::OCI_INDEX),
                self.max_body,
                &what,
            )
            .await
        {
            Ok(resp) => {
                let m = Manifest::parse(&resp.body, Some(media_types::OCI_INDEX))
                    .map_err(|e| Error::general(format!("{what}: {}", e.message())))?;
                return Ok(m.manifests().to_vec());
            }
            Err(e)
                if e.kind() == ErrorKind::NotFound
                    || matches!(e.status(), Some(400 | 405 | 501)) => {}
            Err(e) => return Err(e),
        }
        let tag = format!("{}-{}", digest.algorithm(), digest.hex());
        match self.get_manifest(repository, &tag).await {
            Ok(m) => Ok(m.manifest.manifests().to_vec()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

fn describe(repository: &str, reference: &str) -> String {
    if reference.contains(':') {
        format!("{repository}@{reference}")
    } else {
        format!("{repository}:{reference}")
    }
}

/// A manifest reference is a digest (contains ':') or a tag.
fn parse_manifest_reference(reference: &str) -> Result<Option<Digest>> {
    if reference.contains(':') {
        Ok(Some(Digest::parse(reference)?))
    } else {
        validate_tag(reference)?;
        Ok(None)
    }
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.split(';').next().unwrap_or("").trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse().ok())
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], what: &str, url: &Url) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        Error::general(format!(
            "{} sent an invalid {what} response: {e}",
            origin(url)
        ))
        .with_hint("the registry's reply is not the JSON the distribution API specifies")
    })
}

/// A `Link` that points back at a page already fetched would list forever.
fn link_loop(what: &str, next: &Url) -> Error {
    Error::general(format!(
        "listing {what}: the registry's Link header points back to a page already fetched ({})",
        redact_url(next.as_str())
    ))
    .with_hint("the registry's pagination is broken; report it to its operator")
}

/// The `rel="next"` target of the `Link` headers, resolved against `base` (distribution
/// sends a relative URL).
pub fn next_link(headers: &HeaderMap, base: &Url) -> Result<Option<Url>> {
    for value in headers.get_all(http::header::LINK) {
        let Ok(v) = value.to_str() else { continue };
        if let Some(target) = parse_link_next(v) {
            let u = base.join(&target).map_err(|e| {
                Error::general(format!(
                    "{} sent an invalid Link header '{}': {e}",
                    origin(base),
                    redact_url(&target)
                ))
            })?;
            return Ok(Some(u));
        }
    }
    Ok(None)
}

/// Find the `<...>; rel="next"` entry of one `Link` header value.
pub fn parse_link_next(value: &str) -> Option<String> {
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_and_more = &after[close + 1..];
        // Parameters run until the next '<' (the next link).
        let end = params_and_more.find('<').unwrap_or(params_and_more.len());
        let params = &params_and_more[..end];
        let is_next = params.split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        if is_next {
            return Some(target.to_owned());
        }
        rest = &params_and_more[end..];
    }
    None
}

// ==== high-level facade =================================================================

/// How to connect when not going through [`Rex::new`].
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub network: NetworkSettings,
    /// Override client options derived from `network` (tests shorten backoff here).
    pub client: Option<ClientOptions>,
    /// Use this client (connection pool) instead of the process-wide one for the options.
    pub http: Option<HttpClient>,
    /// Share an auth manager (token cache) between registries.
    pub auth: Option<Arc<AuthManager>>,
    /// Credentials for this registry (`None` = anonymous).
    pub credentials: Option<Credentials>,
}

/// One platform of an image index.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlatformEntry {
    /// `os/arch[/variant]`, or `unknown/unknown` for attestations.
    pub platform: String,
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
    /// A BuildKit attestation manifest, not a runnable image.
    pub attestation: bool,
}

/// Everything about one image, ready to display (seed 1.13 `ImageInfo`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageInfo {
    /// The reference as asked (normalised for the registry).
    pub reference: Reference,
    pub registry: String,
    pub repository: String,
    /// Digest of the top-level manifest (index or image).
    pub digest: Digest,
    pub media_type: String,
    /// "OCI Image Index", "Docker Image Manifest V2", ...
    pub kind: String,
    #[serde(skip)]
    pub raw_manifest: Bytes,
    pub manifest: Manifest,
    /// Index entries (empty for a single-platform image).
    pub platforms: Vec<PlatformEntry>,
    /// The platform shown (the selected index entry, or the config's platform).
    pub platform: Option<String>,
    /// Digest of the image manifest shown (== `digest` for a single image).
    pub image_digest: Option<Digest>,
    /// The image manifest shown (the selected platform's for an index).
    pub image_manifest: Option<Manifest>,
    #[serde(skip)]
    pub raw_image_manifest: Option<Bytes>,
    pub config_digest: Option<Digest>,
    pub config: Option<ImageConfig>,
    #[serde(skip)]
    pub raw_config: Option<Bytes>,
    pub layers: Vec<Descriptor>,
    /// Config + layers of the image shown.
    pub total_size: u64,
    pub created: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// Summary of one tag for the `rex image NAME` listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TagDetail {
    pub tag: String,
    pub digest: Digest,
    pub media_type: String,
    /// Image: config + layers. Index: the same for its default platform image.
    pub size: u64,
    pub created: Option<String>,
    /// `os/arch[/variant]` of the image, or of every non-attestation index entry.
    pub platforms: Vec<String>,
}

#[derive(Debug, Clone)]
struct DigestDetail {
    size: u64,
    created: Option<String>,
    platforms: Vec<String>,
}

/// The facade: one registry, with auth, pooling and concurrency handled.
#[derive(Debug, Clone)]
pub struct Rex {
    client: RegistryClient,
    max_concurrency: usize,
    cache: Cache,
}

impl Rex {
    /// Connect to the registry the settings select (`--registry`, the current one),
    /// with credentials from the configured sources and the cache the settings describe
    /// (see [`Rex::with_target`]).
    pub fn new(settings: &Settings) -> Result<Rex> {
        let target = settings.resolve_registry()?;
        Self::with_target(settings, &target)
    }

    /// Connect to `target` with the network settings and credential sources of
    /// `settings`, and open the cache they describe ([`Rex::open_cache`]).
    pub fn with_target(settings: &Settings, target: &RegistryTarget) -> Result<Rex> {
        let endpoint = Endpoint::from_target(target)?;
        let cache = Rex::open_cache(settings)?;
        let store = CredentialStore::new(settings.runtime.credentials.clone());
        let credentials = store.lookup(&endpoint.registry_host())?;
        Ok(Rex::connect(
            endpoint,
            ConnectOptions {
                network: settings.network.clone(),
                credentials,
                ..ConnectOptions::default()
            },
        )?
        .with_cache(cache))
    }

    /// The cache for a facade built from `settings`: `runtime.cache_dir` (else
    /// `cache.location`), `cache.*`, `runtime.no_cache` (strong consistency). An unusable
    /// directory is an error (exit 7) only when `runtime.cache_required` (the user named
    /// it); otherwise the run goes on without a cache. Entry files are not fsynced: a
    /// listing stores thousands of them and a torn file is detected and refetched anyway
    /// (docs/cache.md). Opening runs the daily cleanup when it is due.
    pub fn open_cache(settings: &Settings) -> Result<Cache> {
        CacheBuilder::from_settings(settings)
            .required(settings.runtime.cache_required)
            .fsync(false)
            .open()
    }

    /// Use `cache` for this facade's reads (share one per process: clones share it).
    pub fn with_cache(mut self, cache: Cache) -> Rex {
        self.cache = cache;
        self
    }

    /// The cache this facade reads through (disabled after [`Rex::connect`]).
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Connect to `endpoint` with explicit options. Without `options.http` the facade uses
    /// the process-wide client for its client options ([`HttpClient::shared`]), so every
    /// facade of a process reuses one connection pool.
    pub fn connect(endpoint: Endpoint, options: ConnectOptions) -> Result<Rex> {
        let http = match options.http {
            Some(h) => h,
            None => HttpClient::shared(
                options
                    .client
                    .unwrap_or_else(|| ClientOptions::from_settings(&options.network)),
            )?,
        };
        let auth = options
            .auth
            .unwrap_or_else(|| Arc::new(AuthManager::new(http.clone())));
        if options.credentials.is_some() {
            auth.set_credentials(&endpoint.registry_host(), options.credentials);
        }
        tracing::info!(registry = %endpoint.registry_host(), "connecting to registry");
        let client = RegistryClient::new(endpoint, http, auth, &options.network);
        Ok(Rex {
            client,
            max_concurrency: options.network.max_concurrency.max(1),
            cache: Cache::disabled(),
        })
    }

    pub fn client(&self) -> &RegistryClient {
        &self.client
    }

    pub fn endpoint(&self) -> &Endpoint {
        self.client.endpoint()
    }

    /// The reference with Docker Hub's `library/` applied when relevant.
    fn normalize(&self, reference: &Reference) -> Reference {
        reference.normalized_for(&self.endpoint().registry_host())
    }

    pub async fn ping(&self) -> Result<PingInfo> {
        self.client.ping().await
    }

    pub async fn list_repositories(&self) -> Result<Vec<String>> {
        self.fetch_catalog().await
    }

    pub async fn list_tags(&self, repository: &str) -> Result<Vec<String>> {
        self.fetch_tags(repository).await
    }

    /// The manifest a reference points at (by digest when it has one, else its tag or
    /// `latest`).
    pub async fn get_manifest(&self, reference: &Reference) -> Result<ManifestResponse> {
        let r = self.normalize(reference);
        match r.digest() {
            Some(d) => self.fetch_manifest_by_digest(r.repository(), d).await,
            None => {
                self.fetch_manifest(r.repository(), &r.manifest_reference())
                    .await
            }
        }
    }

    /// An image config blob, verified, with its parsed form.
    pub async fn get_config(
        &self,
        repository: &str,
        descriptor: &Descriptor,
    ) -> Result<(Bytes, ImageConfig)> {
        let bytes = self.fetch_config(repository, &descriptor.digest).await?;
        let config = ImageConfig::parse(&bytes).map_err(|e| {
            Error::general(format!(
                "config {} of {repository}: {}",
                descriptor.digest.short(),
                e.message()
            ))
        })?;
        Ok((bytes, config))
    }

    /// The digest a reference resolves to (a HEAD request).
    pub async fn resolve(&self, reference: &Reference) -> Result<Digest> {
        let r = self.normalize(reference);
        if let Some(d) = r.digest() {
            return Ok(d.clone());
        }
        Ok(self
            .client
            .head_manifest(r.repository(), &r.manifest_reference())
            .await?
            .digest)
    }

    /// Manifest + config + platforms of an image. For an index, `platform` picks the
    /// entry (default: linux/amd64, else the first non-attestation entry).
    pub async fn inspect(
        &self,
        reference: &Reference,
        platform: Option<&PlatformSelector>,
    ) -> Result<ImageInfo> {
        use tracing::Instrument as _;
        let r = self.normalize(reference);
        // Instrument, not `entered()`: a span guard held across `.await` makes the future !Send.
        let span = crate::logging::operation_span(
            "inspect",
            &self.endpoint().registry_host(),
            Some(r.repository()),
        );
        self.inspect_inner(r, platform).instrument(span).await
    }

    async fn inspect_inner(
        &self,
        r: Reference,
        platform: Option<&PlatformSelector>,
    ) -> Result<ImageInfo> {
        let repo = r.repository().to_owned();
        let top = self.get_manifest(&r).await?;
        let platforms: Vec<PlatformEntry> = top
            .manifest
            .manifests()
            .iter()
            .map(|d| PlatformEntry {
                platform: d
                    .platform
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "unknown".to_owned()),
                digest: d.digest.clone(),
                size: d.size,
                media_type: d.media_type.clone(),
                attestation: d.is_attestation(),
            })
            .collect();

        let mut info = ImageInfo {
            reference: r.clone(),
            registry: self.endpoint().registry_host(),
            repository: repo.clone(),
            digest: top.digest.clone(),
            media_type: top.media_type.clone(),
            kind: top.manifest.kind_name().to_owned(),
            raw_manifest: top.bytes.clone(),
            manifest: top.manifest.clone(),
            platforms,
            platform: None,
            image_digest: None,
            image_manifest: None,
            raw_image_manifest: None,
            config_digest: None,
            config: None,
            raw_config: None,
            layers: Vec::new(),
            total_size: 0,
            created: None,
            labels: BTreeMap::new(),
        };

        let image = if let Some(index) = top.manifest.as_index() {
            let chosen = match platform {
                Some(sel) => Some(index.find_platform(sel).ok_or_else(|| {
                    let available: Vec<String> = index
                        .platform_manifests()
                        .filter_map(|d| d.platform.as_ref().map(|p| p.to_string()))
                        .collect();
                    Error::not_found(format!(
                        "{r} has no image for platform {sel}; available: {}",
                        if available.is_empty() {
                            "none".to_owned()
                        } else {
                            available.join(", ")
                        }
                    ))
                    .with_hint("pick one of the listed platforms with --platform")
                })?),
                None => default_platform(index.platform_manifests()),
            };
            match chosen {
                Some(d) => {
                    info.platform = d.platform.as_ref().map(|p| p.to_string());
                    let child = self.fetch_manifest_by_digest(&repo, &d.digest).await?;
                    Some(child)
                }
                None => None,
            }
        } else {
            if let Some(sel) = platform {
                tracing::debug!(platform = %sel, "single-platform image; --platform only checked against its config");
            }
            Some(top.clone())
        };

        if let Some(img) = image {
            if img.manifest.is_index() {
                return Err(Error::general(format!(
                    "{r}: the index entry {} is itself an index; nested indexes are not supported",
                    img.digest.short()
                )));
            }
            info.image_digest = Some(img.digest.clone());
            info.layers = img.manifest.layers().to_vec();
            info.total_size = img.manifest.total_size();
            if let Some(cfg) = img.manifest.config().cloned() {
                info.config_digest = Some(cfg.digest.clone());
                if media_types::is_config(&cfg.media_type) {
                    let (raw, config) = self.get_config(&repo, &cfg).await?;
                    if let Some(sel) = platform {
                        if top.manifest.as_image().is_some() && !config.platform().matches(sel) {
                            return Err(Error::not_found(format!(
                                "{r} is a single-platform image for {}, not {sel}",
                                config.platform()
                            )));
                        }
                    }
                    if info.platform.is_none() && !config.os.is_empty() {
                        info.platform = Some(config.platform().to_string());
                    }
                    info.created = config.created.clone();
                    info.labels = config.labels().clone();
                    info.raw_config = Some(raw);
                    info.config = Some(config);
                }
            }
            info.raw_image_manifest = Some(img.bytes);
            info.image_manifest = Some(img.manifest);
        }
        Ok(info)
    }

    /// Details for many tags of one repository: one manifest GET per tag, then config
    /// (and for indexes the default platform's manifest) once per distinct digest, with
    /// at most `network.max_concurrency` requests in flight. `progress(done, total)` is
    /// called as tags complete. Tags that vanish meanwhile (404) are left out; other
    /// errors abort. The result keeps the order of `tags`.
    pub async fn tag_details<F>(
        &self,
        repository: &str,
        tags: &[String],
        progress: F,
    ) -> Result<Vec<TagDetail>>
    where
        F: Fn(usize, usize) + Send + Sync,
    {
        validate_repository(repository)?;
        let total = tags.len();
        let (known, snapshot_ttl, revalidate) = self.load_tag_digests(repository);
        let known = &known;
        let per_digest: Mutex<HashMap<Digest, Arc<OnceCell<DigestDetail>>>> =
            Mutex::new(HashMap::new());
        let done = std::sync::atomic::AtomicUsize::new(0);
        let per_digest = &per_digest;
        let done = &done;
        let progress = &progress;
        let mut results: Vec<(usize, Option<TagDetail>)> =
            // Indices, not `tags.iter()`: a borrowed item type trips rustc's higher-ranked
            // inference and makes this future !Send (hosts spawn it).
            futures::stream::iter(0..tags.len())
                .map(|i| async move {
                    let tag = &tags[i];
                    let detail = match self
                        .tag_manifest(repository, tag, known.get(tag), revalidate)
                        .await
                    {
                        Ok(m) => {
                            let cell = per_digest
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .entry(m.digest.clone())
                                .or_default()
                                .clone();
                            let d = cell
                                .get_or_try_init(|| self.digest_detail(repository, &m))
                                .await?
                                .clone();
                            Some(TagDetail {
                                tag: tag.clone(),
                                digest: m.digest,
                                media_type: m.media_type,
                                size: d.size,
                                created: d.created,
                                platforms: d.platforms,
                            })
                        }
                        Err(e) if e.kind() == ErrorKind::NotFound => {
                            tracing::debug!(tag = %tag, "tag vanished while listing details");
                            None
                        }
                        Err(e) => return Err(e),
                    };
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    progress(n, total);
                    Ok::<_, Error>((i, detail))
                })
                .buffer_unordered(self.max_concurrency)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
        results.sort_by_key(|(i, _)| *i);
        let details: Vec<TagDetail> = results.into_iter().filter_map(|(_, d)| d).collect();
        if revalidate {
            // Every pair was just checked with the registry: a new snapshot, with a full
            // TTL, of only those (pairs not re-checked must not look younger).
            self.store_tag_digests(repository, &HashMap::new(), &details, None);
        } else if tags.iter().any(|t| !known.contains_key(t)) {
            self.store_tag_digests(repository, known, &details, snapshot_ttl);
        }
        Ok(details)
    }

    /// The tag -> digest snapshot of the last listing of `repository`, the TTL left to
    /// it when it is served as is (so merging new tags in never makes old pairs look
    /// younger), and whether its pairs must be revalidated instead: served as is under
    /// weak within the tags TTL and under eventual also past it; revalidated (a
    /// conditional GET per tag, [`Rex::revalidate_tag`]) under weak past the TTL and
    /// always under strong. No cache: no snapshot.
    fn load_tag_digests(&self, repository: &str) -> (HashMap<String, Digest>, Option<u64>, bool) {
        use crate::cache::Lookup;
        let consistency = self.cache.consistency();
        if !self.cache.is_enabled() {
            return (HashMap::new(), None, false);
        }
        let key = self.tag_digests_key(repository);
        let (entry, revalidate) = if consistency == Consistency::Strong {
            // Only validators here, never served: not counted as a hit or miss.
            match self.cache.peek(&key) {
                Lookup::Fresh(e) | Lookup::Stale(e) => (e, true),
                Lookup::Miss => return (HashMap::new(), None, false),
            }
        } else {
            match self.cache.get(&key) {
                Lookup::Fresh(e) => (e, false),
                Lookup::Stale(e) => (e, consistency != Consistency::Eventual),
                Lookup::Miss => return (HashMap::new(), None, false),
            }
        };
        let left = (entry.expires_at() - chrono::Utc::now()).num_seconds();
        let map = entry
            .payload
            .names()
            .unwrap_or_default()
            .iter()
            .filter_map(|pair| {
                let (tag, digest) = pair.split_once(' ')?;
                Some((tag.to_owned(), Digest::parse(digest).ok()?))
            })
            .collect();
        (map, u64::try_from(left).ok().filter(|s| *s > 0), revalidate)
    }

    fn store_tag_digests(
        &self,
        repository: &str,
        known: &HashMap<String, Digest>,
        details: &[TagDetail],
        ttl_left: Option<u64>,
    ) {
        if !self.cache.is_enabled() {
            return;
        }
        let mut pairs: BTreeMap<&str, &Digest> =
            known.iter().map(|(t, d)| (t.as_str(), d)).collect();
        pairs.extend(details.iter().map(|d| (d.tag.as_str(), &d.digest)));
        let names = pairs.into_iter().map(|(t, d)| format!("{t} {d}")).collect();
        let key = self.tag_digests_key(repository);
        let ttl = ttl_left.unwrap_or_else(|| self.cache.ttl(key.kind()));
        self.cache.put_with_ttl(&key, NewEntry::names(names), ttl);
    }

    /// Tag -> digest pairs ("tag digest") of the last listing, a tags-kind entry beside
    /// the tag list (`@` cannot occur in a repository name, so no repository collides).
    fn tag_digests_key(&self, repository: &str) -> CacheKey {
        CacheKey::tags(
            self.endpoint().registry_host(),
            format!("{repository}@digests"),
        )
    }

    /// One tag's manifest for a listing: by the snapshot's digest (from the cache) when
    /// known, else a GET by tag whose body is stored by digest; with `revalidate`, a
    /// conditional GET by tag against the snapshot's digest.
    async fn tag_manifest(
        &self,
        repository: &str,
        tag: &str,
        known: Option<&Digest>,
        revalidate: bool,
    ) -> Result<ManifestResponse> {
        match known {
            Some(d) if !revalidate => self.fetch_manifest_by_digest(repository, d).await,
            _ => self.revalidate_tag(repository, tag, known).await,
        }
    }

    /// Ask the registry what `tag` points at, conditionally when it is believed to point
    /// at `known` and that manifest is cached with an ETag: a GET by tag with
    /// `If-None-Match`. `304 Not Modified` serves the cached body (its entry renewed,
    /// counted as a revalidation hit) without downloading it; a full answer is stored by
    /// digest and returned.
    async fn revalidate_tag(
        &self,
        repository: &str,
        tag: &str,
        known: Option<&Digest>,
    ) -> Result<ManifestResponse> {
        let cached = known.and_then(|d| {
            let key = CacheKey::manifest(self.endpoint().registry_host(), repository, d.as_str());
            let etag = self.cache.cached_etag(&key)?;
            Some((key, d, etag))
        });
        let etag = cached.as_ref().map(|(_, _, e)| e.as_str());
        if let Some(m) = self
            .client
            .get_manifest_if_none_match(repository, tag, etag)
            .await?
        {
            self.store_manifest(repository, &m);
            return Ok(m);
        }
        if let Some((key, digest, _)) = &cached {
            let renewed = self
                .cache
                .refresh(key, |_| async { Ok(FetchOutcome::NotModified) })
                .await;
            match renewed.map(|got| manifest_from_entry(&got, digest)) {
                Ok(Ok(m)) => return Ok(m),
                Ok(Err(why)) => {
                    tracing::warn!(key = %key, reason = %why, "discarding a cached manifest that does not match its digest");
                    self.cache.remove(key);
                }
                // Evicted between the lookup and the 304.
                Err(e) => {
                    tracing::debug!(key = %key, error = %e, "revalidated manifest left the cache")
                }
            }
        }
        let m = self.client.get_manifest(repository, tag).await?;
        self.store_manifest(repository, &m);
        Ok(m)
    }

    /// The digest the last listing saw `tag` at (fresh or expired snapshot, not counted):
    /// the validator for revalidating a single tag.
    fn snapshot_digest(&self, repository: &str, tag: &str) -> Option<Digest> {
        use crate::cache::Lookup;
        let entry = match self.cache.peek(&self.tag_digests_key(repository)) {
            Lookup::Fresh(e) | Lookup::Stale(e) => e,
            Lookup::Miss => return None,
        };
        entry.payload.names()?.iter().find_map(|pair| {
            let (t, d) = pair.split_once(' ')?;
            (t == tag).then(|| Digest::parse(d).ok()).flatten()
        })
    }

    /// Ask the registry for the tag list now (the TUI's refresh action), storing it.
    pub async fn refresh_tags(&self, repository: &str) -> Result<Vec<String>> {
        validate_repository(repository)?;
        let key = CacheKey::tags(self.endpoint().registry_host(), repository);
        let got = self
            .cache
            .refresh(&key, tags_fetch(self.client.clone(), repository.to_owned()))
            .await?;
        names_of(&got)
    }

    /// Ask the registry for the catalog now, storing it.
    pub async fn refresh_repositories(&self) -> Result<Vec<String>> {
        let key = CacheKey::catalog(self.endpoint().registry_host());
        let got = self
            .cache
            .refresh(&key, catalog_fetch(self.client.clone()))
            .await?;
        names_of(&got)
    }

    async fn digest_detail(&self, repository: &str, m: &ManifestResponse) -> Result<DigestDetail> {
        if let Some(index) = m.manifest.as_index() {
            let platforms: Vec<String> = index
                .platform_manifests()
                .filter_map(|d| d.platform.as_ref().map(|p| p.to_string()))
                .collect();
            let (mut size, mut created) = (0, None);
            if let Some(d) = default_platform(index.platform_manifests()) {
                let child = self.fetch_manifest_by_digest(repository, &d.digest).await?;
                size = child.manifest.total_size();
                if let Some(cfg) = child.manifest.config() {
                    if media_types::is_config(&cfg.media_type) {
                        created = self.get_config(repository, cfg).await?.1.created;
                    }
                }
            }
            return Ok(DigestDetail {
                size,
                created,
                platforms,
            });
        }
        let mut detail = DigestDetail {
            size: m.manifest.total_size(),
            created: None,
            platforms: Vec::new(),
        };
        if let Some(cfg) = m.manifest.config() {
            if media_types::is_config(&cfg.media_type) {
                let (_, config) = self.get_config(repository, cfg).await?;
                if !config.os.is_empty() {
                    detail.platforms.push(config.platform().to_string());
                }
                detail.created = config.created;
            }
        }
        Ok(detail)
    }

    /// Referrers of a manifest (signatures, SBOMs, attestations).
    pub async fn referrers(&self, repository: &str, digest: &Digest) -> Result<Vec<Descriptor>> {
        self.client.referrers(repository, digest).await
    }

    // ---- cache seam: every cacheable fetch goes through exactly one of these ----------

    async fn fetch_catalog(&self) -> Result<Vec<String>> {
        let key = CacheKey::catalog(self.endpoint().registry_host());
        let got = self
            .cache
            .get_or_fetch(&key, catalog_fetch(self.client.clone()))
            .await?;
        self.refresh_behind(&got, key, catalog_fetch(self.client.clone()));
        names_of(&got)
    }

    async fn fetch_tags(&self, repository: &str) -> Result<Vec<String>> {
        validate_repository(repository)?;
        let key = CacheKey::tags(self.endpoint().registry_host(), repository);
        let fetch = || tags_fetch(self.client.clone(), repository.to_owned());
        let got = self.cache.get_or_fetch(&key, fetch()).await?;
        self.refresh_behind(&got, key, fetch());
        names_of(&got)
    }

    /// Eventual consistency: a stale value was served; refresh it in the background.
    fn refresh_behind<F, Fut>(&self, got: &Fetched, key: CacheKey, fetch: F)
    where
        F: FnOnce(Option<String>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<FetchOutcome>> + Send + 'static,
    {
        if got.stale && self.cache.consistency() == Consistency::Eventual {
            // In the background: the value lands in the cache for the next read.
            self.cache.refresh_behind(key, fetch);
        }
    }

    /// Wait for the background refreshes that eventual consistency started (the stale
    /// listings served by this facade). One-shot commands call this before their runtime
    /// ends, after the result is computed; see [`Cache::refresh_behind`].
    pub async fn settle_background(&self) {
        self.cache.settle_refreshes().await;
    }

    /// By tag. Tags are mutable pointers, so the tag is resolved by the registry on
    /// every call (a HEAD) and only the digest-addressed body comes from the cache.
    /// Strong consistency (or no cache): one GET by tag, its body stored by digest.
    async fn fetch_manifest(&self, repository: &str, reference: &str) -> Result<ManifestResponse> {
        if !self.cache.is_enabled() {
            return self.client.get_manifest(repository, reference).await;
        }
        if self.cache.consistency() == Consistency::Strong {
            let known = self.snapshot_digest(repository, reference);
            return self
                .revalidate_tag(repository, reference, known.as_ref())
                .await;
        }
        let head = self.client.head_manifest(repository, reference).await?;
        self.fetch_manifest_by_digest(repository, &head.digest)
            .await
    }

    fn store_manifest(&self, repository: &str, m: &ManifestResponse) {
        let key = CacheKey::manifest(
            self.endpoint().registry_host(),
            repository,
            m.digest.as_str(),
        );
        self.cache.put(
            &key,
            NewEntry::bytes(m.bytes.clone())
                .with_media_type(Some(m.media_type.clone()))
                .with_etag(m.etag.clone()),
        );
    }

    /// By digest: immutable, served from the cache while present (verified again, so a
    /// damaged entry is refetched, never returned).
    async fn fetch_manifest_by_digest(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<ManifestResponse> {
        validate_repository(repository)?;
        let key = CacheKey::manifest(self.endpoint().registry_host(), repository, digest.as_str());
        let mut fetched: Option<ManifestResponse> = None;
        let slot = &mut fetched;
        let client = &self.client;
        let got = self
            .cache
            .get_or_fetch(&key, |_etag| async move {
                let m = client.get_manifest(repository, digest.as_str()).await?;
                let entry = NewEntry::bytes(m.bytes.clone())
                    .with_media_type(Some(m.media_type.clone()))
                    .with_etag(m.etag.clone());
                *slot = Some(m);
                Ok(FetchOutcome::Fresh(entry))
            })
            .await?;
        if let Some(m) = fetched {
            return Ok(m);
        }
        match manifest_from_entry(&got, digest) {
            Ok(m) => Ok(m),
            Err(why) => {
                tracing::warn!(key = %key, reason = %why, "discarding a cached manifest that does not match its digest");
                self.cache.remove(&key);
                let m = self
                    .client
                    .get_manifest(repository, digest.as_str())
                    .await?;
                self.store_manifest(repository, &m);
                Ok(m)
            }
        }
    }

    /// Config blob by digest: immutable, served from the cache while present (verified).
    async fn fetch_config(&self, repository: &str, digest: &Digest) -> Result<Bytes> {
        validate_repository(repository)?;
        let key = CacheKey::config(self.endpoint().registry_host(), repository, digest.as_str());
        let client = &self.client;
        let got = self
            .cache
            .get_or_fetch(&key, |_etag| async move {
                let b = client.get_blob(repository, digest).await?;
                Ok(FetchOutcome::Fresh(NewEntry::bytes(b)))
            })
            .await?;
        let bytes = got.payload().bytes().cloned().unwrap_or_default();
        if got.from_cache() && Digest::compute(digest.algorithm(), &bytes) != *digest {
            tracing::warn!(key = %key, "discarding a cached config that does not match its digest");
            self.cache.remove(&key);
            let b = self.client.get_blob(repository, digest).await?;
            self.cache.put(&key, NewEntry::bytes(b.clone()));
            return Ok(b);
        }
        Ok(bytes)
    }
}

/// The fetch behind the catalog entry. distribution sends no ETag on catalog pages (nor
/// on tag lists), so the etag is unused and "revalidate" is a full fetch.
fn catalog_fetch(
    client: RegistryClient,
) -> impl FnOnce(Option<String>) -> futures::future::BoxFuture<'static, Result<FetchOutcome>>
       + Send
       + 'static {
    move |_etag| {
        Box::pin(async move {
            Ok(FetchOutcome::Fresh(NewEntry::names(
                client.list_repositories().await?,
            )))
        })
    }
}

/// The fetch behind a tag-list entry (see [`catalog_fetch`] on etags).
fn tags_fetch(
    client: RegistryClient,
    repository: String,
) -> impl FnOnce(Option<String>) -> futures::future::BoxFuture<'static, Result<FetchOutcome>>
       + Send
       + 'static {
    move |_etag| {
        Box::pin(async move {
            Ok(FetchOutcome::Fresh(NewEntry::names(
                client.list_tags(&repository).await?,
            )))
        })
    }
}

fn names_of(got: &Fetched) -> Result<Vec<String>> {
    got.payload()
        .names()
        .map(<[String]>::to_vec)
        .ok_or_else(|| Error::general("a cached name list holds bytes"))
}

/// Rebuild a manifest response from a cached entry, checking the digest again.
fn manifest_from_entry(
    got: &Fetched,
    digest: &Digest,
) -> std::result::Result<ManifestResponse, String> {
    let bytes = got
        .payload()
        .bytes()
        .cloned()
        .ok_or("the entry holds names, not bytes")?;
    let computed = Digest::compute(digest.algorithm(), &bytes);
    if computed != *digest {
        return Err(format!("the content is {computed}"));
    }
    let media_type = got.entry.media_type.clone();
    let manifest =
        Manifest::parse(&bytes, media_type.as_deref()).map_err(|e| e.message().to_owned())?;
    let media_type = media_type
        .filter(|ct| media_types::is_any_manifest(ct))
        .unwrap_or_else(|| manifest.media_type().to_owned());
    Ok(ManifestResponse {
        bytes,
        media_type,
        digest: computed,
        manifest,
        etag: got.entry.etag.clone(),
    })
}

/// linux/amd64 when present, else the first entry.
fn default_platform<'a>(entries: impl Iterator<Item = &'a Descriptor>) -> Option<&'a Descriptor> {
    let entries: Vec<&Descriptor> = entries.collect();
    let preferred = PlatformSelector {
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
    };
    entries
        .iter()
        .find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p: &Platform| p.matches(&preferred))
        })
        .or_else(|| entries.first())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compile-time check: the facade's futures are Send (a tokio::spawn in the TUI needs
    /// it; a span guard held across an `.await` would break it).
    fn facade_futures_are_send(rex: &Rex, r: &Reference, p: &PlatformSelector) {
        fn is_send<T: Send>(_: T) {}
        is_send(rex.list_repositories());
        is_send(rex.list_tags("a"));
        is_send(rex.inspect(r, Some(p)));
        is_send(rex.tag_details("a", &[], |_, _| {}));
        is_send(rex.get_manifest(r));
        is_send(rex.refresh_tags("a"));
    }

    #[test]
    fn facade_futures_are_send_compiles() {
        let f: fn(&Rex, &Reference, &PlatformSelector) = facade_futures_are_send;
        let _ = f;
    }

    #[test]
    fn link_header_forms() {
        assert_eq!(
            parse_link_next(r#"</v2/_catalog?last=b&n=100>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=100")
        );
        assert_eq!(
            parse_link_next(
                r#"<https://x/v2/a/tags/list?n=2&last=b>; rel="prev", <https://x/v2/a/tags/list?n=2&last=d>; rel=next"#
            )
            .as_deref(),
            Some("https://x/v2/a/tags/list?n=2&last=d")
        );
        assert_eq!(parse_link_next(r#"</a>; rel="prev""#), None);
        assert_eq!(parse_link_next("garbage"), None);
        assert_eq!(parse_link_next("<unclosed; rel=next"), None);
        let base = Url::parse("http://localhost:5000/v2/_catalog?n=100").unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            http::header::LINK,
            r#"</v2/_catalog?last=x&n=100>; rel="next""#.parse().unwrap(),
        );
        assert_eq!(
            next_link(&h, &base).unwrap().unwrap().as_str(),
            "http://localhost:5000/v2/_catalog?last=x&n=100"
        );
    }

    #[test]
    fn manifest_references() {
        assert!(parse_manifest_reference("latest").unwrap().is_none());
        assert!(parse_manifest_reference(
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        .unwrap()
        .is_some());
        assert!(parse_manifest_reference("../etc").is_err());
        assert!(parse_manifest_reference("sha256:nothex").is_err());
        assert_eq!(describe("a/b", "v1"), "a/b:v1");
    }

    #[test]
    fn default_platform_prefers_linux_amd64() {
        let d = |os: &str, arch: &str, n: u8| {
            let mut desc = Descriptor::new(media_types::OCI_MANIFEST, Digest::sha256_of(&[n]), 1);
            desc.platform = Some(Platform::new(os, arch, None));
            desc
        };
        let list = [d("linux", "arm64", 1), d("linux", "amd64", 2)];
        assert_eq!(
            default_platform(list.iter()).unwrap().digest,
            list[1].digest
        );
        let list = [d("linux", "arm64", 1), d("windows", "amd64", 2)];
        assert_eq!(
            default_platform(list.iter()).unwrap().digest,
            list[0].digest
        );
        assert!(default_platform([].iter()).is_none());
    }
}
