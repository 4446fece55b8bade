//! The validation search of every taste family: each candidate is fitted on the training users
//! and scored by NDCG@10 on the validation users folded in at 80%; the trials are kept for the
//! report. Nothing here sees a test user.

use super::ease::{Ease, EaseConfig};
use super::ials_cg::{IalsCg, IalsConfig};
use super::rp3beta::{self, Rp3Config, Rp3beta};
use super::tune::{self, Case, Cut};
use super::{gram, rows, Input};
use crate::hetrec::baselines::item_knn::ItemKnn;
use crate::hetrec::corpus::{self, split_of, Corpus, Split};
use crate::hetrec::evaluate::{users_of, FOLD_IN_SHARE};
use crate::hetrec::svdpp::UserItems;
use attune_engine::{ArtistIdx, Catalog};
use serde::Serialize;
use std::time::Instant;

/// One tried configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    /// Model family.
    pub family: &'static str,
    /// Its settings in words.
    pub settings: String,
    /// Validation NDCG@10 at 80% folded in.
    pub ndcg: f64,
    /// Fit time in seconds.
    pub seconds: f64,
}

/// What the search keeps: the best setting of each family and every trial.
#[derive(Debug, Clone)]
pub struct Best {
    /// EASE (λ, input).
    pub ease: Option<(EaseConfig, Input)>,
    /// EDLAE (λ, p, input).
    pub edlae: Option<(EaseConfig, Input)>,
    /// RP3beta.
    pub rp3: Option<Rp3Config>,
    /// Item-kNN neighbours.
    pub knn: Option<usize>,
    /// iALS.
    pub ials: Option<IalsConfig>,
    /// Every iALS trial (validation NDCG, setting), for the shipped width's best.
    pub ials_grid: Vec<(f64, IalsConfig)>,
    /// Every trial, in order.
    pub trials: Vec<Trial>,
}

/// The data every search needs.
pub struct Data<'a> {
    /// The shipped catalog.
    pub catalog: &'a Catalog,
    /// Training users' (index, plays).
    pub train: Vec<UserItems>,
    /// Validation users at 80%.
    pub val: Vec<Case>,
    /// Validation users at 3 likes.
    pub val3: Vec<Case>,
}

