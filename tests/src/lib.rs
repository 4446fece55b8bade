//! End-to-end harness for Attune: serves `dist/` on loopback, drives headless Chromium
//! through chromedriver, and checks that no request ever leaves the origin.
//!
//! Build the site first (`trunk build --release` at the repo root), then
//! `cargo test -p attune-e2e`. `ATTUNE_DIST` overrides the served folder.

pub mod app;
pub mod bidi;
pub mod bluez;
pub mod browser;
pub mod bt_emulation;
pub mod cdp;
pub mod heart;
pub mod heart_scenario;
pub mod proxy;
pub mod server;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use fantoccini::Client;
use serde_json::Value;

pub use browser::{Browser, LaunchOptions};
pub use proxy::RecordingProxy;
pub use server::{Fault, StaticServer};

/// Desktop window size used by every test.
pub const DESKTOP: (u32, u32) = (1280, 900);
/// Phone viewport for the docs screenshot.
pub const PHONE: (u32, u32) = (390, 844);

/// Starts a harness named `name`, opens the app and waits until it is ready, runs `body`, then
/// checks the session ([`Harness::finish`]); a failure of `body` comes with a screenshot and the
/// page's state ([`Harness::fail`]).
pub async fn with_ready_app(
    name: &str,
    body: impl AsyncFnOnce(&mut Harness) -> Result<()>,
) -> Result<()> {
    let mut h = Harness::start(name).await?;
    h.open().await?;
    h.wait_ready().await?;
    if let Err(e) = body(&mut h).await {
        return h.fail(&format!("{e:#}")).await;
    }
    h.finish().await
}

/// The folder to serve: `ATTUNE_DIST`, else `<workspace>/dist`. Fails if it has no index.html.
pub fn dist_dir() -> Result<PathBuf> {
    let dir = match std::env::var_os("ATTUNE_DIST") {
        Some(d) => PathBuf::from(d),
        None => workspace_root().join("dist"),
    };
    ensure!(
        dir.join("index.html").is_file(),
        "{} has no index.html: build the site first with `trunk build --release` \
         at the repository root (or point ATTUNE_DIST at a built site)",
        dir.display()
    );
    Ok(dir)
}

/// The repository root (parent of this crate).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where screenshots and logs go: `tests/artifacts/`.
pub fn artifacts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts")
}

/// True when `ATTUNE_UPDATE_SCREENSHOTS=1`: tests also refresh `docs/screenshot*.png`.
pub fn update_docs_screenshots() -> bool {
    std::env::var("ATTUNE_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1")
}

