//! The strongest known taste models for implicit feedback, fitted on the HetRec training users
//! and folded in for a new user from plain likes, as the browser does: EASE and EDLAE (closed-form
//! item-item), RP3beta (graph walks), iALS with a conjugate-gradient solver (wide factor grids on
//! two cores) and the validation-tuned ensemble that Attune ships (`ensemble`).

pub mod ease;
pub mod ensemble;
pub mod ials_cg;
pub mod report;
pub mod rp3beta;
pub mod search;
pub mod tune;

use crate::hetrec::svdpp::UserItems;

/// How a training play count becomes a matrix entry (a browser like is always 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Input {
    /// 1 for every listened artist.
    Binary,
    /// `ln(1 + plays)`.
    LogCounts,
}

impl Input {
    /// The entry for `plays`.
    pub fn value(self, plays: u64) -> f64 {
        match self {
            Input::Binary => 1.0,
            Input::LogCounts => (1.0 + plays as f64).ln(),
        }
    }
    /// Short name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Input::Binary => "binary",
            Input::LogCounts => "log counts",
        }
    }
}

/// Training rows: each user's (catalog index, entry) pairs, sorted by index.
pub type Rows = Vec<Vec<(u32, f64)>>;

/// The training matrix for `input`.
pub fn rows(users: &[UserItems], input: Input) -> Rows {
    users
        .iter()
        .map(|r| r.iter().map(|&(i, p)| (i, input.value(p))).collect())
        .collect()
}

/// Dense `XᵀX` (items x items, row-major f64).
pub fn gram(rows: &Rows, items: usize) -> Vec<f64> {
    let mut g = vec![0.0; items * items];
    for r in rows {
        for &(i, a) in r {
            let row = &mut g[i as usize * items..(i as usize + 1) * items];
            for &(j, b) in r {
                row[j as usize] += a * b;
            }
        }
    }
    g
}

/// What the validation search chose (`model-export/config/taste.json`, written by
/// `model-export taste-search`, read by `taste-build` and `evaluate`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TasteConfig {
    /// Best EASE.
    pub ease: (ease::EaseConfig, Input),
    /// Best EDLAE.
    pub edlae: (ease::EaseConfig, Input),
    /// Best RP3beta.
    pub rp3: rp3beta::Rp3Config,
    /// Best item-kNN neighbourhood.
    pub knn: usize,
    /// Best iALS.
    pub ials: ials_cg::IalsConfig,
    /// The shipped taste.
    pub shipped: Shipped,
}

/// The shipped taste's parts and blend.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Shipped {
    /// EDLAE settings (the best EDLAE).
    pub edlae: (ease::EaseConfig, Input),
    /// Weights kept per artist.
    pub top: usize,
    /// The iALS part (the best setting at the shipped width).
    pub ials: ials_cg::IalsConfig,
    /// Blend weights.
    pub blend: attune_engine::taste::Blend,
    /// Validation NDCG@10 at 80% and at 3 likes.
    pub validation: (f64, f64),
}

impl TasteConfig {
    /// Reads the committed configuration.
    pub fn load(path: &std::path::Path) -> anyhow::Result<TasteConfig> {
        use anyhow::Context;
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "reading {} (run `model-export taste-search`)",
                path.display()
            )
        })?;
        Ok(serde_json::from_str(&text)?)
    }
}

/// The shipped taste fitted on the training and validation users with `cfg.shipped`.
pub fn build(
    cfg: &TasteConfig,
    corpus: &crate::hetrec::corpus::Corpus,
    catalog: &attune_engine::Catalog,
) -> attune_engine::taste::TasteModel {
    use crate::hetrec::corpus::{index_of, split_of, user_items, Split};
    let items = catalog.artists().len();
    let users = user_items(corpus, |u| split_of(u) != Split::Test, &index_of(catalog));
    let s = &cfg.shipped;
    // One thread: the same bytes on any machine (a parallel sum's order depends on the split).
    let par = faer::get_global_parallelism();
    faer::set_global_parallelism(faer::Par::Seq);
    let e = ease::Ease::fit(&rows(&users, s.edlae.1), items, s.edlae.0);
    let i = ials_cg::IalsCg::fit(&rows(&users, s.ials.input), items, s.ials, 7);
    faer::set_global_parallelism(par);
    ensemble::model(&e, s.top, &i, s.blend)
}

#[cfg(test)]
pub(crate) mod tests {
    //! On the real HetRec data and the committed assets (`../shared/data`, or `ATTUNE_DATA`),
    //! and the small fixture the families' unit tests share.
    use super::*;

    /// 40 users in two taste groups, artists {0, 1, 2} and {3, 4, 5}.
    pub(crate) fn two_groups() -> Rows {
        (0..40)
            .map(|u| {
                if u % 2 == 0 {
                    vec![(0, 1.0), (1, 1.0), (2, 1.0)]
                } else {
                    vec![(3, 1.0), (4, 1.0), (5, 1.0)]
                }
            })
            .collect()
    }
    use std::path::{Path, PathBuf};

    fn data() -> PathBuf {
        std::env::var_os("ATTUNE_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
            })
    }

    #[test]
    fn taste_build_reproduces_the_shipped_taste_bin_from_the_committed_settings() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let cfg = TasteConfig::load(&root.join("model-export/config/taste.json")).unwrap();
        let catalog = attune_engine::Catalog::decode(
            &std::fs::read(root.join("public/catalog.bin")).unwrap(),
        )
        .unwrap();
        let corpus =
            crate::hetrec::corpus::Corpus::load(&data()).expect("HetRec in ../shared/data");
        let built = build(&cfg, &corpus, &catalog);
        let shipped = std::fs::read(root.join("public/taste.bin")).unwrap();
        assert_eq!(built.blend, cfg.shipped.blend);
        assert!(
            built.encode() == shipped,
            "public/taste.bin is not what taste-build writes"
        );
    }
}
