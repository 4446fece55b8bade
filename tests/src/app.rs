//! Page helpers for Attune's DOM contract (`#app`, `#mood-plane`, `#search`, `#likes`,
//! `#recommendations`, `#mood-strength`, `#asset-error`, `#retry`, `#state`).

use std::collections::HashSet;

use anyhow::{ensure, Context, Result};
use fantoccini::actions::{InputSource, KeyAction, KeyActions, MouseActions, PointerAction};
use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::Value;

use crate::Harness;

/// Number of recommendations the app shows.
pub const REC_COUNT: usize = 10;

/// One item of `#recommendations`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rec {
    /// `data-artist-id`.
    pub id: String,
    /// `.rec-name` text.
    pub name: String,
    /// `.rec-track` text.
    pub track: String,
    /// `.rec-reason` text.
    pub reason: String,
}

/// JS returning the recommendation list as `[{id, name, track, reason}]`.
const RECS_JS: &str = "[...document.querySelectorAll('#recommendations li.rec')].map(li => ({ \
    id: li.dataset.artistId ?? '', \
    name: li.querySelector('.rec-name')?.innerText.trim() ?? '', \
    track: li.querySelector('.rec-track')?.innerText.trim() ?? '', \
    reason: li.querySelector('.rec-reason')?.innerText.trim() ?? '' }))";

/// JS returning `#likes` artist ids.
const LIKES_JS: &str =
    "[...document.querySelectorAll('#likes li')].map(li => li.dataset.artistId ?? '')";

impl Harness {
    /// Waits for `data-state="ready"` with the taste models in (`data-taste="ready"`: the first
    /// list comes before them); fails at once if the app shows its error state.
    pub async fn wait_ready(&mut self) -> Result<()> {
        let v = self
            .wait_js(
                "#app[data-state=ready][data-taste=ready]",
                "(() => { const app = document.querySelector('#app'); const s = app?.dataset.state; \
                  if (s === 'error') return {error: document.querySelector('#asset-error')?.innerText ?? ''}; \
                  return s === 'ready' && app.dataset.taste === 'ready'; })()",
            )
            .await?;
        if let Some(err) = v.get("error") {
            return self
                .fail(&format!("app went to its error state: {err}"))
                .await;
        }
        Ok(())
    }