/// Upper bound for any wait (override with `ATTUNE_E2E_WAIT_SECS`); a cap, not an assertion.
pub fn wait_cap() -> Duration {
    let secs = std::env::var("ATTUNE_E2E_WAIT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// Polls `check` (every 100 ms, up to [`wait_cap`]) until it returns `Some`.
pub async fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> Result<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return Ok(v);
        }
        if start.elapsed() > wait_cap() {
            bail!("timed out after {:?} waiting for {what}", wait_cap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What a test adds to the default browser launch (see [`LaunchOptions`]).
#[derive(Clone, Debug, Default)]
pub struct BrowserExtras {
    /// More Chromium flags.
    pub args: Vec<String>,
    /// Environment of chromedriver and so of Chromium.
    pub driver_env: Vec<(String, String)>,
    /// Open a WebDriver BiDi session as well.
    pub bidi: bool,
    /// Navigations return at DOMContentLoaded (see [`LaunchOptions::eager`]).
    pub eager: bool,
}

/// One test's world: static server, recording proxy and a browser pointed at both.
pub struct Harness {
    /// Serves `dist/`; set faults here.
    pub server: StaticServer,
    /// Records any attempt of the page to reach another host.
    pub proxy: RecordingProxy,
    /// Records Chromium's own background traffic (reported, not asserted).
    pub browser_proxy: RecordingProxy,
    /// The browser session.
    pub browser: Browser,
    name: String,
    shots: usize,
}

impl Harness {
    /// Starts server, proxy and a fresh desktop browser; `name` prefixes artifacts.
    pub async fn start(name: &str) -> Result<Self> {
        Self::start_with(name, BrowserExtras::default()).await
    }

    /// [`Harness::start`] with more Chromium flags, chromedriver environment or BiDi.
    pub async fn start_with(name: &str, extras: BrowserExtras) -> Result<Self> {
        let dist = dist_dir()?;
        let server = StaticServer::start(&dist).context("starting the static server")?;
        let proxy = RecordingProxy::start().context("starting the recording proxy")?;
        let browser_proxy = RecordingProxy::start().context("starting the browser proxy")?;
        std::fs::create_dir_all(artifacts_dir())?;
        clean_artifacts(name)?;
        let browser = Browser::launch(&LaunchOptions {
            page_proxy: proxy.url(),
            browser_proxy: browser_proxy.url(),
            window: DESKTOP,
            driver_log: artifacts_dir().join(format!("{name}-chromedriver.log")),
            extra_args: extras.args,
            driver_env: extras.driver_env,
            bidi: extras.bidi,
            eager: extras.eager,
        })
        .await?;
        let h = Self {
            server,
            proxy,
            browser_proxy,
            browser,
            name: name.to_string(),
            shots: 0,
        };
        // The window has browser chrome even headless; pin the viewport itself.
        h.emulate_viewport(DESKTOP, false).await?;
        Ok(h)
    }

    /// The WebDriver client.
    pub fn client(&self) -> &Client {
        &self.browser.client
    }

    /// Navigates to the site root.
    pub async fn open(&self) -> Result<()> {
        self.open_with("").await
    }

    /// Navigates to the site root with `query` (e.g. `?stall-ms=1500`).
    pub async fn open_with(&self, query: &str) -> Result<()> {
        let url = format!("{}/{query}", self.server.origin());
        self.client()
            .goto(&url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// Checks the current page's origin, then reloads it in the same session.
    pub async fn reload(&self) -> Result<()> {
        self.check_page_origin().await?;
        self.client().refresh().await.context("reloading the page")
    }

    /// Saves a PNG of the viewport as `artifacts/<test>-<n>-<label>.png`.
    pub async fn screenshot(&mut self, label: &str) -> Result<PathBuf> {
        self.shots += 1;
        let path = artifacts_dir().join(format!("{}-{:02}-{label}.png", self.name, self.shots));
        let png = self
            .client()
            .screenshot()
            .await
            .context("taking a screenshot")?;
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// When `ATTUNE_UPDATE_SCREENSHOTS=1`, writes `docs/<file>`: the whole page from the top,
    /// at the current width (`viewport`), then restores the viewport.
    pub async fn docs_screenshot(
        &self,
        file: &str,
        viewport: (u32, u32),
        mobile: bool,
    ) -> Result<()> {
        if !update_docs_screenshots() {
            return Ok(());
        }
        self.js("(scrollTo(0, 0), true)").await?;
        if !mobile {
            let height = self.js("document.documentElement.scrollHeight").await?;
            let height = height
                .as_u64()
                .unwrap_or(0)
                .clamp(u64::from(viewport.1), 2400);
            self.emulate_viewport((viewport.0, height as u32), mobile)
                .await?;
        }
        let png = self
            .client()
            .screenshot()
            .await
            .context("taking a screenshot")?;
        self.emulate_viewport(viewport, mobile).await?;
        let dir = workspace_root().join("docs");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(file), png)?;
        Ok(())
    }

    /// Sets the viewport size with device emulation (e.g. a phone).
    pub async fn emulate_viewport(&self, (w, h): (u32, u32), mobile: bool) -> Result<()> {
        let params = serde_json::json!({
            "width": w, "height": h, "deviceScaleFactor": 1, "mobile": mobile,
        });
        self.browser
            .cdp("Emulation.setDeviceMetricsOverride", params)
            .await?;
        Ok(())
    }

    /// Runs `return (<expr>)` in the page.
    pub async fn js(&self, expr: &str) -> Result<Value> {
        self.client()
            .execute(&format!("return ({expr});"), vec![])
            .await
            .with_context(|| format!("executing `{expr}`"))
    }

    /// Polls the JS expression `expr` until it is neither `null`, `undefined` nor `false`,
    /// and returns its value. Fails after [`wait_cap`] with `what`, a screenshot and page state.
    pub async fn wait_js(&mut self, what: &str, expr: &str) -> Result<Value> {
        let start = Instant::now();
        let mut last_err = None;
        while start.elapsed() < wait_cap() {
            match self.js(expr).await {
                Ok(Value::Null | Value::Bool(false)) => {}
                Ok(v) => return Ok(v),
                Err(e) => last_err = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let detail = last_err
            .map(|e| format!("\nlast script error: {e:#}"))
            .unwrap_or_default();
        self.fail(&format!(
            "timed out after {:?} waiting for {what}{detail}",
            wait_cap()
        ))
        .await
    }

    /// Fails the test with `msg` plus a screenshot, the page's state and its console.
    pub async fn fail<T>(&mut self, msg: &str) -> Result<T> {
        let shot = self
            .screenshot("FAILED")
            .await
            .map(|p| p.display().to_string());
        let state = self
            .js(
                "{state: document.querySelector('#app')?.dataset.state ?? null, \
                 error: document.querySelector('#asset-error')?.innerText ?? null, \
                 text: (document.body?.innerText ?? '').slice(0, 800)}",
            )
            .await
            .map(|v| v.to_string())
            .unwrap_or_else(|e| format!("<page unreadable: {e:#}>"));
        let console = self.browser.console_log().await.join("\n  ");
        bail!("{msg}\npage: {state}\nconsole:\n  {console}\nscreenshot: {shot:?}")
    }

    /// Asserts every navigation/resource entry of the current page has the server's origin.
    pub async fn check_page_origin(&self) -> Result<()> {
        let v = self
            .js(
                "{origin: location.origin, urls: performance.getEntriesByType('navigation') \
                 .concat(performance.getEntriesByType('resource')).map(e => e.name)}",
            )
            .await?;
        let origin = self.server.origin();
        ensure!(
            v["origin"] == origin.as_str(),
            "page origin is {} not {origin}",
            v["origin"]
        );
        let urls: Vec<&str> = v["urls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        ensure!(!urls.is_empty(), "the page reported no navigation entry");
        let foreign: Vec<&str> = urls
            .iter()
            .copied()
            .filter(|u| {
                url::Url::parse(u)
                    .map(|u| u.origin().ascii_serialization())
                    .ok()
                    .as_deref()
                    != Some(&origin)
            })
            .collect();
        ensure!(
            foreign.is_empty(),
            "requests left the origin {origin}: {foreign:?}"
        );
        Ok(())
    }

    /// The end-of-test privacy checks: page entries, proxy and server log. Closes the browser.
    pub async fn finish(self) -> Result<()> {
        self.check_page_origin().await?;
        let Self {
            server,
            proxy,
            browser_proxy,
            browser,
            name,
            ..
        } = self;
        browser.close().await?;
        let noise = browser_proxy.seen();
        if !noise.is_empty() {
            let path = artifacts_dir().join(format!("{name}-browser-traffic.txt"));
            std::fs::write(&path, noise.join("\n") + "\n")?;
        }
        let escaped = proxy.seen();
        ensure!(
            escaped.is_empty(),
            "requests tried to leave the origin via the proxy: {escaped:?}"
        );
        let requests = server.requests();
        ensure!(!requests.is_empty(), "the static server saw no requests");
        let odd: Vec<String> = requests
            .iter()
            .filter(|r| r.method != "GET" || !server.serves(&r.path))
            // Chromium asks for /favicon.ico by itself when the page declares no icon.
            .filter(|r| !(r.method == "GET" && r.path == "/favicon.ico"))
            .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
            .collect();
        ensure!(
            odd.is_empty(),
            "unexpected requests (not a GET of a file in dist/ or a mounted folder): {odd:?}"
        );
        Ok(())
    }
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    let be = |at: usize| Some(u32::from_be_bytes(png.get(at..at + 4)?.try_into().ok()?));
    (png.get(..8)? == b"\x89PNG\r\n\x1a\n").then_some(())?;
    Some((be(16)?, be(20)?))
}

fn clean_artifacts(name: &str) -> Result<()> {
    // Only this test's own files: `about-` must not take `about-retry-`'s files from a test that
    // runs beside it (the tests run two at a time).
    let prefix = format!("{name}-");
    for entry in std::fs::read_dir(artifacts_dir())? {
        let entry = entry?;
        let file = entry.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let own = rest == "chromedriver.log"
            || rest == "browser-traffic.txt"
            || rest == "transcript.txt"
            || rest
                .split('-')
                .next()
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if own {
            match std::fs::remove_file(entry.path()) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
    }
    Ok(())
}
