//! A deliberately tiny HTTP/1.1 server (one request per connection, `Connection: close`)
//! used by the token server and the fault server. Hand-rolled so faults such as a reset
//! mid-body or a close-delimited body are easy to produce exactly.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A parsed request.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Request target as sent (path plus query).
    pub target: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of a query parameter, in order.
    pub fn query_all(&self, name: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// A response to write.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::new(status)
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(value).unwrap_or_default())
    }
}

/// How to deliver a response.
pub enum Reply {
    /// Normal response with `Content-Length`.
    Full(Response),
    /// Wait, then send the response.
    Delayed(Duration, Response),
    /// Send headers announcing the full length, then only `n` body bytes, then reset (RST).
    ResetMidBody(Response, usize),
    /// Send no `Content-Length`; the body ends when the connection closes.
    CloseDelimited(Response),
}

pub type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// A running server; stops (aborting open connections) when dropped.
pub struct Server {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Bind a free loopback port and serve `handler` on the harness runtime.
    pub fn start(handler: Handler) -> std::io::Result<Self> {
        let std_listener = StdListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let task = crate::runtime().spawn(async move {
            let listener = match TcpListener::from_std(std_listener) {
                Ok(l) => l,
                Err(_) => return,
            };
            // Connections live in the JoinSet so aborting this task aborts them too.
            let mut conns = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        if let Ok((stream, _)) = accepted {
                            let handler = handler.clone();
                            conns.spawn(async move {
                                let _ = serve_conn(stream, handler).await;
                            });
                        }
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        Ok(Self { addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const MAX_HEAD: usize = 64 * 1024;

async fn serve_conn(mut stream: TcpStream, handler: Handler) -> std::io::Result<()> {
    let Some(req) = read_request(&mut stream).await? else {
        return Ok(());
    };
    let reply = handler(&req);
    let is_head = req.method == "HEAD";
    match reply {
        Reply::Full(resp) => write_full(&mut stream, &resp, is_head).await?,
        Reply::Delayed(delay, resp) => {
            tokio::time::sleep(delay).await;
            write_full(&mut stream, &resp, is_head).await?
        }
        Reply::ResetMidBody(resp, n) => {
            let mut out = head_bytes(&resp, Some(resp.body.len()));
            out.extend_from_slice(&resp.body[..n.min(resp.body.len())]);
            stream.write_all(&out).await?;
            stream.flush().await?;
            // Give the client a moment to read the partial body before the reset.
            tokio::time::sleep(Duration::from_millis(50)).await;
            // Zero linger makes close send RST; it cannot block (the deprecation is about
            // non-zero linger blocking the thread on drop).
            #[allow(deprecated)]
            stream.set_linger(Some(Duration::ZERO))?;
            drop(stream);
            return Ok(());
        }
        Reply::CloseDelimited(resp) => {
            let mut out = head_bytes(&resp, None);
            if !is_head {
                out.extend_from_slice(&resp.body);
            }
            stream.write_all(&out).await?;
        }
    }
    stream.flush().await?;
    let _ = stream.shutdown().await;
    Ok(())
}

async fn write_full(stream: &mut TcpStream, resp: &Response, is_head: bool) -> std::io::Result<()> {
    let mut out = head_bytes(resp, Some(resp.body.len()));
    if !is_head {
        out.extend_from_slice(&resp.body);
    }
    stream.write_all(&out).await
}

fn head_bytes(resp: &Response, content_length: Option<usize>) -> Vec<u8> {
    let mut s = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(len) = content_length {
        s.push_str(&format!("Content-Length: {len}\r\n"));
    }
    s.push_str("Connection: close\r\n\r\n");
    s.into_bytes()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or("/").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let content_length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < content_length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let parsed = url::Url::parse(&format!("http://localhost{target}"))
        .unwrap_or_else(|_| url::Url::parse("http://localhost/").expect("static url"));
    let query = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Ok(Some(Request {
        method,
        path: parsed.path().to_string(),
        target,
        query,
        headers,
        body,
    }))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
