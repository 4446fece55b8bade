//! A "proxy" that records what tried to leave the origin and refuses it.
//!
//! Chromium is pointed at it with `--proxy-server`; loopback is bypassed by default,
//! so every connection that reaches this listener is traffic to some other host.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Default)]
struct State {
    seen: Mutex<Vec<String>>,
    stop: AtomicBool,
}

/// Records the first request line of every connection and answers 502.
pub struct RecordingProxy {
    addr: SocketAddr,
    state: Arc<State>,
}

impl RecordingProxy {
    /// Listens on `127.0.0.1:<free port>`.
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let st = state.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                if st.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                thread::spawn(move || refuse(conn, &st));
            }
        });
        Ok(Self { addr, state })
    }

    /// Value for Chromium's `--proxy-server`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// First request lines seen so far, e.g. `CONNECT example.com:443 HTTP/1.1`.
    pub fn seen(&self) -> Vec<String> {
        self.state
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn refuse(conn: TcpStream, state: &State) {
    if state.stop.load(Ordering::SeqCst) {
        return;
    }
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut line = String::new();
    let _ = BufReader::new(&conn).read_line(&mut line);
    let line = line.trim_end();
    let entry = if line.is_empty() {
        "<connection without a request line>".to_string()
    } else {
        line.to_string()
    };
    state
        .seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(entry);
    let _ = (&conn)
        .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn records_and_refuses() {
        let proxy = RecordingProxy::start().unwrap();
        let mut s = TcpStream::connect(proxy.addr).unwrap();
        s.write_all(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
            .unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 502"));
        assert_eq!(proxy.seen(), vec!["CONNECT example.com:443 HTTP/1.1"]);
    }
}
