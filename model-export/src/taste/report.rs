//! The strongest baselines refitted with their validated settings, and the new-visitor table:
//! NDCG@10 and recall@10 by likes folded in (1, 3, 5, 10, 80%) for the shipped model and every
//! baseline, with the paired bootstrap interval of the shipped model against the best baseline.

use super::ease::Ease;
use super::ials_cg::IalsCg;
use super::rp3beta::{self, Rp3beta};
use super::tune::{self, Cut, Paired};
use super::{rows, Input, TasteConfig};
use crate::hetrec::baselines::item_knn::ItemKnn;
use crate::hetrec::corpus::{self, split_of, Corpus, Split};
use crate::hetrec::evaluate::{Scorer, TestUser};
use attune_engine::{ArtistIdx, MoodStrength, Recommender};
use serde::Serialize;
use std::rc::Rc;

/// EASE, EDLAE, RP3beta, wide item-kNN and wide iALS with the validated settings, refitted on
/// the training and validation users (as the shipped parts are), never on a test user.
pub fn baselines(cfg: &TasteConfig, corpus: &Corpus, rec: &Recommender) -> Vec<(String, Scorer)> {
    let catalog = rec.catalog();
    let items = catalog.artists().len();
    let index_of = corpus::index_of(catalog);
    let fit_users = corpus::user_items(corpus, |u| split_of(u) != Split::Test, &index_of);
    let mut out: Vec<(String, Scorer)> = Vec::new();
    let (e, ei) = cfg.ease;
    let m = Rc::new(Ease::fit(&rows(&fit_users, ei), items, e));
    out.push((
        format!("EASE (λ {}, {})", e.lambda, ei.name()),
        Scorer::new(move |l| m.scores(l)),
    ));
    let (e, ei) = cfg.edlae;
    let m = Rc::new(Ease::fit(&rows(&fit_users, ei), items, e));
    out.push((
        format!(
            "EDLAE (λ {}, dropout {}, {}; dense)",
            e.lambda,
            e.dropout,
            ei.name()
        ),
        Scorer::new(move |l| m.scores(l)),
    ));
    let bin = rows(&fit_users, Input::Binary);
    let r = cfg.rp3;
    let m = Rc::new(Rp3beta::from_walk(
        &rp3beta::walk(&bin, items, r.alpha),
        &rp3beta::popularity(&bin, items),
        r,
    ));
    out.push((
        format!("RP3beta (α {}, β {}, k {})", r.alpha, r.beta, r.k),
        Scorer::new(move |l| m.scores(l)),
    ));
    let plain: Vec<Vec<u32>> = fit_users
        .iter()
        .map(|r| r.iter().map(|e| e.0).collect())
        .collect();
    let m = Rc::new(ItemKnn::fit(&plain, items, cfg.knn));
    out.push((
        format!("item-kNN (cosine, k {})", cfg.knn),
        Scorer::new(move |l| m.scores(l)),
    ));
    let c = cfg.ials;
    let m = Rc::new(IalsCg::fit(&rows(&fit_users, c.input), items, c, 7));
    out.push((
        format!(
            "iALS (k {}, λ {}, α {}, {}, CG)",
            c.k,
            c.lambda,
            c.alpha,
            c.input.name()
        ),
        Scorer::new(move |l| m.scores(l)),
    ));
    out
}

/// One row of the new-visitor table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Model.
    pub model: String,
    /// Whether it is what the app ships.
    pub shipped: bool,
    /// (cut, users, NDCG@10, recall@10) per column.
    pub cuts: Vec<(String, usize, f64, f64)>,
}

/// The table plus the shipped model's paired difference to the best baseline at each cut.
#[derive(Debug, Clone, Serialize)]
pub struct ByLikes {
    /// User set.
    pub set: String,
    /// Rows.
    pub rows: Vec<Row>,
    /// (cut, best baseline, its NDCG, shipped NDCG, ratio, paired interval of the difference).
    pub versus_best: Vec<(String, String, f64, f64, f64, Paired)>,
    /// (cut, shipped NDCG minus the same taste without emotion, paired interval).
    pub emotion_cost: Vec<(String, Paired)>,
}