    /// Waits for `data-state="error"` and returns the `#asset-error` text.
    pub async fn wait_error(&mut self) -> Result<String> {
        let v = self
            .wait_js(
                "#app[data-state=error] with an #asset-error message",
                "document.querySelector('#app')?.dataset.state === 'error' \
                 && document.querySelector('#asset-error')?.innerText.trim()",
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Waits for `css` to be on the page and returns its `innerText` (see [`Harness::wait_js`]).
    pub async fn wait_text(&mut self, what: &str, css: &str) -> Result<String> {
        let css = serde_json::to_string(css)?;
        let v = self
            .wait_js(what, &format!("document.querySelector({css})?.innerText"))
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// The mood plane's `(data-valence, data-arousal)`.
    pub async fn mood(&self) -> Result<(f64, f64)> {
        let v = self
            .js("(() => { const p = document.querySelector('#mood-plane'); \
                 return p && [p.getAttribute('data-valence'), p.getAttribute('data-arousal')]; })()")
            .await?;
        let num = |i: usize| -> Result<f64> {
            let s = v[i]
                .as_str()
                .with_context(|| format!("#mood-plane attributes missing: {v}"))?;
            s.trim()
                .parse()
                .with_context(|| format!("#mood-plane attribute {s:?} is not a number"))
        };
        Ok((num(0)?, num(1)?))
    }

    /// `#mood-label` text.
    pub async fn mood_label(&self) -> Result<String> {
        let v = self
            .js("document.querySelector('#mood-label')?.innerText.trim() ?? null")
            .await?;
        v.as_str().map(str::to_string).context("no #mood-label")
    }

    /// Clicks the mood plane at `(fx, fy)`, fractions of its half size from the centre:
    /// `fx` to the right, `fy` upwards (so `(0.6, -0.6)` is calm and positive).
    pub async fn click_mood(&self, fx: f64, fy: f64) -> Result<()> {
        let plane = self
            .client()
            .find(Locator::Css("#mood-plane"))
            .await
            .context("no #mood-plane")?;
        let (_, _, w, h) = plane.rectangle().await?;
        let (x, y) = ((fx * w / 2.0).round(), (-fy * h / 2.0).round());
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement {
                element: plane,
                duration: None,
                x,
                y,
            })
            .then(PointerAction::Down {
                button: fantoccini::actions::MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: fantoccini::actions::MOUSE_BUTTON_LEFT,
            });
        self.client()
            .perform_actions(mouse)
            .await
            .context("clicking the mood plane")?;
        self.client().release_actions().await?;
        Ok(())
    }

    /// Presses and releases `key` on whatever has focus.
    pub async fn press(&self, key: Key) -> Result<()> {
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.client()
            .perform_actions(keys)
            .await
            .context("pressing a key")?;
        self.client().release_actions().await?;
        Ok(())
    }

    /// Clicks the first element matching `css` with a WebDriver click (trusted input: a user
    /// gesture, which e.g. `requestDevice` needs).
    pub async fn click(&self, css: &str) -> Result<()> {
        let e = self
            .client()
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("no {css}"))?;
        e.click().await.with_context(|| format!("clicking {css}"))
    }

    /// Clicks `button#<id>` (see [`Harness::click`]).
    pub async fn click_button(&self, id: &str) -> Result<()> {
        self.click(&format!("button#{id}")).await
    }

    /// Id of the focused element (`null` if it has none).
    pub async fn focused_id(&self) -> Result<Value> {
        self.js("document.activeElement?.id || null").await
    }

    /// Searches `name`, likes the first result whose text contains it, waits for it in
    /// `#likes`, and returns its artist id.
    pub async fn like_artist(&mut self, name: &str) -> Result<String> {
        self.clear_search().await?;
        let search = self
            .client()
            .find(Locator::Css("#search"))
            .await
            .context("no #search")?;
        search
            .send_keys(name)
            .await
            .context("typing into #search")?;
        let needle = serde_json::to_string(&name.to_lowercase())?;
        let id = self
            .wait_js(
                &format!("a #search-results item containing {name:?}"),
                &format!(
                    "[...document.querySelectorAll('#search-results li[data-artist-id]')] \
                     .find(li => li.innerText.toLowerCase().includes({needle}) \
                     && li.querySelector('button.like'))?.dataset.artistId"
                ),
            )
            .await?;
        let id = id
            .as_str()
            .context("data-artist-id is not a string")?
            .to_string();
        let sel = format!(
            "#search-results li[data-artist-id={}] button.like",
            css_str(&id)
        );
        let button = self
            .client()
            .find(Locator::Css(&sel))
            .await
            .with_context(|| format!("no {sel}"))?;
        button
            .click()
            .await
            .with_context(|| format!("clicking like for {name}"))?;
        self.wait_js(
            &format!("{name} (id {id}) in #likes"),
            &format!(
                "!!document.querySelector('#likes li[data-artist-id=' + CSS.escape({}) + ']')",
                serde_json::to_string(&id)?
            ),
        )
        .await?;
        Ok(id)
    }

    /// Empties `#search` (and so its results) as a user deleting the text would.
    pub async fn clear_search(&self) -> Result<()> {
        self.js(
            "(() => { const s = document.querySelector('#search'); s.value = ''; \
             s.dispatchEvent(new Event('input', {bubbles: true})); return true; })()",
        )
        .await?;
        Ok(())
    }

    /// Artist ids in `#likes`, in order.
    pub async fn likes(&self) -> Result<Vec<String>> {
        Ok(strings(&self.js(LIKES_JS).await?))
    }

    /// The current recommendation list.
    pub async fn recs(&self) -> Result<Vec<Rec>> {
        let v = self.js(RECS_JS).await?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .map(|r| Rec {
                id: field(r, "id"),
                name: field(r, "name"),
                track: field(r, "track"),
                reason: field(r, "reason"),
            })
            .collect())
    }

