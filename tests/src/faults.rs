//! A misbehaving registry for what `docker-registry` cannot do on demand.
//!
//! Every scenario lives under its own repository; any `/v2/<scenario>/...` path works
//! (`manifests/<ref>`, `blobs/<digest>`, `tags/list`). "Success" means a valid response for
//! that path: the manifest of [`FaultServer::manifest_digest`] (with correct
//! `Docker-Content-Digest` and `Content-Type`), its blobs, or `{"name":..,"tags":["latest"]}`.
//!
//! | repository | behaviour |
//! |---|---|
//! | `fault-429` | 1st request `429` + `Retry-After` (1 s, see [`FaultServer::set_retry_after`]), then success |
//! | `fault-503` | 1st and 2nd request `503`, then success |
//! | `fault-reset` | headers announce the full body, half is sent, then the connection is reset |
//! | `fault-digest` | success, but `Docker-Content-Digest` does not match the body |
//! | `fault-redirect` | needs any `Authorization` (else `401 Basic`); blobs answer `307` to the *other* host, which serves the blob and records headers |
//! | `fault-realm` | `401 Bearer` whose realm is on the *other* host; `Bearer` [`FAULT_TOKEN`] then succeeds |
//! | `fault-malformed` | `200` with truncated JSON (manifests and tags) |
//! | `fault-oversize` | `200` manifest of 8 MiB with `Content-Length` |
//! | `fault-oversize-chunked` | the same 8 MiB with no length (body ends at close) |
//! | `fault-slow` | success after a delay (5 s, see [`FaultServer::set_slow_delay`]) |
//! | `fault-pages` | tags/list pages [`PAGED_TAGS`] by `n`/`last` (none: all); the 1st page links on with a *relative* `Link`, the 2nd with an *absolute* one, the last has none |
//! | `fault-link-self` | tags/list whose `Link` points at the request itself |
//! | `fault-link-cycle` | tags/list: page 1 links to page 2, which links back to page 1 |
//! | `fault-tags-null` | tags/list answers `"tags": null` |
//! | `fault-blob-body` | blobs are served swapped (the config's body for the layer and vice versa): the config with a `Docker-Content-Digest` of the digest asked for, the layer with none |
//! | `fault-referrers` | `referrers/<digest>` answers `200` with an OCI index of [`FaultServer::referrers`] |
//! | `fault-realm-access` | like `fault-realm`, but the realm (`/token-access`) answers only `access_token` ([`ACCESS_ONLY_TOKEN`]) |
//! | `fault-realm-noexp` | like `fault-realm`, but the realm (`/token-noexp`) answers only `token` ([`NO_EXPIRY_TOKEN`]), no `expires_in` |
//! | `fault-realm-short` | like `fault-realm`, but the realm (`/token-short`) answers [`SHORT_TOKEN`] with `expires_in: 1` |
//! | `fault-inflight` | success after a delay (100 ms, see [`FaultServer::set_in_flight_delay`]); [`FaultServer::max_in_flight`] reports the most requests held at once |
//!
//! `GET /v2/_catalog` lists [`SCENARIOS`] with a `Link` to itself (a pagination loop).
//! `GET /v2/` answers `200`. Unknown repositories answer `404 NAME_UNKNOWN`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::http::{Handler, Reply, Request, Response, Server};
use crate::oci;

/// The token the other host's realm hands out for `fault-realm`.
pub const FAULT_TOKEN: &str = "fault-realm-token";

/// The token `/token-access` hands out (as `access_token` only) for `fault-realm-access`.
pub const ACCESS_ONLY_TOKEN: &str = "fault-access-only-token";

/// The token `/token-noexp` hands out (no `expires_in`) for `fault-realm-noexp`.
pub const NO_EXPIRY_TOKEN: &str = "fault-no-expiry-token";

/// The token `/token-short` hands out (`expires_in: 1`) for `fault-realm-short`.
pub const SHORT_TOKEN: &str = "fault-short-token";

/// The tags `fault-pages` serves, in order.
pub const PAGED_TAGS: &[&str] = &["p1", "p2", "p3", "p4", "p5"];

/// All scenario repository names.
pub const SCENARIOS: &[&str] = &[
    "fault-429",
    "fault-503",
    "fault-reset",
    "fault-digest",
    "fault-redirect",
    "fault-realm",
    "fault-malformed",
    "fault-oversize",
    "fault-oversize-chunked",
    "fault-slow",
    "fault-pages",
    "fault-link-self",
    "fault-link-cycle",
    "fault-tags-null",
    "fault-blob-body",
    "fault-referrers",
    "fault-realm-access",
    "fault-realm-noexp",
    "fault-realm-short",
    "fault-inflight",
];