/// Runs the shipped model (`rec`'s taste blend with `ncf`, at the default mood strength with the
/// user's taste emotion as the mood) and `baselines` at every [`Cut::TABLE`] column.
pub fn by_likes(
    set: &str,
    rec: &Recommender,
    users: &[TestUser],
    ncf: &Scorer,
    baselines: &[(String, Scorer)],
) -> ByLikes {
    let catalog = rec.catalog();
    let index_of = corpus::index_of(catalog);
    let beta = MoodStrength::DEFAULT;
    let mut shipped = |l: &[ArtistIdx]| {
        let n = ncf.scores(l);
        let t = rec.taste(l, Some(&n));
        rec.hybrid_scores(&t, rec.taste_emotion(l), beta)
    };
    let mut no_emotion = |l: &[ArtistIdx]| rec.taste(l, Some(&ncf.scores(l)));
    let mut rows: Vec<Row> = Vec::new();
    let mut versus = Vec::new();
    let mut emotion_cost = Vec::new();
    let mut per_model: Vec<Vec<Vec<(f64, f64)>>> = Vec::new();
    for cut in Cut::TABLE {
        let cases = tune::cases(users, &index_of, cut, 7);
        let mut results = vec![tune::per_user(catalog, &cases, &mut shipped)];
        let plain = tune::per_user(catalog, &cases, &mut no_emotion);
        emotion_cost.push((cut.label(), tune::paired(&results[0], &plain, 13)));
        for (_, s) in baselines {
            results.push(tune::per_user(catalog, &cases, &mut |l| s.scores(l)));
        }
        let means: Vec<f64> = results.iter().map(|r| tune::mean(r, true)).collect();
        let (bi, bn) = means[1..]
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, &m)| (i + 1, m))
            .expect("baselines");
        let p = tune::paired(&results[0], &results[bi], 11);
        versus.push((
            cut.label(),
            baselines[bi - 1].0.clone(),
            bn,
            means[0],
            means[0] / bn,
            p,
        ));
        eprintln!(
            "  {set} {}: shipped {:.4} vs best {} {:.4} (diff {:+.4} [{:+.4}, {:+.4}])",
            cut.label(),
            means[0],
            baselines[bi - 1].0,
            bn,
            p.diff,
            p.lo,
            p.hi
        );
        for (m, r) in results.into_iter().enumerate() {
            if per_model.len() <= m {
                per_model.push(Vec::new());
            }
            per_model[m].push(r);
        }
    }
    let names: Vec<(String, bool)> = std::iter::once((
        format!(
            "Attune shipped (taste.bin + NCF + emotion, β {:.2})",
            beta.get()
        ),
        true,
    ))
    .chain(baselines.iter().map(|b| (b.0.clone(), false)))
    .collect();
    for ((name, is_shipped), per_cut) in names.into_iter().zip(per_model) {
        rows.push(Row {
            model: name,
            shipped: is_shipped,
            cuts: Cut::TABLE
                .iter()
                .zip(per_cut)
                .map(|(c, r)| {
                    (
                        c.label(),
                        r.len(),
                        tune::mean(&r, true),
                        tune::mean(&r, false),
                    )
                })
                .collect(),
        });
    }
    ByLikes {
        set: set.into(),
        rows,
        versus_best: versus,
        emotion_cost,
    }
}

/// The table as markdown.
pub fn markdown(t: &ByLikes) -> String {
    let mut md = format!("### New visitors: by likes folded in ({})\n\n", t.set);
    md.push_str("NDCG@10 / recall@10; users with more artists than likes (the rest held out); the same seeded order as the main table, so the 80% column is its cut.\n\n| model |");
    let cols: Vec<String> = t.rows[0]
        .cuts
        .iter()
        .map(|c| format!("{} (n {})", c.0, c.1))
        .collect();
    for c in &cols {
        md.push_str(&format!(" {c} |"));
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(cols.len()));
    md.push('\n');
    for r in &t.rows {
        let name = if r.shipped {
            format!("**{}**", r.model)
        } else {
            r.model.clone()
        };
        md.push_str(&format!("| {name} |"));
        for c in &r.cuts {
            md.push_str(&format!(" {:.4} / {:.4} |", c.2, c.3));
        }
        md.push('\n');
    }
    md.push_str("\nShipped against the best baseline at each column (paired bootstrap over users, 2,000 resamples, 95%):\n\n| likes | best baseline | its NDCG@10 | shipped | ratio | difference [95% CI] |\n|---|---|---|---|---|---|\n");
    for (cut, name, b, s, ratio, p) in &t.versus_best {
        md.push_str(&format!(
            "| {cut} | {name} | {b:.4} | {s:.4} | {ratio:.3}x | {:+.4} [{:+.4}, {:+.4}] |\n",
            p.diff, p.lo, p.hi
        ));
    }
    md.push_str("\nWhat the emotion term costs: the shipped model minus the same taste without emotion (paired, 95%):\n\n| likes | NDCG@10 difference [95% CI] |\n|---|---|\n");
    for (cut, p) in &t.emotion_cost {
        md.push_str(&format!(
            "| {cut} | {:+.4} [{:+.4}, {:+.4}] |\n",
            p.diff, p.lo, p.hi
        ));
    }
    md
}
