//! Registry endpoints (seed 1.1): parse and validate `[http://|https://]host[:port]`,
//! build `/v2/` URLs, and name the registry the way references and credential stores do.

use crate::error::{Error, Result};
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// HTTP or HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Docker Hub's names: what users and references say, where the API lives, and the key
/// docker's `config.json` uses.
pub const DOCKER_HUB: &str = "docker.io";
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";
pub const DOCKER_HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";

/// A registry's address. `host` is stored without IPv6 brackets, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub scheme: Scheme,
    pub host: String,
    pub port: Option<u16>,
    /// Accept any TLS certificate for this registry (`skip_verify` at `registry init`).
    pub skip_verify: bool,
}

/// Options that change how an address is interpreted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointOptions {
    /// The registry was marked insecure: plain HTTP is allowed (and the default when no
    /// scheme is given).
    pub insecure: bool,
    /// Do not verify the TLS certificate.
    pub skip_verify: bool,
}

impl Endpoint {
    /// Parse with default options (HTTPS unless loopback).
    pub fn parse(input: &str) -> Result<Endpoint> {
        Self::parse_with(input, EndpointOptions::default())
    }

    /// Parse `[http://|https://]host[:port][/]` (also `[::1]:5000` and `host:port`).
    ///
    /// Without a scheme, loopback hosts and insecure registries use HTTP, everything else
    /// HTTPS. Plain HTTP to a non-loopback host is refused unless the registry is marked
    /// insecure. A bare `localhost` (no scheme, no port) means `localhost:5000`, the
    /// conventional local registry.
    pub fn parse_with(input: &str, options: EndpointOptions) -> Result<Endpoint> {
        let raw = input.trim();
        if raw.is_empty() {
            return Err(invalid(input, "the address is empty"));
        }
        let (scheme, rest) = match raw.split_once("://") {
            Some((s, rest)) => {
                let scheme = match s.to_ascii_lowercase().as_str() {
                    "http" => Scheme::Http,
                    "https" => Scheme::Https,
                    other => {
                        return Err(invalid(
                            input,
                            &format!("unsupported scheme '{other}' (use http:// or https://)"),
                        ))
                    }
                };
                (Some(scheme), rest)
            }
            None => (None, raw),
        };

        // Accept a trailing "/" or "/v2" or "/v2/"; any other path is a mistake.
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let path = path.trim_end_matches('/');
        if !(path.is_empty() || path == "/v2") {
            return Err(invalid(
                input,
                &format!(
                    "a registry address has no path ('{path}'); give only host[:port] — \
                     repositories are named separately"
                ),
            ));
        }
        if authority.contains('@') {
            return Err(invalid(input, "credentials do not belong in the address")
                .with_hint("use 'rex registry login' to store credentials"));
        }
        if authority.contains('?') || authority.contains('#') {
            return Err(invalid(
                input,
                "a registry address has no query or fragment",
            ));
        }
        let (host, port) = split_host_port(input, authority)?;
        validate_host(input, &host)?;

        let loopback = is_loopback_host(&host);
        let scheme = match scheme {
            Some(s) => s,
            None if loopback || options.insecure => Scheme::Http,
            None => Scheme::Https,
        };
        if scheme == Scheme::Http && !loopback && !options.insecure {
            return Err(Error::usage(format!(
                "refusing plain http to {host}: only loopback registries or registries marked \
                 insecure may use http"
            ))
            .with_hint(
                "use https://, or mark the registry insecure with \
                 'rex registry init <name> <url> --insecure'",
            ));
        }
        let port = match port {
            Some(p) => Some(p),
            None if host == "localhost" && !raw.contains("://") => Some(5000),
            None => None,
        };
        let host = match host.as_str() {
            "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_owned(),
            _ => host,
        };
        Ok(Endpoint {
            scheme,
            host,
            port,
            skip_verify: options.skip_verify,
        })
    }

    /// Build from a resolved registry target (the current or `--registry` registry).
    pub fn from_target(target: &crate::config::RegistryTarget) -> Result<Endpoint> {
        Self::parse_with(
            &target.url,
            EndpointOptions {
                insecure: target.insecure,
                skip_verify: target.skip_verify,
            },
        )
    }