/// `(scenario, realm path on the other host, token it hands out)` for the realm variants.
const REALMS: &[(&str, &str, &str)] = &[
    ("fault-realm", "/token", FAULT_TOKEN),
    ("fault-realm-access", "/token-access", ACCESS_ONLY_TOKEN),
    ("fault-realm-noexp", "/token-noexp", NO_EXPIRY_TOKEN),
    ("fault-realm-short", "/token-short", SHORT_TOKEN),
];

/// Size of the oversize manifests.
pub const OVERSIZE_BYTES: usize = 8 * 1024 * 1024;

/// A request as the fault server saw it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Content {
    manifest: Vec<u8>,
    manifest_digest: String,
    config: Vec<u8>,
    layer: Vec<u8>,
    oversize: Vec<u8>,
    /// `(digest, artifactType)` of the descriptors `fault-referrers` lists.
    referrers: Vec<(String, String)>,
}

struct State {
    content: Content,
    other_url: Mutex<String>,
    requests: Mutex<HashMap<String, Vec<RecordedRequest>>>,
    other_requests: Mutex<Vec<RecordedRequest>>,
    retry_after_secs: AtomicU64,
    slow_ms: AtomicU64,
    in_flight_ms: AtomicU64,
    /// When each `fault-inflight` request arrived and when its delayed reply is due.
    in_flight: Mutex<Vec<(Instant, Instant)>>,
}

impl State {
    fn record(&self, scenario: &str, req: &Request) -> usize {
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let list = map.entry(scenario.to_string()).or_default();
        list.push(recorded(req));
        list.len()
    }
}

fn recorded(req: &Request) -> RecordedRequest {
    RecordedRequest {
        method: req.method.clone(),
        target: req.target.clone(),
        headers: req.headers.clone(),
    }
}

/// The fault server (main host) plus a second listener (the "other host").
pub struct FaultServer {
    main: Server,
    other: Server,
    state: Arc<State>,
}

