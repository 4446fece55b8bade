//! Heart rate from a Bluetooth strap, or a recorded one for demos.
//!
//! - [`ble`]: Web Bluetooth calls and their errors in plain words.
//! - [`hook`]: `use_heart_rate`, the reactive connection with the engine's parser and signal.

pub mod ble;
pub mod hook;

pub use hook::{use_heart_rate, HeartRate, Sample, Status, UseHeartRateOptions};