    /// The port actually used (explicit or the scheme's default).
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    pub fn is_docker_hub(&self) -> bool {
        self.host == DOCKER_HUB && self.port.is_none()
    }

    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }

    /// The host that serves the API (`registry-1.docker.io` for Docker Hub).
    pub fn api_host(&self) -> &str {
        if self.is_docker_hub() {
            DOCKER_HUB_API_HOST
        } else {
            &self.host
        }
    }

    /// `scheme://host[:port]` of the API, without a trailing slash.
    pub fn base_url(&self) -> String {
        let host = bracket(self.api_host());
        match self.port {
            Some(p) if p != self.scheme.default_port() => {
                format!("{}://{}:{}", self.scheme, host, p)
            }
            _ => format!("{}://{}", self.scheme, host),
        }
    }

    /// `base_url()/v2/<path>`; `path` has no leading slash (`""` gives `/v2/`).
    pub fn v2_url(&self, path: &str) -> url::Url {
        let s = format!("{}/v2/{}", self.base_url(), path.trim_start_matches('/'));
        // The base is built from validated parts, so this only fails on a broken path.
        url::Url::parse(&s).unwrap_or_else(|_| {
            url::Url::parse(&format!("{}/v2/", self.base_url())).expect("validated base url")
        })
    }

    /// `host[:port]` as written in image references and used as the credential key
    /// (`docker.io` for Docker Hub; the port only when explicit).
    pub fn registry_host(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{}", bracket(&self.host), p),
            None => bracket(&self.host).into_owned(),
        }
    }

    /// The key docker's `config.json` uses for this registry.
    pub fn docker_config_key(&self) -> String {
        if self.is_docker_hub() {
            DOCKER_HUB_CONFIG_KEY.to_owned()
        } else {
            self.registry_host()
        }
    }

    /// Whether `url` points at this registry's API origin (same scheme, host and port).
    /// Credentials are only ever sent to such URLs (and to the token realm).
    pub fn same_origin(&self, url: &url::Url) -> bool {
        let host = url
            .host_str()
            .map(|h| h.trim_matches(|c| c == '[' || c == ']'));
        url.scheme() == self.scheme.as_str()
            && host.is_some_and(|h| h.eq_ignore_ascii_case(self.api_host()))
            && url.port_or_known_default() == Some(self.effective_port())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base_url())
    }
}

impl std::str::FromStr for Endpoint {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Endpoint::parse(s)
    }
}

fn invalid(input: &str, why: &str) -> Error {
    Error::usage(format!("invalid registry address '{input}': {why}"))
}

fn bracket(host: &str) -> std::borrow::Cow<'_, str> {
    if host.contains(':') {
        format!("[{host}]").into()
    } else {
        host.into()
    }
}

fn split_host_port(input: &str, authority: &str) -> Result<(String, Option<u16>)> {
    if authority.is_empty() {
        return Err(invalid(input, "the host is missing"));
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(invalid(input, "unclosed '[' in an IPv6 address"));
        };
        if host.parse::<Ipv6Addr>().is_err() {
            return Err(invalid(input, &format!("'{host}' is not an IPv6 address")));
        }
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => Some(parse_port(input, p)?),
                None => return Err(invalid(input, "unexpected text after ']'")),
            },
        };
        return Ok((host.to_ascii_lowercase(), port));
    }
    // A bare IPv6 address without brackets has several colons.
    if authority.matches(':').count() > 1 {
        if authority.parse::<Ipv6Addr>().is_ok() {
            return Ok((authority.to_ascii_lowercase(), None));
        }
        return Err(invalid(
            input,
            "write IPv6 addresses in brackets, e.g. [::1]:5000",
        ));
    }
    match authority.split_once(':') {
        Some((h, p)) => Ok((h.to_ascii_lowercase(), Some(parse_port(input, p)?))),
        None => Ok((authority.to_ascii_lowercase(), None)),
    }
}

fn parse_port(input: &str, p: &str) -> Result<u16> {
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(invalid(input, &format!("'{p}' is not a port (1-65535)"))),
        Ok(n) => Ok(n),
    }
}

fn validate_host(input: &str, host: &str) -> Result<()> {
    if host.is_empty() {
        return Err(invalid(input, "the host is missing"));
    }
    if host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    if host.len() > 253 {
        return Err(invalid(input, "the host name is too long"));
    }
    for label in host.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(invalid(
                input,
                &format!("'{host}' is not a valid host name"),
            ));
        }
    }
    Ok(())
}

