//! `model-export situnes`: the SiTunes dataset paper's "Setting 3" rebuilt — train on one stage,
//! predict whether each interaction of another is liked (rating >= 3), with and without the
//! situation (time of day, weather, GPS speed, wristband heart rate and activity). Any folder in
//! the SiTunes layout works; the same folder for both is split in time per user.
//!
//! Models, each regularised on a validation split (each user's last plays of the training
//! folder): the global like rate, the user's and the item's smoothed like rates, and an
//! L2 logistic regression (Newton's method) on user + song features, without and with the
//! situation features.

use crate::ingest::{read_text, situnes};
use anyhow::{ensure, Context, Result};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// A play is "liked" at this rating or above (the definition).
pub const LIKED: f64 = 3.0;
/// Share of each user's training plays (the latest) that validate.
pub const VALID_SHARE: f64 = 0.2;
/// Share of each user's plays (the latest) tested when train and test are one folder.
pub const TEST_SHARE: f64 = 0.3;
/// Pseudo-counts pulling a user's or item's like rate to the global rate.
pub const SMOOTHING: f64 = 5.0;

/// One interaction, labelled.
#[derive(Debug, Clone)]
pub struct Interaction {
    /// `user_id`.
    pub user: u32,
    /// `item_id`.
    pub item: u32,
    /// Unix seconds.
    pub timestamp: f64,
    /// Liked (rating >= 3).
    pub liked: bool,
    /// Situation features, when the folder has `env.json` and `wrist.npy`.
    pub situation: Option<Vec<f64>>,
}

/// Names of the situation features.
pub const SITUATION: [&str; 19] = [
    "morning",
    "afternoon",
    "evening",
    "sunny",
    "cloudy",
    "rainy",
    "pressure",
    "temperature",
    "humidity",
    "log speed",
    "heart rate",
    "activity intensity",
    "steps",
    "still",
    "act2still",
    "walking",
    "missing activity",
    "lying",
    "running",
];

/// The situation features ([`SITUATION`]) of a play, when it has `env.json` and wrist data.
pub(crate) fn situation(at: &situnes::Interaction) -> Option<Vec<f64>> {
    let (env, wrist) = (at.env.as_ref()?, at.wrist.as_ref()?);
    let mut f = vec![0.0; SITUATION.len()];
    if let Some(t) = env.get("time").and_then(serde_json::Value::as_i64) {
        if (1..=3).contains(&t) {
            f[t as usize - 1] = 1.0;
        }
    }
    if let Some(w) = env.get("weather").and_then(serde_json::Value::as_array) {
        let num = |i: usize| w.get(i).and_then(serde_json::Value::as_f64);
        if let Some(k) = num(0).filter(|k| (0.0..3.0).contains(k)) {
            f[3 + k as usize] = 1.0;
        }
        f[6] = num(1).map_or(0.0, |p| (p - 1000.0) / 10.0);
        f[7] = num(2).map_or(0.0, |t| (t - 25.0) / 5.0);
        f[8] = num(3).map_or(0.0, |h| (h - 70.0) / 15.0);
    }
    if let Some(s) = env
        .get("GPS")
        .and_then(|g| g.get(2))
        .and_then(serde_json::Value::as_f64)
    {
        f[9] = s.max(0.0).ln_1p();
    }
    let n = wrist.len() as f64;
    for c in wrist {
        f[10] += c[0] / 10.0 / n;
        f[11] += c[1] / n;
        f[12] += c[2].max(0.0).ln_1p() / n;
        if (0.0..6.0).contains(&c[3]) {
            f[13 + c[3] as usize] += 1.0 / n;
        }
    }
    Some(
        f.into_iter()
            .map(|v| if v.is_finite() { v } else { 0.0 })
            .collect(),
    )
}

