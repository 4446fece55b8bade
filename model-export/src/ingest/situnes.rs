//! SiTunes (Li et al., CHIIR 2024) in its released layout: a stage folder with `interactions.csv`
//! (one row per play: user, item, timestamp, rating, pre/post valence and arousal, duration),
//! optionally `wrist.npy` (`<f8`, (plays, 30, 4): heart rate centred per user, activity intensity,
//! steps, activity type; record `i` is `inter_id` `i + 1`) and `env.json` (`{inter_id: {time, ...}}`),
//! and `music_info.csv` for the songs' audio features. Any folder in this layout reads (Stage 3 too).

use super::npy;
use super::read_text;
use anyhow::{ensure, Context, Result};
use attune_engine::Emotion;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Wrist samples per play in `wrist.npy`.
pub const SAMPLES: usize = 30;
/// Wrist channels per sample (heart rate, activity intensity, steps, activity type).
pub const CHANNELS: usize = 4;

/// One interaction, as every stage records it.
#[derive(Debug, Clone)]
pub struct Interaction {
    /// `inter_id` (Stage 1 has none).
    pub inter_id: Option<u32>,
    /// `user_id`.
    pub user: u32,
    /// `item_id`.
    pub item: u32,
    /// Start, Unix seconds.
    pub timestamp: f64,
    /// Listening time in seconds, when recorded.
    pub duration: Option<f64>,
    /// 1..=5.
    pub rating: f32,
    /// The play's 30 wrist samples [heart rate (centred per user), intensity, steps, activity
    /// type], if the folder has `wrist.npy`.
    pub wrist: Option<Vec<[f64; CHANNELS]>>,
    /// The play's `env.json` entry (`time`, `weather`, `GPS`), if the folder has one.
    pub env: Option<serde_json::Value>,
}

impl Interaction {
    /// Mean centred heart rate (bpm above the user's level) over the play, if all samples are
    /// finite.
    pub fn heart_bpm(&self) -> Option<f64> {
        let w = self.wrist.as_ref()?;
        w.iter()
            .all(|s| s[0].is_finite())
            .then(|| w.iter().map(|s| s[0]).sum::<f64>() / w.len() as f64)
    }

    /// `env.json` time of day code (1, 2, 3), if present.
    pub fn period(&self) -> Option<i64> {
        self.env.as_ref()?.get("time")?.as_i64()
    }
}

/// A play with the moods reported around it (stages that record them).
#[derive(Debug, Clone)]
pub struct Play {
    /// The interaction.
    pub at: Interaction,
    /// Valence and arousal reported before listening, [-1, 1].
    pub pre: [f32; 2],
    /// Valence and arousal reported after listening, [-1, 1].
    pub post: [f32; 2],
}

/// Song emotion from `music_info.csv`: Spotify valence and energy (0..1) mapped to [-1, 1]; rows
/// without them are skipped.
pub fn load_items(path: &Path) -> Result<HashMap<u32, Emotion>> {
    let text = read_text(path)?;
    let mut out = HashMap::new();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{}: no column {name}", path.display()))
    };
    let (id, val, energy) = (col("item_id")?, col("valence")?, col("energy")?);
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let num = |c: usize| -> Result<f64> {
            rec.get(c)
                .unwrap_or("")
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .with_context(|| format!("{}: row {}: bad {}", path.display(), i + 2, &headers[c]))
        };
        // A placeholder row (item_id -1) has no audio features: its songs have no emotion.
        if [val, energy]
            .iter()
            .any(|&c| rec.get(c).unwrap_or("").trim().is_empty())
        {
            continue;
        }
        let item = num(id)? as u32;
        let (v, e) = (num(val)?, num(energy)?);
        out.insert(
            item,
            Emotion::va((2.0 * v - 1.0) as f32, (2.0 * e - 1.0) as f32),
        );
    }
    ensure!(!out.is_empty(), "{}: no items", path.display());
    Ok(out)
}

/// Valence and arousal reported before and after a play.
type Reported = [[f32; 2]; 2];

