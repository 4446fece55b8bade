//! Heart rate from a Bluetooth strap: the wire format, the signal chain and a demo replay.
//!
//! - [`measurement`]: parse and encode the GATT Heart Rate Measurement characteristic (0x2A37).
//! - [`signal`]: artifact rejection, RMSSD, the per-user resting baseline, staleness, and an arousal
//!   estimate whose weight comes from the SiTunes check ([`HEART_AROUSAL_WEIGHT`]) for a new user.
//! - [`calibration`]: the user's own stated moods paired with their heart; once there are enough,
//!   the weight follows the user's own correlation.
//! - [`replay`]: a recorded RR series replayed as 0x2A37 packets (the app's "simulated strap").
//!
//! Time always comes in as `at_ms: f64` (milliseconds on any monotonic clock); nothing here reads a
//! clock.

pub mod calibration;
pub mod measurement;
pub mod replay;
pub mod signal;

pub use calibration::{HeartCalibration, HeartWeight, Recorded, WeightSource};
pub use measurement::{
    parse_measurement, HeartRateMeasurement, HeartRateValue, PacketError, RrInterval, SensorContact,
};
pub use replay::{parse_rr_text, Replay, ReplayPacket, RrSeriesError};
pub use signal::{
    weight_for_correlation, ArousalEstimate, HeartBaseline, HeartSignal, SignalStats,
    HEART_AROUSAL_R, HEART_AROUSAL_WEIGHT,
};
