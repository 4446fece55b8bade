//! The BlueZ D-Bus objects (org.bluez API as documented in BlueZ's doc/org.bluez.*.rst).
//!
//! Every interface keeps its mutable state in [`Shared`] behind a std mutex and takes `&self`,
//! so a method that waits (a held `Connect`) never blocks the test from changing properties.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedObjectPath, OwnedValue};
use zbus::{fdo, interface, Connection};

/// What a `Device1.Connect` call meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectPolicy {
    /// Connect at once.
    Accept,
    /// Wait until the policy changes, then act on the new one.
    Hold,
    /// Fail with `org.bluez.Error.Failed`.
    Refuse,
}

/// The state the test and the D-Bus objects share.
#[derive(Debug)]
pub struct State {
    pub powered: bool,
    pub discovering: bool,
    pub rssi: i16,
    pub connected: bool,
    pub services_resolved: bool,
    pub notifying: bool,
    /// The last value of 0x2A37.
    pub hr_value: Vec<u8>,
    pub cccd: Vec<u8>,
    pub connect_policy: ConnectPolicy,
    pub connect_calls: usize,
    pub held_connects: usize,
    pub start_notify_calls: usize,
    pub hr_reads: usize,
    /// Every method call, in order (`Interface.Method`).
    pub calls: Vec<String>,
}

/// Shared by all objects of one fake BlueZ.
#[derive(Debug)]
pub struct Shared {
    state: Mutex<State>,
}

impl Shared {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                powered: true,
                discovering: false,
                rssi: -55,
                connected: false,
                services_resolved: false,
                notifying: false,
                hr_value: vec![],
                cccd: vec![0, 0],
                connect_policy: ConnectPolicy::Accept,
                connect_calls: 0,
                held_connects: 0,
                start_notify_calls: 0,
                hr_reads: 0,
                calls: vec![],
            }),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn call(&self, name: &str) {
        self.lock().calls.push(name.to_string());
    }
}

fn path(p: &str) -> OwnedObjectPath {
    OwnedObjectPath::try_from(p.to_string()).expect("valid object path")
}

/// `org.bluez.AgentManager1` at `/org/bluez` (accepts any agent).
pub struct AgentManager {
    pub shared: Arc<Shared>,
}

#[interface(name = "org.bluez.AgentManager1")]
impl AgentManager {
    fn register_agent(&self, _agent: OwnedObjectPath, _capability: String) {
        self.shared.call("AgentManager1.RegisterAgent");
    }
    fn unregister_agent(&self, _agent: OwnedObjectPath) {
        self.shared.call("AgentManager1.UnregisterAgent");
    }
    fn request_default_agent(&self, _agent: OwnedObjectPath) {
        self.shared.call("AgentManager1.RequestDefaultAgent");
    }
}

/// `org.bluez.Adapter1` at `/org/bluez/hci0`.
pub struct Adapter {
    pub shared: Arc<Shared>,
    pub address: String,
    /// The strap's object path: discovery refreshes its RSSI so the chooser hears of it.
    pub device_path: String,
}

