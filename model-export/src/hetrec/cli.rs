//! The HetRec commands' bodies: `tune`'s SVD++ grid, the shipped assets loaded and verified, and
//! `evaluate` (every model on the held-out users, the new-visitor table, the reports).

use crate::hetrec;
use crate::hetrec::corpus::{split_of, Corpus, Split};
use crate::hetrec::evaluate::{evaluate as run_eval, group_users, Model};
use crate::hetrec::svdpp::SvdppConfig;
use crate::{ingest, manifest, ncf, taste};
use anyhow::{Context, Result};
use attune_engine::assets::load_recommender;
use attune_engine::ncf::NEURAL_WEIGHT;
use attune_engine::{Manifest, MoodStrength};
use std::path::Path;

pub fn grid(quick: bool) -> Vec<SvdppConfig> {
    let base = SvdppConfig::default();
    let mut out = Vec::new();
    let ks: &[usize] = if quick { &[32] } else { &[32, 64] };
    let regs: &[f32] = if quick { &[0.003] } else { &[0.001, 0.003] };
    let alphas: &[f32] = if quick { &[0.5] } else { &[0.25, 0.5] };
    let negs: &[usize] = if quick { &[8] } else { &[8, 16] };
    for &k in ks {
        for &reg in regs {
            for &alpha in alphas {
                for &negative_ratio in negs {
                    out.push(SvdppConfig {
                        k,
                        reg,
                        alpha,
                        negative_ratio,
                        ..base
                    });
                }
            }
        }
    }
    out
}

/// The shipped catalog and SVD++ model without the taste blend (what `taste-search` and
/// `taste-build` start from), each verified against the manifest.
pub fn load_base(assets: &Path) -> Result<attune_engine::Recommender> {
    let read = |f: &str| manifest::verified(assets, f);
    let catalog = attune_engine::Catalog::decode(&read(attune_engine::assets::CATALOG_FILE)?)?;
    let cf = attune_engine::CfModel::decode(&read(attune_engine::assets::CF_FILE)?)?;
    Ok(attune_engine::Recommender::new(catalog, cf)?)
}

/// The shipped catalog and CF models, verified against their manifest.
pub fn load_assets(assets: &Path) -> Result<attune_engine::Recommender> {
    let manifest_text = std::fs::read_to_string(assets.join("manifest.json"))
        .with_context(|| format!("reading {}/manifest.json", assets.display()))?;
    let manifest = Manifest::parse(&manifest_text)?;
    let mut bytes = std::collections::HashMap::new();
    for f in attune_engine::assets::REQUIRED_FILES {
        bytes.insert(
            f,
            std::fs::read(assets.join(f)).with_context(|| format!("reading {f}"))?,
        );
    }
    Ok(load_recommender(&manifest, |f| {
        bytes.get(f).map(Vec::as_slice)
    })?)
}

