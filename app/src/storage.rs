//! The profile in `localStorage`. Every failure is reported, never swallowed, and a stored profile
//! that cannot be read is copied aside before anything overwrites it.

use crate::assets::js_error_text;
use attune_engine::Profile;
use web_sys::Storage;

/// Key of the stored profile.
pub const PROFILE_KEY: &str = "attune.profile";
/// Where an unreadable stored profile is kept, untouched, before starting fresh.
pub const UNREADABLE_KEY: &str = "attune.profile.unreadable";

/// What was found in storage at start-up.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The profile to start with.
    pub profile: Profile,
    /// Whether saving is safe; false when an unreadable profile could not be copied aside, so that
    /// writing would destroy it.
    pub may_save: bool,
    /// Something the user should know about, if anything went wrong.
    pub notice: Option<String>,
}

fn local_storage() -> Result<Storage, String> {
    let window = web_sys::window().ok_or("no browser window")?;
    match window.local_storage() {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err("this browser offers no local storage".to_string()),
        Err(e) => Err(js_error_text(&e)),
    }
}

/// Reads the stored profile, migrating old schemas through the engine.
pub fn load_profile() -> Loaded {
    let fresh = |may_save, notice: String| Loaded {
        profile: Profile::default(),
        may_save,
        notice: Some(notice),
    };
    let storage = match local_storage() {
        Ok(s) => s,
        Err(e) => {
            return fresh(
                false,
                format!(
                    "Storage on this device is unavailable ({e}). Your likes and moods will not \
                     survive a reload."
                ),
            )
        }
    };
    let text = match storage.get_item(PROFILE_KEY) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Loaded {
                profile: Profile::default(),
                may_save: true,
                notice: None,
            }
        }
        Err(e) => {
            return fresh(
                false,
                format!(
                    "Your saved profile could not be read from storage ({}). Changes will not be \
                     saved, so nothing stored is overwritten.",
                    js_error_text(&e)
                ),
            )
        }
    };
    match Profile::from_json(&text) {
        Ok(profile) => Loaded {
            profile,
            may_save: true,
            notice: None,
        },
        Err(why) => match storage.set_item(UNREADABLE_KEY, &text) {
            Ok(()) => fresh(
                true,
                format!(
                    "Your saved profile could not be used ({why}). It was kept unchanged under \
                     \"{UNREADABLE_KEY}\" and Attune started a fresh one."
                ),
            ),
            Err(e) => fresh(
                false,
                format!(
                    "Your saved profile could not be used ({why}), and it could not be copied \
                     aside ({}). Changes will not be saved, so it is not overwritten.",
                    js_error_text(&e)
                ),
            ),
        },
    }
}

/// Writes the profile; the error says why it could not be saved (quota, storage disabled, ...).
pub fn save_profile(profile: &Profile) -> Result<(), String> {
    let why = |e: String| format!("Could not save your profile on this device: {e}");
    let storage = local_storage().map_err(why)?;
    storage
        .set_item(PROFILE_KEY, &profile.to_json())
        .map_err(|e| why(js_error_text(&e)))
}

/// Prefix of every key Attune writes.
pub const KEY_PREFIX: &str = "attune.";

/// Every stored item of Attune's: (key, size in UTF-16 code units as the browser counts them).
pub fn stored_items() -> Result<Vec<(String, usize)>, String> {
    let storage = local_storage()?;
    let n = storage.length().map_err(|e| js_error_text(&e))?;
    let mut items = Vec::new();
    for i in 0..n {
        let Some(key) = storage.key(i).map_err(|e| js_error_text(&e))? else {
            continue;
        };
        if !key.starts_with(KEY_PREFIX) {
            continue;
        }
        let len = storage
            .get_item(&key)
            .map_err(|e| js_error_text(&e))?
            .map_or(0, |v| v.encode_utf16().count());
        items.push((key, len));
    }
    items.sort();
    Ok(items)
}

/// Removes every stored item of Attune's; returns how many there were.
pub fn delete_all() -> Result<usize, String> {
    let storage = local_storage()?;
    let items = stored_items()?;
    for (key, _) in &items {
        storage
            .remove_item(key)
            .map_err(|e| format!("could not delete {key}: {}", js_error_text(&e)))?;
    }
    Ok(items.len())
}