impl<'a> Data<'a> {
    /// Training rows and validation cases (cut seed 7, as `evaluate`).
    pub fn new(catalog: &'a Catalog, corpus: &Corpus) -> Data<'a> {
        let index_of = corpus::index_of(catalog);
        let train = corpus::user_items(corpus, |u| split_of(u) == Split::Train, &index_of);
        let users = users_of(corpus, Split::Validation);
        let val = tune::cases(&users, &index_of, Cut::Share(FOLD_IN_SHARE), 7);
        let val3 = tune::cases(&users, &index_of, Cut::Likes(3), 7);
        Data {
            catalog,
            train,
            val,
            val3,
        }
    }

    fn items(&self) -> usize {
        self.catalog.artists().len()
    }

    /// Validation NDCG@10 of a scorer.
    pub fn score(&self, mut f: impl FnMut(&[ArtistIdx]) -> Vec<f32>) -> f64 {
        tune::mean(&tune::per_user(self.catalog, &self.val, &mut f), true)
    }
}

fn best_by<T: Copy>(xs: &[(f64, T)]) -> Option<T> {
    xs.iter().max_by(|a, b| a.0.total_cmp(&b.0)).map(|x| x.1)
}

/// Runs the grids of the families named in `only` (all when empty).
pub fn search(d: &Data<'_>, only: &[String]) -> Best {
    let on = |f: &str| only.is_empty() || only.iter().any(|o| o == f);
    let mut trials = Vec::new();
    let mut log = |family: &'static str, settings: String, ndcg: f64, t: Instant| {
        let seconds = t.elapsed().as_secs_f64();
        eprintln!("  {family} {settings}: validation NDCG@10 {ndcg:.4} ({seconds:.1} s)");
        trials.push(Trial {
            family,
            settings,
            ndcg,
            seconds,
        });
    };
    let items = d.items();
    let mut ease = Vec::new();
    let mut edlae = Vec::new();
    for input in [Input::Binary, Input::LogCounts] {
        if !on("ease") && !on("edlae") {
            break;
        }
        let r = rows(&d.train, input);
        let g = gram(&r, items);
        // Log counts (ln(1 + plays) is ~5 on average) scale XᵀX by ~25: so does the λ grid.
        let scale = if input == Input::Binary { 1.0 } else { 16.0 };
        for lambda in [25.0, 50.0, 100.0, 200.0, 400.0, 800.0]
            .map(|l| l * scale)
            .into_iter()
            .filter(|_| on("ease"))
        {
            let t = Instant::now();
            let cfg = EaseConfig {
                lambda,
                dropout: 0.0,
            };
            let m = Ease::fit_gram(&g, items, cfg);
            let s = d.score(|l| m.scores(l));
            log("EASE", format!("λ {lambda}, {}", input.name()), s, t);
            ease.push((s, (cfg, input)));
        }
        for dropout in [0.1, 0.25, 0.5, 0.75].into_iter().filter(|_| on("edlae")) {
            for lambda in [5.0, 20.0, 50.0, 100.0].map(|l| l * scale) {
                let t = Instant::now();
                let cfg = EaseConfig { lambda, dropout };
                let m = Ease::fit_gram(&g, items, cfg);
                let s = d.score(|l| m.scores(l));
                log(
                    "EDLAE",
                    format!("λ {lambda}, p {dropout}, {}", input.name()),
                    s,
                    t,
                );
                edlae.push((s, (cfg, input)));
            }
        }
    }
    let bin = rows(&d.train, Input::Binary);
    let pop = rp3beta::popularity(&bin, items);
    let mut rp3 = Vec::new();
    for alpha in [0.1, 0.2, 0.4, 0.6, 0.8, 1.0]
        .into_iter()
        .filter(|_| on("rp3beta"))
    {
        let w = rp3beta::walk(&bin, items, alpha);
        for beta in [0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8] {
            for k in [100, 200, 500, 1000] {
                let t = Instant::now();
                let cfg = Rp3Config { alpha, beta, k };
                let m = Rp3beta::from_walk(&w, &pop, cfg);
                let s = d.score(|l| m.scores(l));
                log("RP3beta", format!("α {alpha}, β {beta}, k {k}"), s, t);
                rp3.push((s, cfg));
            }
        }
    }
    let plain: Vec<Vec<u32>> = d
        .train
        .iter()
        .map(|r| r.iter().map(|e| e.0).collect())
        .collect();
    let mut knn = Vec::new();
    for k in [100, 200, 400, 800, 1600, items]
        .into_iter()
        .filter(|_| on("knn"))
    {
        let t = Instant::now();
        let m = ItemKnn::fit(&plain, items, k);
        let s = d.score(|l| m.scores(l));
        log("item-kNN", format!("k {k}"), s, t);
        knn.push((s, k));
    }
    let mut ials = Vec::new();
    for input in [Input::Binary, Input::LogCounts]
        .into_iter()
        .filter(|_| on("ials"))
    {
        let r = rows(&d.train, input);
        for k in [64, 128, 256, 512] {
            let grid = [10.0, 30.0, 100.0, 300.0]
                .into_iter()
                .flat_map(|l| [3.0, 10.0, 30.0].map(|a| (l, a)));
            for (lambda, alpha) in grid {
                let t = Instant::now();
                let cfg = IalsConfig {
                    k,
                    lambda,
                    alpha,
                    iterations: 15,
                    input,
                };
                let m = IalsCg::fit(&r, items, cfg, 7);
                let s = d.score(|l| m.scores(l));
                log(
                    "iALS",
                    format!("k {k}, λ {lambda}, α {alpha}, {}", input.name()),
                    s,
                    t,
                );
                ials.push((s, cfg));
            }
        }
    }
    // Longer training for the best setting of each width.
    if on("ials") {
        for k in [64, 128, 256, 512] {
            if let Some(cfg) = d_best_at(&ials, k) {
                let cfg = IalsConfig {
                    iterations: 30,
                    ..cfg
                };
                let t = Instant::now();
                let m = IalsCg::fit(&rows(&d.train, cfg.input), items, cfg, 7);
                let s = d.score(|l| m.scores(l));
                log(
                    "iALS",
                    format!(
                        "k {k}, λ {}, α {}, {}, 30 iterations",
                        cfg.lambda,
                        cfg.alpha,
                        cfg.input.name()
                    ),
                    s,
                    t,
                );
                ials.push((s, cfg));
            }
        }
    }
    Best {
        ease: best_by(&ease),
        edlae: best_by(&edlae),
        rp3: best_by(&rp3),
        knn: best_by(&knn),
        ials: best_by(&ials),
        ials_grid: ials,
        trials,
    }
}

