//! The user's data as a file: export the stored profile, and import one back only when it is
//! entirely valid (a bad file is rejected with a reason and nothing is overwritten).

use crate::profile::{Profile, ProfileError};
use serde::{Deserialize, Serialize};

/// Format of the export file written by this build.
pub const EXPORT_FORMAT: u32 = 1;
/// The `kind` field that marks an Attune export.
pub const EXPORT_KIND: &str = "attune-profile-export";
/// Largest file accepted for import (a full profile is well under 100 KB).
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;

#[derive(Serialize)]
struct ExportOut<'a> {
    kind: &'static str,
    format: u32,
    exported_at_ms: f64,
    profile: &'a Profile,
}

#[derive(Deserialize)]
struct ExportIn {
    kind: String,
    format: u32,
    profile: serde_json::Value,
}

/// Why an import file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Over [`MAX_IMPORT_BYTES`].
    #[error("the file is {0} bytes, more than an Attune export can be ({MAX_IMPORT_BYTES} bytes)")]
    TooLarge(usize),
    /// Not JSON at all.
    #[error("the file is not JSON ({0})")]
    NotJson(String),
    /// JSON, but not an Attune export.
    #[error("the file is not an Attune export (it has no \"kind\": \"{EXPORT_KIND}\")")]
    NotAnExport,
    /// An export missing a part, or with a part of the wrong type.
    #[error("the file is an incomplete Attune export ({0})")]
    Incomplete(String),
    /// An export from a newer build.
    #[error("the file was exported by a newer version of Attune (format {0}; this one reads {EXPORT_FORMAT})")]
    TooNew(u32),
    /// The profile inside is invalid.
    #[error("the profile in the file is invalid: {0}")]
    Profile(ProfileError),
}

/// The export file for `profile` (pretty JSON, so a person can read what is kept).
pub fn export_json(profile: &Profile, at_ms: f64) -> String {
    serde_json::to_string_pretty(&ExportOut {
        kind: EXPORT_KIND,
        format: EXPORT_FORMAT,
        exported_at_ms: if at_ms.is_finite() {
            at_ms.round()
        } else {
            0.0
        },
        profile,
    })
    .expect("export serialises")
}

/// Reads an export file into a profile, migrating older profile schemas. Every part is validated;
/// on error nothing should be changed by the caller.
pub fn import_json(bytes: &[u8]) -> Result<Profile, ImportError> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge(bytes.len()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ImportError::NotJson(e.to_string()))?;
    let is_export = value.get("kind").and_then(|k| k.as_str()) == Some(EXPORT_KIND);
    if !is_export {
        return Err(ImportError::NotAnExport);
    }
    let export: ExportIn =
        serde_json::from_value(value).map_err(|e| ImportError::Incomplete(e.to_string()))?;
    debug_assert_eq!(export.kind, EXPORT_KIND);
    if export.format > EXPORT_FORMAT {
        return Err(ImportError::TooNew(export.format));
    }
    Profile::from_json(&export.profile.to_string()).map_err(ImportError::Profile)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emotion::Emotion;

    fn sample() -> Profile {
        let mut p = Profile::default();
        p.like(3);
        p.like(9);
        p.set_mood(Emotion::va(0.25, -0.5), 1_700_000_000_000.0);
        p
    }

    #[test]
    fn export_then_import_gives_the_same_profile() {
        let p = sample();
        let text = export_json(&p, 1_700_000_000_123.4);
        assert!(text.contains(EXPORT_KIND) && text.contains("1700000000123"));
        assert_eq!(import_json(text.as_bytes()), Ok(p));
    }

    #[test]
    fn bad_files_are_rejected_with_a_reason() {
        let cases: [(&[u8], &str); 6] = [
            (b"\x89PNG\r\n", "not JSON"),
            (b"{\"likes\":[1]}", "not an Attune export"),
            (b"[1,2]", "not an Attune export"),
            (
                br#"{"kind":"attune-profile-export","format":9,"profile":{}}"#,
                "newer version",
            ),
            (
                br#"{"kind":"attune-profile-export","format":1,"profile":{"schema":1,"likes":"x","moods":[],"mood_strength":0.3}}"#,
                "profile in the file is invalid",
            ),
            (
                br#"{"kind":"attune-profile-export","format":1}"#,
                "incomplete Attune export",
            ),
        ];
        for (bytes, want) in cases {
            let e = import_json(bytes).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} should say {want:?}");
        }
        let big = vec![b' '; MAX_IMPORT_BYTES + 1];
        assert_eq!(
            import_json(&big),
            Err(ImportError::TooLarge(MAX_IMPORT_BYTES + 1))
        );
    }

    #[test]
    fn an_export_of_an_older_profile_schema_migrates() {
        let text = br#"{"kind":"attune-profile-export","format":1,"profile":{"likes":[4,4,5]}}"#;
        assert_eq!(import_json(text).unwrap().likes, vec![4, 5]);
    }
}
