//! The app's UI parts, one per concern.

pub mod about;
pub mod analyse;
pub mod boot_check;
pub mod free_shelf;
pub mod genre_map;
pub mod heart;
pub mod heart_chart;
pub mod likes;
pub mod mood_plane;
pub mod notices;
pub mod plane;
pub mod recommendations;
pub mod search;
pub mod state_card;
pub mod state_timeline;
pub mod strength;
pub mod your_data;
