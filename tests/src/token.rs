//! In-process token server for `auth: token` registries.
//!
//! `GET /token?service=..&scope=..&scope=..` (optionally with Basic credentials) returns
//! `token` and `access_token` (ES256 JWT, `kid` = libtrust key ID), `expires_in`,
//! `issued_at`.
//!
//! `POST /token` is the distribution token spec's OAuth2 flow: a form with `grant_type`
//! (`password` with `username`/`password`, or `refresh_token` with `refresh_token`),
//! `client_id` (required), `service`, and a space-separated `scope`. A password grant with
//! `access_type=offline` also returns a `refresh_token` (what `docker login` saves as the
//! `identitytoken`). Replies carry `access_token` only (no `token`), as OAuth2 does. Errors
//! are OAuth2 bodies: `400 {"error":"invalid_request" | "unsupported_grant_type" |
//! "invalid_grant"}`, `401 {"error":"invalid_grant"}` for a wrong password. With
//! [`TokenServer::set_oauth_post`]`(false)` every POST gets `404`, like servers that only
//! implement GET.
//!
//! Grants: configured users get `pull` on every repository and `*` on `registry:catalog`;
//! the harness admin (used by fixture pushes) gets every action asked for; anonymous
//! requests get `pull` only when `allow_anonymous`, otherwise `401`. Unknown user or wrong
//! password: `401`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::json;

use crate::http::{Handler, Reply, Request, Response, Server};
use crate::registry::Credentials;

/// The `service` the registry is configured with (the JWT `aud`).
pub const SERVICE: &str = "rex-test-registry";
/// The `issuer` the registry is configured with (the JWT `iss`).
pub const ISSUER: &str = "rex-test-issuer";

/// One access entry of a token (`access` claim).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Access {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

/// What the token server saw and answered, for assertions.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub method: String,
    /// User from Basic credentials, the password-grant form or the refresh token's owner;
    /// `None` when anonymous (or the refresh token is unknown).
    pub user: Option<String>,
    /// POST only: the OAuth2 `grant_type` and `client_id`.
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    pub service: Option<String>,
    pub status: u16,
    pub granted: Vec<Access>,
}

struct State {
    users: Vec<Credentials>,
    admin: Credentials,
    allow_anonymous: bool,
    expires_in: AtomicU64,
    exp_offset: AtomicI64,
    count: AtomicUsize,
    log: Mutex<Vec<TokenRequest>>,
    /// Refresh tokens issued so far → the user they belong to.
    refresh_tokens: Mutex<HashMap<String, String>>,
    oauth_post: AtomicBool,
    key: EncodingKey,
    kid: String,
}

/// A running token server. Stops when dropped.
pub struct TokenServer {
    server: Server,
    state: Arc<State>,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    nbf: i64,
    iat: i64,
    jti: String,
    access: &'a [Access],
}

