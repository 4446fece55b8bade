//! A small static file server for `dist/` that logs requests and injects faults.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// A fault injected into the response for one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Serve the file with bytes flipped in the middle (same length).
    Corrupt,
    /// Serve only the first half of the file (with a matching Content-Length).
    Truncate,
    /// Answer 404 Not Found.
    NotFound,
    /// Serve `sw.js` as the next build would: its build id changed (so the browser installs it).
    NewBuild,
    /// Serve the file with exactly one byte flipped (in the middle; same length).
    FlipByte,
    /// Announce one byte more than is sent, then close the connection.
    WrongLength,
    /// Answer 500 Internal Server Error.
    ServerError,
    /// Send the headers and the first half of the body, then nothing more (the connection stays
    /// open until the server stops).
    Stall,
}

impl Fault {
    /// The faults every shipped file is tested against (`tests/tests/e2e/faults.rs`).
    pub const SWEEP: [Fault; 6] = [
        Fault::NotFound,
        Fault::Truncate,
        Fault::FlipByte,
        Fault::WrongLength,
        Fault::ServerError,
        Fault::Stall,
    ];

    /// How the report names the fault.
    pub fn label(self) -> &'static str {
        match self {
            Fault::Corrupt => "64 bytes flipped",
            Fault::Truncate => "truncated",
            Fault::NotFound => "missing (404)",
            Fault::NewBuild => "a new build",
            Fault::FlipByte => "one byte flipped",
            Fault::WrongLength => "wrong length",
            Fault::ServerError => "HTTP 500",
            Fault::Stall => "stalled",
        }
    }
}

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Request {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Decoded path without query string, e.g. `/public/catalog.bin`.
    pub path: String,
    /// Status code answered.
    pub status: u16,
    /// Body bytes sent (after compression, in host mode).
    pub bytes: usize,
}

#[derive(Default)]
struct State {
    log: Mutex<Vec<Request>>,
    faults: Mutex<HashMap<String, Fault>>,
    offline: AtomicBool,
    stop: AtomicBool,
    /// Answers as a static host does (see [`StaticServer::host_like`]).
    host: AtomicBool,
    /// Extra folders served under a path prefix (see [`StaticServer::mount`]).
    mounts: Mutex<Vec<(String, PathBuf)>>,
    /// Gzipped bodies by path, with the ETag they were made for.
    gzipped: Mutex<HashMap<String, (String, Vec<u8>)>>,
}

/// Serves a directory on `127.0.0.1:<free port>` until dropped.
pub struct StaticServer {
    root: PathBuf,
    addr: SocketAddr,
    state: Arc<State>,
}

