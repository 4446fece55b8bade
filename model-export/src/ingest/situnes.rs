//! SiTunes (Li et al., CHIIR 2024) in its released layout: a stage folder with `interactions.csv`
//! (one row per play: user, item, timestamp, rating, pre/post valence and arousal, duration),
//! optionally `wrist.npy` (`<f8`, (plays, 30, 4): heart rate centred per user, activity intensity,
//! steps, activity type; record `i` is `inter_id` `i + 1`) and `env.json` (`{inter_id: {time, ...}}`),
//! and `music_info.csv` for the songs' audio features. Any folder in this layout reads (Stage 3 too).

use super::read_text;
use crate::heart_eval::{read_npy_f64, CHANNELS, SAMPLES};
use anyhow::{ensure, Context, Result};
use attune_engine::Emotion;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One play with what the user reported around it.
#[derive(Debug, Clone)]
pub struct Play {
    /// `inter_id`.
    pub inter_id: u32,
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
    /// Valence and arousal reported before listening, [-1, 1].
    pub pre: [f32; 2],
    /// Valence and arousal reported after listening, [-1, 1].
    pub post: [f32; 2],
    /// Mean centred heart rate (bpm above the user's level) over the play, if `wrist.npy` exists.
    pub heart_bpm: Option<f64>,
    /// Share of the play's wrist samples with activity type Still or Lying.
    pub still: Option<f64>,
    /// `env.json` time of day code (1, 2, 3), if present.
    pub period: Option<i64>,
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

/// Reads a stage folder. Needs pre-listening emotion (Stage 1 has none and is refused with a
/// reason); `wrist.npy` and `env.json` are optional.
pub fn load_stage(dir: &Path) -> Result<Vec<Play>> {
    let csv_path = dir.join("interactions.csv");
    let text = read_text(&csv_path)?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    ensure!(
        headers.iter().any(|h| h == "emo_pre_valence"),
        "{}: no emo_pre_valence column: the user-emotion model predicts the mood before a listen, \
         which this stage does not record (SiTunes Stage 1 has post-listening emotion only)",
        csv_path.display()
    );
    let mut plays = Vec::new();
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
        plays.push(Play {
            inter_id: num("inter_id")? as u32,
            user: num("user_id")? as u32,
            item: num("item_id")? as u32,
            timestamp: num("timestamp")?,
            duration: text_of("duration")
                .parse::<f64>()
                .ok()
                .filter(|d| d.is_finite() && *d >= 0.0),
            rating: f("rating")?,
            pre: [f("emo_pre_valence")?, f("emo_pre_arousal")?],
            post: [f("emo_post_valence")?, f("emo_post_arousal")?],
            heart_bpm: None,
            still: None,
            period: None,
        });
    }
    ensure!(!plays.is_empty(), "{}: no plays", csv_path.display());
    let npy = dir.join("wrist.npy");
    if npy.exists() {
        let bytes = std::fs::read(&npy).with_context(|| format!("reading {}", npy.display()))?;
        let (shape, values) = read_npy_f64(&bytes).with_context(|| npy.display().to_string())?;
        ensure!(
            shape.len() == 3 && shape[1] == SAMPLES && shape[2] == CHANNELS,
            "{}: shape {shape:?}, expected (plays, {SAMPLES}, {CHANNELS})",
            npy.display()
        );
        for p in &mut plays {
            let i = p.inter_id as usize;
            ensure!(
                i >= 1 && i <= shape[0],
                "{}: no record for inter_id {i}",
                npy.display()
            );
            let rec = &values[(i - 1) * SAMPLES * CHANNELS..i * SAMPLES * CHANNELS];
            let hr: Vec<f64> = rec.chunks_exact(CHANNELS).map(|c| c[0]).collect();
            if hr.iter().all(|v| v.is_finite()) {
                p.heart_bpm = Some(hr.iter().sum::<f64>() / SAMPLES as f64);
            }
            let still = rec
                .chunks_exact(CHANNELS)
                .filter(|c| c[3] == 0.0 || c[3] == 4.0)
                .count();
            p.still = Some(still as f64 / SAMPLES as f64);
        }
    }
    let env = dir.join("env.json");
    if env.exists() {
        let v: serde_json::Value = serde_json::from_str(&read_text(&env)?)
            .with_context(|| format!("{}: not JSON", env.display()))?;
        for p in &mut plays {
            p.period = v
                .get(p.inter_id.to_string())
                .and_then(|e| e.get("time"))
                .and_then(serde_json::Value::as_i64);
        }
    }
    Ok(plays)
}