impl TokenServer {
    pub(crate) fn start(
        users: Vec<Credentials>,
        admin: Credentials,
        allow_anonymous: bool,
        expires_in: u64,
    ) -> anyhow::Result<Self> {
        let key = crate::pki::token_key();
        let state = Arc::new(State {
            users,
            admin,
            allow_anonymous,
            expires_in: AtomicU64::new(expires_in),
            exp_offset: AtomicI64::new(0),
            count: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            oauth_post: AtomicBool::new(true),
            key: EncodingKey::from_ec_pem(key.private_pem.as_bytes())?,
            kid: key.kid.clone(),
        });
        let st = state.clone();
        let handler: Handler = Arc::new(move |req: &Request| handle(&st, req));
        let server = Server::start(handler)?;
        Ok(Self { server, state })
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The realm the registry advertises: `<url>/token`.
    pub fn realm(&self) -> String {
        format!("{}/token", self.url())
    }

    /// Number of token requests served (any outcome).
    pub fn request_count(&self) -> usize {
        self.state.count.load(Ordering::SeqCst)
    }

    /// Every token request so far, oldest first.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.state
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Token requests made as `user` (`None` = anonymous).
    pub fn request_count_for(&self, user: Option<&str>) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.user.as_deref() == user)
            .count()
    }

    /// Change the advertised `expires_in` (seconds) for tokens issued from now on.
    pub fn set_expires_in(&self, secs: u64) {
        self.state.expires_in.store(secs, Ordering::SeqCst);
    }

    /// Shift the JWT `exp` claim by `secs` relative to `iat + expires_in`. The registry
    /// allows 60 s of leeway, so an offset below `-(expires_in + 60)` yields tokens the
    /// registry rejects at once.
    pub fn set_exp_offset(&self, secs: i64) {
        self.state.exp_offset.store(secs, Ordering::SeqCst);
    }

    /// Issue a refresh token for a configured user (or the admin), as a password grant
    /// with `access_type=offline` would; tests write it into a docker config as the
    /// `identitytoken`. `None` for an unknown user.
    pub fn issue_refresh_token(&self, user: &str) -> Option<String> {
        let known =
            user == self.state.admin.user || self.state.users.iter().any(|c| c.user == user);
        known.then(|| issue_refresh(&self.state, user))
    }

    /// Whether `POST /token` (OAuth2) is served; when off every POST gets `404`.
    pub fn set_oauth_post(&self, enabled: bool) {
        self.state.oauth_post.store(enabled, Ordering::SeqCst);
    }

    /// Forget counters and recorded requests.
    pub fn reset(&self) {
        self.state.count.store(0, Ordering::SeqCst);
        self.state
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

enum Who {
    Anonymous,
    User(String),
    Admin(String),
}

fn log(state: &State, record: TokenRequest) {
    state
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(record);
}

fn issue_refresh(state: &State, user: &str) -> String {
    let bytes: [u8; 24] = rand::random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    state
        .refresh_tokens
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(token.clone(), user.to_owned());
    token
}

/// A configured user or the admin with this password.
fn authenticate(state: &State, user: &str, password: &str) -> Option<Who> {
    if user == state.admin.user && password == state.admin.password {
        return Some(Who::Admin(user.to_owned()));
    }
    state
        .users
        .iter()
        .any(|c| c.user == user && c.password == password)
        .then(|| Who::User(user.to_owned()))
}

fn oauth_error(status: u16, code: &str, description: &str) -> Reply {
    Reply::Full(Response::json(
        status,
        &json!({"error": code, "error_description": description}),
    ))
}

fn handle(state: &State, req: &Request) -> Reply {
    state.count.fetch_add(1, Ordering::SeqCst);
    if req.method == "POST" {
        return handle_post(state, req);
    }
    let (user, password) = basic_credentials(req).unzip();
    let scopes: Vec<String> = req
        .query_all("scope")
        .into_iter()
        .flat_map(|v| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let service = req.query_all("service").into_iter().next();
    let mut record = TokenRequest {
        method: req.method.clone(),
        user: user.clone(),
        grant_type: None,
        client_id: None,
        scopes: scopes.clone(),
        service: service.clone(),
        status: 401,
        granted: Vec::new(),
    };
    let who = match (&user, &password) {
        (None, _) if state.allow_anonymous => Some(Who::Anonymous),
        (Some(u), Some(p)) => authenticate(state, u, p),
        _ => None,
    };
    let Some(who) = who else {
        log(state, record);
        return Reply::Full(
            Response::json(
                401,
                &json!({"errors":[{"code":"UNAUTHORIZED","message":"authentication required or credentials invalid"}]}),
            )
            .header("WWW-Authenticate", "Basic realm=\"rex-tests token server\""),
        );
    };
    match issue(state, &who, &scopes, service.as_deref()) {
        Ok((token, granted, expires_in, issued_at)) => {
            record.status = 200;
            record.granted = granted;
            log(state, record);
            Reply::Full(Response::json(
                200,
                &json!({
                    "token": token,
                    "access_token": token,
                    "expires_in": expires_in,
                    "issued_at": issued_at,
                }),
            ))
        }
        Err(e) => {
            record.status = 500;
            log(state, record);
            Reply::Full(Response::new(500).body(format!("signing failed: {e}")))
        }
    }
}

/// OAuth2 (`POST`): password and refresh_token grants.
fn handle_post(state: &State, req: &Request) -> Reply {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let scopes: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let service = get("service");
    let grant_type = get("grant_type");
    let mut record = TokenRequest {
        method: req.method.clone(),
        user: None,
        grant_type: grant_type.clone(),
        client_id: get("client_id"),
        scopes: scopes.clone(),
        service: service.clone(),
        status: 400,
        granted: Vec::new(),
    };
    if !state.oauth_post.load(Ordering::SeqCst) {
        record.status = 404;
        log(state, record);
        return Reply::Full(Response::new(404).body("404 page not found\n"));
    }
    if record.client_id.is_none() {
        log(state, record);
        return oauth_error(400, "invalid_request", "client_id is required");
    }
    let mut refresh_token = None;
    let who = match grant_type.as_deref() {
        Some("password") => {
            let (Some(u), Some(p)) = (get("username"), get("password")) else {
                log(state, record);
                return oauth_error(400, "invalid_request", "username and password are required");
            };
            record.user = Some(u.clone());
            let Some(who) = authenticate(state, &u, &p) else {
                record.status = 401;
                log(state, record);
                return oauth_error(401, "invalid_grant", "invalid username or password");
            };
            if get("access_type").as_deref() == Some("offline") {
                refresh_token = Some(issue_refresh(state, &u));
            }
            who
        }
        Some("refresh_token") => {
            let Some(rt) = get("refresh_token") else {
                log(state, record);
                return oauth_error(400, "invalid_request", "refresh_token is required");
            };
            let owner = state
                .refresh_tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&rt)
                .cloned();
            let Some(user) = owner else {
                log(state, record);
                return oauth_error(400, "invalid_grant", "unknown refresh token");
            };
            record.user = Some(user.clone());
            if user == state.admin.user {
                Who::Admin(user)
            } else {
                Who::User(user)
            }
        }
        _ => {
            log(state, record);
            return oauth_error(
                400,
                "unsupported_grant_type",
                "use password or refresh_token",
            );
        }
    };
    match issue(state, &who, &scopes, service.as_deref()) {
        Ok((token, granted, expires_in, issued_at)) => {
            let scope = granted
                .iter()
                .map(|a| format!("{}:{}:{}", a.kind, a.name, a.actions.join(",")))
                .collect::<Vec<_>>()
                .join(" ");
            record.status = 200;
            record.granted = granted;
            log(state, record);
            let mut body = json!({
                "access_token": token,
                "expires_in": expires_in,
                "issued_at": issued_at,
                "scope": scope,
            });
            if let Some(rt) = refresh_token {
                body["refresh_token"] = json!(rt);
            }
            Reply::Full(Response::json(200, &body))
        }
        Err(e) => {
            record.status = 500;
            log(state, record);
            Reply::Full(Response::new(500).body(format!("signing failed: {e}")))
        }
    }
}

/// Sign a token for `who`: (JWT, granted access, expires_in, issued_at).
fn issue(
    state: &State,
    who: &Who,
    scopes: &[String],
    service: Option<&str>,
) -> Result<(String, Vec<Access>, u64, String), jsonwebtoken::errors::Error> {
    let granted: Vec<Access> = scopes.iter().filter_map(|s| grant(who, s)).collect();
    let now = chrono::Utc::now().timestamp();
    let expires_in = state.expires_in.load(Ordering::SeqCst);
    let exp = now + expires_in as i64 + state.exp_offset.load(Ordering::SeqCst);
    let sub = match who {
        Who::Anonymous => "",
        Who::User(u) | Who::Admin(u) => u.as_str(),
    };
    let jti = {
        let bytes: [u8; 12] = rand::random();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    let claims = Claims {
        iss: ISSUER,
        sub,
        aud: service.unwrap_or(SERVICE),
        exp,
        nbf: now - 5,
        iat: now,
        jti,
        access: &granted,
    };
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(state.kid.clone());
    header.typ = Some("JWT".into());
    let token = jsonwebtoken::encode(&header, &claims, &state.key)?;
    let issued_at = chrono::DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Ok((token, granted, expires_in, issued_at))
}

/// Parse `type:name:actions` (the name may itself contain ':' only in theory; split at the
/// first and last colon).
fn grant(who: &Who, scope: &str) -> Option<Access> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    let requested: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
    let allowed: Vec<String> = match (who, kind) {
        (Who::Admin(_), _) => requested.iter().map(|a| a.to_string()).collect(),
        (Who::User(_), "registry") if name == "catalog" => requested
            .iter()
            .filter(|a| **a == "*")
            .map(|a| a.to_string())
            .collect(),
        (Who::User(_) | Who::Anonymous, "repository") => requested
            .iter()
            .filter(|a| **a == "pull")
            .map(|a| a.to_string())
            .collect(),
        _ => Vec::new(),
    };
    if allowed.is_empty() {
        return None;
    }
    Some(Access {
        kind: kind.to_string(),
        name: name.to_string(),
        actions: allowed,
    })
}

fn basic_credentials(req: &Request) -> Option<(String, String)> {
    let value = req.header("authorization")?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}