/// The shipped taste's search: the best EDLAE pruned to 32, 64 or 128 weights per artist, the
/// best iALS at 64 or 128 factors (the widths a phone folds in within a millisecond or two),
/// and for each pair the blend weights on the 0.1 grid with SVD++ (trained on the training
/// users only) and the neural CF model. The objective is the worse of the two ratios to the best
/// baseline's validation NDCG@10 (at 80% and at 3 likes); the smallest candidate within 0.002 of
/// the best objective is shipped.
pub fn ship(
    d: &Data<'_>,
    best: &Best,
    svd: &mut dyn FnMut(&[ArtistIdx]) -> Vec<f32>,
    neural: &mut dyn FnMut(&[ArtistIdx]) -> Vec<f32>,
    trials: &mut Vec<Trial>,
) -> super::Shipped {
    use super::ensemble;
    let items = d.items();
    let (ecfg, einput) = best.edlae.expect("EDLAE searched");
    let t = Instant::now();
    let ease = Ease::fit(&rows(&d.train, einput), items, ecfg);
    eprintln!("  shipped EDLAE refit ({:.1} s)", t.elapsed().as_secs_f64());
    let reference = best_references(d, best, &ease, trials);
    let mut out: Vec<(f64, usize, super::Shipped)> = Vec::new();
    for k in [64, 128, 256] {
        let Some(icfg) = d_best_at(&best.ials_grid, k) else {
            continue;
        };
        let ials = IalsCg::fit(&rows(&d.train, icfg.input), items, icfg, 7);
        for top in [0, 32] {
            let t = Instant::now();
            let probe = attune_engine::taste::Blend {
                item_item: 1.0,
                ials: 1.0,
                svdpp: 1.0,
                neural: 1.0,
            };
            let m = ensemble::model(&ease, top, &ials, probe);
            let at80 = ensemble::Parts::new(&m, &d.val, svd, neural);
            let at3 = ensemble::Parts::new(&m, &d.val3, svd, neural);
            let (blend, obj, a, b) =
                ensemble::best_blend(d.catalog, &at80, &at3, reference, top > 0);
            let size = m.encode().len();
            let seconds = t.elapsed().as_secs_f64();
            let settings = format!(
                "EDLAE top {top} + iALS k {k} (λ {}, α {}, {}); weights item-item {:.1}, iALS {:.1}, SVD++ {:.1}, NCF {:.1}; 80% {a:.4}, 3 likes {b:.4}; taste.bin {size} B",
                icfg.lambda, icfg.alpha, icfg.input.name(), blend.item_item, blend.ials, blend.svdpp, blend.neural
            );
            eprintln!("  shipped candidate {settings}: worse ratio to the best baseline {obj:.4} ({seconds:.1} s)");
            trials.push(Trial {
                family: "shipped blend",
                settings,
                ndcg: obj,
                seconds,
            });
            out.push((
                obj,
                size,
                super::Shipped {
                    edlae: (ecfg, einput),
                    top,
                    ials: icfg,
                    blend,
                    validation: (a, b),
                },
            ));
        }
    }
    let top = out.iter().map(|x| x.0).fold(f64::MIN, f64::max);
    out.into_iter()
        .filter(|x| x.0 >= top - 0.002)
        .min_by_key(|x| x.1)
        .expect("candidates")
        .2
}

