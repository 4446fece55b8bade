//! The user-emotion model (issue 5): SiTunes listening histories -> a self-attention model of the
//! user's mood before the next listen, its baselines and ablations, and its ONNX export.
//!
//! - [`dataset`]: plays -> the engine's observations -> encoded examples; the temporal split.
//! - [`model`], [`train`]: the burn networks (attention, GRU) and their fitting.
//! - [`baselines`]: last mood, user mean, EMA, ridge.
//! - [`evaluate`]: metrics, the tuned comparison, ablations.
//! - [`export`]: the attention network as ONNX for tract.
//! - [`cli`]: the `user-emotion train | evaluate` commands.

pub mod baselines;
pub mod cli;
pub mod dataset;
pub mod evaluate;
pub mod export;
pub mod model;
pub mod train;

use crate::ingest::situnes::{load_items, load_stage};
use anyhow::{ensure, Result};
use dataset::{examples, temporal_split, Split};
use evaluate::Evaluation;
use std::path::Path;

/// Where the shipped model goes, under the site's asset folder.
pub const MODEL_FILE: &str = "models/user-emotion.onnx";
/// Share of each user's plays (the latest) held out for testing within one folder.
pub const TEST_SHARE: f64 = 0.3;
/// Share of the remaining plays (the latest) that choose epochs and hyper-parameters.
pub const VALID_SHARE: f64 = 0.15;

/// How train and test relate.
pub fn protocol(train: &Path, test: &Path) -> Result<(bool, String)> {
    let same = std::fs::canonicalize(train)? == std::fs::canonicalize(test)?;
    Ok(if same {
        (true, format!("one folder ({}), split in time per user: each user's first {:.0}% of plays train (the last {:.0}% of those validate), their last {:.0}% test; a test target's history is every earlier event of that user, none of it after the target", train.display(), 100.0 * (1.0 - TEST_SHARE), 100.0 * VALID_SHARE, 100.0 * TEST_SHARE))
    } else {
        (false, format!("train on every play of {} (each user's last {:.0}% validate), test on every play of {} with at least one earlier event there (test users' earlier events are history, never training targets)", train.display(), 100.0 * VALID_SHARE, test.display()))
    })
}

/// Loads both folders and splits them as [`protocol`] says.
pub fn load_split(train: &Path, test: &Path, items: &Path) -> Result<(Split, String)> {
    let items = load_items(items)?;
    let (same, text) = protocol(train, test)?;
    let split = if same {
        temporal_split(
            examples(&load_stage(train)?, &items),
            TEST_SHARE,
            VALID_SHARE,
        )
    } else {
        let mut s = temporal_split(examples(&load_stage(train)?, &items), 0.0, VALID_SHARE);
        s.test = examples(&load_stage(test)?, &items)
            .into_values()
            .flatten()
            .collect();
        s
    };
    ensure!(
        !split.train.is_empty() && !split.valid.is_empty() && !split.test.is_empty(),
        "too few plays: {} train, {} validation, {} test examples",
        split.train.len(),
        split.valid.len(),
        split.test.len()
    );
    Ok((split, text))
}

/// Salt of the hash that picks the held-out users.
pub const HELD_OUT_SALT: u64 = 0x0517_17e5;

/// Users never trained on: a third of the folder's users (by a hash of their id) are tested on
/// every play with an earlier event; the others train (their last plays validate).
pub fn held_out_users_split(dir: &Path, items: &Path) -> Result<(Split, String)> {
    let items = load_items(items)?;
    let (test, train): (std::collections::BTreeMap<_, _>, _) = examples(&load_stage(dir)?, &items)
        .into_iter()
        .partition(|(u, _)| crate::rng::hash_id(*u, HELD_OUT_SALT).is_multiple_of(3));
    let mut split = temporal_split(train, 0.0, VALID_SHARE);
    split.test = test.into_values().flatten().collect();
    ensure!(
        !split.train.is_empty() && !split.valid.is_empty() && !split.test.is_empty(),
        "too few users to hold a third out"
    );
    let text = format!("users held out ({}): a third of the users (a hash of their id) are never trained on and are tested on all their plays with an earlier event; the other users train (each one's last {:.0}% of plays validate). This is the browser's case: its user is in no training set", dir.display(), 100.0 * VALID_SHARE);
    Ok((split, text))
}

/// The report's section for a second protocol.
pub fn markdown_section(title: &str, e: &Evaluation, protocol: &str) -> String {
    format!(
        "## {title}\n\n**Protocol.** {protocol}. Examples: {} train, {} validation, {} test ({} users).\n\n{}\nOn these test histories the newest event gets {:.3} of the attention on average (uniform: {:.3}).\n",
        e.counts[0],
        e.counts[1],
        e.counts[2],
        e.test_users,
        evaluate::table(e),
        e.attention.newest,
        e.attention.uniform_newest
    )
}

