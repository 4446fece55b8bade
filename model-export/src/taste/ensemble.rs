//! The shipped taste (`taste.bin`): EDLAE pruned to each artist's strongest weights, iALS
//! factors, SVD++ and the neural CF model, blended with weights tuned on the validation users.
//! The objective is the goal itself: the worse of the two ratios to the best baseline's
//! validation NDCG@10, at 80% folded in and at 3 likes, so the blend must serve a new visitor as
//! well as a long-time listener.

use super::ease::Ease;
use super::ials_cg::IalsCg;
use super::tune::{self, Case};
use attune_engine::rank::standardise;
use attune_engine::taste::{Blend, ImplicitFactors, ItemWeights, TasteModel};
use attune_engine::{ArtistIdx, Catalog};

/// Each row's `top` largest-magnitude weights (`top` 0: no item-item part, empty rows).
pub fn prune(e: &Ease, top: usize) -> Vec<Vec<(u32, f32)>> {
    (0..e.items())
        .map(|i| {
            let mut r: Vec<(u32, f32)> = e
                .row(i)
                .iter()
                .enumerate()
                .filter(|&(j, &w)| j != i && w != 0.0)
                .map(|(j, &w)| (j as u32, w))
                .collect();
            r.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
            r.truncate(top);
            r.sort_by_key(|x| x.0);
            r
        })
        .collect()
}

/// The engine's taste model from fitted parts (rounded as the file stores them).
pub fn model(e: &Ease, top: usize, ials: &IalsCg, blend: Blend) -> TasteModel {
    let item_item = ItemWeights::new(&prune(e, top)).expect("catalog-sized rows");
    let factors = ImplicitFactors::new(
        &ials.item_factors(),
        ials.config.lambda as f32,
        ials.config.alpha as f32,
    )
    .expect("finite factors");
    TasteModel::new(item_item, factors, blend)
        .expect("parts agree")
        .quantised()
}

/// Standardised scores of the four parts for each case: item-item, iALS, SVD++, neural.
pub struct Parts {
    cases: Vec<Case>,
    scores: Vec<[Vec<f32>; 4]>,
}

impl Parts {
    /// Scores every case with the parts of `taste` plus the given SVD++ and neural scorers.
    pub fn new(
        taste: &TasteModel,
        cases: &[Case],
        svd: &mut dyn FnMut(&[ArtistIdx]) -> Vec<f32>,
        neural: &mut dyn FnMut(&[ArtistIdx]) -> Vec<f32>,
    ) -> Parts {
        let scores = cases
            .iter()
            .map(|c| {
                [
                    standardise(&taste.item_item.scores(&c.likes)),
                    standardise(&taste.ials.scores(&c.likes)),
                    standardise(&svd(&c.likes)),
                    standardise(&neural(&c.likes)),
                ]
            })
            .collect();
        Parts {
            cases: cases.to_vec(),
            scores,
        }
    }

    /// Mean NDCG@10 of the blend `w`.
    pub fn ndcg(&self, catalog: &Catalog, w: &[f32; 4]) -> f64 {
        let mut i = 0;
        let per = tune::per_user(catalog, &self.cases, &mut |_| {
            let s = &self.scores[i];
            i += 1;
            let mut out = vec![0f32; s[0].len()];
            for (p, &wp) in s.iter().zip(w) {
                if wp > 0.0 {
                    for (o, x) in out.iter_mut().zip(p) {
                        *o += wp * x;
                    }
                }
            }
            out
        });
        tune::mean(&per, true)
    }
}

/// Every blend on the 0.1 grid of the simplex over four parts.
pub fn grid() -> Vec<[f32; 4]> {
    let mut out = Vec::new();
    for a in 0..=10 {
        for b in 0..=10 - a {
            for c in 0..=10 - a - b {
                let d = 10 - a - b - c;
                out.push([a, b, c, d].map(|x| x as f32 / 10.0));
            }
        }
    }
    out
}

/// The blend whose worse ratio to the best baseline (`reference`: its validation NDCG at 80% and
/// at 3 likes) is highest; returns it, that ratio and its two NDCGs.
pub fn best_blend(
    catalog: &Catalog,
    at80: &Parts,
    at3: &Parts,
    reference: (f64, f64),
    has_item_item: bool,
) -> (Blend, f64, f64, f64) {
    let (w, a, b) = grid()
        .into_iter()
        // No weight on a part that is not there (it would only rescale the others).
        .filter(|w| has_item_item || w[0] == 0.0)
        .map(|w| (w, at80.ndcg(catalog, &w), at3.ndcg(catalog, &w)))
        .max_by(|x, y| {
            let f = |v: &(_, f64, f64)| (v.1 / reference.0).min(v.2 / reference.1);
            f(x).total_cmp(&f(y))
        })
        .expect("grid");
    (
        Blend {
            item_item: w[0],
            ials: w[1],
            svdpp: w[2],
            neural: w[3],
        },
        (a / reference.0).min(b / reference.1),
        a,
        b,
    )
}
