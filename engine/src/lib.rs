//! Attune's platform-free core. Builds natively (for `model-export`, tests and benchmarks) and for
//! `wasm32-unknown-unknown` (for the app); it has no browser or file-system dependencies.
//!
//! - [`emotion`]: the valence-arousal-dominance space and emotional fit.
//! - [`audio`]: the log-mel front end (resampling, STFT, mel filterbank) of the music-emotion model.
//! - [`catalog`], [`cf`], [`manifest`], [`assets`]: the shipped asset formats, validated on load.
//! - [`cf`]: SVD++ item side and the on-device user fold-in.
//! - [`rank`]: the hybrid of taste and mood, top-k, and one-line reasons.
//! - [`fusion`]: the stated mood fused with live signals.
//! - [`genre_map`]: where the catalog's genres sit on the valence-arousal plane.
//! - [`heart`]: heart-rate strap packets, signal chain, per-user calibration.
//! - `models` (feature `onnx`): the ONNX model runners (tract).
//! - [`history`]: the on-device listening history (plays, likes, moods, heart readings).
//! - [`user_emotion`]: the user-emotion model's input (events + moment) and its estimate.
//! - [`state_input`]: that input from the profile's history and the catalog's emotions.
//! - [`scale`]: a catalogue in static shards (a million items), fetched in one fixed order and
//!   ranked in int8 with f32 rescoring.
//! - [`report`]: the shipped evaluation reports read as blocks the app can draw.
//! - [`profile`], [`data_export`]: what the device keeps, and its export/import file.
#![warn(missing_docs)]
// Numeric kernels index several arrays with one loop variable; iterators would obscure them.
#![allow(clippy::needless_range_loop)]

pub mod assets;
pub mod audio;
pub mod binfmt;
pub mod catalog;
pub mod cf;
pub mod data_export;
pub mod emotion;
pub mod error;
pub mod free_tracks;
pub mod fusion;
pub mod genre_map;
pub mod heart;
pub mod history;
pub mod journal;
pub mod manifest;
#[cfg(feature = "onnx")]
pub mod models;
pub mod ncf;
pub mod profile;
pub mod rank;
pub mod report;
pub mod scale;
pub mod state_input;
pub mod taste;
pub mod user_emotion;

pub use catalog::{ArtistIdx, Catalog, TrackIdx};
pub use cf::{CfModel, FoldIn};
pub use emotion::{Emotion, Quadrant};
pub use error::AssetError;
pub use manifest::Manifest;
pub use profile::Profile;
pub use rank::{MoodStrength, Recommendation, Recommender, Request};