impl FaultServer {
    pub fn start() -> Self {
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": []},
        }))
        .unwrap_or_default();
        let layer = oci::random_layer(4242, 2048).blob;
        let manifest = serde_json::to_vec_pretty(&json!({
            "schemaVersion": 2,
            "mediaType": oci::OCI_MANIFEST,
            "config": {"mediaType": oci::OCI_CONFIG, "digest": oci::sha256_digest(&config), "size": config.len()},
            "layers": [{"mediaType": oci::OCI_LAYER_GZIP, "digest": oci::sha256_digest(&layer), "size": layer.len()}],
        }))
        .unwrap_or_default();
        let mut oversize = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": oci::OCI_MANIFEST,
            "config": {"mediaType": oci::OCI_CONFIG, "digest": oci::sha256_digest(&config), "size": config.len()},
            "layers": [],
            "annotations": {"padding": ""},
        }))
        .unwrap_or_default();
        // Grow the padding annotation until the document is OVERSIZE_BYTES long.
        let pad = OVERSIZE_BYTES.saturating_sub(oversize.len());
        let insert_at = oversize.len() - 3; // before `"}}`
        oversize.splice(insert_at..insert_at, std::iter::repeat_n(b'x', pad));
        let referrers = [
            "application/vnd.example.signature",
            "application/vnd.example.sbom",
        ]
        .iter()
        .map(|t| (oci::sha256_digest(t.as_bytes()), t.to_string()))
        .collect();
        let state = Arc::new(State {
            content: Content {
                manifest_digest: oci::sha256_digest(&manifest),
                manifest,
                config,
                layer,
                oversize,
                referrers,
            },
            other_url: Mutex::new(String::new()),
            requests: Mutex::new(HashMap::new()),
            other_requests: Mutex::new(Vec::new()),
            retry_after_secs: AtomicU64::new(1),
            slow_ms: AtomicU64::new(5_000),
            in_flight_ms: AtomicU64::new(100),
            in_flight: Mutex::new(Vec::new()),
        });
        let st = state.clone();
        let other_handler: Handler = Arc::new(move |req: &Request| handle_other(&st, req));
        let other = Server::start(other_handler).expect("rex-tests: bind fault other host");
        *state.other_url.lock().unwrap_or_else(|e| e.into_inner()) =
            format!("http://{}", other.addr());
        let st = state.clone();
        let main_handler: Handler = Arc::new(move |req: &Request| handle_main(&st, req));
        let main = Server::start(main_handler).expect("rex-tests: bind fault server");
        Self { main, other, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.main.addr())
    }

    /// `127.0.0.1:PORT`.
    pub fn host_port(&self) -> String {
        self.main.addr().to_string()
    }

    /// The second host (redirect target, foreign token realm).
    pub fn other_url(&self) -> String {
        format!("http://{}", self.other.addr())
    }

    /// Requests received for `scenario` so far.
    pub fn hits(&self, scenario: &str) -> usize {
        self.requests(scenario).len()
    }

    /// Requests received for `scenario`, oldest first.
    pub fn requests(&self, scenario: &str) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(scenario)
            .cloned()
            .unwrap_or_default()
    }

    /// Requests the other host received.
    pub fn other_requests(&self) -> Vec<RecordedRequest> {
        self.state
            .other_requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether any request to the other host carried an `Authorization` header.
    pub fn other_saw_authorization(&self) -> bool {
        self.other_requests()
            .iter()
            .any(|r| r.header("authorization").is_some())
    }

    /// Forget all counters and recordings (scenarios start over).
    pub fn reset(&self) {
        self.state
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.state
            .other_requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.state
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn set_retry_after(&self, secs: u64) {
        self.state.retry_after_secs.store(secs, Ordering::SeqCst);
    }

    pub fn set_slow_delay(&self, delay: Duration) {
        self.state
            .slow_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// How long `fault-inflight` holds each request.
    pub fn set_in_flight_delay(&self, delay: Duration) {
        self.state
            .in_flight_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// The most `fault-inflight` requests held at the same moment. A request counts from
    /// its arrival until its delayed reply is due; a client cannot send the next one on
    /// a freed slot before that reply, so this never over-counts.
    pub fn max_in_flight(&self) -> usize {
        let spans = self
            .state
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        // Sweep: +1 at each arrival, -1 at each end; ends sort before arrivals at a tie.
        let mut events: Vec<(Instant, i32)> = spans
            .iter()
            .flat_map(|&(start, end)| [(start, 1), (end, -1)])
            .collect();
        events.sort();
        let (mut now, mut max) = (0i32, 0i32);
        for (_, step) in events {
            now += step;
            max = max.max(now);
        }
        max as usize
    }

    /// `(digest, artifactType)` of the referrers `fault-referrers` lists.
    pub fn referrers(&self) -> &[(String, String)] {
        &self.state.content.referrers
    }

    /// Digest of the config blob referenced by the manifest.
    pub fn config_digest(&self) -> String {
        oci::sha256_digest(&self.state.content.config)
    }

    /// Digest of the manifest served on success.
    pub fn manifest_digest(&self) -> &str {
        &self.state.content.manifest_digest
    }

    /// The manifest served on success.
    pub fn manifest_bytes(&self) -> &[u8] {
        &self.state.content.manifest
    }

    /// The layer blob referenced by the manifest.
    pub fn layer_bytes(&self) -> &[u8] {
        &self.state.content.layer
    }

    pub fn layer_digest(&self) -> String {
        oci::sha256_digest(&self.state.content.layer)
    }
}

fn error(status: u16, code: &str, message: &str) -> Response {
    Response::json(
        status,
        &json!({"errors": [{"code": code, "message": message}]}),
    )
    .header("Docker-Distribution-API-Version", "registry/2.0")
}

/// `/v2/<repo>/<kind>/<rest>` for a known scenario repository.
fn split(path: &str) -> Option<(&'static str, &str)> {
    let rest = path.strip_prefix("/v2/")?;
    // Longest names first so `fault-oversize-chunked` is not taken for `fault-oversize`.
    let mut names: Vec<&'static str> = SCENARIOS.to_vec();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.into_iter().find_map(|n| {
        rest.strip_prefix(n)
            .and_then(|r| r.strip_prefix('/'))
            .map(|r| (n, r))
    })
}

fn success(state: &State, scenario: &str, sub: &str) -> Response {
    let c = &state.content;
    if sub.starts_with("manifests/") {
        return Response::new(200)
            .header("Content-Type", oci::OCI_MANIFEST)
            .header("Docker-Content-Digest", c.manifest_digest.clone())
            .header("Docker-Distribution-API-Version", "registry/2.0")
            .body(c.manifest.clone());
    }
    if let Some(digest) = sub.strip_prefix("blobs/") {
        let blob = if digest == oci::sha256_digest(&c.config) {
            &c.config
        } else if digest == oci::sha256_digest(&c.layer) {
            &c.layer
        } else {
            return error(404, "BLOB_UNKNOWN", "blob unknown to registry");
        };
        return Response::new(200)
            .header("Content-Type", "application/octet-stream")
            .header("Docker-Content-Digest", digest.to_string())
            .body(blob.clone());
    }
    if sub.starts_with("tags/list") {
        return Response::json(200, &json!({"name": scenario, "tags": ["latest"]}));
    }
    error(404, "NOT_FOUND", "unknown path")
}

/// One page of [`PAGED_TAGS`] after `last`, `n` long; alternately a relative and an
/// absolute `Link` to the next page (registries send both forms).
fn paged_tags(req: &Request) -> Response {
    let n = req
        .query_all("n")
        .pop()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(PAGED_TAGS.len())
        .max(1);
    let start = match req.query_all("last").pop() {
        Some(last) => PAGED_TAGS
            .iter()
            .position(|t| *t == last)
            .map_or(PAGED_TAGS.len(), |i| i + 1),
        None => 0,
    };
    let end = (start + n).min(PAGED_TAGS.len());
    let page = &PAGED_TAGS[start..end];
    let mut resp = Response::json(200, &json!({"name": "fault-pages", "tags": page}));
    if end < PAGED_TAGS.len() {
        let path = format!(
            "/v2/fault-pages/tags/list?n={n}&last={}",
            PAGED_TAGS[end - 1]
        );
        let target = if (start / n).is_multiple_of(2) {
            path
        } else {
            let host = req.header("host").unwrap_or("127.0.0.1");
            format!("http://{host}{path}")
        };
        resp = resp.header("Link", format!("<{target}>; rel=\"next\""));
    }
    resp
}

fn handle_main(state: &State, req: &Request) -> Reply {
    if req.path == "/v2/" || req.path == "/v2" {
        return Reply::Full(
            Response::json(200, &json!({}))
                .header("Docker-Distribution-API-Version", "registry/2.0"),
        );
    }
    if req.path == "/v2/_catalog" {
        // A broken paginator: every page links to itself.
        return Reply::Full(
            Response::json(200, &json!({"repositories": SCENARIOS}))
                .header("Link", format!("<{}>; rel=\"next\"", req.target)),
        );
    }
    let Some((scenario, sub)) = split(&req.path) else {
        return Reply::Full(error(
            404,
            "NAME_UNKNOWN",
            "repository name not known to registry",
        ));
    };
    let n = state.record(scenario, req);
    match scenario {
        "fault-429" if n == 1 => Reply::Full(error(429, "TOOMANYREQUESTS", "slow down").header(
            "Retry-After",
            state.retry_after_secs.load(Ordering::SeqCst).to_string(),
        )),
        "fault-503" if n <= 2 => Reply::Full(error(503, "UNAVAILABLE", "try again")),
        "fault-reset" => {
            let resp = success(state, scenario, sub);
            let half = resp.body.len() / 2;
            Reply::ResetMidBody(resp, half)
        }
        "fault-digest" => {
            let mut resp = success(state, scenario, sub);
            for (k, v) in resp.headers.iter_mut() {
                if k.eq_ignore_ascii_case("docker-content-digest") {
                    *v = oci::sha256_digest(b"not the body");
                }
            }
            Reply::Full(resp)
        }
        "fault-redirect" => {
            if req.header("authorization").is_none() {
                return Reply::Full(
                    error(401, "UNAUTHORIZED", "authentication required")
                        .header("WWW-Authenticate", "Basic realm=\"fault\""),
                );
            }
            if let Some(digest) = sub.strip_prefix("blobs/") {
                let other = state
                    .other_url
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                return Reply::Full(
                    Response::new(307).header("Location", format!("{other}/storage/{digest}")),
                );
            }
            Reply::Full(success(state, scenario, sub))
        }
        "fault-realm" | "fault-realm-access" | "fault-realm-noexp" | "fault-realm-short" => {
            let (_, path, token) = REALMS
                .iter()
                .find(|(name, _, _)| *name == scenario)
                .copied()
                .unwrap_or(REALMS[0]);
            if req.header("authorization") == Some(&format!("Bearer {token}")) {
                return Reply::Full(success(state, scenario, sub));
            }
            let other = state
                .other_url
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            Reply::Full(error(401, "UNAUTHORIZED", "authentication required").header(
                "WWW-Authenticate",
                format!(
                    "Bearer realm=\"{other}{path}\",service=\"fault\",scope=\"repository:{scenario}:pull\""
                ),
            ))
        }
        "fault-pages" if sub.starts_with("tags/list") => Reply::Full(paged_tags(req)),
        "fault-link-self" if sub.starts_with("tags/list") => Reply::Full(
            Response::json(200, &json!({"name": scenario, "tags": ["s1"]}))
                .header("Link", format!("<{}>; rel=\"next\"", req.target)),
        ),
        "fault-link-cycle" if sub.starts_with("tags/list") => {
            let n = req.query_all("n").pop().unwrap_or_else(|| "100".into());
            let first = format!("/v2/{scenario}/tags/list?n={n}");
            let (tags, next) = if req.query_all("last").is_empty() {
                (json!(["c1"]), format!("{first}&last=c1"))
            } else {
                (json!(["c2"]), first)
            };
            Reply::Full(
                Response::json(200, &json!({"name": scenario, "tags": tags}))
                    .header("Link", format!("<{next}>; rel=\"next\""))
                    .header("Docker-Distribution-API-Version", "registry/2.0"),
            )
        }
        "fault-tags-null" if sub.starts_with("tags/list") => Reply::Full(Response::json(
            200,
            &json!({"name": scenario, "tags": null}),
        )),
        "fault-blob-body" if sub.starts_with("blobs/") => {
            let c = &state.content;
            let digest = sub.trim_start_matches("blobs/");
            let resp = if digest == oci::sha256_digest(&c.config) {
                Response::new(200)
                    .header("Docker-Content-Digest", digest.to_string())
                    .body(c.layer.clone())
            } else if digest == oci::sha256_digest(&c.layer) {
                Response::new(200).body(c.config.clone())
            } else {
                return Reply::Full(error(404, "BLOB_UNKNOWN", "blob unknown to registry"));
            };
            Reply::Full(resp.header("Content-Type", "application/octet-stream"))
        }
        "fault-referrers" if sub.starts_with("referrers/") => {
            let manifests: Vec<_> = state
                .content
                .referrers
                .iter()
                .map(|(digest, artifact_type)| {
                    json!({"mediaType": oci::OCI_MANIFEST, "digest": digest, "size": 321,
                           "artifactType": artifact_type})
                })
                .collect();
            Reply::Full(
                Response::new(200)
                    .header("Content-Type", oci::OCI_INDEX)
                    .body(
                        serde_json::to_vec(&json!({
                            "schemaVersion": 2, "mediaType": oci::OCI_INDEX, "manifests": manifests,
                        }))
                        .unwrap_or_default(),
                    ),
            )
        }
        "fault-inflight" => {
            let delay = Duration::from_millis(state.in_flight_ms.load(Ordering::SeqCst));
            let now = Instant::now();
            state
                .in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((now, now + delay));
            Reply::Delayed(delay, success(state, scenario, sub))
        }
        "fault-malformed" => {
            let content_type = if sub.starts_with("manifests/") {
                oci::OCI_MANIFEST
            } else {
                "application/json"
            };
            Reply::Full(
                Response::new(200)
                    .header("Content-Type", content_type)
                    .body(&b"{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.ima"[..]),
            )
        }
        "fault-oversize" | "fault-oversize-chunked" if sub.starts_with("manifests/") => {
            let body = state.content.oversize.clone();
            let resp = Response::new(200)
                .header("Content-Type", oci::OCI_MANIFEST)
                .header("Docker-Content-Digest", oci::sha256_digest(&body))
                .body(body);
            if scenario == "fault-oversize" {
                Reply::Full(resp)
            } else {
                Reply::CloseDelimited(resp)
            }
        }
        "fault-slow" => Reply::Delayed(
            Duration::from_millis(state.slow_ms.load(Ordering::SeqCst)),
            success(state, scenario, sub),
        ),
        _ => Reply::Full(success(state, scenario, sub)),
    }
}

fn handle_other(state: &State, req: &Request) -> Reply {
    state
        .other_requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(recorded(req));
    let reply = match req.path.as_str() {
        "/token" => {
            Some(json!({"token": FAULT_TOKEN, "access_token": FAULT_TOKEN, "expires_in": 300}))
        }
        "/token-access" => Some(json!({"access_token": ACCESS_ONLY_TOKEN, "expires_in": 300})),
        "/token-noexp" => Some(json!({"token": NO_EXPIRY_TOKEN})),
        "/token-short" => Some(json!({"token": SHORT_TOKEN, "expires_in": 1})),
        _ => None,
    };
    if let Some(body) = reply {
        return Reply::Full(Response::json(200, &body));
    }
    if let Some(digest) = req.path.strip_prefix("/storage/") {
        let c = &state.content;
        for blob in [&c.config, &c.layer] {
            if oci::sha256_digest(blob) == digest {
                return Reply::Full(
                    Response::new(200)
                        .header("Content-Type", "application/octet-stream")
                        .body(blob.clone()),
                );
            }
        }
    }
    Reply::Full(Response::new(404))
}
