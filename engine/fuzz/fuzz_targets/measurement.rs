//! Any bytes: `parse_measurement` returns Ok or Err without panicking, and whatever parses
//! re-encodes to bytes that parse to the same measurement.
#![no_main]

use attune_engine::heart::parse_measurement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse_measurement(data) {
        let again = m.encode();
        assert!(again.len() <= data.len());
        assert_eq!(parse_measurement(&again), Ok(m));
    }
});
