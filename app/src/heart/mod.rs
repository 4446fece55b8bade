//! Heart rate from a Bluetooth strap, or a recorded one for demos.
//!
//! - [`ble`]: Web Bluetooth calls and their errors in plain words.
//! - [`hook`]: `use_heart_rate`, the reactive outputs and controls.
//! - [`core`]: the hook's state and the one packet path (engine parser, engine signal).
//! - [`strap`]: connecting, the read fallback, reconnection with backoff.
//! - [`session`]: the simulated strap, disconnecting, clean-up.

pub mod ble;
mod core;
pub mod hook;
mod session;
mod strap;

pub use hook::{use_heart_rate, HeartRate, Sample, Status, UseHeartRateOptions};