/// Reads a stage folder's `interactions.csv` (needs user_id, item_id, timestamp, rating), with
/// each play's `wrist.npy` record and `env.json` entry (by `inter_id`) when those files exist.
/// `moods` also reads the pre/post valence and arousal of every row.
fn read(dir: &Path, moods: bool) -> Result<Vec<(Interaction, Option<Reported>)>> {
    let csv_path = dir.join("interactions.csv");
    let text = read_text(&csv_path)?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, row) in reader.deserialize::<BTreeMap<String, String>>().enumerate() {
        let row = row.with_context(|| format!("{}: row {}", csv_path.display(), i + 2))?;
        let text_of = |k: &str| row.get(k).map(|s| s.trim()).unwrap_or("");
        let num = |k: &str| -> Result<f64> {
            text_of(k)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .with_context(|| format!("{}: row {}: bad {k}", csv_path.display(), i + 2))
        };
        let f = |k: &str| -> Result<f32> { Ok(num(k)? as f32) };
        let reported = if moods {
            Some([
                [f("emo_pre_valence")?, f("emo_pre_arousal")?],
                [f("emo_post_valence")?, f("emo_post_arousal")?],
            ])
        } else {
            None
        };
        rows.push((
            Interaction {
                inter_id: row
                    .contains_key("inter_id")
                    .then(|| num("inter_id"))
                    .transpose()?
                    .map(|v| v as u32),
                user: num("user_id")? as u32,
                item: num("item_id")? as u32,
                timestamp: num("timestamp")?,
                duration: text_of("duration")
                    .parse::<f64>()
                    .ok()
                    .filter(|d| d.is_finite() && *d >= 0.0),
                rating: f("rating")?,
                wrist: None,
                env: None,
            },
            reported,
        ));
    }
    ensure!(!rows.is_empty(), "{}: no plays", csv_path.display());
    let npy = dir.join("wrist.npy");
    if npy.exists() {
        let bytes = std::fs::read(&npy).with_context(|| format!("reading {}", npy.display()))?;
        let (shape, values) = npy::read_f64(&bytes).with_context(|| npy.display().to_string())?;
        ensure!(
            shape.len() == 3 && shape[1] == SAMPLES && shape[2] == CHANNELS,
            "{}: shape {shape:?}, expected (plays, {SAMPLES}, {CHANNELS})",
            npy.display()
        );
        for (p, _) in &mut rows {
            let i = p.inter_id.context("wrist.npy needs an inter_id column")? as usize;
            ensure!(
                i >= 1 && i <= shape[0],
                "{}: no record for inter_id {i}",
                npy.display()
            );
            let rec = &values[(i - 1) * SAMPLES * CHANNELS..i * SAMPLES * CHANNELS];
            p.wrist = Some(
                rec.chunks_exact(CHANNELS)
                    .map(|c| [c[0], c[1], c[2], c[3]])
                    .collect(),
            );
        }
    }
    let env = dir.join("env.json");
    if env.exists() {
        let v: serde_json::Value = serde_json::from_str(&read_text(&env)?)
            .with_context(|| format!("{}: not JSON", env.display()))?;
        for (p, _) in &mut rows {
            p.env = p.inter_id.and_then(|id| v.get(id.to_string())).cloned();
        }
    }
    Ok(rows)
}

/// Reads a stage folder's interactions (any stage).
pub fn load_interactions(dir: &Path) -> Result<Vec<Interaction>> {
    Ok(read(dir, false)?.into_iter().map(|(i, _)| i).collect())
}

/// Reads a stage folder's plays with their reported moods. Needs pre-listening emotion (Stage 1
/// has none and is refused with a reason); `wrist.npy` and `env.json` are optional.
pub fn load_stage(dir: &Path) -> Result<Vec<Play>> {
    let csv_path = dir.join("interactions.csv");
    let header = read_text(&csv_path)?
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    ensure!(
        header.split(',').any(|h| h.trim() == "emo_pre_valence"),
        "{}: no emo_pre_valence column: the user-emotion model predicts the mood before a listen, \
         which this stage does not record (SiTunes Stage 1 has post-listening emotion only)",
        csv_path.display()
    );
    Ok(read(dir, true)?
        .into_iter()
        .filter_map(|(at, m)| m.map(|[pre, post]| Play { at, pre, post }))
        .collect())
}
