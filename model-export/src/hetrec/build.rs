//! `build` and `tune`: from the real data to the shipped assets.

use crate::hetrec::corpus::{build_catalog, split_of, user_items, Corpus, Split};
use crate::hetrec::evaluate::{evaluate, users_of, Model, SetResult};
use crate::hetrec::svdpp::{train, SvdppConfig};
use crate::manifest::write_manifest;
use anyhow::{Context, Result};
use attune_engine::assets::{CATALOG_FILE, CF_FILE};
use attune_engine::Recommender;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Artists need this many training listeners to enter the catalog.
pub const MIN_LISTENERS: u32 = 2;

/// Everything `build` reports.
#[derive(Debug, Serialize)]
pub struct BuildReport {
    /// Catalog and label facts.
    pub catalog: crate::hetrec::corpus::CatalogStats,
    /// SVD++ hyper-parameters used.
    pub svdpp: SvdppConfig,
    /// Training users (train + validation splits).
    pub training_users: usize,
    /// Observed user-artist pairs trained on.
    pub training_pairs: usize,
    /// Byte sizes of the binary assets.
    pub sizes: BTreeMap<String, u64>,
}

/// Reads the tuned SVD++ configuration, or the default when the file does not exist.
pub fn load_config(path: &Path) -> Result<SvdppConfig> {
    if !path.exists() {
        return Ok(SvdppConfig::default());
    }
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Trains on every non-test user and writes `catalog.bin`, `cf.bin`, the build report and the manifest.
pub fn build(data: &Path, out: &Path, cfg: &SvdppConfig) -> Result<BuildReport> {
    let corpus = Corpus::load(data)?;
    let keep = |u: u32| split_of(u) != Split::Test;
    let cat = build_catalog(&corpus, keep, MIN_LISTENERS)?;
    let users = user_items(&corpus, keep, &cat.index_of);
    let n_items = cat.catalog.artists().len();
    let cf = train(n_items, &users, cfg)?;
    std::fs::create_dir_all(out.join("report"))?;
    let catalog_bytes = cat.catalog.encode();
    let cf_bytes = cf.encode();
    std::fs::write(out.join(CATALOG_FILE), &catalog_bytes)?;
    std::fs::write(out.join(CF_FILE), &cf_bytes)?;
    let report = BuildReport {
        catalog: cat.stats,
        svdpp: *cfg,
        training_users: users.len(),
        training_pairs: users.iter().map(Vec::len).sum(),
        sizes: [
            (CATALOG_FILE.to_string(), catalog_bytes.len() as u64),
            (CF_FILE.to_string(), cf_bytes.len() as u64),
        ]
        .into(),
    };
    std::fs::write(
        out.join("report/build.json"),
        serde_json::to_string_pretty(&report)? + "\n",
    )?;
    std::fs::write(
        out.join("report/build.md"),
        crate::hetrec::report::build_markdown(&report),
    )?;
    write_manifest(out)?;
    Ok(report)
}

/// One tried configuration and its validation score.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    /// The configuration.
    pub config: SvdppConfig,
    /// Validation NDCG@10 of the CF-only fold-in.
    pub ndcg: f64,
    /// Validation recall@10.
    pub recall: f64,
}

/// Grid search on the validation users (trained on the train split only); returns trials, best first.
pub fn tune(data: &Path, grid: &[SvdppConfig]) -> Result<(Vec<Trial>, SetResult)> {
    let corpus = Corpus::load(data)?;
    let keep = |u: u32| split_of(u) == Split::Train;
    let cat = build_catalog(&corpus, keep, MIN_LISTENERS)?;
    let users = user_items(&corpus, keep, &cat.index_of);
    let val = users_of(&corpus, Split::Validation);
    let mut trials = Vec::new();
    let mut best: Option<(f64, Recommender)> = None;
    for (i, cfg) in grid.iter().enumerate() {
        let cf = train(cat.catalog.artists().len(), &users, cfg)?.quantised();
        let rec = Recommender::new(cat.catalog.clone(), cf)?;
        let r = evaluate(
            &rec,
            "validation",
            &val,
            &[Model::Svdpp],
            &Default::default(),
            7,
        );
        let m = r.models[0].metrics;
        eprintln!(
            "[tune] {}/{} ndcg@10 {:.4} recall@10 {:.4} {:?}",
            i + 1,
            grid.len(),
            m.ndcg,
            m.recall,
            cfg
        );
        trials.push(Trial {
            config: *cfg,
            ndcg: m.ndcg,
            recall: m.recall,
        });
        if best.as_ref().is_none_or(|b| m.ndcg > b.0) {
            best = Some((m.ndcg, rec));
        }
    }
    trials.sort_by(|a, b| b.ndcg.total_cmp(&a.ndcg));
    let rec = best.context("empty grid")?.1;
    let betas = [0.0, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0];
    let mut models = vec![Model::Popularity, Model::SvdppImplicitOnly];
    models.extend(betas.iter().map(|&b| Model::Hybrid {
        neural: 0.0,
        mood: b,
    }));
    let sweep = evaluate(
        &rec,
        "validation (best config)",
        &val,
        &models,
        &Default::default(),
        7,
    );
    Ok((trials, sweep))
}

