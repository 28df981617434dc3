//! Authentication (seed 1.2): anonymous, HTTP Basic, and Bearer tokens per the
//! distribution token spec.
//!
//! The registry tells us what it wants through `WWW-Authenticate` on a 401. The
//! [`AuthManager`] remembers each registry's scheme, so after the first challenge
//! requests carry the right header up front; bearer tokens are cached per
//! (registry, scope set) until shortly before they expire, and fetched once even when
//! many requests need the same token at the same time.
//!
//! Credentials go only to the registry itself and to the token realm it names.

use crate::client::{origin, HttpClient, RequestSpec};
use crate::credentials::Credentials;
use crate::endpoint::{is_loopback_host, Endpoint, Scheme};
use crate::error::{Error, Result};
use crate::secret::Secret;
use http::{HeaderMap, HeaderValue, StatusCode};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use url::Url;

/// One challenge from a `WWW-Authenticate` header. `scheme` and parameter names are
/// lower-cased; values are unquoted and unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn realm(&self) -> Option<&str> {
        self.param("realm")
    }
    pub fn service(&self) -> Option<&str> {
        self.param("service")
    }
    pub fn scope(&self) -> Option<&str> {
        self.param("scope")
    }
    pub fn error(&self) -> Option<&str> {
        self.param("error")
    }
    pub fn is_bearer(&self) -> bool {
        self.scheme == "bearer"
    }
    pub fn is_basic(&self) -> bool {
        self.scheme == "basic"
    }
}

/// Parse every challenge from every `WWW-Authenticate` value (a header may hold several
/// challenges, and several headers may be present).
pub fn parse_www_authenticate<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    let mut out = Vec::new();
    for v in values {
        parse_one(v, &mut out);
    }
    out
}

