//! A fake BlueZ on a private D-Bus system bus, so Chromium's real Linux Bluetooth stack
//! (device/bluetooth/bluez) talks to a heart-rate strap and receives genuine GATT notifications.
//!
//! Objects, as bluetoothd lays them out (bus name `org.bluez`, ObjectManager at `/`):
//!
//! ```text
//! /org/bluez                                    AgentManager1
//! /org/bluez/hci0                               Adapter1 (Powered, discovery)
//! /org/bluez/hci0/dev_XX                        Device1 (Connect/Disconnect, UUIDs, Name, RSSI,
//!                                                        Connected, ServicesResolved)
//!   .../service0010                             GattService1 0x180D
//!   .../service0010/char0011                    GattCharacteristic1 0x2A37 (notify, read)
//!   .../service0010/char0011/desc0013           GattDescriptor1 0x2902
//!   .../service0010/char0014                    GattCharacteristic1 0x2A38 (read)
//!   .../service0020                             GattService1 0x180F
//!   .../service0020/char0021                    GattCharacteristic1 0x2A19 (read)
//! ```
//!
//! Chromium asks for `org.bluez` once per process and only listens for InterfacesAdded on `/`,
//! so [`FakeBluez::start`] exports every object before it takes the name, and the tests start
//! it before Chromium. A notification is `PropertiesChanged(Value)` on the 0x2A37 object, as
//! bluetoothd sends it; a dropped link is `PropertiesChanged(Connected=false)` on the device.
//!
//! The requestDevice chooser: headless Chromium shows no chooser UI, and no command-line flag
//! picks a device. The DevTools `DeviceAccess` domain does, and WebDriver BiDi exposes it as
//! `bluetooth.requestDevicePromptUpdated` / `bluetooth.handleRequestDevicePrompt`, which work
//! with the real adapter too (no `simulateAdapter`): see `tests/tests/e2e/heart_bluez.rs`.

pub mod bus;
pub mod objects;

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use zbus::fdo::ObjectManager;
use zbus::Connection;

pub use bus::SystemBus;
pub use objects::ConnectPolicy;
use objects::{
    Adapter, AgentManager, CharValue, Characteristic, Descriptor, Device, Service, Shared,
};

use crate::heart::{
    uuid, BATTERY_LEVEL, BATTERY_SERVICE, BODY_SENSOR_LOCATION, CCCD, HEART_RATE_MEASUREMENT,
    HEART_RATE_SERVICE,
};

/// The strap the fake BlueZ knows.
#[derive(Clone, Debug)]
pub struct StrapSpec {
    /// Bluetooth address, e.g. `C0:FF:EE:00:00:01`.
    pub address: String,
    /// Advertised name.
    pub name: String,
    /// Body Sensor Location (0x2A38) value.
    pub body_location: u8,
    /// Battery Level (0x2A19) in percent.
    pub battery: u8,
}

/// The fake bluetoothd: a zbus connection owning `org.bluez`.
pub struct FakeBluez {
    conn: Connection,
    shared: Arc<Shared>,
    device_path: String,
    hr_path: String,
}

const ADAPTER: &str = "/org/bluez/hci0";

impl FakeBluez {
    /// Connects to the bus at `bus_address`, exports every object, then takes `org.bluez`.
    pub async fn start(bus_address: &str, strap: &StrapSpec) -> Result<Self> {
        let shared = Shared::new();
        let device_path = format!("{ADAPTER}/dev_{}", strap.address.replace(':', "_"));
        let hr_service = format!("{device_path}/service0010");
        let hr_path = format!("{hr_service}/char0011");
        let battery_service = format!("{device_path}/service0020");
        let conn = zbus::connection::Builder::address(bus_address)?
            .build()
            .await
            .with_context(|| format!("connecting to the test bus {bus_address}"))?;
        let server = conn.object_server();
        server.at("/", ObjectManager).await?;
        server
            .at(
                "/org/bluez",
                AgentManager {
                    shared: shared.clone(),
                },
            )
            .await?;
        server
            .at(
                ADAPTER,
                Adapter {
                    shared: shared.clone(),
                    address: "00:1A:7D:DA:71:13".into(),
                    device_path: device_path.clone(),
                },
            )
            .await?;
        server
            .at(
                device_path.as_str(),
                Device {
                    shared: shared.clone(),
                    address: strap.address.clone(),
                    name: strap.name.clone(),
                    adapter: ADAPTER.into(),
                    uuids: vec![uuid(HEART_RATE_SERVICE), uuid(BATTERY_SERVICE)],
                    hr_path: hr_path.clone(),
                },
            )
            .await?;
        for (path, service) in [
            (&hr_service, HEART_RATE_SERVICE),
            (&battery_service, BATTERY_SERVICE),
        ] {
            server
                .at(
                    path.as_str(),
                    Service {
                        uuid: uuid(service),
                        device: device_path.clone(),
                    },
                )
                .await?;
        }
        let flags = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let chars = [
            (
                hr_path.clone(),
                &hr_service,
                HEART_RATE_MEASUREMENT,
                CharValue::HeartRate,
                flags(&["read", "notify"]),
            ),
            (
                format!("{hr_service}/char0014"),
                &hr_service,
                BODY_SENSOR_LOCATION,
                CharValue::Fixed(vec![strap.body_location]),
                flags(&["read"]),
            ),
            (
                format!("{battery_service}/char0021"),
                &battery_service,
                BATTERY_LEVEL,
                CharValue::Fixed(vec![strap.battery]),
                flags(&["read"]),
            ),
        ];
        for (path, service, ch, value, flags) in chars {
            server
                .at(
                    path.as_str(),
                    Characteristic {
                        shared: shared.clone(),
                        uuid: uuid(ch),
                        service: service.clone(),
                        value,
                        flags,
                    },
                )
                .await?;
        }
        server
            .at(
                format!("{hr_path}/desc0013").as_str(),
                Descriptor {
                    shared: shared.clone(),
                    uuid: uuid(CCCD),
                    characteristic: hr_path.clone(),
                },
            )
            .await?;
        conn.request_name("org.bluez")
            .await
            .context("taking the name org.bluez on the test bus")?;
        Ok(Self {
            conn,
            shared,
            device_path,
            hr_path,
        })
    }

