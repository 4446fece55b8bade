//! Web Bluetooth glue for heart-rate straps: the chooser, GATT discovery, one-byte reads, event
//! listeners that remove themselves, and a plain-words sentence for every error. No state lives
//! here; [`super::hook`] owns it.

use crate::assets::js_error_text;
use js_sys::{DataView, JsString, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Bluetooth, BluetoothDevice, BluetoothLeScanFilterInit, BluetoothRemoteGattCharacteristic,
    BluetoothRemoteGattServer, BluetoothRemoteGattService, Event, EventTarget,
    RequestDeviceOptions,
};

/// Heart Rate service (0x180D).
pub const HEART_RATE: &str = "heart_rate";
/// Heart Rate Measurement characteristic (0x2A37).
pub const MEASUREMENT: &str = "heart_rate_measurement";
/// Body Sensor Location characteristic (0x2A38).
pub const BODY_SENSOR_LOCATION: &str = "body_sensor_location";
/// Battery service (0x180F).
pub const BATTERY: &str = "battery_service";
/// Battery Level characteristic (0x2A19).
pub const BATTERY_LEVEL: &str = "battery_level";

/// Shown when `navigator.bluetooth` is missing.
pub const UNSUPPORTED: &str = "Web Bluetooth is not available in this browser. Use Chrome or Edge \
    on desktop/Android; on Linux enable chrome://flags/#enable-experimental-web-platform-features. \
    You can try the simulated strap.";

/// `navigator.bluetooth`, when this browser has it.
pub fn bluetooth() -> Option<Bluetooth> {
    web_sys::window()?.navigator().bluetooth()
}

/// Why Web Bluetooth cannot be used here, in plain words.
pub fn unsupported_message() -> String {
    let secure = web_sys::window().is_some_and(|w| w.is_secure_context());
    if secure {
        UNSUPPORTED.to_string()
    } else {
        format!(
            "{UNSUPPORTED} Web Bluetooth also needs a secure page: open Attune over https or on localhost."
        )
    }
}

/// Whether `navigator.bluetooth.getDevices()` exists (reconnecting without the chooser).
pub fn has_get_devices(bt: &Bluetooth) -> bool {
    js_sys::Reflect::has(bt, &JsValue::from_str("getDevices")).unwrap_or(false)
}

/// Opens the browser's chooser for heart-rate straps. Call it synchronously in a click handler:
/// the browser requires a user gesture.
pub fn request_strap(bt: &Bluetooth) -> js_sys::Promise<BluetoothDevice> {
    let filter = BluetoothLeScanFilterInit::new();
    filter.set_services(&[JsString::from(HEART_RATE)]);
    let options = RequestDeviceOptions::new();
    options.set_filters(&[filter]);
    options.set_optional_services(&[JsString::from(BATTERY)]);
    bt.request_device(&options)
}

/// The permitted device with `id` from `getDevices()`, if the browser still lists it.
pub async fn permitted(bt: &Bluetooth, id: &str) -> Option<BluetoothDevice> {
    let devices = bt.get_devices().await.ok()?;
    devices.iter().find(|d| d.id() == id)
}

/// The device's name for people ("your strap" when it advertises none).
pub fn device_name(device: &BluetoothDevice) -> String {
    device
        .name()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "your strap".to_string())
}

/// A connected strap's GATT objects.
#[derive(Debug, Clone)]
pub struct Link {
    /// The connected server.
    pub server: BluetoothRemoteGattServer,
    /// The Heart Rate service.
    pub service: BluetoothRemoteGattService,
    /// The Heart Rate Measurement characteristic (0x2A37).
    pub measurement: BluetoothRemoteGattCharacteristic,
}

/// Connects to the device's GATT server and finds the measurement characteristic.
pub async fn open(device: &BluetoothDevice) -> Result<Link, String> {
    let gatt = device
        .gatt()
        .ok_or("this device offers no GATT server to connect to")?;
    let server = gatt
        .connect()
        .await
        .map_err(|e| explain(Step::Connect, &e))?;
    let found = async {
        let service = server.get_primary_service_with_str(HEART_RATE).await?;
        let measurement = service.get_characteristic_with_str(MEASUREMENT).await?;
        Ok((service, measurement))
    };
    let (service, measurement) = found.await.map_err(|e| {
        server.disconnect();
        explain(Step::Service, &e)
    })?;
    Ok(Link {
        server,
        service,
        measurement,
    })
}