/// Challenges from a response's headers.
pub fn challenges_from_headers(headers: &HeaderMap) -> Vec<Challenge> {
    parse_www_authenticate(
        headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}

fn parse_one(s: &str, out: &mut Vec<Challenge>) {
    let b = s.as_bytes();
    let n = b.len();
    let mut i = 0;
    let mut current: Option<Challenge> = None;
    let is_ws = |c: u8| c == b' ' || c == b'\t';
    loop {
        while i < n && (is_ws(b[i]) || b[i] == b',') {
            i += 1;
        }
        if i >= n {
            break;
        }
        let start = i;
        while i < n && !is_ws(b[i]) && b[i] != b',' && b[i] != b'=' {
            i += 1;
        }
        let token = &s[start..i];
        let mut j = i;
        while j < n && is_ws(b[j]) {
            j += 1;
        }
        if j < n && b[j] == b'=' && !token.is_empty() {
            // auth-param: name = token / quoted-string
            i = j + 1;
            while i < n && is_ws(b[i]) {
                i += 1;
            }
            let value = if i < n && b[i] == b'"' {
                i += 1;
                let mut v = String::new();
                while i < n {
                    match b[i] {
                        b'\\' if i + 1 < n => {
                            // Escaped character: keep the next char whole (may be UTF-8).
                            let ch = s[i + 1..].chars().next().unwrap_or('\\');
                            v.push(ch);
                            i += 1 + ch.len_utf8();
                        }
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => {
                            let ch = s[i..].chars().next().unwrap_or(' ');
                            v.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                v
            } else {
                let vs = i;
                while i < n && b[i] != b',' && !is_ws(b[i]) {
                    i += 1;
                }
                s[vs..i].to_owned()
            };
            if let Some(c) = current.as_mut() {
                c.params.push((token.to_ascii_lowercase(), value));
            }
        } else if token.is_empty() {
            // A stray '=' (e.g. token68 padding): skip it.
            i += 1;
        } else {
            if let Some(c) = current.take() {
                out.push(c);
            }
            current = Some(Challenge {
                scheme: token.to_ascii_lowercase(),
                params: Vec::new(),
            });
        }
    }
    if let Some(c) = current {
        out.push(c);
    }
}

/// The scope for reading a repository.
pub fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

/// The scope the catalog needs.
pub const CATALOG_SCOPE: &str = "registry:catalog:*";

/// What a registry asked for the last time it challenged us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthScheme {
    /// No challenge seen (or the registry needs no auth).
    Anonymous,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

impl AuthScheme {
    pub fn name(&self) -> &'static str {
        match self {
            AuthScheme::Anonymous => "anonymous",
            AuthScheme::Basic => "basic",
            AuthScheme::Bearer { .. } => "bearer",
        }
    }
}

#[derive(Clone)]
struct CachedToken {
    value: Secret,
    refresh_at: Instant,
}

type TokenSlot = Arc<tokio::sync::Mutex<Option<CachedToken>>>;

/// Remembers credentials, schemes and tokens for any number of registries.
pub struct AuthManager {
    http: HttpClient,
    credentials: RwLock<HashMap<String, Credentials>>,
    schemes: RwLock<HashMap<String, AuthScheme>>,
    tokens: Mutex<HashMap<(String, String), TokenSlot>>,
}

impl std::fmt::Debug for AuthManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthManager").finish_non_exhaustive()
    }
}

/// Parsed token-server reply (no Debug: it holds the token).
#[derive(serde::Deserialize)]
struct TokenReply {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
}

/// Lifetime assumed when the token server does not say (distribution token spec).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(60);

impl AuthManager {
    pub fn new(http: HttpClient) -> Self {
        AuthManager {
            http,
            credentials: RwLock::new(HashMap::new()),
            schemes: RwLock::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Use `creds` for the registry `registry_host` (`None` = anonymous). Drops cached
    /// tokens for it, since they were issued to someone else.
    pub fn set_credentials(&self, registry_host: &str, creds: Option<Credentials>) {
        {
            let mut map = self.credentials.write().unwrap_or_else(|e| e.into_inner());
            match creds {
                Some(c) => map.insert(registry_host.to_owned(), c),
                None => map.remove(registry_host),
            };
        }
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(r, _), _| r != registry_host);
    }

    pub fn credentials(&self, registry_host: &str) -> Option<Credentials> {
        self.credentials
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(registry_host)
            .cloned()
    }

    pub fn has_credentials(&self, registry_host: &str) -> bool {
        self.credentials
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(registry_host)
    }

    /// The scheme learned from the registry's last challenge.
    pub fn scheme(&self, registry_host: &str) -> AuthScheme {
        self.schemes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(registry_host)
            .cloned()
            .unwrap_or(AuthScheme::Anonymous)
    }

    fn remember(&self, registry_host: &str, scheme: AuthScheme) {
        self.schemes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(registry_host.to_owned(), scheme);
    }

    fn slot(&self, registry_host: &str, scopes: &str) -> TokenSlot {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((registry_host.to_owned(), scopes.to_owned()))
            .or_default()
            .clone()
    }

    /// Forget the cached token for these scopes (after the registry rejected it).
    pub async fn invalidate(&self, ep: &Endpoint, scopes: &[String]) {
        let slot = self.slot(&ep.registry_host(), &scope_key(scopes));
        *slot.lock().await = None;
    }

    /// The `Authorization` header to send up front, if the registry's scheme is known.
    pub async fn authorization(
        &self,
        ep: &Endpoint,
        scopes: &[String],
    ) -> Result<Option<HeaderValue>> {
        let host = ep.registry_host();
        match self.scheme(&host) {
            AuthScheme::Anonymous => Ok(None),
            AuthScheme::Basic => Ok(self
                .credentials(&host)
                .filter(Credentials::has_password)
                .map(|c| basic_value(&c))),
            AuthScheme::Bearer { realm, service } => {
                let t = self
                    .token(ep, &realm, service.as_deref(), scopes, false)
                    .await?;
                Ok(Some(bearer_value(&t)))
            }
        }
    }

    /// React to a 401: parse the challenge, obtain what it asks for, and return the
    /// header for one retry. `sent` is the `Authorization` header that was rejected.
    pub async fn on_unauthorized(
        &self,
        ep: &Endpoint,
        headers: &HeaderMap,
        scopes: &[String],
        sent: Option<&HeaderValue>,
    ) -> Result<HeaderValue> {
        use tracing::Instrument as _;
        // Instrument, not `entered()`: a span guard held across `.await` makes the future !Send.
        let span = crate::logging::auth_span(&ep.registry_host());
        self.on_unauthorized_inner(ep, headers, scopes, sent)
            .instrument(span)
            .await
    }

    async fn on_unauthorized_inner(
        &self,
        ep: &Endpoint,
        headers: &HeaderMap,
        scopes: &[String],
        sent: Option<&HeaderValue>,
    ) -> Result<HeaderValue> {
        let host = ep.registry_host();
        let challenges = challenges_from_headers(headers);
        let sent_scheme = sent
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(' ').next())
            .map(|s| s.to_ascii_lowercase());
        if let Some(c) = challenges.iter().find(|c| c.is_bearer()) {
            let Some(realm) = c.realm().filter(|r| !r.is_empty()) else {
                return Err(Error::auth(format!(
                    "{host} asked for a bearer token but named no token realm"
                ))
                .with_status(401));
            };
            if c.error() == Some("insufficient_scope") && sent_scheme.as_deref() == Some("bearer") {
                let need = c.scope().unwrap_or("").to_owned();
                return Err(Error::auth(format!(
                    "access denied by {host}: insufficient_scope{}",
                    if need.is_empty() {
                        String::new()
                    } else {
                        format!(" (needs {need})")
                    }
                ))
                .with_status(401)
                .with_hint(if self.has_credentials(&host) {
                    "your account lacks this permission; check its access rights"
                } else {
                    "run 'rex registry login' to authenticate"
                }));
            }
            let scheme = AuthScheme::Bearer {
                realm: realm.to_owned(),
                service: c.service().map(str::to_owned),
            };
            self.remember(&host, scheme);
            // Ask for what we wanted plus whatever the registry says it needs.
            let mut all: BTreeSet<String> = scopes.iter().cloned().collect();
            if let Some(s) = c.scope() {
                all.extend(s.split(' ').filter(|s| !s.is_empty()).map(str::to_owned));
            }
            let all: Vec<String> = all.into_iter().collect();
            tracing::debug!(registry = %host, "bearer challenge; fetching a token");
            let t = self.token(ep, realm, c.service(), &all, true).await?;
            // Also cache it under the caller's scope key so the next request reuses it.
            if all.as_slice() != scopes {
                let slot = self.slot(&host, &scope_key(scopes));
                let mut g = slot.lock().await;
                *g = Some(CachedToken {
                    value: t.clone(),
                    refresh_at: Instant::now() + Duration::from_secs(30),
                });
            }
            return Ok(bearer_value(&t));
        }
        if challenges.iter().any(|c| c.is_basic()) {
            self.remember(&host, AuthScheme::Basic);
            if sent_scheme.as_deref() == Some("basic") {
                return Err(Error::auth(format!(
                    "authentication failed for {host}: invalid username or password"
                ))
                .with_status(401)
                .with_hint("run 'rex registry login' to update credentials"));
            }
            return match self.credentials(&host) {
                Some(c) if c.has_password() => Ok(basic_value(&c)),
                Some(_) => Err(Error::auth(format!(
                    "{host} uses basic authentication, and the only credential known for it is an identity token"
                ))
                .with_status(401)
                .with_hint("identity tokens work only with token servers; run 'rex registry login' with a user name and password")),
                None => Err(Error::auth(format!("{host} requires authentication"))
                    .with_status(401)
                    .with_hint("run 'rex registry login' to store credentials")),
            };
        }
        let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        Err(Error::auth(if schemes.is_empty() {
            format!("{host} answered 401 without an authentication challenge")
        } else {
            format!(
                "{host} wants an unsupported authentication scheme ({})",
                schemes.join(", ")
            )
        })
        .with_status(401)
        .with_hint("run 'rex registry login' to store credentials"))
    }

    /// Learn a registry's scheme from a ping's 401 without fetching anything.
    pub fn learn_from_headers(&self, ep: &Endpoint, headers: &HeaderMap) -> AuthScheme {
        let challenges = challenges_from_headers(headers);
        let scheme = if let Some(c) = challenges.iter().find(|c| c.is_bearer()) {
            match c.realm() {
                Some(r) => AuthScheme::Bearer {
                    realm: r.to_owned(),
                    service: c.service().map(str::to_owned),
                },
                None => AuthScheme::Anonymous,
            }
        } else if challenges.iter().any(|c| c.is_basic()) {
            AuthScheme::Basic
        } else {
            AuthScheme::Anonymous
        };
        if scheme != AuthScheme::Anonymous {
            self.remember(&ep.registry_host(), scheme.clone());
        }
        scheme
    }

    /// A cached token, or a fresh one. Concurrent callers for the same key wait for one
    /// fetch. `force` skips the cache (the registry just rejected it).
    async fn token(
        &self,
        ep: &Endpoint,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        force: bool,
    ) -> Result<Secret> {
        let host = ep.registry_host();
        let slot = self.slot(&host, &scope_key(scopes));
        let mut guard = slot.lock().await;
        if !force {
            if let Some(t) = guard.as_ref() {
                if Instant::now() < t.refresh_at {
                    return Ok(t.value.clone());
                }
                tracing::debug!(registry = %host, "token expired, refreshing");
            }
        }
        *guard = None;
        let (value, ttl) = self.fetch_token(ep, realm, service, scopes).await?;
        // Refresh a little early so a token never expires in flight.
        let skew = (ttl / 10).min(Duration::from_secs(10));
        *guard = Some(CachedToken {
            value: value.clone(),
            refresh_at: Instant::now() + ttl.saturating_sub(skew),
        });
        Ok(value)
    }

    async fn fetch_token(
        &self,
        ep: &Endpoint,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
    ) -> Result<(Secret, Duration)> {
        let host = ep.registry_host();
        let mut url = Url::parse(realm).map_err(|e| {
            Error::auth(format!(
                "{host} named an invalid token realm '{realm}': {e}"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::auth(format!(
                "{host} named a token realm with scheme '{}'",
                url.scheme()
            )));
        }
        let realm_url = url.clone();
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = service {
                q.append_pair("service", s);
            }
            for s in scopes {
                q.append_pair("scope", s);
            }
        }
        let creds = self.credentials(&host);
        if creds.is_some() {
            let realm_host = url.host_str().unwrap_or("");
            // Never send a secret in clear text to a remote realm of a TLS registry.
            if url.scheme() == "http" && ep.scheme == Scheme::Https && !is_loopback_host(realm_host)
            {
                return Err(Error::auth(format!(
                    "refusing to send credentials for {host} over plain http to the token realm {}",
                    origin(&url)
                ))
                .with_hint("the registry's token realm must use https"));
            }
        }
        if let Some(refresh) = creds.as_ref().and_then(|c| c.identity_token.as_ref()) {
            match self
                .fetch_token_oauth(ep, &realm_url, service, scopes, refresh)
                .await?
            {
                OAuthOutcome::Token(t, ttl) => return Ok((t, ttl)),
                OAuthOutcome::Unsupported(status) => {
                    if !creds.as_ref().is_some_and(Credentials::has_password) {
                        return Err(Error::auth(format!(
                            "the token server {} does not accept OAuth2 token requests (HTTP {status}), which identity tokens need",
                            origin(&url)
                        ))
                        .with_status(status)
                        .with_hint("run 'rex registry login' with a user name and password for this registry"));
                    }
                    tracing::debug!(registry = %host, status, "no OAuth2 POST at the token realm; falling back to GET with basic credentials");
                }
            }
        }
        let mut spec = RequestSpec::get(url.clone());
        spec.skip_verify = ep.skip_verify;
        if let Some(c) = creds.as_ref().filter(|c| c.has_password()) {
            spec.headers
                .insert(http::header::AUTHORIZATION, basic_value(c));
        }
        tracing::debug!(registry = %host, realm = %origin(&url), scopes = ?scopes, "requesting token");
        let limit = 1024 * 1024;
        let resp = self.http.fetch(&spec, limit, "token response").await?;
        if resp.status == StatusCode::UNAUTHORIZED || resp.status == StatusCode::FORBIDDEN {
            return Err(Error::auth(format!(
                "the token server {} rejected the {} for {host}",
                origin(&url),
                if creds.as_ref().is_some_and(Credentials::has_password) {
                    "credentials"
                } else {
                    "anonymous request"
                }
            ))
            .with_status(resp.status.as_u16())
            .with_registry_errors(crate::client::parse_registry_errors(&resp.body))
            .with_hint("run 'rex registry login' to update credentials"));
        }
        if !resp.status.is_success() {
            return Err(Error::auth(format!(
                "the token server {} answered HTTP {}",
                origin(&url),
                resp.status.as_u16()
            ))
            .with_status(resp.status.as_u16())
            .with_registry_errors(crate::client::parse_registry_errors(&resp.body)));
        }
        let reply = token_reply(&resp.body, &url)?;
        tracing::debug!(registry = %host, ttl_s = reply.1.as_secs(), "token acquired");
        Ok(reply)
    }

    /// The distribution token spec's OAuth2 flow: POST a `refresh_token` grant (docker's
    /// identity token) as a form to the realm and read `access_token`. 404/405 mean the
    /// server has no OAuth2 endpoint; the caller decides whether to fall back.
    async fn fetch_token_oauth(
        &self,
        ep: &Endpoint,
        realm: &Url,
        service: Option<&str>,
        scopes: &[String],
        refresh_token: &Secret,
    ) -> Result<OAuthOutcome> {
        let host = ep.registry_host();
        let body = {
            let mut f = url::form_urlencoded::Serializer::new(String::new());
            f.append_pair("grant_type", "refresh_token");
            f.append_pair("refresh_token", refresh_token.expose());
            if let Some(s) = service {
                f.append_pair("service", s);
            }
            if !scopes.is_empty() {
                // OAuth2 scopes are one space-separated parameter.
                f.append_pair("scope", &scopes.join(" "));
            }
            f.append_pair("client_id", OAUTH_CLIENT_ID);
            Secret::new(f.finish())
        };
        tracing::debug!(registry = %host, realm = %origin(realm), scopes = ?scopes, "requesting token (OAuth2 refresh_token grant)");
        let timeout = self.http.options().timeout;
        let resp = self
            .http
            .reqwest(ep.skip_verify)?
            .post(realm.clone())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body.expose().to_owned())
            .send()
            .await
            .map_err(|e| crate::client::map_transport_error(e, realm, timeout))?;
        let status = resp.status();
        tracing::debug!(registry = %host, realm = %origin(realm), status = status.as_u16(), "token response");
        let body = crate::client::read_body_capped(resp, 1024 * 1024, "token response").await?;
        match status.as_u16() {
            404 | 405 => Ok(OAuthOutcome::Unsupported(status.as_u16())),
            400 | 401 | 403 => {
                // OAuth2 error bodies: {"error":"invalid_grant","error_description":..}.
                let code = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                    .filter(|c| c.len() <= 64 && c.chars().all(|ch| ch.is_ascii_graphic()));
                Err(Error::auth(format!(
                    "the token server {} rejected the identity token for {host}{}",
                    origin(realm),
                    code.map(|c| format!(" ({c})")).unwrap_or_default()
                ))
                .with_status(status.as_u16())
                .with_registry_errors(crate::client::parse_registry_errors(&body))
                .with_hint(
                    "the identity token in the docker config is invalid or expired; run 'docker login' again or 'rex registry login'",
                ))
            }
            _ if status.is_success() => {
                let (t, ttl) = token_reply(&body, realm)?;
                tracing::debug!(registry = %host, ttl_s = ttl.as_secs(), "token acquired");
                Ok(OAuthOutcome::Token(t, ttl))
            }
            code => Err(Error::auth(format!(
                "the token server {} answered HTTP {code}",
                origin(realm)
            ))
            .with_status(code)
            .with_registry_errors(crate::client::parse_registry_errors(&body))),
        }
    }
}

/// The `client_id` rex names itself with in OAuth2 token requests.
pub const OAUTH_CLIENT_ID: &str = "rex";

enum OAuthOutcome {
    Token(Secret, Duration),
    /// The realm has no OAuth2 endpoint (HTTP status).
    Unsupported(u16),
}

/// `token` or `access_token` and `expires_in` (default 60 s) from a token reply.
fn token_reply(body: &[u8], url: &Url) -> Result<(Secret, Duration)> {
    let reply: TokenReply = serde_json::from_slice(body).map_err(|e| {
        Error::auth(format!(
            "the token server {} sent an invalid reply: {e}",
            origin(url)
        ))
    })?;
    let value = reply
        .token
        .filter(|t| !t.is_empty())
        .or(reply.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| Error::auth(format!("the token server {} sent no token", origin(url))))?;
    let ttl = match reply.expires_in {
        Some(s) if s > 0 => Duration::from_secs(s as u64),
        _ => DEFAULT_TOKEN_TTL,
    };
    Ok((Secret::new(value), ttl))
}

fn scope_key(scopes: &[String]) -> String {
    let set: BTreeSet<&str> = scopes.iter().map(String::as_str).collect();
    set.into_iter().collect::<Vec<_>>().join(" ")
}

fn basic_value(c: &Credentials) -> HeaderValue {
    let mut v = HeaderValue::from_str(&c.basic_header_value())
        .unwrap_or_else(|_| HeaderValue::from_static(""));
    v.set_sensitive(true);
    v
}

fn bearer_value(t: &Secret) -> HeaderValue {
    let mut v = HeaderValue::from_str(&format!("Bearer {}", t.expose()))
        .unwrap_or_else(|_| HeaderValue::from_static(""));
    v.set_sensitive(true);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_distribution_bearer_challenge() {
        let c = parse_www_authenticate([
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:samalba/my-app:pull,push""#,
        ]);
        assert_eq!(c.len(), 1);
        assert!(c[0].is_bearer());
        assert_eq!(c[0].realm(), Some("https://auth.example.com/token"));
        assert_eq!(c[0].service(), Some("registry.example.com"));
        assert_eq!(c[0].scope(), Some("repository:samalba/my-app:pull,push"));
        assert_eq!(c[0].error(), None);
    }

    #[test]
    fn several_challenges_in_one_header_and_several_headers() {
        let c = parse_www_authenticate([
            r#"Basic realm="basic realm, with comma", BEARER realm="https://a/t", error="insufficient_scope",scope="registry:catalog:*""#,
            r#"Negotiate, Digest realm=x, nonce="a\"b""#,
        ]);
        let schemes: Vec<&str> = c.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["basic", "bearer", "negotiate", "digest"]);
        assert_eq!(c[0].realm(), Some("basic realm, with comma"));
        assert_eq!(c[1].realm(), Some("https://a/t"));
        assert_eq!(c[1].error(), Some("insufficient_scope"));
        assert_eq!(c[1].scope(), Some("registry:catalog:*"));
        assert_eq!(c[3].realm(), Some("x"));
        assert_eq!(c[3].param("NONCE"), Some("a\"b"));
    }

    #[test]
    fn odd_spacing_and_case() {
        let c = parse_www_authenticate([r#"  bEaReR   Realm = "r" ,  Service=svc  "#]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].realm(), Some("r"));
        assert_eq!(c[0].service(), Some("svc"));
        // Garbage never panics.
        for s in [
            "",
            "=",
            "\"",
            "Bearer realm=\"unterminated",
            ",,,",
            "Basic dXNlcjpwYXNz==",
        ] {
            let _ = parse_www_authenticate([s]);
        }
        let c = parse_www_authenticate(["Basic dXNlcjpwYXNz=="]);
        assert_eq!(c[0].scheme, "basic");
    }

    #[test]
    fn scope_keys_ignore_order_and_duplicates() {
        let a = scope_key(&["b".into(), "a".into(), "a".into()]);
        assert_eq!(a, "a b");
        assert_eq!(pull_scope("lib/alpine"), "repository:lib/alpine:pull");
    }

    #[test]
    fn header_values_are_sensitive() {
        let v = bearer_value(&Secret::new("tok"));
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("tok"));
        let v = basic_value(&Credentials::new("a", "b"));
        assert!(v.is_sensitive());
    }
}
