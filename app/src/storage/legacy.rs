//! The profile earlier builds kept in `localStorage` (every schema they wrote: a bare list of
//! likes, then the versioned JSON profile), moved into IndexedDB on first start.
//!
//! The move is one transaction that keeps the original text byte for byte (`meta`,
//! `legacy:...`) and appends a journal entry that replaces the profile with it. Only when both
//! read back from the store is the `localStorage` copy removed; until then it stays untouched, so
//! an interrupted move is simply done again (the entry's id comes from the text, so doing it twice
//! changes nothing). An unreadable old profile is set aside in the store the same way.

use super::idb::{self, IdbError, Plan};
use super::{aside_record, local_storage, plan_load};
use attune_engine::journal::{Change, Entry, EntryId, WriterId, JOURNAL_SCHEMA};
use attune_engine::profile::ProfileError;
use attune_engine::Profile;
use sha2::{Digest, Sha256};
use web_sys::IdbDatabase;

/// Key of the profile earlier builds stored.
pub const PROFILE_KEY: &str = "attune.profile";
/// Where earlier builds kept an unreadable profile, untouched.
pub const UNREADABLE_KEY: &str = "attune.profile.unreadable";

/// The old profile's text and key, if there is one.
pub fn read() -> Option<(String, &'static str)> {
    let ls = local_storage()?;
    ls.get_item(PROFILE_KEY)
        .ok()
        .flatten()
        .map(|t| (t, PROFILE_KEY))
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Moves the old profile (and an old set-aside one) into the store; returns a message for the
/// user if there is something to say.
pub async fn migrate(db: &IdbDatabase) -> Result<Option<String>, IdbError> {
    let Some(ls) = local_storage() else {
        return Ok(None);
    };
    let mut notice = None;
    for key in [PROFILE_KEY, UNREADABLE_KEY] {
        let Ok(Some(text)) = ls.get_item(key) else {
            continue;
        };
        let d = digest(&text);
        let tag = hex::encode(&d[..8]);
        let parsed = if key == PROFILE_KEY {
            Profile::from_json(&text)
        } else {
            Err(ProfileError::Unreadable(
                "set aside by an earlier version".into(),
            ))
        };
        let meta_key = format!("legacy:{key}:{tag}");
        let verified = match parsed {
            Err(ProfileError::TooNew(v)) => {
                notice = Some(format!(
                    "A profile saved by a newer version of Attune (schema {v}) was found and left \
                     untouched; this version started without it."
                ));
                continue;
            }
            Ok(profile) => {
                let writer = WriterId::new(u64::from_be_bytes(d[..8].try_into().expect("8 bytes")));
                let id = EntryId { writer, seq: 1 };
                let (mk, t) = (meta_key.clone(), text.clone());
                idb::update(db, move |stored| {
                    if stored.meta.iter().any(|(k, _)| *k == mk) {
                        return (Plan::default(), ());
                    }
                    let (journal, _, _) = plan_load(stored);
                    let entry = Entry {
                        schema: JOURNAL_SCHEMA,
                        id,
                        clock: journal.clock() + 1,
                        at_ms: js_sys::Date::now(),
                        change: Change::Replace {
                            profile: Box::new(profile),
                        },
                    };
                    let plan = Plan {
                        put_log: vec![(id.key(), entry.to_json())],
                        meta: vec![(mk, t)],
                        ..Plan::default()
                    };
                    (plan, ())
                })
                .await?;
                let stored = idb::read(db).await?;
                let (journal, _, _) = plan_load(&stored);
                // Verified: the original text is in the store byte for byte, and the entry that
                // replaces the profile with it is in the journal (or already folded).
                stored
                    .meta
                    .iter()
                    .any(|(k, v)| *k == meta_key && *v == text)
                    && journal.last_seq(writer) == Some(1)
            }
            Err(why) => {
                let aside_key = format!("legacy:{key}:{tag}");
                let record = aside_record(key, &why.to_string(), &text);
                idb::update(db, move |_| {
                    let plan = Plan {
                        aside: vec![(aside_key, record)],
                        ..Plan::default()
                    };
                    (plan, ())
                })
                .await?;
                if key == PROFILE_KEY {
                    notice = Some(format!(
                        "Your saved profile could not be used ({why}). It was kept unchanged in \
                         this browser's Attune database (set aside) and Attune started a fresh one."
                    ));
                }
                true
            }
        };
        if verified {
            let _ = ls.remove_item(key);
        }
    }
    Ok(notice)
}