impl StaticServer {
    /// Binds a free loopback port and serves `root` on background threads.
    pub fn start(root: &Path) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let root = root.canonicalize()?;
        let (st, rt) = (state.clone(), root.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if st.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (st, rt) = (st.clone(), rt.clone());
                thread::spawn(move || {
                    let _ = serve_connection(conn, &rt, &st);
                });
            }
        });
        Ok(Self { root, addr, state })
    }

    /// The origin pages are served from, e.g. `http://127.0.0.1:41234`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The served directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Injects `fault` for every path whose file name is `file_name` (e.g. `catalog.bin`), or
    /// for the one file at that path under `public/` (e.g. `free/awakening.ogg`).
    pub fn set_fault(&self, file_name: &str, fault: Fault) {
        lock(&self.state.faults).insert(file_name.to_string(), fault);
    }

    /// While `true`, every connection is closed without an answer, as when the network is gone
    /// (requests are still logged, with status 0).
    ///
    /// The switch and the log share one lock, so every request logged after this returns was
    /// decided under the new setting (a request still being answered is already in the log).
    pub fn set_offline(&self, offline: bool) {
        let _log = lock(&self.state.log);
        self.state.offline.store(offline, Ordering::SeqCst);
    }

    /// While `true`, answers as a static host does (what the first-visit test and benchmark
    /// measure): `Cache-Control: no-cache` with an `ETag`, `304 Not Modified` for a matching
    /// `If-None-Match`, and gzip for a client that accepts it (not for Ogg audio). Otherwise
    /// every answer is `no-store` and uncompressed.
    pub fn host_like(&self, on: bool) {
        self.state.host.store(on, Ordering::SeqCst);
    }

    /// Serves `dir` under `prefix` (e.g. `/catalogue/`), beside the root: for files made by a
    /// test that are not part of the build (the large catalogue's shards).
    pub fn mount(&self, prefix: &str, dir: &Path) -> std::io::Result<()> {
        let dir = dir.canonicalize()?;
        lock(&self.state.mounts).push((prefix.to_string(), dir));
        Ok(())
    }

    /// Whether `path` names a file this server has (under the root or a mount).
    pub fn serves(&self, path: &str) -> bool {
        let mounted = lock(&self.state.mounts).iter().find_map(|(prefix, dir)| {
            Some((dir.clone(), path.strip_prefix(prefix.as_str())?.to_string()))
        });
        match mounted {
            Some((dir, rest)) => resolve(&dir, &format!("/{rest}")).is_some(),
            None => resolve(&self.root, path).is_some(),
        }
    }

    /// Removes all injected faults.
    pub fn clear_faults(&self) {
        lock(&self.state.faults).clear();
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.state.log).clone()
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the stop flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Handles HTTP/1.1 requests on one keep-alive connection.
fn serve_connection(conn: TcpStream, root: &Path, state: &State) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return Ok(());
        };
        let (method, target) = (method.to_string(), target.to_string());
        let mut body_len = 0usize;
        let mut close = false;
        let mut gzip_ok = false;
        let mut if_none_match = None;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                body_len = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("connection:") && lower.contains("close") {
                close = true;
            }
            if let Some(v) = lower.strip_prefix("accept-encoding:") {
                gzip_ok = v.contains("gzip");
            }
            // The ETags made here are lower case.
            if let Some(v) = lower.strip_prefix("if-none-match:") {
                if_none_match = Some(v.trim().to_string());
            }
        }
        std::io::copy(
            &mut (&mut reader).take(body_len as u64),
            &mut std::io::sink(),
        )?;

        let path = decode_path(&target);
        // Decide offline and take a place in the log in one step (see `set_offline`).
        let entry = {
            let mut log = lock(&state.log);
            let offline = state.offline.load(Ordering::SeqCst);
            log.push(Request {
                method: method.clone(),
                path: path.clone(),
                status: 0,
                bytes: 0,
            });
            if offline {
                return Ok(());
            }
            log.len() - 1
        };
        let fault = fault_for(&lock(&state.faults), &path);
        let mounted = lock(&state.mounts).iter().find_map(|(prefix, dir)| {
            Some((dir.clone(), path.strip_prefix(prefix.as_str())?.to_string()))
        });
        let (mut status, ctype, mut body) = match &mounted {
            Some((dir, rest)) => respond(&method, &format!("/{rest}"), dir, fault),
            None => respond(&method, &path, root, fault),
        };
        let mut extra = String::from("Cache-Control: no-store\r\n");
        if state.host.load(Ordering::SeqCst) && status == 200 && fault.is_none() {
            let etag = etag(&body);
            extra = format!("Cache-Control: no-cache\r\nETag: {etag}\r\nVary: Accept-Encoding\r\n");
            if if_none_match.as_deref() == Some(etag.as_str()) {
                status = 304;
                body.clear();
            } else if gzip_ok && !path.ends_with(".ogg") {
                body = gzipped(state, &path, &etag, &body);
                extra.push_str("Content-Encoding: gzip\r\n");
            }
        }
        {
            let mut log = lock(&state.log);
            log[entry].status = status;
            log[entry].bytes = body.len();
        }
        let (announced, sent, close) = match (status, fault) {
            (200, Some(Fault::WrongLength)) => (body.len() + 1, body.len(), true),
            (200, Some(Fault::Stall)) => (body.len(), body.len() / 2, true),
            _ => (body.len(), body.len(), close),
        };
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {ctype}\r\nContent-Length: {announced}\r\n\
             {extra}Connection: {}\r\n\r\n",
            reason(status),
            if close { "close" } else { "keep-alive" },
        );
        out.write_all(head.as_bytes())?;
        if method != "HEAD" {
            out.write_all(&body[..sent])?;
        }
        out.flush()?;
        if status == 200 && fault == Some(Fault::Stall) {
            while !state.stop.load(Ordering::SeqCst) {
                thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        if close {
            return Ok(());
        }
    }
}