/// The best baseline's validation NDCG@10 at 80% (from the grids) and at 3 likes (the best
/// setting of each family refitted and scored at 3 likes; the best of those).
fn best_references(d: &Data<'_>, best: &Best, edlae: &Ease, trials: &mut Vec<Trial>) -> (f64, f64) {
    let at80 = best
        .trials
        .iter()
        .chain(trials.iter())
        .map(|t| t.ndcg)
        .fold(0.0, f64::max);
    let items = d.items();
    let at3 = |f: &mut dyn FnMut(&[ArtistIdx]) -> Vec<f32>| {
        tune::mean(&tune::per_user(d.catalog, &d.val3, f), true)
    };
    let mut refs: Vec<(String, f64)> = Vec::new();
    if let Some((cfg, input)) = best.ease {
        let m = Ease::fit(&rows(&d.train, input), items, cfg);
        refs.push(("EASE".into(), at3(&mut |l| m.scores(l))));
    }
    refs.push(("EDLAE".into(), at3(&mut |l| edlae.scores(l))));
    let bin = rows(&d.train, Input::Binary);
    if let Some(cfg) = best.rp3 {
        let m = Rp3beta::from_walk(
            &rp3beta::walk(&bin, items, cfg.alpha),
            &rp3beta::popularity(&bin, items),
            cfg,
        );
        refs.push(("RP3beta".into(), at3(&mut |l| m.scores(l))));
    }
    if let Some(k) = best.knn {
        let plain: Vec<Vec<u32>> = d
            .train
            .iter()
            .map(|r| r.iter().map(|e| e.0).collect())
            .collect();
        let m = ItemKnn::fit(&plain, items, k);
        refs.push(("item-kNN".into(), at3(&mut |l| m.scores(l))));
    }
    if let Some(cfg) = best.ials {
        let m = IalsCg::fit(&rows(&d.train, cfg.input), items, cfg, 7);
        refs.push(("iALS".into(), at3(&mut |l| m.scores(l))));
    }
    for (name, s) in &refs {
        eprintln!("  {name} (best setting) at 3 likes: validation NDCG@10 {s:.4}");
        trials.push(Trial {
            family: "at 3 likes",
            settings: format!("{name}, best setting"),
            ndcg: *s,
            seconds: 0.0,
        });
    }
    let at3 = refs.iter().map(|r| r.1).fold(0.0, f64::max);
    eprintln!("  reference: best baseline {at80:.4} at 80%, {at3:.4} at 3 likes");
    (at80, at3)
}

fn d_best_at(grid: &[(f64, IalsConfig)], k: usize) -> Option<IalsConfig> {
    best_by(
        &grid
            .iter()
            .filter(|x| x.1.k == k)
            .copied()
            .collect::<Vec<_>>(),
    )
}

/// The search's trials as a markdown report.
pub fn markdown(trials: &[Trial], cfg: &super::TasteConfig) -> String {
    let mut md = String::from("# Taste models: the validation search\n\nRegenerate with `cargo run -p attune-model-export -- taste-search` (then `taste-build` and `evaluate`).\n\nEvery candidate is fitted on the HetRec training users only and scored by NDCG@10 on the validation users (80% of each user's artists folded in as plain likes, the full catalog ranked). No test user is seen. The shipped blend's objective is the mean of validation NDCG@10 at 80% and at 3 likes.\n\n");
    md.push_str(&format!(
        "Chosen: EASE {:?}; EDLAE {:?}; RP3beta {:?}; item-kNN k {}; iALS {:?}. Shipped: EDLAE top {} + iALS k {} with weights {:?} (validation NDCG@10 {:.4} at 80%, {:.4} at 3 likes).\n\n",
        cfg.ease, cfg.edlae, cfg.rp3, cfg.knn, cfg.ials, cfg.shipped.top, cfg.shipped.ials.k, cfg.shipped.blend, cfg.shipped.validation.0, cfg.shipped.validation.1
    ));
    md.push_str("| family | settings | validation NDCG@10 | fit s |\n|---|---|---|---|\n");
    for t in trials {
        md.push_str(&format!(
            "| {} | {} | {:.4} | {:.1} |\n",
            t.family, t.settings, t.ndcg, t.seconds
        ));
    }
    md
}
