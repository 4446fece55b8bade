//! "Your emotional state": a returning user with a scripted history (moods stated hours ago,
//! plays, likes, "not for me", some with heart readings) opens the app; the user-emotion model
//! (in its own worker) estimates their state, shows the attention over the events it read, and
//! its numbers equal the engine's native run on the same history. Then the user acts through the
//! UI (a pick marked "Not for me", an artist liked by search, moods set with the keyboard): the
//! estimate follows, the timeline gains points and the list moves. A corrupt model shows a clear
//! error in the card while the recommendations still show.

use anyhow::{ensure, Context, Result};
use attune_e2e::app::ids;
use attune_e2e::{dist_dir, with_ready_app, Fault, Harness, PHONE};
use attune_engine::history::{Event, Item};
use attune_engine::models::user_emotion::UserEmotionModel;
use attune_engine::state_input::state_input;
use attune_engine::user_emotion::{DayPeriod, Moment, MAX_EVENTS};
use attune_engine::{Catalog, Emotion, Profile};
use fantoccini::key::Key;
use serde_json::Value;

const HOUR: f64 = 3.6e6;
/// Browser (wasm) and native runs of the same model on the same input.
const TOLERANCE: f32 = 1e-3;

/// One step of a returning user's past.
#[derive(Clone, Copy)]
enum Step {
    Mood(f32, f32),
    Play(&'static str),
    Like(&'static str),
    NotForMe(&'static str),
}

/// Hours ago, what the user did, their heart's arousal then: two likes, a "not for me", plays
/// and three moods over the last 30 hours.
const SCRIPT: &[(f64, Step, Option<f32>)] = &[
    (30.0, Step::Mood(-0.5, -0.4), None),
    (29.5, Step::Play("Radiohead"), None),
    (29.0, Step::Like("Radiohead"), None),
    (28.0, Step::Play("Portishead"), Some(-0.3)),
    (27.9, Step::Like("Portishead"), None),
    (6.0, Step::Mood(0.6, 0.5), Some(0.4)),
    (5.8, Step::Play("Daft Punk"), Some(0.5)),
    (5.5, Step::NotForMe("Coldplay"), None),
    (5.0, Step::Play("Muse"), None),
    (2.0, Step::Mood(0.3, -0.2), None),
    (1.5, Step::Play("Massive Attack"), None),
];

/// What `#state` shows, once it has an estimate and nothing is pending.
const STATE_JS: &str = "(() => { const s = document.querySelector('#state'); \
    const e = document.querySelector('#state-estimate'); \
    if (!s || s.dataset.state !== 'ready' || !e) return null; \
    const share = document.querySelector('#state-share').dataset; \
    return { id: +e.dataset.id, valence: +e.dataset.valence, arousal: +e.dataset.arousal, \
      sd: [+e.dataset.sdValence, +e.dataset.sdArousal], now: e.dataset.now, \
      period: e.dataset.period, heart: e.dataset.heart ?? null, events: +e.dataset.events, \
      share: [+share.shareValence, +share.shareArousal], \
      rows: [...document.querySelectorAll('#attention li[data-seq]')] \
        .map(li => [+li.dataset.seq, +li.dataset.attention, li.dataset.kind]), \
      points: +document.querySelector('#state-timeline').dataset.points }; })()";

/// One reading of the card.
#[derive(Debug, Clone)]
struct StateView {
    id: u64,
    emotion: [f32; 2],
    sd: [f32; 2],
    now_ms: f64,
    period: Option<DayPeriod>,
    events: usize,
    share: [f32; 2],
    /// (seq, attention, kind), newest first.
    rows: Vec<(u64, f32, String)>,
    points: usize,
}

fn parse_view(v: &Value) -> Result<StateView> {
    let f = |x: &Value| x.as_f64().map(|x| x as f32).context("a number");
    let period = match v["period"].as_str() {
        Some("morning") => Some(DayPeriod::Morning),
        Some("afternoon") => Some(DayPeriod::Afternoon),
        Some("evening") => Some(DayPeriod::Evening),
        _ => None,
    };
    ensure!(v["heart"].is_null(), "no strap, yet a heart reading: {v}");
    let rows = v["rows"]
        .as_array()
        .context("rows")?
        .iter()
        .map(|r| -> Result<(u64, f32, String)> {
            Ok((
                r[0].as_u64().context("seq")?,
                f(&r[1])?,
                r[2].as_str().unwrap_or_default().to_string(),
            ))
        })
        .collect::<Result<_>>()?;
    Ok(StateView {
        id: v["id"].as_u64().context("id")?,
        emotion: [f(&v["valence"])?, f(&v["arousal"])?],
        sd: [f(&v["sd"][0])?, f(&v["sd"][1])?],
        now_ms: v["now"]
            .as_str()
            .context("data-now")?
            .parse()
            .context("data-now")?,
        period,
        events: v["events"].as_u64().context("events")? as usize,
        share: [f(&v["share"][0])?, f(&v["share"][1])?],
        rows,
        points: v["points"].as_u64().context("points")? as usize,
    })
}

impl StateView {
    /// The attention list holds the events the model read, with weights that make a distribution.
    fn check_rows(&self, history_len: usize) -> Result<()> {
        ensure!(
            self.events == history_len.min(MAX_EVENTS) && self.rows.len() == self.events,
            "{} rows, {} events read, {history_len} in the history",
            self.rows.len(),
            self.events
        );
        ensure!(
            self.rows.windows(2).all(|w| w[0].0 > w[1].0),
            "rows are not newest first: {:?}",
            self.rows
        );
        ensure!(
            self.rows.iter().all(|r| (0.0..=1.0).contains(&r.1)),
            "attention outside [0, 1]: {:?}",
            self.rows
        );
        let total: f32 = self.rows.iter().map(|r| r.1).sum();
        ensure!((total - 1.0).abs() < 1e-3, "attention sums to {total}");
        Ok(())
    }
}

/// The model, the catalog and the stored profile, to run the same estimate natively.
struct Native {
    catalog: Catalog,
    model: UserEmotionModel,
}

impl Native {
    fn load() -> Result<Native> {
        // The files the browser is served (public/ may have moved on since the build).
        let public = dist_dir()?.join("public");
        Ok(Native {
            catalog: Catalog::decode(&std::fs::read(public.join("catalog.bin"))?)?,
            model: UserEmotionModel::from_bytes(&std::fs::read(
                public.join("models/user-emotion.onnx"),
            )?)?,
        })
    }

    fn artist(&self, name: &str) -> Result<u32> {
        self.catalog
            .artists()
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.id)
            .with_context(|| format!("{name} is not in the catalog"))
    }

    /// A returning user's profile: [`SCRIPT`] played until `now`.
    fn scripted_profile(&self, now: f64) -> Result<Profile> {
        let mut p = Profile::default();
        for &(hours_ago, step, heart) in SCRIPT {
            let at = now - hours_ago * HOUR;
            let item = |name: &str| -> Result<(u32, Item)> {
                let artist_id = self.artist(name)?;
                Ok((artist_id, Item::Artist { artist_id }))
            };
            match step {
                Step::Mood(v, a) => p.state_mood(Emotion::va(v, a), at, heart),
                Step::Play(name) => {
                    p.log(
                        at,
                        Event::Play {
                            item: item(name)?.1,
                        },
                        heart,
                    );
                }
                Step::Like(name) => {
                    let (id, item) = item(name)?;
                    p.like(id);
                    p.log(at, Event::Like { item }, heart);
                }
                Step::NotForMe(name) => {
                    let (id, item) = item(name)?;
                    p.exclude(id);
                    p.log(at, Event::NotForMe { item }, heart);
                }
            }
        }
        Ok(p)
    }

    /// Runs the model natively on the page's stored profile at the card's moment and compares.
    async fn check(&self, h: &Harness, view: &StateView) -> Result<()> {
        let profile: Profile = h.stored_profile().await?;
        view.check_rows(profile.history.len())?;
        let moment = Moment {
            now_ms: view.now_ms,
            heart: None,
            period: view.period,
        };
        let read = state_input(&profile, &self.catalog, &moment).context("no model input")?;
        let native = self.model.estimate(&read.input)?;
        let seqs: Vec<u64> = view.rows.iter().rev().map(|r| r.0).collect();
        ensure!(seqs == read.seqs, "rows {seqs:?}, native {:?}", read.seqs);
        let close = |a: f32, b: f32| (a - b).abs() < TOLERANCE;
        let n = native.emotion;
        println!(
            "estimate {}: browser ({:+.4}, {:+.4}) ± {:?}, native ({:+.4}, {:+.4}) ± {:?}",
            view.id,
            view.emotion[0],
            view.emotion[1],
            view.sd,
            n.valence.get(),
            n.arousal.get(),
            native.sd
        );
        ensure!(
            close(view.emotion[0], n.valence.get())
                && close(view.emotion[1], n.arousal.get())
                && close(view.sd[0], native.sd[0])
                && close(view.sd[1], native.sd[1]),
            "browser {view:?} vs native {native:?}"
        );
        let browser: Vec<f32> = view.rows.iter().rev().map(|r| r.1).collect();
        ensure!(
            browser
                .iter()
                .zip(&native.attention)
                .all(|(a, b)| close(*a, *b)),
            "attention: browser {browser:?} vs native {:?}",
            native.attention
        );
        Ok(())
    }
}

/// Waits for an estimate newer than `after` (any, if `None`) that read `events` events.
async fn wait_estimate(h: &mut Harness, after: Option<u64>, events: usize) -> Result<StateView> {
    let after = after.map_or(-1.0, |a| a as f64);
    let v = h
        .wait_js(
            &format!("an estimate after #{after} over {events} events"),
            &format!("(s => s && s.id > {after} && s.events === {events} && s)({STATE_JS})"),
        )
        .await?;
    parse_view(&v)
}

/// Scrolls `#state` into view and saves a screenshot.
async fn shoot_card(h: &mut Harness, label: &str) -> Result<()> {
    h.js("(document.querySelector('#state').scrollIntoView(), true)")
        .await?;
    h.screenshot(label).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_follows_the_history_and_equals_the_native_model() -> Result<()> {
    let native = Native::load()?;
    with_ready_app("user-state", async |h: &mut Harness| {
        let now = h.js("Date.now()").await?.as_f64().context("Date.now()")?;
        let profile = native.scripted_profile(now)?;
        let events = profile.history.len();
        h.seed_profile(&profile.to_json()).await?;

        // The estimate of the stored history: the rows, their weights, and the native numbers.
        let first = wait_estimate(h, None, events).await?;
        native.check(h, &first).await?;
        ensure!(
            first.share.iter().all(|s| (0.0..=1.0).contains(s)) && first.share[0] > 0.05,
            "the last mood is two hours old, so the model should have a say: {:?}",
            first.share
        );
        ensure!(first.points >= 1, "the timeline has no point");
        let recs = h.wait_recs().await?;
        h.click("#recommendations li.rec .rec-why summary").await?;
        let history_line = h
            .js("document.querySelector('#recommendations li.rec .rec-why li[data-signal=history]')?.textContent ?? ''")
            .await?;
        ensure!(
            history_line
                .as_str()
                .is_some_and(|t| t.contains("Your history") && t.contains("attention")),
            "no history line in Why?: {history_line}"
        );
        shoot_card(h, "state-desktop").await?;

        // "Not for me" on the first pick: one more event, newest first in the list.
        h.click("#recommendations li.rec:first-child button.rec-exclude")
            .await?;
        let excluded = wait_estimate(h, Some(first.id), events + 1).await?;
        ensure!(
            excluded.rows[0].2 == "not-for-me",
            "newest row after Not for me: {:?}",
            excluded.rows[0]
        );

        // A like through search.
        h.like_artist("Moby").await?;
        let liked = wait_estimate(h, Some(excluded.id), events + 2).await?;
        ensure!(liked.rows[0].2 == "like", "newest row: {:?}", liked.rows[0]);

        // Three moods set with the keyboard on the plane (each is an event).
        h.js("document.querySelector('#mood-plane').focus()")
            .await?;
        for _ in 0..3 {
            h.press(Key::Up).await?;
            h.press(Key::Right).await?;
        }
        let last = wait_estimate(h, Some(liked.id), events + 8).await?;
        ensure!(last.rows[0].2 == "mood", "newest row: {:?}", last.rows[0]);
        native.check(h, &last).await?;
        let moved =
            (last.emotion[0] - first.emotion[0]).abs() + (last.emotion[1] - first.emotion[1]).abs();
        ensure!(
            moved > 1e-3,
            "the estimated state did not change: {:?} then {:?}",
            first.emotion,
            last.emotion
        );
        ensure!(
            last.points >= first.points + 3,
            "the timeline has {} points, {} before",
            last.points,
            first.points
        );
        let after = h.wait_recs().await?;
        ensure!(
            ids(&after) != ids(&recs),
            "the list did not move: {:?}",
            ids(&after)
        );
        shoot_card(h, "state-after").await?;
        h.emulate_viewport(PHONE, true).await?;
        h.wait_js(
            "the phone viewport",
            &format!("screen.width === {}", PHONE.0),
        )
        .await?;
        shoot_card(h, "state-phone").await?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_state_model_is_reported_and_the_list_stays() -> Result<()> {
    let mut h = Harness::start("corrupt-state-model").await?;
    h.server.set_fault("user-emotion.onnx", Fault::Corrupt);
    h.open().await?;
    h.wait_ready().await?;
    let message = h
        .wait_js(
            "#state to show its error",
            "document.querySelector('#state')?.dataset.state === 'error' \
             && document.querySelector('#state-error')?.innerText",
        )
        .await?;
    let message = message.as_str().unwrap_or_default().to_string();
    ensure!(
        message.contains("user-emotion.onnx") && message.contains("mood you set"),
        "the state card's error is not clear: {message:?}"
    );
    h.click_mood(0.5, 0.5).await?;
    h.wait_recs().await?;
    shoot_card(&mut h, "error").await?;
    h.finish().await
}