/// Builds `(status, content type, body)` for a request.
fn respond(
    method: &str,
    path: &str,
    root: &Path,
    fault: Option<Fault>,
) -> (u16, &'static str, Vec<u8>) {
    const TEXT: &str = "text/plain; charset=utf-8";
    if method != "GET" && method != "HEAD" {
        return (405, TEXT, b"method not allowed".to_vec());
    }
    let Some(file) = resolve(root, path) else {
        return (404, TEXT, b"not found".to_vec());
    };
    match fault {
        Some(Fault::NotFound) => return (404, TEXT, b"not found (injected)".to_vec()),
        Some(Fault::ServerError) => return (500, TEXT, b"internal error (injected)".to_vec()),
        _ => {}
    }
    let Ok(mut body) = std::fs::read(&file) else {
        return (404, TEXT, b"not found".to_vec());
    };
    match fault {
        Some(Fault::Corrupt) => corrupt(&mut body),
        Some(Fault::Truncate) => body.truncate(body.len() / 2),
        Some(Fault::FlipByte) => {
            let mid = body.len() / 2;
            if let Some(b) = body.get_mut(mid) {
                *b ^= 0x01;
            }
        }
        Some(Fault::NewBuild) => {
            let text = String::from_utf8_lossy(&body).replacen("BUILD = \"", "BUILD = \"next-", 1);
            body = text.into_bytes();
        }
        _ => {}
    }
    (200, mime_type(&file), body)
}

/// A strong validator for `body` (FNV-1a over its bytes, and its length).
fn etag(body: &[u8]) -> String {
    let h = body.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("\"{h:016x}-{}\"", body.len())
}

/// `body` gzipped at level 6 (a static host's usual setting), made once per path and ETag.
fn gzipped(state: &State, path: &str, etag: &str, body: &[u8]) -> Vec<u8> {
    if let Some((tag, gz)) = lock(&state.gzipped).get(path) {
        if tag == etag {
            return gz.clone();
        }
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    let gz = enc
        .write_all(body)
        .and_then(|()| enc.finish())
        .unwrap_or_default();
    lock(&state.gzipped).insert(path.to_string(), (etag.to_string(), gz.clone()));
    gz
}

/// Flips up to 64 bytes in the middle of `data`, keeping its length.
pub fn corrupt(data: &mut [u8]) {
    let n = data.len().min(64);
    let start = (data.len() - n) / 2;
    for b in &mut data[start..start + n] {
        *b ^= 0xA5;
    }
}

/// Maps a request path to a file under `root`; `/` and directories map to `index.html`.
pub fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let rel = Path::new(path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let mut file = root.join(rel);
    if file.is_dir() {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

/// The request target's path, without query or fragment, percent-decoded.
fn decode_path(target: &str) -> String {
    let raw = target.split(['?', '#']).next().unwrap_or("/");
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The fault set for `path`: by its path under `/public/` (`free/x.ogg`) or by its file name.
fn fault_for(faults: &HashMap<String, Fault>, path: &str) -> Option<Fault> {
    let under_public = path.strip_prefix("/public/");
    let name = path.rsplit('/').next().filter(|n| !n.is_empty());
    under_public
        .and_then(|p| faults.get(p))
        .or_else(|| name.and_then(|n| faults.get(n)))
        .copied()
}

/// Content type by file extension.
pub fn mime_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        304 => "Not Modified",
        404 => "Not Found",
        500 => "Internal Server Error",
        405 => "Method Not Allowed",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_keeps_length_and_changes_bytes() {
        let orig = vec![7u8; 1000];
        let mut data = orig.clone();
        corrupt(&mut data);
        assert_eq!(data.len(), orig.len());
        assert_ne!(data, orig);
        assert_eq!(data[..400], orig[..400]);
    }

    #[test]
    fn paths_are_decoded_and_confined() {
        assert_eq!(decode_path("/a%20b.js?v=1"), "/a b.js");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "x").unwrap();
        assert!(resolve(dir.path(), "/").is_some());
        assert!(resolve(dir.path(), "/../etc/passwd").is_none());
        assert!(resolve(dir.path(), "/missing.js").is_none());
    }

    #[test]
    fn wasm_mime() {
        assert_eq!(mime_type(Path::new("x_bg.wasm")), "application/wasm");
        assert_eq!(mime_type(Path::new("cf.bin")), "application/octet-stream");
    }
}