/// A folder's interactions (`ingest::situnes`) as labelled examples, with the situation when the
/// folder has `env.json` and `wrist.npy`.
pub fn load(dir: &Path) -> Result<Vec<Interaction>> {
    Ok(situnes::load_interactions(dir)?
        .iter()
        .map(|at| Interaction {
            user: at.user,
            item: at.item,
            timestamp: at.timestamp,
            liked: f64::from(at.rating) >= LIKED,
            situation: situation(at),
        })
        .collect())
}

/// Feature vectors by item id, and the features' names.
pub type ItemFeatures = (HashMap<u32, Vec<f64>>, Vec<String>);

/// Standardised numeric audio features and a genre one-hot per item, from `music_info.csv`.
pub fn load_item_features(path: &Path) -> Result<ItemFeatures> {
    let text = read_text(path)?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    let skip = ["", "item_id", "general_genre_id", "general_genre"];
    let numeric: Vec<usize> = (0..headers.len())
        .filter(|&i| !skip.contains(&&headers[i]))
        .collect();
    let id = headers
        .iter()
        .position(|h| h == "item_id")
        .context("no item_id column")?;
    let genre = headers.iter().position(|h| h == "general_genre");
    let mut rows: Vec<(u32, Vec<f64>, String)> = Vec::new();
    for rec in reader.records() {
        let rec = rec?;
        let Some(item) = rec.get(id).and_then(|s| s.trim().parse::<i64>().ok()) else {
            continue;
        };
        let vals: Vec<Option<f64>> = numeric
            .iter()
            .map(|&c| rec.get(c).and_then(|s| s.trim().parse::<f64>().ok()))
            .collect();
        if item < 0 || vals.iter().any(Option::is_none) {
            continue; // the placeholder row has no audio features
        }
        let g = genre.and_then(|g| rec.get(g)).unwrap_or("").to_string();
        rows.push((item as u32, vals.into_iter().flatten().collect(), g));
    }
    ensure!(
        !rows.is_empty(),
        "{}: no items with features",
        path.display()
    );
    let d = numeric.len();
    let n = rows.len() as f64;
    let mean: Vec<f64> = (0..d)
        .map(|j| rows.iter().map(|r| r.1[j]).sum::<f64>() / n)
        .collect();
    let sd: Vec<f64> = (0..d)
        .map(|j| {
            (rows.iter().map(|r| (r.1[j] - mean[j]).powi(2)).sum::<f64>() / n)
                .sqrt()
                .max(1e-9)
        })
        .collect();
    let mut genres: Vec<String> = rows.iter().map(|r| r.2.clone()).collect();
    genres.sort();
    genres.dedup();
    let mut names: Vec<String> = numeric.iter().map(|&c| headers[c].to_string()).collect();
    names.extend(genres.iter().map(|g| format!("genre {g}")));
    let map = rows
        .into_iter()
        .map(|(item, v, g)| {
            let mut f: Vec<f64> = v
                .iter()
                .zip(&mean)
                .zip(&sd)
                .map(|((x, m), s)| (x - m) / s)
                .collect();
            f.extend(genres.iter().map(|x| f64::from(u8::from(*x == g))));
            (item, f)
        })
        .collect();
    Ok((map, names))
}

/// Scores of one model.
#[derive(Debug, Clone, Serialize)]
pub struct Scores {
    /// Model.
    pub model: String,
    /// Chosen regularisation (validation log-loss), if any.
    pub tuned: String,
    /// Area under the ROC curve.
    pub auc: f64,
    /// Mean absolute error of the predicted probability against the 0/1 label.
    pub mae: f64,
    /// Root mean squared error of the same.
    pub rmse: f64,
}

