//! Headless Chromium driven through a private chromedriver.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

use crate::cdp::BrowserCdp;

/// Chromium binary (override with `ATTUNE_CHROMIUM`).
pub fn chromium_binary() -> String {
    std::env::var("ATTUNE_CHROMIUM").unwrap_or_else(|_| "/usr/lib/chromium/chromium".into())
}

/// chromedriver binary (override with `ATTUNE_CHROMEDRIVER`).
pub fn chromedriver_binary() -> String {
    std::env::var("ATTUNE_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

/// A chromedriver process in its own process group, killed (with its browsers) on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until chromedriver itself says it listens.
    ///
    /// A port found free can be taken before chromedriver binds it (tests run two at a time, and
    /// each starts servers on port 0), and a bare TCP connect would then reach the other test's
    /// server. So readiness is chromedriver's own log line, and a lost port is tried again.
    fn spawn(log: &Path, env: &[(String, String)]) -> Result<Self> {
        const TRIES: usize = 5;
        for _ in 0..TRIES {
            if let Some(driver) = Self::try_spawn(log, env)? {
                return Ok(driver);
            }
        }
        bail!("chromedriver exited {TRIES} times; see {}", log.display())
    }

    /// One try: the driver once it has said it listens, `None` when it exited first (most likely
    /// its port was taken).
    fn try_spawn(log: &Path, env: &[(String, String)]) -> Result<Option<Self>> {
        let port = free_port()?;
        let log_file =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(chromedriver_binary())
            .arg(format!("--port={port}"))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {}", chromedriver_binary()))?;
        let mut driver = Self { child, port };
        let ready = format!("started successfully on port {port}");
        let start = Instant::now();
        while !std::fs::read_to_string(log)
            .unwrap_or_default()
            .contains(&ready)
        {
            if driver.child.try_wait()?.is_some() {
                return Ok(None);
            }
            if start.elapsed() > Duration::from_secs(60) {
                bail!(
                    "chromedriver did not listen on port {port}; see {}",
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Some(driver))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Negative pid: the whole group (chromedriver and any Chromium it left behind).
        let pgid = self.child.id() as i32;
        // SAFETY: kill(2) with a process group id we created; no memory is touched.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// How to launch a browser.
#[derive(Clone, Debug)]
pub struct LaunchOptions {
    /// Proxy of the page's browser context: every non-loopback request of the page goes there.
    pub page_proxy: String,
    /// `--proxy-server` of the whole browser: Chromium's own background traffic goes there.
    pub browser_proxy: String,
    /// Window size in CSS pixels.
    pub window: (u32, u32),
    /// Where chromedriver's log goes.
    pub driver_log: PathBuf,
    /// More Chromium flags (e.g. `--enable-experimental-web-platform-features`).
    pub extra_args: Vec<String>,
    /// Environment of chromedriver, which Chromium inherits (e.g. `DBUS_SYSTEM_BUS_ADDRESS`).
    pub driver_env: Vec<(String, String)>,
    /// Ask for a WebDriver BiDi session too (capability `webSocketUrl: true`); its URL is
    /// then [`Browser::bidi_url`].
    pub bidi: bool,
    /// Navigation returns at DOMContentLoaded (`pageLoadStrategy: eager`), not at the load event
    /// (which a stalled subresource holds back for ever).
    pub eager: bool,
}

/// A WebDriver session on a fresh headless Chromium profile, switched to a tab in a
/// separate browser context whose proxy is [`LaunchOptions::page_proxy`].
///
/// Chromium itself talks to Google services at startup (component updates, account
/// checks) whatever the flags; those go through the global proxy. The separate context
/// keeps the page's traffic apart, so anything on the page proxy came from the page.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// The page's tab: WebDriver window handle, CDP target id and BiDi browsing context id
    /// (Chromium uses the same id for all three).
    pub tab: String,
    /// The session's WebDriver BiDi WebSocket URL when [`LaunchOptions::bidi`] was set.
    pub bidi_url: Option<String>,
    /// The page's browser context (tabs opened by [`Browser::open_tab`] share its storage).
    context: String,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a Chromium session with a fresh user-data dir.
    pub async fn launch(opts: &LaunchOptions) -> Result<Self> {
        let profile = tempfile::Builder::new()
            .prefix("attune-e2e-profile-")
            .tempdir()?;
        let driver = Driver::spawn(&opts.driver_log, &opts.driver_env)?;
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--no-default-browser-check".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-extensions".into(),
            "--disable-default-apps".into(),
            "--disable-domain-reliability".into(),
            "--no-pings".into(),
            // Chromium's own services, not the page's: autofill queries about the page's
            // forms use the page's network context, the rest is background noise.
            "--disable-features=AutofillServerCommunication,NetworkTimeServiceQuerying,\
             OptimizationHints,OptimizationGuideModelDownloading,MediaRouter,Translate"
                .into(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={},{}", opts.window.0, opts.window.1),
            format!("--proxy-server={}", opts.browser_proxy),
        ];
        args.extend(opts.extra_args.iter().cloned());
        let mut caps = json!({
            "goog:chromeOptions": { "binary": chromium_binary(), "args": args },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        if opts.bidi {
            caps["webSocketUrl"] = json!(true);
        }
        if opts.eager {
            caps["pageLoadStrategy"] = json!("eager");
        }
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let caps: Capabilities = caps;
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .context("creating a WebDriver session (is Chromium installed?)")?;
        let bidi_url = match opts.bidi {
            true => Some(
                client
                    .capabilities()
                    .and_then(|c| c.get("webSocketUrl")?.as_str().map(str::to_string))
                    .context("chromedriver returned no webSocketUrl for a BiDi session")?,
            ),
            false => None,
        };
        let mut browser = Self {
            client,
            tab: String::new(),
            bidi_url,
            context: String::new(),
            _driver: driver,
            _profile: profile,
        };
        let (tab, context) = browser
            .open_context_tab(&opts.page_proxy, opts.window)
            .await?;
        browser.tab = tab;
        browser.context = context;
        Ok(browser)
    }

    fn browser_cdp(&self) -> Result<BrowserCdp> {
        let caps = self
            .client
            .capabilities()
            .context("no session capabilities")?;
        let address = caps
            .get("goog:chromeOptions")
            .and_then(|o| o["debuggerAddress"].as_str())
            .context("chromedriver did not report goog:chromeOptions.debuggerAddress")?;
        BrowserCdp::connect(address)
    }

    /// Opens another tab in the page's context (same origin storage, same proxy) at `url` and
    /// returns its id; the session stays on the current tab.
    pub async fn open_tab(&self, url: &str) -> Result<String> {
        let target = self.browser_cdp()?.call(
            "Target.createTarget",
            json!({ "url": url, "browserContextId": self.context }),
        )?;
        target["targetId"]
            .as_str()
            .map(str::to_string)
            .context("no targetId")
    }

    /// Makes `tab` the session's current tab.
    pub async fn switch_to(&self, tab: &str) -> Result<()> {
        let handle = self
            .client
            .windows()
            .await?
            .into_iter()
            .find(|h| String::from(h.clone()) == tab)
            .with_context(|| format!("chromedriver does not list the tab {tab}"))?;
        self.client.switch_to_window(handle).await?;
        Ok(())
    }

    /// Closes `tab` at once, as a user closing it (or the browser killing it) would: whatever
    /// its page was doing is cut off.
    pub fn kill_tab(&self, tab: &str) -> Result<()> {
        self.browser_cdp()?
            .call("Target.closeTarget", json!({ "targetId": tab }))?;
        Ok(())
    }

    /// Creates a browser context with its own proxy (loopback still bypassed) and switches
    /// the session to a new tab in it; the first tab is closed. Returns the tab's and the
    /// context's ids.
    async fn open_context_tab(
        &self,
        proxy: &str,
        (width, height): (u32, u32),
    ) -> Result<(String, String)> {
        let mut cdp = self.browser_cdp()?;
        let ctx = cdp.call(
            "Target.createBrowserContext",
            json!({ "proxyServer": proxy, "disposeOnDetach": false }),
        )?;
        let ctx = ctx["browserContextId"]
            .as_str()
            .context("no browserContextId")?
            .to_string();
        let params = json!({
            "url": "about:blank", "browserContextId": ctx, "newWindow": true,
            "width": width, "height": height,
        });
        let target = cdp.call("Target.createTarget", params)?;
        let target = target["targetId"]
            .as_str()
            .context("no targetId")?
            .to_string();
        let tab = self
            .client
            .windows()
            .await?
            .into_iter()
            .find(|h| String::from(h.clone()) == target)
            .with_context(|| format!("chromedriver does not list the new tab {target}"))?;
        self.client.close_window().await?;
        self.client.switch_to_window(tab).await?;
        Ok((target, ctx))
    }

    /// Ends the session (Chromium quits), then stops chromedriver.
    pub async fn close(self) -> Result<()> {
        let Self { client, .. } = self;
        client
            .close()
            .await
            .context("closing the WebDriver session")?;
        Ok(())
    }

    /// Browser console messages since the last call (chromedriver's log endpoint).
    pub async fn console_log(&self) -> Vec<String> {
        let Ok(Value::Array(entries)) = self.client.issue_cmd(ConsoleLog).await else {
            return vec![];
        };
        entries
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["level"].as_str().unwrap_or("?"),
                    e["message"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        self.client
            .issue_cmd(Cdp {
                cmd: cmd.into(),
                params,
            })
            .await
            .with_context(|| format!("CDP {cmd}"))
    }
}

/// chromedriver's `POST /session/{id}/se/log` for the browser console.
#[derive(Debug)]
struct ConsoleLog;

impl WebDriverCompatibleCommand for ConsoleLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

/// chromedriver's `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: String,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}