pub fn evaluate_cmd(
    data: &Path,
    json: &Path,
    test_users: Option<&Path>,
    assets: &Path,
) -> Result<()> {
    let rec = load_assets(assets)?;
    let (w, beta) = (NEURAL_WEIGHT, MoodStrength::DEFAULT.get());
    let models: [Model; 12] = [
        Model::Popularity,
        Model::Content,
        Model::ItemKnn,
        Model::Ials,
        Model::SvdppImplicitOnly,
        Model::Svdpp,
        Model::Ncf,
        Model::Hybrid {
            neural: 0.0,
            mood: beta,
        },
        Model::Hybrid {
            neural: w,
            mood: 0.0,
        },
        Model::Hybrid {
            neural: w,
            mood: 0.1,
        },
        Model::Hybrid {
            neural: w,
            mood: beta,
        },
        Model::Hybrid {
            neural: 0.0,
            mood: 1.0,
        },
    ];
    let corpus = Corpus::load(data)?;
    let mut extra = tune_baselines(&rec, &corpus);
    let ncf_scorer = ncf::load_scorer(assets, rec.catalog().artists().len())?;
    extra.ncf = Some(ncf_scorer.clone());
    let taste_cfg = taste::TasteConfig::load(Path::new("model-export/config/taste.json"))?;
    extra.named = taste::report::baselines(&taste_cfg, &corpus, &rec);
    let mut models = models.to_vec();
    models.extend((0..extra.named.len()).map(Model::Named));
    models.push(Model::Attune { mood: 0.0 });
    models.push(Model::Attune { mood: beta });
    let sweep = neural_sweep(&rec, &corpus, &extra)?;
    let own = hetrec::evaluate::users_of(&corpus, Split::Test);
    let own_name = "HetRec test split (10% of users, never trained on)";
    let mut sets = vec![run_eval(&rec, own_name, &own, &models, &extra, 7)];
    let mut by_likes = vec![taste::report::by_likes(
        own_name,
        &rec,
        &own,
        &ncf_scorer,
        &extra.named,
    )];
    if let Some(dir) = test_users {
        let plays = ingest::hetrec::load_plays(&dir.join("user_artists.dat"))?;
        let users = group_users(plays.into_iter().map(|p| (p.user, p.artist, p.plays)));
        let name = format!("external test users ({})", dir.display());
        sets.push(run_eval(&rec, &name, &users, &models, &extra, 7));
        by_likes.push(taste::report::by_likes(
            &name,
            &rec,
            &users,
            &ncf_scorer,
            &extra.named,
        ));
    }
    if let Some(dir) = json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(
        json,
        serde_json::to_string_pretty(&serde_json::json!({
            "sets": sets,
            "neural_weight": w,
            "neural_weight_sweep": sweep,
            "taste": taste_cfg,
            "by_likes": by_likes,
        }))? + "\n",
    )?;
    let mut md = String::from("# Attune evaluation: new users folded in on the device\n\nRegenerate with `cargo run -p attune-model-export -- evaluate --data ../shared/data --json public/report/evaluation.json`.\n\nProtocol: each test user is absent from training. 80% of their artists (seeded shuffle) are folded in as plain likes, exactly as the browser does (no play counts); the full catalog is ranked, minus those likes; the other 20% are the relevant items. Metrics are means over users at k = 10. \"Emotional fit\" is the mean fit (0..1) of the top 10 to the user's taste emotion, which stands in for the stated mood; \"quadrant match\" is the share of the top 10 in the same valence-arousal quadrant.\n\n");
    md.push_str(&format!(
        "Tuned on the validation users by NDCG@10: item-kNN keeps each artist's {} most similar artists (cosine over the training users' listening; from 20, 50, 100, 200, 400); the content-based model adds its emotional fit at weight {} (from 0, 0.25, 0.5, 1, 2) and log-popularity at weight {} (from 0, 0.25, 0.5, 1, 2, 4) to its tag match; iALS uses k {}, lambda {}, alpha {} (from k 64/128, lambda 10/30, alpha 2/5 after a first grid k 32/64, lambda 1/10, alpha 5/20 peaked at its edge; 8 alternations; observed pairs binary, as the browser's likes have no play counts). NCF is the shipped `models/ncf.onnx` run by tract, as in the browser (its own search: `ncf-training.md`). Attune's taste is `(1-w)·SVD++ + w·NCF` (each standardised per user); the shipped weight w = {w:.2} (`engine::ncf::NEURAL_WEIGHT`) against the validation sweep below, where SVD++ is trained on the training users only, like NCF (the shipped SVD++ also saw the validation users, which would favour it).\n\n",
        extra.knn.as_ref().map_or(0, |k| k.k),
        extra.content.as_ref().map_or(0.0, |c| c.emotion_weight),
        extra.content.as_ref().map_or(0.0, |c| c.popularity_weight),
        extra.ials.as_ref().map_or(0, |m| m.config.k),
        extra.ials.as_ref().map_or(0.0, |m| m.config.lambda),
        extra.ials.as_ref().map_or(0.0, |m| m.config.alpha),
    ));
    md.push_str(&hetrec::report::sweep_markdown(&sweep));
    md.push('\n');
    md.push_str(&format!("The shipped taste (`taste.bin`, `engine::taste`) blends EDLAE pruned to each artist's {} strongest weights (int8), iALS with {} factors (int8, folded in exactly), SVD++ and NCF, each standardised per user, with weights item-item {:.1}, iALS {:.1}, SVD++ {:.1}, NCF {:.1}, tuned on the validation users for the mean of NDCG@10 at 80% and at 3 likes (search: `taste-search.md`). Its parts and the strongest baselines (EASE, EDLAE, RP3beta, item-kNN, iALS: the rows with their settings, chosen on the same validation users) are refitted on the training and validation users; NCF saw the training users only. Rows marked shipped are exactly what the app computes (`Recommender::taste` + `hybrid_scores`).\n\n", taste_cfg.shipped.top, taste_cfg.shipped.ials.k, taste_cfg.shipped.blend.item_item, taste_cfg.shipped.blend.ials, taste_cfg.shipped.blend.svdpp, taste_cfg.shipped.blend.neural));
    for t in &by_likes {
        md.push_str(&taste::report::markdown(t));
        md.push('\n');
    }
    for s in &sets {
        md.push_str(&hetrec::report::set_markdown(s));
        md.push('\n');
        md.push_str(&hetrec::report::ablation_markdown(s, w, beta));
        md.push('\n');
        md.push_str(&hetrec::report::sampled_markdown(s));
        md.push('\n');
        for m in &s.models {
            println!(
                "{:<60} users {:>4} P@10 {:.4} R@10 {:.4} NDCG@10 {:.4} MAP@10 {:.4} fit {:.3}",
                format!("{} / {}", s.name.split(' ').next().unwrap_or(""), m.model),
                m.metrics.users,
                m.metrics.precision,
                m.metrics.recall,
                m.metrics.ndcg,
                m.metrics.map,
                m.mean_fit
            );
        }
    }
    std::fs::create_dir_all(assets.join("report"))?;
    std::fs::write(assets.join("report/evaluation.md"), md)?;
    manifest::write_manifest(assets)?;
    Ok(())
}