/// AUC by the rank-sum (ties count half).
pub fn auc(p: &[f64], y: &[bool]) -> f64 {
    let ranks = crate::situnes::heart_check::ranks(p);
    let pos = y.iter().filter(|&&l| l).count() as f64;
    let neg = y.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.5;
    }
    let sum: f64 = ranks
        .iter()
        .zip(y)
        .filter(|(_, &l)| l)
        .map(|(r, _)| r)
        .sum();
    (sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

fn scores(model: &str, tuned: String, p: &[f64], test: &[Interaction]) -> Scores {
    let y: Vec<bool> = test.iter().map(|t| t.liked).collect();
    let n = p.len().max(1) as f64;
    let err = |t: &Interaction, q: f64| (q - f64::from(u8::from(t.liked))).abs();
    Scores {
        model: model.into(),
        tuned,
        auc: auc(p, &y),
        mae: test.iter().zip(p).map(|(t, &q)| err(t, q)).sum::<f64>() / n,
        rmse: (test
            .iter()
            .zip(p)
            .map(|(t, &q)| err(t, q).powi(2))
            .sum::<f64>()
            / n)
            .sqrt(),
    }
}

fn log_loss(p: &[f64], set: &[Interaction]) -> f64 {
    p.iter()
        .zip(set)
        .map(|(&q, t)| {
            let q = q.clamp(1e-6, 1.0 - 1e-6);
            if t.liked {
                -q.ln()
            } else {
                -(1.0 - q).ln()
            }
        })
        .sum::<f64>()
        / set.len().max(1) as f64
}

/// Smoothed like rate per key.
fn rates(
    train: &[Interaction],
    key: fn(&Interaction) -> u32,
    global: f64,
    m: f64,
) -> HashMap<u32, f64> {
    let mut c: HashMap<u32, (f64, f64)> = HashMap::new();
    for t in train {
        let e = c.entry(key(t)).or_default();
        e.0 += f64::from(u8::from(t.liked));
        e.1 += 1.0;
    }
    c.into_iter()
        .map(|(k, (l, n))| (k, (l + m * global) / (n + m)))
        .collect()
}

/// The feature vector of an interaction for the logistic regression.
struct Features<'a> {
    users: BTreeMap<u32, usize>,
    items: &'a HashMap<u32, Vec<f64>>,
    item_dim: usize,
    with_situation: bool,
}

impl Features<'_> {
    fn dim(&self) -> usize {
        1 + self.users.len()
            + self.item_dim
            + if self.with_situation {
                SITUATION.len() + 1
            } else {
                0
            }
    }
    fn of(&self, t: &Interaction) -> Vec<f64> {
        let mut f = vec![0.0; self.dim()];
        f[0] = 1.0;
        if let Some(&u) = self.users.get(&t.user) {
            f[1 + u] = 1.0;
        }
        let off = 1 + self.users.len();
        if let Some(v) = self.items.get(&t.item) {
            f[off..off + self.item_dim].copy_from_slice(v);
        }
        if self.with_situation {
            let off = off + self.item_dim;
            if let Some(s) = &t.situation {
                f[off..off + SITUATION.len()].copy_from_slice(s);
                f[off + SITUATION.len()] = 1.0;
            }
        }
        f
    }
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// L2 logistic regression by Newton's method (the intercept is not penalised).
pub(crate) fn logistic(x: &[Vec<f64>], y: &[bool], lambda: f64) -> Vec<f64> {
    let d = x.first().map_or(0, Vec::len);
    let mut w = vec![0.0; d];
    for _ in 0..25 {
        let mut h = vec![vec![0.0; d]; d];
        let mut g = vec![0.0; d];
        for (xi, &yi) in x.iter().zip(y) {
            let p = sigmoid(xi.iter().zip(&w).map(|(a, b)| a * b).sum());
            let r = p * (1.0 - p);
            for a in 0..d {
                if xi[a] == 0.0 {
                    continue;
                }
                g[a] += (p - f64::from(u8::from(yi))) * xi[a];
                for b in 0..d {
                    h[a][b] += r * xi[a] * xi[b];
                }
            }
        }
        for a in 1..d {
            g[a] += lambda * w[a];
            h[a][a] += lambda;
        }
        h[0][0] += 1e-9;
        let step = crate::linalg::solve(h, g);
        let mut change = 0.0f64;
        for a in 0..d {
            w[a] -= step[a];
            change = change.max(step[a].abs());
        }
        if change < 1e-8 {
            break;
        }
    }
    w
}

