//! Pushing content through the registry API with plain reqwest (deliberately independent of
//! rex-core, so the harness can verify rex-core rather than reuse it).
//!
//! Blobs: `POST /v2/<name>/blobs/uploads/` then `PUT <location>?digest=` (monolithic), or a
//! cross-repository mount. Manifests: `PUT /v2/<name>/manifests/<ref>` with the media type as
//! `Content-Type`. Auth: none, Basic, or the Bearer token flow (challenge → realm → token),
//! tokens cached per repository.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context};
use reqwest::{Method, StatusCode};

use crate::oci;
use crate::registry::Credentials;

/// How the pusher authenticates.
#[derive(Clone, Debug)]
pub enum PushAuth {
    None,
    Basic(Credentials),
    /// Bearer token flow; these credentials are sent to the realm.
    Token(Credentials),
}

/// A registry client for writing fixtures. Cheap to clone (shares the connection pool and
/// token cache).
#[derive(Clone)]
pub struct Pusher {
    client: reqwest::Client,
    base: String,
    auth: PushAuth,
    tokens: Arc<Mutex<HashMap<String, String>>>,
    known_blobs: Arc<Mutex<HashSet<(String, String)>>>,
}

struct Challenge {
    realm: String,
    service: Option<String>,
    scope: Option<String>,
}

impl Pusher {
    /// `base` like `http://127.0.0.1:5000`.
    pub fn new(client: reqwest::Client, base: impl Into<String>, auth: PushAuth) -> Self {
        Self {
            client,
            base: base.into().trim_end_matches('/').to_string(),
            auth,
            tokens: Default::default(),
            known_blobs: Default::default(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Send a request for `repo` (`None` for registry-level endpoints), answering an auth
    /// challenge once. `build` is called again for the retry.
    pub async fn send(
        &self,
        repo: Option<&str>,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> anyhow::Result<reqwest::Response> {
        let key = repo.unwrap_or("").to_string();
        let first = self.authorize(build(&self.client), &key).send().await?;
        if first.status() != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        let PushAuth::Token(creds) = &self.auth else {
            return Ok(first);
        };
        let challenge = first
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_bearer)
            .ok_or_else(|| anyhow!("401 without a Bearer challenge"))?;
        let mut scopes: Vec<String> = challenge.scope.iter().cloned().collect();
        if let Some(repo) = repo {
            scopes.push(format!("repository:{repo}:pull,push,delete"));
        }
        let token = self.fetch_token(&challenge, &scopes, creds).await?;
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), token);
        Ok(self.authorize(build(&self.client), &key).send().await?)
    }

    fn authorize(&self, rb: reqwest::RequestBuilder, key: &str) -> reqwest::RequestBuilder {
        match &self.auth {
            PushAuth::None => rb,
            PushAuth::Basic(c) => rb.basic_auth(&c.user, Some(&c.password)),
            PushAuth::Token(_) => {
                let token = self
                    .tokens
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(key)
                    .cloned();
                match token {
                    Some(t) => rb.bearer_auth(t),
                    None => rb,
                }
            }
        }
    }

    async fn fetch_token(
        &self,
        ch: &Challenge,
        scopes: &[String],
        creds: &Credentials,
    ) -> anyhow::Result<String> {
        let mut url = url::Url::parse(&ch.realm).context("token realm")?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = &ch.service {
                q.append_pair("service", s);
            }
            for s in scopes {
                q.append_pair("scope", s);
            }
        }
        let resp = self
            .client
            .get(url)
            .basic_auth(&creds.user, Some(&creds.password))
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("token request failed: {}", resp.status());
        }
        let body: serde_json::Value = resp.json().await?;
        body.get("token")
            .or_else(|| body.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| anyhow!("token response without a token"))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Whether `repo` has the blob.
    pub async fn blob_exists(&self, repo: &str, digest: &str) -> anyhow::Result<bool> {
        let url = self.url(&format!("/v2/{repo}/blobs/{digest}"));
        let resp = self.send(Some(repo), |c| c.head(&url)).await?;
        Ok(resp.status().is_success())
    }

