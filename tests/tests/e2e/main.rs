//! The end-to-end tests: one module per area of the app, all in one test binary (twenty binaries
//! took twenty links and about 7.5 CPU-minutes of compiling; one takes about 40 CPU-seconds).
//! Run one area with `cargo test -p attune-e2e --test e2e -- faults:: --test-threads=1`.

mod about;
mod accessibility;
mod analyse;
mod asset_errors;
mod durability;
mod faults;
mod first_visit;
mod free_shelf;
mod happy_path;
mod harness_checks;
mod heart_bidi;
mod heart_bluez;
mod heart_simulated;
mod neural;
mod offline;
mod scale;
mod steering;
mod user_state;
mod your_data;