/// Splits each user's interactions in time: the last `share` go to the second part.
fn split_in_time(set: Vec<Interaction>, share: f64) -> (Vec<Interaction>, Vec<Interaction>) {
    split_in_time_by(set, share, |t| (t.user, t.timestamp))
}

/// [`split_in_time`] for any record with a `(user, timestamp)`: each user's records sorted by
/// time (stable), the last `share` (rounded) go to the second part; users in id order.
pub(crate) fn split_in_time_by<T>(
    set: Vec<T>,
    share: f64,
    key: impl Fn(&T) -> (u32, f64),
) -> (Vec<T>, Vec<T>) {
    let mut by_user: BTreeMap<u32, Vec<T>> = BTreeMap::new();
    for t in set {
        by_user.entry(key(&t).0).or_default().push(t);
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (_, mut list) in by_user {
        list.sort_by(|x, y| key(x).1.total_cmp(&key(y).1));
        let k = ((list.len() as f64) * share).round() as usize;
        let tail = list.split_off(list.len() - k.min(list.len()));
        a.extend(list);
        b.extend(tail);
    }
    (a, b)
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Setting3 {
    /// How train and test relate.
    pub protocol: String,
    /// Interactions: train, validation, test.
    pub counts: [usize; 3],
    /// Share of test interactions with situation features.
    pub test_with_situation: f64,
    /// Liked share of the test interactions.
    pub test_liked: f64,
    /// Rows.
    pub rows: Vec<Scores>,
}

/// Trains on `train_dir` and tests on `test_dir` (one folder: split in time per user).
pub fn run(train_dir: &Path, test_dir: &Path, items: &Path) -> Result<Setting3> {
    let (items, names) = load_item_features(items)?;
    let item_dim = names.len();
    let same = std::fs::canonicalize(train_dir)? == std::fs::canonicalize(test_dir)?;
    let (train_all, test, protocol) = if same {
        let (a, b) = split_in_time(load(train_dir)?, TEST_SHARE);
        (
            a,
            b,
            format!(
                "one folder ({}), split in time per user: each user's last {:.0}% of plays test",
                train_dir.display(),
                100.0 * TEST_SHARE
            ),
        )
    } else {
        (
            load(train_dir)?,
            load(test_dir)?,
            format!(
                "train on {}, test on {}",
                train_dir.display(),
                test_dir.display()
            ),
        )
    };
    let (train, valid) = split_in_time(train_all.clone(), VALID_SHARE);
    ensure!(
        !train.is_empty() && !valid.is_empty() && !test.is_empty(),
        "too few interactions"
    );
    let rate = |s: &[Interaction]| s.iter().filter(|t| t.liked).count() as f64 / s.len() as f64;
    let mut rows = Vec::new();
    let g = rate(&train_all);
    rows.push(scores(
        "global like rate",
        "-".into(),
        &vec![g; test.len()],
        &test,
    ));
    for (name, key) in [
        (
            "user like rate",
            (|t: &Interaction| t.user) as fn(&Interaction) -> u32,
        ),
        ("item like rate", |t: &Interaction| t.item),
    ] {
        // The smoothing strength chosen on validation.
        let grid = [1.0, 3.0, 10.0, 30.0];
        let gv = rate(&train);
        let best = grid
            .iter()
            .map(|&m| {
                let r = rates(&train, key, gv, m);
                let p: Vec<f64> = valid
                    .iter()
                    .map(|t| *r.get(&key(t)).unwrap_or(&gv))
                    .collect();
                (m, log_loss(&p, &valid))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(SMOOTHING, |b| b.0);
        let r = rates(&train_all, key, g, best);
        let p: Vec<f64> = test.iter().map(|t| *r.get(&key(t)).unwrap_or(&g)).collect();
        rows.push(scores(name, format!("smoothing {best}"), &p, &test));
    }
    let users: BTreeMap<u32, usize> = {
        let mut u: Vec<u32> = train_all.iter().map(|t| t.user).collect();
        u.sort_unstable();
        u.dedup();
        u.into_iter().enumerate().map(|(i, u)| (u, i)).collect()
    };
    for with_situation in [false, true] {
        let f = Features {
            users: users.clone(),
            items: &items,
            item_dim,
            with_situation,
        };
        let xs = |s: &[Interaction]| s.iter().map(|t| f.of(t)).collect::<Vec<_>>();
        let ys = |s: &[Interaction]| s.iter().map(|t| t.liked).collect::<Vec<_>>();
        let predict = |w: &[f64], s: &[Interaction]| -> Vec<f64> {
            s.iter()
                .map(|t| sigmoid(f.of(t).iter().zip(w).map(|(a, b)| a * b).sum()))
                .collect()
        };
        let grid = [0.3, 1.0, 3.0, 10.0, 30.0, 100.0];
        let (xt, yt) = (xs(&train), ys(&train));
        let best = grid
            .iter()
            .map(|&l| {
                (
                    l,
                    log_loss(&predict(&logistic(&xt, &yt, l), &valid), &valid),
                )
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(10.0, |b| b.0);
        let w = logistic(&xs(&train_all), &ys(&train_all), best);
        let name = if with_situation {
            "logistic regression: user + song + situation"
        } else {
            "logistic regression: user + song"
        };
        rows.push(scores(
            name,
            format!("L2 {best}"),
            &predict(&w, &test),
            &test,
        ));
    }
    Ok(Setting3 {
        protocol,
        counts: [train.len(), valid.len(), test.len()],
        test_with_situation: test.iter().filter(|t| t.situation.is_some()).count() as f64
            / test.len() as f64,
        test_liked: rate(&test),
        rows,
    })
}

/// The results as markdown.
pub fn markdown(r: &Setting3) -> String {
    let mut s = format!(
        "**Protocol.** {}. Interactions: {} train, {} validation (each user's latest {:.0}% of the training plays: every regularisation is chosen there by log-loss), {} test ({:.0}% liked, {:.0}% with situation features).\n\n| model | AUC | MAE | RMSE | tuned |\n|---|---:|---:|---:|---|\n",
        r.protocol, r.counts[0], r.counts[1], 100.0 * VALID_SHARE, r.counts[2], 100.0 * r.test_liked, 100.0 * r.test_with_situation
    );
    for row in &r.rows {
        s.push_str(&format!(
            "| {} | {:.3} | {:.3} | {:.3} | {} |\n",
            row.model, row.auc, row.mae, row.rmse, row.tuned
        ));
    }
    s.push_str("| *published best with situation (Stage 2 -> Stage 3): WideDeep AUC, AutoInt MAE/RMSE* | *0.710* | *0.266* | *0.398* | |\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_is_right_on_known_inputs() {
        assert_eq!(
            auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
            0.75
        );
        assert_eq!(auc(&[0.5, 0.5], &[false, true]), 0.5);
    }

    /// On the real data: the situation is read for Stage 2 and the logistic regression beats the
    /// global rate on AUC within Stage 2.
    #[test]
    fn stage_two_in_time() {
        let d = std::env::var_os("ATTUNE_DATA")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data").into())
            .join("situnes");
        let s2 = d.join("Stage2");
        let r = run(&s2, &s2, &d.join("music_metadata/music_info.csv")).unwrap();
        assert!(r.test_with_situation > 0.99, "{}", r.test_with_situation);
        let lr = r
            .rows
            .iter()
            .find(|x| x.model.contains("situation"))
            .unwrap();
        assert!(lr.auc > 0.55 && lr.rmse < 0.5, "{lr:?}");
        assert!(load(&d.join("Stage1"))
            .unwrap()
            .iter()
            .all(|t| t.situation.is_none()));
    }
}