    /// Waits until `#state` (the user-emotion model's card, when the catalog is loaded) is neither
    /// loading its model nor waiting for an estimate: until then the list may still move.
    pub async fn wait_state_settled(&mut self) -> Result<()> {
        self.wait_js(
            "#state to settle (model loaded or failed, no estimate pending)",
            "!['loading', 'pending'].includes(document.querySelector('#state')?.dataset.state)",
        )
        .await?;
        // The neural CF scores for the current likes have arrived (or the model failed, or
        // there are no likes to score): the list will not move on its own.
        self.wait_js(
            "the neural taste to settle (scores for the current likes, or failed)",
            "(() => { const r = document.querySelector('#recommendations')?.dataset;              return !!r && (['on', 'none'].includes(r.neural)              || (r.neuralStatus || '').startsWith('failed')); })()",
        )
        .await?;
        Ok(())
    }

    /// Waits until the state has settled ([`Harness::wait_state_settled`]) and there are
    /// [`REC_COUNT`] recommendations, then checks them with [`check_recs`].
    pub async fn wait_recs(&mut self) -> Result<Vec<Rec>> {
        self.wait_state_settled().await?;
        self.wait_js(
            &format!("{REC_COUNT} recommendations"),
            &format!("document.querySelectorAll('#recommendations li.rec').length === {REC_COUNT}"),
        )
        .await?;
        let (recs, likes) = (self.recs().await?, self.likes().await?);
        check_recs(&recs, &likes)?;
        Ok(recs)
    }

    /// Waits until the recommendation ids differ from `before` (and are a valid list).
    pub async fn wait_recs_change(&mut self, what: &str, before: &[Rec]) -> Result<Vec<Rec>> {
        let ids = serde_json::to_string(&before.iter().map(|r| &r.id).collect::<Vec<_>>())?;
        self.wait_js(
            &format!("the recommendations to change after {what} (before: {ids})"),
            &format!(
                "(() => {{ const ids = [...document.querySelectorAll('#recommendations li.rec')] \
                 .map(li => li.dataset.artistId); \
                 return ids.length === {REC_COUNT} && JSON.stringify(ids) !== JSON.stringify({ids}); }})()"
            ),
        )
        .await?;
        self.wait_recs().await
    }

    /// `#mood-strength`'s value.
    pub async fn strength(&self) -> Result<f64> {
        let v = self
            .js("document.querySelector('#mood-strength')?.value ?? null")
            .await?;
        v.as_str()
            .context("no #mood-strength")?
            .parse()
            .context("#mood-strength value")
    }

    /// Sets `#mood-strength` and dispatches `input` and `change` as a user drag would.
    pub async fn set_strength(&self, value: u32) -> Result<()> {
        self.js(&format!(
            "(() => {{ const r = document.querySelector('#mood-strength'); r.value = '{value}'; \
             r.dispatchEvent(new Event('input', {{bubbles: true}})); \
             r.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()"
        ))
        .await?;
        Ok(())
    }

    /// Whether `#retry` is rendered and visible.
    pub async fn retry_visible(&self) -> Result<bool> {
        match self.client().find(Locator::Css("#retry")).await {
            Ok(b) => Ok(b.is_displayed().await?),
            Err(_) => Ok(false),
        }
    }

    /// Clicks `#retry`.
    pub async fn click_retry(&self) -> Result<()> {
        let b = self
            .client()
            .find(Locator::Css("#retry"))
            .await
            .context("no #retry button")?;
        b.click().await.context("clicking #retry")
    }
}

/// Checks a recommendation list: [`REC_COUNT`] distinct artists with names and reasons,
/// none of them liked.
pub fn check_recs(recs: &[Rec], likes: &[String]) -> Result<()> {
    ensure!(
        recs.len() == REC_COUNT,
        "expected {REC_COUNT} recommendations, got {}: {recs:?}",
        recs.len()
    );
    let ids: HashSet<&str> = recs.iter().map(|r| r.id.as_str()).collect();
    ensure!(
        ids.len() == recs.len(),
        "duplicate artists in recommendations: {recs:?}"
    );
    for r in recs {
        ensure!(
            !r.id.is_empty(),
            "recommendation without data-artist-id: {r:?}"
        );
        ensure!(
            !r.name.is_empty(),
            "recommendation without .rec-name: {r:?}"
        );
        ensure!(
            !r.reason.is_empty(),
            "recommendation without .rec-reason: {r:?}"
        );
        ensure!(
            !likes.contains(&r.id),
            "a liked artist is recommended: {r:?}"
        );
    }
    Ok(())
}

/// Recommendation ids, in order.
pub fn ids(recs: &[Rec]) -> Vec<&str> {
    recs.iter().map(|r| r.id.as_str()).collect()
}