/// `localhost`, `*.localhost`, 127.0.0.0/8 and ::1.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_matches(|c| c == '[' || c == ']');
    if h.eq_ignore_ascii_case("localhost") || h.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn parses_the_common_forms() {
        let e = Endpoint::parse("https://registry.example.com").unwrap();
        assert_eq!(e.scheme, Scheme::Https);
        assert_eq!(e.host, "registry.example.com");
        assert_eq!(e.port, None);
        assert_eq!(e.base_url(), "https://registry.example.com");
        assert_eq!(e.registry_host(), "registry.example.com");

        let e = Endpoint::parse("registry.example.com:5443/").unwrap();
        assert_eq!(e.scheme, Scheme::Https);
        assert_eq!(e.port, Some(5443));
        assert_eq!(e.registry_host(), "registry.example.com:5443");
        assert_eq!(
            e.v2_url("_catalog").as_str(),
            "https://registry.example.com:5443/v2/_catalog"
        );

        let e = Endpoint::parse("localhost:5000").unwrap();
        assert_eq!(e.scheme, Scheme::Http);
        assert_eq!(e.base_url(), "http://localhost:5000");

        let e = Endpoint::parse("localhost").unwrap();
        assert_eq!(e.port, Some(5000));

        let e = Endpoint::parse("http://localhost").unwrap();
        assert_eq!(e.port, None);
        assert_eq!(e.base_url(), "http://localhost");

        let e = Endpoint::parse("127.0.0.1:5000/v2/").unwrap();
        assert_eq!(e.scheme, Scheme::Http);
        assert_eq!(e.v2_url("").as_str(), "http://127.0.0.1:5000/v2/");

        let e = Endpoint::parse("HTTPS://Reg.Example.COM:443").unwrap();
        assert_eq!(e.host, "reg.example.com");
        assert_eq!(e.base_url(), "https://reg.example.com");
    }

    #[test]
    fn parses_ipv6() {
        let e = Endpoint::parse("[::1]:5000").unwrap();
        assert_eq!(e.host, "::1");
        assert_eq!(e.port, Some(5000));
        assert_eq!(e.scheme, Scheme::Http);
        assert_eq!(e.base_url(), "http://[::1]:5000");
        assert_eq!(e.registry_host(), "[::1]:5000");
        assert_eq!(
            e.v2_url("x/tags/list").as_str(),
            "http://[::1]:5000/v2/x/tags/list"
        );
        assert!(e.same_origin(&url::Url::parse("http://[::1]:5000/v2/").unwrap()));
        let e = Endpoint::parse("https://[2001:db8::1]").unwrap();
        assert_eq!(e.base_url(), "https://[2001:db8::1]");
    }

    #[test]
    fn docker_hub_names() {
        for s in [
            "docker.io",
            "index.docker.io",
            "https://registry-1.docker.io",
        ] {
            let e = Endpoint::parse(s).unwrap();
            assert!(e.is_docker_hub(), "{s}");
            assert_eq!(e.registry_host(), "docker.io");
            assert_eq!(e.base_url(), "https://registry-1.docker.io");
            assert_eq!(e.docker_config_key(), "https://index.docker.io/v1/");
        }
    }

    #[test]
    fn plain_http_needs_loopback_or_insecure() {
        let err = Endpoint::parse("http://registry.example.com").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(err.hint().unwrap().contains("--insecure"));
        let e = Endpoint::parse_with(
            "registry.lan:5000",
            EndpointOptions {
                insecure: true,
                skip_verify: false,
            },
        )
        .unwrap();
        assert_eq!(e.scheme, Scheme::Http);
        let e = Endpoint::parse_with(
            "https://registry.lan",
            EndpointOptions {
                insecure: true,
                skip_verify: true,
            },
        )
        .unwrap();
        assert_eq!(e.scheme, Scheme::Https);
        assert!(e.skip_verify);
    }

    #[test]
    fn rejects_bad_input_with_clear_errors() {
        for (input, needle) in [
            ("", "empty"),
            ("ftp://x", "unsupported scheme"),
            ("https://", "host is missing"),
            ("https://reg.example.com/library/alpine", "no path"),
            ("https://bob:pw@reg.example.com", "credentials"),
            ("reg.example.com:99999", "not a port"),
            ("reg.example.com:0", "not a port"),
            ("reg.example.com:abc", "not a port"),
            ("[::1", "unclosed"),
            ("[nothex]:5000", "not an IPv6"),
            ("bad_host!.com", "not a valid host"),
            ("-bad.com", "not a valid host"),
            ("fe80::1:5000:zz", "brackets"),
        ] {
            let err = Endpoint::parse(input).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Usage, "{input}");
            assert!(err.message().contains(needle), "{input}: {}", err.message());
        }
    }

    #[test]
    fn same_origin_checks_scheme_host_and_port() {
        let e = Endpoint::parse("https://reg.example.com").unwrap();
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert!(e.same_origin(&u("https://reg.example.com/v2/x")));
        assert!(e.same_origin(&u("https://REG.example.com:443/v2/x")));
        assert!(!e.same_origin(&u("http://reg.example.com/v2/x")));
        assert!(!e.same_origin(&u("https://reg.example.com:8443/v2/x")));
        assert!(!e.same_origin(&u("https://s3.example.com/blob")));
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback_host("localhost"));
        assert!(is_loopback_host("127.0.0.2"));
        assert!(is_loopback_host("::1"));
        assert!(is_loopback_host("[::1]"));
        assert!(is_loopback_host("reg.localhost"));
        assert!(!is_loopback_host("10.0.0.1"));
        assert!(!is_loopback_host("localhost.example.com"));
    }
}
