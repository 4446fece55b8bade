//! Neural CF (NeuMF-style, GMF + MLP) input and its place in the taste score. A browser user is
//! never in training, so the model's user side is *item-based*: the user vector is
//! `|N|^-1/2 Σ_{j∈N} Q_j` over the liked artists (FISM / SVD++'s implicit part), computed inside
//! the ONNX graph from [`user_input`]. Training (`model-export/src/ncf`) builds the same input
//! with this function.

use crate::catalog::ArtistIdx;
use crate::rank::standardise;

/// Share of the neural score in the taste score (the rest is SVD++), tuned on the validation
/// users by `model-export evaluate` (`public/report/evaluation.md`).
pub const NEURAL_WEIGHT: f32 = 0.5;

/// The model's input row: `|N|^-1/2` at each liked artist, 0 elsewhere (out-of-range and
/// repeated likes are ignored).
pub fn user_input(likes: &[ArtistIdx], n_items: usize) -> Vec<f32> {
    let mut x = vec![0.0f32; n_items];
    let mut n = 0usize;
    for a in likes {
        if let Some(v) = x.get_mut(a.0 as usize) {
            if *v == 0.0 {
                *v = 1.0;
                n += 1;
            }
        }
    }
    if n > 0 {
        let s = 1.0 / (n as f32).sqrt();
        x.iter_mut().for_each(|v| *v *= s);
    }
    x
}

/// Taste from both CF models: `standardise((1-w)·svd + w·standardise(neural))`, with `svd` already
/// standardised (`Recommender::taste_scores`). Without neural scores (model not loaded yet, or a
/// length mismatch) the SVD++ taste stands alone.
pub fn blend_taste(svd: &[f32], neural: Option<&[f32]>, weight: f32) -> Vec<f32> {
    match neural {
        Some(n) if n.len() == svd.len() && weight > 0.0 => {
            let n = standardise(n);
            let w = weight.clamp(0.0, 1.0);
            standardise(
                &svd.iter()
                    .zip(&n)
                    .map(|(s, n)| (1.0 - w) * s + w * n)
                    .collect::<Vec<_>>(),
            )
        }
        _ => svd.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_scaled_multi_hot_and_ignores_repeats_and_strangers() {
        let x = user_input(&[ArtistIdx(1), ArtistIdx(3), ArtistIdx(1), ArtistIdx(9)], 4);
        let h = 1.0 / 2f32.sqrt();
        assert_eq!(x, vec![0.0, h, 0.0, h]);
        assert_eq!(user_input(&[], 3), vec![0.0; 3]);
    }

    #[test]
    fn blend_falls_back_to_svd_and_mixes_otherwise() {
        let svd = standardise(&[1.0, 2.0, 3.0]);
        assert_eq!(blend_taste(&svd, None, 0.5), svd);
        assert_eq!(blend_taste(&svd, Some(&[1.0, 2.0]), 0.5), svd);
        // Opposite neural order at full weight reverses the ranking.
        let b = blend_taste(&svd, Some(&[3.0, 2.0, 1.0]), 1.0);
        assert!(b[0] > b[1] && b[1] > b[2]);
        let b = blend_taste(&svd, Some(&[3.0, 2.0, 1.0]), 0.0);
        assert_eq!(b, svd);
    }
}