/// The report.
pub fn markdown(e: &Evaluation, protocol: &str, command: &str) -> String {
    let a = &e.attention;
    format!(
        "# User emotion: the mood before the next listen\n\nRegenerate with `{command}`.\n\n\
         **Task.** Predict a user's valence and arousal (self-reported, [-1, 1]) *before* a listen from everything that happened earlier: the moods stated before and after earlier listens, the songs' emotion (SiTunes `music_info.csv` valence and energy mapped to [-1, 1]), the ratings, the wristband heart rate (mean centred bpm / the engine's HR span), the time of day and the time since the last event. Every event goes through the engine's `user_emotion::encode`, the function the browser runs on its own history (last 50 events).\n\n\
         **Protocol.** {protocol}. Examples: {} train, {} validation, {} test ({} users). Every model and baseline below was tuned on the validation examples only; the test examples were scored once.\n\n\
         ## Results (test)\n\n{}\n\
         RMSE and MAE are on the [-1, 1] scale; the interval is a 95% bootstrap over users. Quadrant accuracy: the predicted signs of valence and arousal both match the reported ones.\n\n\
         ## Attention\n\nOn the test histories the newest event gets {:.3} of the attention on average (uniform pooling would give it {:.3}); the most attended event is a stated mood in {:.0}% of histories.\n\n\
         ## Tuning\n\n{}\n\nKept: {:?}, epoch {} (validation RMSE per epoch: {}).\n",
        e.counts[0], e.counts[1], e.counts[2], e.test_users,
        evaluate::table(e),
        a.newest, a.uniform_newest, 100.0 * a.top_is_mood,
        e.search.iter().map(|(n, s)| format!("- {n}: validation RMSE {s:.4}")).collect::<Vec<_>>().join("\n"),
        e.config, e.best_epoch + 1,
        e.curve.iter().map(|(_, v)| format!("{v:.3}")).collect::<Vec<_>>().join(", "),
    )
}

#[cfg(test)]
mod tests {
    //! On the real SiTunes data in `../shared/data` (override with `ATTUNE_DATA`).
    use super::dataset::Drop;
    use super::model::{StateModel, StateNet};
    use super::train::{batch, fit, FitConfig};
    use super::*;
    use attune_engine::models::user_emotion::UserEmotionModel;
    use attune_engine::user_emotion::MAX_EVENTS;
    use std::path::PathBuf;

    fn data() -> PathBuf {
        std::env::var_os("ATTUNE_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
            })
            .join("situnes")
    }

    fn split() -> Split {
        let d = data();
        load_split(
            &d.join("Stage2"),
            &d.join("Stage2"),
            &d.join("music_metadata/music_info.csv"),
        )
        .expect("SiTunes must be in ../shared/data/situnes (or ATTUNE_DATA)")
        .0
    }

    #[test]
    fn the_split_is_temporal_and_histories_never_see_the_target() {
        let s = split();
        assert!(
            s.train.len() > 400 && s.test.len() > 200,
            "{} / {}",
            s.train.len(),
            s.test.len()
        );
        for t in &s.test {
            let latest_train = s
                .train
                .iter()
                .chain(&s.valid)
                .filter(|e| e.user == t.user)
                .map(|e| e.moment.now_ms)
                .fold(f64::MIN, f64::max);
            assert!(
                t.moment.now_ms > latest_train,
                "user {}: a test target precedes a training one",
                t.user
            );
            assert!(t.past.iter().all(|o| o.at_ms < t.moment.now_ms));
            assert!(t.input.len >= 1 && t.input.len <= MAX_EVENTS);
        }
    }

    #[test]
    fn stage_one_is_refused_with_a_reason() {
        let e = crate::ingest::situnes::load_stage(&data().join("Stage1")).unwrap_err();
        assert!(format!("{e:#}").contains("emo_pre_valence"), "{e:#}");
    }

    /// The exported graph under tract computes what burn computes, on real histories.
    #[test]
    fn onnx_under_tract_matches_burn() {
        let s = split();
        let cfg = FitConfig {
            epochs: 2,
            width: 16,
            ..FitConfig::default()
        };
        for mean_pool in [false, true] {
            let f = fit(
                |d| StateNet::new(16, mean_pool, d),
                &s.train[..128],
                &s.valid,
                Drop::Nothing,
                &cfg,
            );
            let bytes = export::onnx_bytes(&f.model, &[]);
            let runner = UserEmotionModel::from_bytes(&bytes).expect("tract loads the graph");
            let device = burn::prelude::Device::flex();
            let mut worst = 0.0f32;
            for ex in s.test.iter().step_by(17).take(12) {
                let b = batch(&[ex], Drop::Nothing, None, &device);
                let o = f.model.run(b.events, b.mask, b.context);
                let v = |t: burn::prelude::Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
                let (st, lv, att) = (v(o.state), v(o.log_var), v(o.attention.unwrap()));
                let got = runner.estimate(&ex.input).unwrap();
                let n = ex.input.len;
                let total: f32 = att[MAX_EVENTS - n..].iter().sum();
                assert!((total - 1.0).abs() < 1e-4, "attention on padding: {total}");
                for k in 0..2 {
                    worst = worst.max(
                        ([got.emotion.valence.get(), got.emotion.arousal.get()][k] - st[k]).abs(),
                    );
                    worst = worst.max((got.sd[k] - (0.5 * lv[k]).exp()).abs());
                }
                for (a, b) in got.attention.iter().zip(&att[MAX_EVENTS - n..]) {
                    worst = worst.max((a - b / total).abs());
                }
            }
            eprintln!("mean_pool {mean_pool}: max abs diff burn vs tract {worst:e}");
            assert!(worst < 1e-4, "burn and tract differ by {worst}");
        }
    }
}