/// Where the strap is worn (0x2A38), or `None` when it does not say.
pub async fn body_location(service: &BluetoothRemoteGattService) -> Option<&'static str> {
    let c = service
        .get_characteristic_with_str(BODY_SENSOR_LOCATION)
        .await
        .ok()?;
    let view = c.read_value().await.ok()?;
    Some(location_name(*bytes(&view).first()?))
}

/// Names of the Body Sensor Location values (the specification's list).
pub fn location_name(code: u8) -> &'static str {
    match code {
        0 => "Other",
        1 => "Chest",
        2 => "Wrist",
        3 => "Finger",
        4 => "Hand",
        5 => "Ear Lobe",
        6 => "Foot",
        _ => "unknown",
    }
}

/// The Battery Level characteristic (0x2A19), when the device has the battery service.
pub async fn battery_level(
    server: &BluetoothRemoteGattServer,
) -> Option<BluetoothRemoteGattCharacteristic> {
    let service = server.get_primary_service_with_str(BATTERY).await.ok()?;
    service
        .get_characteristic_with_str(BATTERY_LEVEL)
        .await
        .ok()
}

/// A battery percentage from a 0x2A19 value (`None` when empty or above 100).
pub fn battery_percent(value: &[u8]) -> Option<u8> {
    value.first().copied().filter(|&p| p <= 100)
}

/// The bytes a `DataView` covers.
pub fn bytes(view: &DataView) -> Vec<u8> {
    Uint8Array::new_with_byte_offset_and_length(
        &view.buffer(),
        view.byte_offset() as u32,
        view.byte_length() as u32,
    )
    .to_vec()
}

/// An event listener that is removed when dropped.
pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    closure: Closure<dyn FnMut(Event)>,
}

impl Listener {
    /// Adds `f` as a listener for `kind` events on `target`.
    pub fn add(
        target: &EventTarget,
        kind: &'static str,
        f: impl FnMut(Event) + 'static,
    ) -> Result<Listener, String> {
        let closure = Closure::<dyn FnMut(Event)>::new(f);
        target
            .add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref())
            .map_err(|e| format!("could not listen for {kind}: {}", js_error_text(&e)))?;
        Ok(Listener {
            target: target.clone(),
            kind,
            closure,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.closure.as_ref().unchecked_ref());
    }
}

/// Which step failed, for the wording of its error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The device chooser.
    Choose,
    /// `gatt.connect()`.
    Connect,
    /// Finding the heart-rate service or its measurement characteristic.
    Service,
    /// `startNotifications()`.
    Notify,
}

/// Whether a chooser error means the user closed it without picking a device.
pub fn is_cancel(error: &JsValue) -> bool {
    let text = js_error_text(error);
    text.starts_with("NotFoundError") && text.contains("cancel")
}

/// A sentence for the user about a failed Web Bluetooth call.
pub fn explain(step: Step, error: &JsValue) -> String {
    let raw = js_error_text(error);
    let name = raw.split(':').next().unwrap_or_default().trim();
    let lower = raw.to_lowercase();
    let what = match (step, name) {
        (Step::Choose, "NotFoundError") if lower.contains("cancel") => {
            "No strap was chosen: the device list was closed. Press Connect to try again, or try \
             the simulated strap."
        }
        (Step::Choose, "NotFoundError") if lower.contains("adapter") => {
            "No Bluetooth adapter is available. Turn Bluetooth on (or plug in an adapter) and try \
             again."
        }
        (Step::Choose, "NotFoundError") => {
            "No heart-rate strap was found. Wear the strap (it wakes up on skin contact), keep it \
             close and try again."
        }
        (Step::Choose, "SecurityError") => {
            "The browser refused to open the device list: Web Bluetooth needs a secure page and a \
             click on Connect."
        }
        (Step::Choose, "NotAllowedError") => {
            "Bluetooth permission was denied. Allow it in the browser's site settings and try again."
        }
        (Step::Connect, "NetworkError") => {
            "The strap did not answer. It may be out of range, asleep, or connected to another \
             app or phone."
        }
        (Step::Service, "NotFoundError") => {
            "This device does not offer the standard heart-rate service, so Attune cannot read it."
        }
        (Step::Service, "SecurityError") => {
            "The browser blocks the heart-rate service of this device."
        }
        (Step::Notify, _) => "The strap did not accept heart-rate notifications.",
        (_, "NetworkError") => "The connection to the strap was lost.",
        (Step::Choose, _) => "The device list could not be opened.",
        (Step::Connect, _) => "Could not connect to the strap.",
        (Step::Service, _) => "Could not read the strap's heart-rate service.",
    };
    format!("{what} (Browser said: {}.)", raw.trim_end_matches('.'))
}