    /// Upload `data` to `repo` (monolithic POST + PUT) unless this pusher already did.
    /// Returns the digest.
    pub async fn push_blob(&self, repo: &str, data: &[u8]) -> anyhow::Result<String> {
        let digest = oci::sha256_digest(data);
        let key = (repo.to_string(), digest.clone());
        if self
            .known_blobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&key)
        {
            return Ok(digest);
        }
        let start = self.url(&format!("/v2/{repo}/blobs/uploads/"));
        let resp = self.send(Some(repo), |c| c.post(&start)).await?;
        if resp.status() != StatusCode::ACCEPTED {
            bail!(
                "start upload to {repo}: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| anyhow!("upload start without Location"))?
            .to_string();
        let mut put_url = if location.starts_with("http") {
            url::Url::parse(&location)?
        } else {
            url::Url::parse(&self.url(&location))?
        };
        put_url.query_pairs_mut().append_pair("digest", &digest);
        let body = data.to_vec();
        let resp = self
            .send(Some(repo), |c| {
                c.put(put_url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(body.clone())
            })
            .await?;
        if resp.status() != StatusCode::CREATED {
            bail!(
                "finish upload of {digest} to {repo}: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        self.known_blobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
        Ok(digest)
    }

    /// Mount `digest` from `from` into `repo`. Returns `true` when the registry mounted it
    /// (`201`); a `202` (upload started instead) is reported as `false`.
    pub async fn mount_blob(&self, repo: &str, digest: &str, from: &str) -> anyhow::Result<bool> {
        let mut url = url::Url::parse(&self.url(&format!("/v2/{repo}/blobs/uploads/")))?;
        url.query_pairs_mut()
            .append_pair("mount", digest)
            .append_pair("from", from);
        let resp = self.send(Some(repo), |c| c.post(url.clone())).await?;
        let mounted = resp.status() == StatusCode::CREATED;
        if mounted {
            self.known_blobs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((repo.to_string(), digest.to_string()));
        }
        Ok(mounted)
    }

    /// Mount if possible, otherwise upload `data`.
    pub async fn mount_or_push(
        &self,
        repo: &str,
        data: &[u8],
        from: &str,
    ) -> anyhow::Result<String> {
        let digest = oci::sha256_digest(data);
        if self.mount_blob(repo, &digest, from).await? {
            return Ok(digest);
        }
        self.push_blob(repo, data).await
    }

    /// PUT a manifest by tag or digest. Returns the digest the registry reports.
    pub async fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> anyhow::Result<String> {
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"));
        let body = body.to_vec();
        let resp = self
            .send(Some(repo), |c| {
                c.put(&url)
                    .header(reqwest::header::CONTENT_TYPE, media_type)
                    .body(body.clone())
            })
            .await?;
        if resp.status() != StatusCode::CREATED {
            bail!(
                "put manifest {repo}:{reference}: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        let digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| oci::sha256_digest(&body));
        Ok(digest)
    }

    /// DELETE a manifest by digest.
    pub async fn delete_manifest(&self, repo: &str, digest: &str) -> anyhow::Result<()> {
        let url = self.url(&format!("/v2/{repo}/manifests/{digest}"));
        let resp = self.send(Some(repo), |c| c.delete(&url)).await?;
        if resp.status() != StatusCode::ACCEPTED {
            bail!("delete {repo}@{digest}: {}", resp.status());
        }
        Ok(())
    }

    /// GET a path (e.g. `/v2/_catalog?n=1000`) with auth; `repo` picks the token scope.
    pub async fn get(
        &self,
        repo: Option<&str>,
        path: &str,
        accept: Option<&str>,
    ) -> anyhow::Result<reqwest::Response> {
        let url = self.url(path);
        self.send(repo, |c| {
            let rb = c.request(Method::GET, &url);
            match accept {
                Some(a) => rb.header(reqwest::header::ACCEPT, a),
                None => rb,
            }
        })
        .await
    }
}

/// Parse `Bearer realm="..",service="..",scope=".."`.
fn parse_bearer(header: &str) -> Option<Challenge> {
    let rest = header.strip_prefix("Bearer ")?;
    let mut params = HashMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let (k, after) = s.split_once('=')?;
        let after = after.trim_start();
        let (v, remaining) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        params.insert(k.trim().to_ascii_lowercase(), v.to_string());
        s = remaining.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
    }
    Some(Challenge {
        realm: params.remove("realm")?,
        service: params.remove("service"),
        scope: params.remove("scope"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenge() {
        let c = parse_bearer(
            r#"Bearer realm="http://127.0.0.1:1/token",service="svc",scope="repository:a/b:pull,push""#,
        )
        .expect("parses");
        assert_eq!(c.realm, "http://127.0.0.1:1/token");
        assert_eq!(c.service.as_deref(), Some("svc"));
        assert_eq!(c.scope.as_deref(), Some("repository:a/b:pull,push"));
        assert!(parse_bearer("Basic realm=x").is_none());
    }
}