    /// Sets what the next `Device1.Connect` calls meet (a held call follows the new policy).
    pub fn set_connect_policy(&self, p: ConnectPolicy) {
        self.shared.lock().connect_policy = p;
    }

    /// `Device1.Connect` calls so far.
    pub fn connect_calls(&self) -> usize {
        self.shared.lock().connect_calls
    }

    /// `StartNotify` calls on 0x2A37 so far.
    pub fn start_notify_calls(&self) -> usize {
        self.shared.lock().start_notify_calls
    }

    /// Whether Chromium has notifications of 0x2A37 on.
    pub fn notifying(&self) -> bool {
        let s = self.shared.lock();
        s.connected && s.notifying
    }

    /// Waits until a `Connect` call is being held ([`ConnectPolicy::Hold`]).
    pub async fn wait_held_connect(&self) -> Result<()> {
        crate::wait_for("a held Device1.Connect call", || {
            (self.shared.lock().held_connects > 0).then_some(())
        })
        .await
    }

    /// Waits until Chromium has turned notifications on (after a connect or reconnect).
    pub async fn wait_notifying(&self) -> Result<()> {
        crate::wait_for("StartNotify on 0x2A37", || self.notifying().then_some(()))
            .await
            .with_context(|| self.summary())
    }

    /// Sends `bytes` as a notification of 0x2A37: `PropertiesChanged` with the new `Value`.
    pub async fn notify(&self, bytes: &[u8]) -> Result<()> {
        {
            let mut s = self.shared.lock();
            if !(s.connected && s.notifying) {
                bail!("notify while notifications are off: {}", summary(&s));
            }
            s.hr_value = bytes.to_vec();
        }
        let iface = self
            .conn
            .object_server()
            .interface::<_, Characteristic>(self.hr_path.as_str())
            .await?;
        iface
            .get()
            .await
            .value_changed(iface.signal_emitter())
            .await?;
        Ok(())
    }

    /// The link drops (out of range): `Connected`, `ServicesResolved` and `Notifying` go false,
    /// as bluetoothd reports a disconnection nobody asked for.
    pub async fn drop_link(&self) -> Result<()> {
        let iface = self
            .conn
            .object_server()
            .interface::<_, Device>(self.device_path.as_str())
            .await?;
        iface
            .get()
            .await
            .link_down(&self.conn, iface.signal_emitter())
            .await?;
        Ok(())
    }

    /// Every D-Bus method call the fake received, in order.
    pub fn calls(&self) -> Vec<String> {
        self.shared.lock().calls.clone()
    }

    /// A short account for failure messages.
    pub fn summary(&self) -> String {
        summary(&self.shared.lock())
    }
}

fn summary(s: &objects::State) -> String {
    format!(
        "fake BlueZ: connected {}, services resolved {}, notifying {}, discovering {}, \
         Connect calls {} (held {}), StartNotify calls {}, 0x2A37 reads {}, calls {:?}",
        s.connected,
        s.services_resolved,
        s.notifying,
        s.discovering,
        s.connect_calls,
        s.held_connects,
        s.start_notify_calls,
        s.hr_reads,
        s.calls.iter().rev().take(30).rev().collect::<Vec<_>>()
    )
}

impl crate::heart_scenario::StrapDriver for FakeBluez {
    fn route(&self) -> &'static str {
        "bluez"
    }
    fn period(&self) -> std::time::Duration {
        // A real strap notifies about once a second; the engine dates readings by arrival.
        std::time::Duration::from_secs(1)
    }
    async fn send(&self, bytes: &[u8]) -> Result<()> {
        self.notify(bytes).await
    }
    async fn settle(&self) -> Result<()> {
        Ok(())
    }
    async fn wait_streaming(&self, n: usize) -> Result<()> {
        crate::wait_for(&format!("StartNotify {n} on 0x2A37"), || {
            (self.notifying() && self.start_notify_calls() >= n).then_some(())
        })
        .await
        .with_context(|| self.summary())
    }
    async fn drop_link_and_hold(&self) -> Result<()> {
        self.set_connect_policy(ConnectPolicy::Hold);
        self.drop_link().await
    }
    async fn wait_held_connect(&self) -> Result<()> {
        FakeBluez::wait_held_connect(self).await
    }
    async fn release_connects(&self) -> Result<()> {
        self.set_connect_policy(ConnectPolicy::Accept);
        Ok(())
    }
    fn summary(&self) -> String {
        FakeBluez::summary(self)
    }
}
