//! A forward proxy that tunnels `CONNECT host:port` (what HTTPS through a proxy uses) and
//! records each tunnel's target, so tests can show that rex reached a TLS registry through
//! `network.proxy.https`. It answers anything but `CONNECT` with `405`, and only tunnels
//! to loopback (it is a test fixture, not an open proxy).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longest request head accepted before the tunnel starts.
const MAX_HEAD: usize = 8 * 1024;

pub struct ConnectProxy {
    addr: SocketAddr,
    connects: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ConnectProxy {
    /// Listen on a free loopback port, on the harness runtime.
    pub fn start() -> ConnectProxy {
        let connects = Arc::new(Mutex::new(Vec::new()));
        let (addr, task) = crate::block_on({
            let connects = connects.clone();
            async move {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind the proxy");
                let addr = listener.local_addr().expect("proxy address");
                let task = crate::runtime().spawn(async move {
                    while let Ok((client, _)) = listener.accept().await {
                        let connects = connects.clone();
                        tokio::spawn(async move {
                            let _ = tunnel(client, &connects).await;
                        });
                    }
                });
                (addr, task)
            }
        });
        ConnectProxy {
            addr,
            connects,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`, the value for a proxy setting.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `host:port` of every `CONNECT` so far, in order.
    pub fn connects(&self) -> Vec<String> {
        self.connects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn tunnel(mut client: TcpStream, connects: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = client.read(&mut buf).await?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut words = text.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (words.next(), words.next());
    let target = match (method, target) {
        (Some("CONNECT"), Some(t)) if t.starts_with("127.0.0.1:") => t.to_string(),
        _ => {
            client
                .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                .await?;
            return Ok(());
        }
    };
    connects
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(target.clone());
    let mut upstream = TcpStream::connect(&target).await?;
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    // Bytes the client sent after the head (the TLS ClientHello may already be there).
    let end = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(head.len(), |p| p + 4);
    upstream.write_all(&head[end..]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}