/// Validation NDCG@10 of Attune's hybrid (default mood strength) for each NCF weight. The
/// shipped SVD++ was trained on the validation users too, so the sweep pairs NCF with an SVD++
/// trained like NCF, on the training users only (same catalog, the shipped configuration).
pub fn neural_sweep(
    rec: &attune_engine::Recommender,
    corpus: &Corpus,
    extra: &hetrec::evaluate::Extra,
) -> Result<Vec<(f32, f64)>> {
    let train_only = train_only_svdpp(rec, corpus)?;
    let val = hetrec::evaluate::users_of(corpus, Split::Validation);
    Ok([0.0, 0.25, 0.5, 0.75, 1.0]
        .into_iter()
        .map(|w| {
            let m = Model::Hybrid {
                neural: w,
                mood: MoodStrength::DEFAULT.get(),
            };
            let s = run_eval(&train_only, "validation", &val, &[m], extra, 7).models[0]
                .metrics
                .ndcg;
            eprintln!("  NCF weight {w}: validation NDCG@10 {s:.4}");
            (w, s)
        })
        .collect())
}

/// SVD++ with the shipped configuration trained on the training users only (the shipped one
/// also saw the validation users, which would favour it in any validation search).
pub fn train_only_svdpp(
    rec: &attune_engine::Recommender,
    corpus: &Corpus,
) -> Result<attune_engine::Recommender> {
    let cfg = hetrec::build::load_config(Path::new("model-export/config/svdpp.json"))?;
    let catalog = rec.catalog();
    let index_of = hetrec::corpus::index_of(catalog);
    let users = hetrec::corpus::user_items(corpus, |u| split_of(u) == Split::Train, &index_of);
    let cf = hetrec::svdpp::train(catalog.artists().len(), &users, &cfg)?.quantised();
    Ok(attune_engine::Recommender::new(catalog.clone(), cf)?)
}

