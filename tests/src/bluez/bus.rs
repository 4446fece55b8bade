//! A private D-Bus "system" bus: `dbus-daemon --nofork` with a test config that lets anyone own
//! any name and call anything. Chromium finds it through `DBUS_SYSTEM_BUS_ADDRESS`.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// `dbus-daemon` binary (override with `ATTUNE_DBUS_DAEMON`).
pub fn dbus_daemon_binary() -> String {
    std::env::var("ATTUNE_DBUS_DAEMON").unwrap_or_else(|_| "dbus-daemon".into())
}

/// A running bus daemon, killed on drop.
pub struct SystemBus {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl SystemBus {
    /// Starts a bus listening on a socket in a fresh temp dir and waits for its address.
    pub fn start() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("attune-e2e-dbus-")
            .tempdir()?;
        let socket = dir.path().join("system_bus_socket");
        let config = dir.path().join("system.conf");
        std::fs::write(&config, config_xml(&socket.display().to_string()))?;
        // Its stderr (e.g. a harmless "Failed to set fd limit") goes to a file, shown on failure.
        let log_path = dir.path().join("dbus-daemon.log");
        let log = std::fs::File::create(&log_path)?;
        let mut child = Command::new(dbus_daemon_binary())
            .arg(format!("--config-file={}", config.display()))
            .arg("--print-address=1")
            .arg("--nofork")
            .arg("--nopidfile")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} (install the Debian package `dbus`: scripts/setup.sh)",
                    dbus_daemon_binary()
                )
            })?;
        let stdout = child.stdout.take().context("dbus-daemon stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let address = line.trim().to_string();
        if address.is_empty() {
            let _ = child.kill();
            let status = child.wait()?;
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!("dbus-daemon ({status}) printed no address within 30 s: {log}");
        }
        Ok(Self {
            child,
            address,
            _dir: dir,
        })
    }

    /// The bus address, e.g. `unix:path=/tmp/attune-e2e-dbus-x/system_bus_socket,guid=...`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// `(DBUS_SYSTEM_BUS_ADDRESS, address)`, for chromedriver's environment.
    pub fn env(&self) -> (String, String) {
        ("DBUS_SYSTEM_BUS_ADDRESS".into(), self.address.clone())
    }
}

impl Drop for SystemBus {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group we created; no memory is touched.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// A system-type bus where every connection may own any name and send anything.
fn config_xml(socket: &str) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"#
    )
}