#[cfg(test)]
mod tests {
    //! Tests on a small slice of the real data in `../shared/data` (override with `ATTUNE_DATA`).
    use super::*;
    use crate::hetrec::corpus::build_catalog;
    use crate::ingest::test_data_root as data_root;
    use crate::rng::hash_id;
    use std::sync::OnceLock;

    fn corpus() -> &'static Corpus {
        static C: OnceLock<Corpus> = OnceLock::new();
        C.get_or_init(|| {
            Corpus::load(&data_root())
                .expect("the real data must be in ../shared/data (or ATTUNE_DATA)")
        })
    }

    /// A quarter of the training users: the slice.
    fn in_slice(u: u32) -> bool {
        split_of(u) == Split::Train && hash_id(u, 0x51).is_multiple_of(4)
    }

    #[test]
    fn real_data_loads_with_expected_shape() {
        let c = corpus();
        assert!(
            c.hetrec.artists.len() > 17_000,
            "{}",
            c.hetrec.artists.len()
        );
        assert!(c.hetrec.plays.len() > 80_000);
        assert!(c.deezer.len() > 18_000);
        assert!(c.nrc.len() > 19_000 && c.warriner.len() > 13_000);
        let shares = [Split::Train, Split::Validation, Split::Test].map(|s| {
            let users: std::collections::HashSet<u32> =
                c.hetrec.plays.iter().map(|p| p.user).collect();
            users.iter().filter(|&&u| split_of(u) == s).count()
        });
        assert!(shares[2] > 120 && shares[2] < 250, "test users {shares:?}");
    }

    #[test]
    fn slice_catalog_has_emotion_and_tracks() {
        let cat = build_catalog(corpus(), in_slice, 2).unwrap();
        let s = &cat.stats;
        assert!(s.artists > 500, "{s:?}");
        assert!(s.nrc_coverage as f64 / s.artists as f64 > 0.8, "{s:?}");
        assert!(s.tracks > 1000, "{s:?}");
        // The two lexicons should broadly agree on valence.
        assert!(s.nrc_vs_warriner[0].unwrap() > 0.5, "{s:?}");
        let bytes = cat.catalog.encode();
        assert_eq!(
            attune_engine::Catalog::decode(&bytes)
                .unwrap()
                .artists()
                .len(),
            s.artists
        );
    }

    #[test]
    fn svdpp_on_a_slice_beats_popularity_and_is_deterministic() {
        let c = corpus();
        let cat = build_catalog(c, in_slice, 2).unwrap();
        let users = user_items(c, in_slice, &cat.index_of);
        let cfg = SvdppConfig {
            k: 16,
            epochs: 15,
            ..SvdppConfig::default()
        };
        let a = train(cat.catalog.artists().len(), &users, &cfg).unwrap();
        let b = train(cat.catalog.artists().len(), &users, &cfg).unwrap();
        assert_eq!(a.encode(), b.encode(), "same seed, same bytes");
        let rec = Recommender::new(cat.catalog.clone(), a.quantised()).unwrap();
        let val = crate::hetrec::evaluate::group_users(
            c.hetrec
                .plays
                .iter()
                .filter(|p| split_of(p.user) == Split::Validation)
                .map(|p| (p.user, p.artist, p.plays)),
        );
        let r = evaluate(
            &rec,
            "slice",
            &val,
            &[Model::Popularity, Model::Svdpp],
            &Default::default(),
            7,
        );
        let (pop, cf) = (r.models[0].metrics, r.models[1].metrics);
        assert!(r.users > 100);
        assert!(
            cf.ndcg > pop.ndcg * 1.2,
            "SVD++ {cf:?} vs popularity {pop:?}"
        );
    }
}