fn field(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// A CSS string literal for `s`.
fn css_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// JS that reads Attune's IndexedDB store as `{snapshot, log: [[key, value]], meta: [[key,
/// value]], aside}`, or `null` when there is no database (it never creates one).
const STORE_JS: &str = "(async () => { \
    const names = (await indexedDB.databases()).map(d => d.name); \
    if (!names.includes('attune')) return null; \
    const db = await new Promise((ok, bad) => { const r = indexedDB.open('attune'); \
      r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); }); \
    try { \
      const tx = db.transaction(['meta', 'log', 'aside'], 'readonly'); \
      const get = r => new Promise((ok, bad) => { r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); }); \
      const [snapshot, metaKeys, metaValues, keys, values, aside] = await Promise.all([ \
        get(tx.objectStore('meta').get('snapshot')), get(tx.objectStore('meta').getAllKeys()), \
        get(tx.objectStore('meta').getAll()), get(tx.objectStore('log').getAllKeys()), \
        get(tx.objectStore('log').getAll()), get(tx.objectStore('aside').count())]); \
      return { snapshot: snapshot ?? null, log: keys.map((k, i) => [k, values[i]]), \
        meta: metaKeys.map((k, i) => [k, metaValues[i]]).filter(([k]) => k !== 'snapshot'), aside }; \
    } finally { db.close(); } })()";

/// What Attune's IndexedDB store holds, read in the page and folded here by the engine (the same
/// code as the app's).
#[derive(Debug, Clone)]
pub struct StoredJournal {
    /// The snapshot and every readable entry.
    pub journal: attune_engine::journal::Journal,
    /// The journal's records as stored (key, text).
    pub log: Vec<(String, String)>,
    /// Migrated legacy profiles (key, original text).
    pub meta: Vec<(String, String)>,
    /// Records set aside.
    pub aside: u64,
}

impl Harness {
    /// Reads the store (`None`: there is no database). Fails on a record the engine cannot read.
    pub async fn stored(&self) -> Result<Option<StoredJournal>> {
        use attune_engine::journal::{Entry, Journal, Snapshot};
        let v = self.js(STORE_JS).await?;
        if v.is_null() {
            return Ok(None);
        }
        let snapshot = match v["snapshot"].as_str() {
            Some(t) => {
                Snapshot::from_json(t).map_err(|e| anyhow::anyhow!("stored snapshot: {e}"))?
            }
            None => Snapshot::default(),
        };
        let mut journal = Journal::new(snapshot);
        let mut log = Vec::new();
        for r in v["log"].as_array().context("log records")? {
            let key = r[0].as_str().context("log key")?.to_string();
            let text = r[1]
                .as_str()
                .with_context(|| format!("log record {key} is not text"))?;
            let entry = Entry::from_json(text, Some(&key))
                .map_err(|e| anyhow::anyhow!("log record {key}: {e}"))?;
            journal.insert(entry);
            log.push((key, text.to_string()));
        }
        let meta = v["meta"]
            .as_array()
            .context("meta records")?
            .iter()
            .map(|r| (field_str(&r[0]), field_str(&r[1])))
            .collect();
        Ok(Some(StoredJournal {
            journal,
            log,
            meta,
            aside: v["aside"].as_u64().unwrap_or(0),
        }))
    }

    /// The profile the store holds (the empty profile when there is no database).
    pub async fn stored_profile(&self) -> Result<attune_engine::Profile> {
        Ok(self
            .stored()
            .await?
            .map(|s| s.journal.profile())
            .unwrap_or_default())
    }

    /// The page's `#data-stored` fingerprint, writer id and last sequence number.
    pub async fn journal_view(&self) -> Result<(String, String, u64)> {
        let v = self
            .js(
                "(() => { const d = document.querySelector('#data-stored')?.dataset; \
                 return d ? [d.fingerprint, d.writer, d.seq] : null; })()",
            )
            .await?;
        let a = v.as_array().context("#data-stored is missing")?;
        Ok((
            a[0].as_str().unwrap_or_default().to_string(),
            a[1].as_str().unwrap_or_default().to_string(),
            a[2].as_str().unwrap_or("0").parse()?,
        ))
    }
}

fn field_str(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}
