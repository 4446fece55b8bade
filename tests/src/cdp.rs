//! A minimal Chrome DevTools Protocol client for browser-level commands
//! (chromedriver's CDP endpoint only reaches the current page).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

/// A connection to the browser target of a Chromium started with remote debugging.
pub struct BrowserCdp {
    socket: WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl BrowserCdp {
    /// Connects to `host:port` (chromedriver's `goog:chromeOptions.debuggerAddress`).
    pub fn connect(debugger_address: &str) -> Result<Self> {
        let version = http_get_json(debugger_address, "/json/version")?;
        let ws = version["webSocketDebuggerUrl"]
            .as_str()
            .with_context(|| format!("no webSocketDebuggerUrl in {version}"))?;
        let (socket, _) =
            tungstenite::connect(ws).with_context(|| format!("connecting to {ws}"))?;
        Ok(Self { socket, next_id: 1 })
    }

    /// Sends one command and waits for its result (events are skipped).
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({ "id": id, "method": method, "params": params }).to_string();
        self.socket.send(Message::text(msg))?;
        loop {
            let Message::Text(text) = self.socket.read()? else {
                continue;
            };
            let reply: Value = serde_json::from_str(text.as_str())?;
            if reply["id"] != id {
                continue;
            }
            if let Some(err) = reply.get("error") {
                bail!("CDP {method} failed: {err}");
            }
            return Ok(reply["result"].clone());
        }
    }
}

/// `GET path` on `host:port` over plain HTTP/1.1 (Chromium ignores HTTP/1.0), parsed as JSON.
fn http_get_json(address: &str, path: &str) -> Result<Value> {
    let stream = TcpStream::connect(address).with_context(|| format!("connecting to {address}"))?;
    write!(
        &stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )?;
    let mut reader = BufReader::new(stream);
    let mut len = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse::<usize>().ok();
            }
        }
    }
    let len = len.with_context(|| format!("GET {path} on {address}: no Content-Length"))?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    serde_json::from_slice(&body).with_context(|| format!("GET {path} on {address}: not JSON"))
}