/// The baselines the shipped assets lack, tuned by NDCG@10 on the validation users (folded in
/// exactly like the test users): item-kNN (fitted on the training users; neighbours) and the
/// content-based model (emotion weight).
pub fn tune_baselines(
    rec: &attune_engine::Recommender,
    corpus: &Corpus,
) -> hetrec::evaluate::Extra {
    let catalog = rec.catalog();
    let index_of = hetrec::corpus::index_of(catalog);
    let rows: Vec<Vec<u32>> =
        hetrec::corpus::user_items(corpus, |u| split_of(u) == Split::Train, &index_of)
            .into_iter()
            .map(|r| r.into_iter().map(|(i, _)| i).collect())
            .collect();
    let val = hetrec::evaluate::users_of(corpus, Split::Validation);
    let score = |model: Model, extra: &hetrec::evaluate::Extra| {
        run_eval(rec, "validation", &val, &[model], extra, 7).models[0]
            .metrics
            .ndcg
    };
    let best = |scored: Vec<(f64, hetrec::evaluate::Extra)>| {
        scored
            .into_iter()
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .expect("grid")
            .1
    };
    let knn = best(
        [20, 50, 100, 200, 400]
            .into_iter()
            .map(|k| {
                let e = hetrec::evaluate::Extra {
                    knn: Some(hetrec::baselines::item_knn::ItemKnn::fit(
                        &rows,
                        catalog.artists().len(),
                        k,
                    )),
                    ..Default::default()
                };
                let s = score(Model::ItemKnn, &e);
                eprintln!("  item-kNN k {k}: validation NDCG@10 {s:.4}");
                (s, e)
            })
            .collect(),
    );
    let content = best(
        [0.0, 0.25, 0.5, 1.0, 2.0]
            .into_iter()
            .flat_map(|w| [0.0, 0.25, 0.5, 1.0, 2.0, 4.0].map(|p| (w, p)))
            .map(|(w, p)| {
                let e = hetrec::evaluate::Extra {
                    content: Some(hetrec::baselines::content::ContentModel::new(rec, w, p)),
                    ..Default::default()
                };
                let s = score(Model::Content, &e);
                eprintln!(
                    "  content-based emotion weight {w}, popularity {p}: validation NDCG@10 {s:.4}"
                );
                (s, e)
            })
            .collect(),
    );
    let ials = best(
        // A first grid (k 32/64, lambda 1/10, alpha 5/20) had its best at k 64, lambda 10,
        // alpha 5, an edge: this one is centred there.
        [64, 128]
            .into_iter()
            .flat_map(|k| [10.0, 30.0].map(|l| (k, l)))
            .flat_map(|(k, l)| [2.0, 5.0].map(|a| (k, l, a)))
            .map(|(k, lambda, alpha)| {
                let cfg = hetrec::baselines::ials::IalsConfig {
                    k,
                    lambda,
                    alpha,
                    iterations: 8,
                };
                let e = hetrec::evaluate::Extra {
                    ials: Some(hetrec::baselines::ials::Ials::fit(
                        &rows,
                        catalog.artists().len(),
                        cfg,
                        7,
                    )),
                    ..Default::default()
                };
                let s = score(Model::Ials, &e);
                eprintln!("  iALS k {k} lambda {lambda} alpha {alpha}: validation NDCG@10 {s:.4}");
                (s, e)
            })
            .collect(),
    );
    hetrec::evaluate::Extra {
        knn: knn.knn,
        content: content.content,
        ials: ials.ials,
        ncf: None,
        named: Vec::new(),
    }
}