#[interface(name = "org.bluez.Adapter1")]
impl Adapter {
    async fn start_discovery(
        &self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> fdo::Result<()> {
        self.shared.call("Adapter1.StartDiscovery");
        self.shared.lock().discovering = true;
        self.discovering_changed(&emitter).await?;
        // While discovering, the strap "advertises": an RSSI change every 200 ms makes
        // Chromium report it to the chooser (devices known before discovery are not listed
        // until they change).
        let (conn, shared, device) = (conn.clone(), self.shared.clone(), self.device_path.clone());
        tokio::spawn(async move {
            loop {
                {
                    let mut s = shared.lock();
                    if !s.discovering {
                        return;
                    }
                    s.rssi = if s.rssi == -55 { -56 } else { -55 };
                }
                if let Ok(iface) = conn
                    .object_server()
                    .interface::<_, Device>(device.as_str())
                    .await
                {
                    // zbus names the emitter after "RSSI" letter by letter.
                    let _ = iface
                        .get()
                        .await
                        .r_s_s_i_changed(iface.signal_emitter())
                        .await;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Ok(())
    }

    async fn stop_discovery(
        &self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> fdo::Result<()> {
        self.shared.call("Adapter1.StopDiscovery");
        self.shared.lock().discovering = false;
        self.discovering_changed(&emitter).await?;
        Ok(())
    }

    fn set_discovery_filter(&self, _filter: HashMap<String, OwnedValue>) {
        self.shared.call("Adapter1.SetDiscoveryFilter");
    }

    fn get_discovery_filters(&self) -> Vec<String> {
        ["UUIDs", "RSSI", "Transport", "DuplicateData"]
            .map(String::from)
            .to_vec()
    }

    fn remove_device(&self, _device: OwnedObjectPath) {
        self.shared.call("Adapter1.RemoveDevice");
    }

    #[zbus(property)]
    fn address(&self) -> String {
        self.address.clone()
    }
    #[zbus(property)]
    fn address_type(&self) -> String {
        "public".into()
    }
    #[zbus(property)]
    fn name(&self) -> String {
        "attune-e2e".into()
    }
    #[zbus(property)]
    fn alias(&self) -> String {
        "attune-e2e".into()
    }
    #[zbus(property)]
    fn class(&self) -> u32 {
        0
    }
    #[zbus(property)]
    fn powered(&self) -> bool {
        self.shared.lock().powered
    }
    #[zbus(property)]
    fn set_powered(&self, on: bool) {
        self.shared.lock().powered = on;
    }
    #[zbus(property)]
    fn discoverable(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn discoverable_timeout(&self) -> u32 {
        180
    }
    #[zbus(property)]
    fn pairable(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn pairable_timeout(&self) -> u32 {
        0
    }
    #[zbus(property)]
    fn discovering(&self) -> bool {
        self.shared.lock().discovering
    }
    #[zbus(property, name = "UUIDs")]
    fn uuids(&self) -> Vec<String> {
        vec![]
    }
    #[zbus(property)]
    fn modalias(&self) -> String {
        "usb:v1D6Bp0246d0540".into()
    }
    #[zbus(property)]
    fn roles(&self) -> Vec<String> {
        vec!["central".into()]
    }
}

/// `org.bluez.Device1`: the strap.
pub struct Device {
    pub shared: Arc<Shared>,
    pub address: String,
    pub name: String,
    pub adapter: String,
    pub uuids: Vec<String>,
    /// The 0x2A37 object, whose `Notifying` goes false with the link.
    pub hr_path: String,
}

impl Device {
    /// The link is down: `Connected`, `ServicesResolved` and 0x2A37's `Notifying` go false, and
    /// the changes are signalled as bluetoothd does (Chromium reads `Notifying` to decide whether
    /// a new notification session needs `StartNotify`).
    pub async fn link_down(
        &self,
        conn: &Connection,
        emitter: &SignalEmitter<'_>,
    ) -> zbus::Result<()> {
        {
            let mut s = self.shared.lock();
            s.connected = false;
            s.services_resolved = false;
            s.notifying = false;
            s.cccd = vec![0, 0];
        }
        self.connected_changed(emitter).await?;
        self.services_resolved_changed(emitter).await?;
        let hr = conn
            .object_server()
            .interface::<_, Characteristic>(self.hr_path.as_str())
            .await?;
        let done = hr.get().await.notifying_changed(hr.signal_emitter()).await;
        done
    }
}

#[interface(name = "org.bluez.Device1")]
impl Device {
    async fn connect(&self, #[zbus(signal_emitter)] emitter: SignalEmitter<'_>) -> fdo::Result<()> {
        let mut held = false;
        loop {
            let policy = {
                let mut s = self.shared.lock();
                if !held {
                    s.calls.push("Device1.Connect".into());
                    s.connect_calls += 1;
                }
                match s.connect_policy {
                    ConnectPolicy::Hold if !held => {
                        held = true;
                        s.held_connects += 1;
                    }
                    ConnectPolicy::Hold => {}
                    p => {
                        if held {
                            s.held_connects -= 1;
                        }
                        if p == ConnectPolicy::Accept {
                            s.connected = true;
                        }
                    }
                }
                s.connect_policy
            };
            match policy {
                ConnectPolicy::Hold => tokio::time::sleep(Duration::from_millis(20)).await,
                ConnectPolicy::Refuse => {
                    return Err(fdo::Error::Failed("le-connection-abort-by-local".into()))
                }
                ConnectPolicy::Accept => break,
            }
        }
        // As BlueZ does: Connected first, then ServicesResolved once the GATT database is read.
        self.connected_changed(&emitter).await?;
        self.shared.lock().services_resolved = true;
        self.services_resolved_changed(&emitter).await?;
        Ok(())
    }

    async fn disconnect(
        &self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> fdo::Result<()> {
        self.shared.call("Device1.Disconnect");
        self.link_down(conn, &emitter).await?;
        Ok(())
    }

    fn connect_profile(&self, _uuid: String) -> fdo::Result<()> {
        self.shared.call("Device1.ConnectProfile");
        Err(fdo::Error::NotSupported("no profiles".into()))
    }

    fn disconnect_profile(&self, _uuid: String) -> fdo::Result<()> {
        self.shared.call("Device1.DisconnectProfile");
        Err(fdo::Error::NotSupported("no profiles".into()))
    }

    fn pair(&self) -> fdo::Result<()> {
        self.shared.call("Device1.Pair");
        Err(fdo::Error::NotSupported("the strap does not pair".into()))
    }

    fn cancel_pairing(&self) {
        self.shared.call("Device1.CancelPairing");
    }

    #[zbus(property)]
    fn address(&self) -> String {
        self.address.clone()
    }
    #[zbus(property)]
    fn address_type(&self) -> String {
        "random".into()
    }
    #[zbus(property)]
    fn name(&self) -> String {
        self.name.clone()
    }
    #[zbus(property)]
    fn alias(&self) -> String {
        self.name.clone()
    }
    /// 0x0341: Heart Rate Sensor, Heart Rate Belt.
    #[zbus(property)]
    fn appearance(&self) -> u16 {
        0x0341
    }
    #[zbus(property, name = "UUIDs")]
    fn uuids(&self) -> Vec<String> {
        self.uuids.clone()
    }
    #[zbus(property)]
    fn paired(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn bonded(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn connected(&self) -> bool {
        self.shared.lock().connected
    }
    #[zbus(property)]
    fn trusted(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn blocked(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn legacy_pairing(&self) -> bool {
        false
    }
    #[zbus(property)]
    fn adapter(&self) -> OwnedObjectPath {
        path(&self.adapter)
    }
    #[zbus(property, name = "RSSI")]
    fn rssi(&self) -> i16 {
        self.shared.lock().rssi
    }
    #[zbus(property)]
    fn services_resolved(&self) -> bool {
        self.shared.lock().services_resolved
    }
    #[zbus(property)]
    fn manufacturer_data(&self) -> HashMap<u16, OwnedValue> {
        HashMap::new()
    }
    #[zbus(property)]
    fn service_data(&self) -> HashMap<String, OwnedValue> {
        HashMap::new()
    }
}

/// `org.bluez.GattService1`.
pub struct Service {
    pub uuid: String,
    pub device: String,
}

#[interface(name = "org.bluez.GattService1")]
impl Service {
    #[zbus(property, name = "UUID")]
    fn uuid(&self) -> String {
        self.uuid.clone()
    }
    #[zbus(property)]
    fn device(&self) -> OwnedObjectPath {
        path(&self.device)
    }
    #[zbus(property)]
    fn primary(&self) -> bool {
        true
    }
    #[zbus(property)]
    fn includes(&self) -> Vec<OwnedObjectPath> {
        vec![]
    }
}

/// What a characteristic holds.
pub enum CharValue {
    /// 0x2A37: the shared, notified value.
    HeartRate,
    /// A fixed value (0x2A38, 0x2A19).
    Fixed(Vec<u8>),
}

/// `org.bluez.GattCharacteristic1`.
pub struct Characteristic {
    pub shared: Arc<Shared>,
    pub uuid: String,
    pub service: String,
    pub value: CharValue,
    pub flags: Vec<String>,
}

#[interface(name = "org.bluez.GattCharacteristic1")]
impl Characteristic {
    fn read_value(&self, _options: HashMap<String, OwnedValue>) -> fdo::Result<Vec<u8>> {
        let mut s = self.shared.lock();
        s.calls
            .push(format!("GattCharacteristic1.ReadValue {}", self.uuid));
        if !s.connected {
            return Err(fdo::Error::Failed("Not connected".into()));
        }
        Ok(match &self.value {
            CharValue::HeartRate => {
                s.hr_reads += 1;
                s.hr_value.clone()
            }
            CharValue::Fixed(v) => v.clone(),
        })
    }

    fn write_value(
        &self,
        _value: Vec<u8>,
        _options: HashMap<String, OwnedValue>,
    ) -> fdo::Result<()> {
        self.shared.call("GattCharacteristic1.WriteValue");
        Err(fdo::Error::NotSupported("not writable".into()))
    }

    async fn start_notify(
        &self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> fdo::Result<()> {
        {
            let mut s = self.shared.lock();
            s.calls
                .push(format!("GattCharacteristic1.StartNotify {}", self.uuid));
            if !matches!(self.value, CharValue::HeartRate) {
                return Err(fdo::Error::NotSupported("no notifications".into()));
            }
            if !s.connected {
                return Err(fdo::Error::Failed("Not connected".into()));
            }
            s.start_notify_calls += 1;
            s.notifying = true;
            s.cccd = vec![1, 0];
        }
        self.notifying_changed(&emitter).await?;
        Ok(())
    }

    async fn stop_notify(
        &self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> fdo::Result<()> {
        {
            let mut s = self.shared.lock();
            s.calls
                .push(format!("GattCharacteristic1.StopNotify {}", self.uuid));
            s.notifying = false;
            s.cccd = vec![0, 0];
        }
        self.notifying_changed(&emitter).await?;
        Ok(())
    }

    #[zbus(property, name = "UUID")]
    fn uuid(&self) -> String {
        self.uuid.clone()
    }
    #[zbus(property)]
    fn service(&self) -> OwnedObjectPath {
        path(&self.service)
    }
    #[zbus(property)]
    fn value(&self) -> Vec<u8> {
        match &self.value {
            CharValue::HeartRate => self.shared.lock().hr_value.clone(),
            CharValue::Fixed(v) => v.clone(),
        }
    }
    #[zbus(property)]
    fn notifying(&self) -> bool {
        matches!(self.value, CharValue::HeartRate) && self.shared.lock().notifying
    }
    #[zbus(property)]
    fn flags(&self) -> Vec<String> {
        self.flags.clone()
    }
}

/// `org.bluez.GattDescriptor1`: the CCCD (0x2902) of 0x2A37.
pub struct Descriptor {
    pub shared: Arc<Shared>,
    pub uuid: String,
    pub characteristic: String,
}

#[interface(name = "org.bluez.GattDescriptor1")]
impl Descriptor {
    fn read_value(&self, _options: HashMap<String, OwnedValue>) -> Vec<u8> {
        let mut s = self.shared.lock();
        s.calls.push("GattDescriptor1.ReadValue".into());
        s.cccd.clone()
    }

    fn write_value(&self, value: Vec<u8>, _options: HashMap<String, OwnedValue>) {
        let mut s = self.shared.lock();
        s.calls.push("GattDescriptor1.WriteValue".into());
        s.cccd = value;
    }

    #[zbus(property, name = "UUID")]
    fn uuid(&self) -> String {
        self.uuid.clone()
    }
    #[zbus(property)]
    fn characteristic(&self) -> OwnedObjectPath {
        path(&self.characteristic)
    }
    #[zbus(property)]
    fn value(&self) -> Vec<u8> {
        self.shared.lock().cccd.clone()
    }
    #[zbus(property)]
    fn flags(&self) -> Vec<String> {
        vec!["read".into(), "write".into()]
    }
}
