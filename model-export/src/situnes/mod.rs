//! SiTunes (real listening with wristband heart rate and pre/post emotion): the three experiments
//! that read it.
//!
//! - [`liked`]: the dataset paper's "Setting 3", liked or not with and without the situation.
//! - [`ranking`]: full-catalogue ranking in the moment, dynamic vs static mood.
//! - [`heart_check`]: does wristband heart rate track reported arousal (the heart-rate weight).

pub mod cli;
pub mod heart_check;
pub mod liked;
pub mod ranking;
