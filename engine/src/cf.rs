//! SVD++ for implicit feedback, with the user folded in on the device.
//!
//! Model: `s(u,i) = mu + b_u + b_i + q_i · (p_u + |N(u)|^-1/2 Σ_{j∈N(u)} y_j)`.
//! Training (in `model-export`) fits items with confidence-weighted squared loss on observed pairs
//! (`r = 1`, confidence `c = 1 + alpha·ln(1 + plays/eps)`) and `negative_ratio` uniformly sampled
//! unobserved pairs per observed one (`r = 0`, weight 1).
//!
//! A browser user is never in training. [`CfModel::fold_in`] builds the implicit part `z_u` from the
//! user's likes, then solves `p_u` and `b_u` exactly by weighted least squares over *all* items, the
//! same objective training used in expectation: liked items weigh `like_confidence`, every other
//! item weighs `negative_ratio·|N(u)|/n_items`. With the Gram matrix of the item factors
//! precomputed once, this costs O(|N(u)|·k² + k³) instead of a pass over the catalog.

use crate::binfmt::{quantise_row, Reader, Writer};
use crate::catalog::ArtistIdx;
use crate::error::AssetError;

const MAGIC: &[u8; 4] = b"ATNS";
/// `cf.bin` with int8 factors, a scale per row (`model-export compact` writes it).
const MAGIC_INT8: &[u8; 4] = b"ATNQ";

/// How `cf.bin` stores the factor matrices (bias and parameters are f32 in both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorFormat {
    /// IEEE half floats (`ATNS`, what `build` writes).
    F16,
    /// int8 steps of each row's largest magnitude / 127 (`ATNQ`).
    Int8,
}

impl FactorFormat {
    /// The format of a `cf.bin` file's bytes, by its magic.
    pub fn of(bytes: &[u8]) -> Option<FactorFormat> {
        match bytes.get(..4)? {
            m if m == MAGIC => Some(FactorFormat::F16),
            m if m == MAGIC_INT8 => Some(FactorFormat::Int8),
            _ => None,
        }
    }
}

/// Hyper-parameters the fold-in must share with training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FoldInParams {
    /// Per-sample L2 regularisation of `p_u` and `b_u`, as in SGD training. Over one epoch a user
    /// contributes `|N(u)|·(1 + negative_ratio)` samples, so the fold-in uses that multiple.
    pub lambda: f32,
    /// Confidence of one like (training's confidence at a typical play count).
    pub like_confidence: f32,
    /// Sampled unobserved items per observed one in training.
    pub negative_ratio: f32,
}

/// Trained SVD++ item side.
#[derive(Debug, Clone, PartialEq)]
pub struct CfModel {
    k: usize,
    mu: f32,
    item_bias: Vec<f32>,
    q: Vec<f32>,
    y: Vec<f32>,
    params: FoldInParams,
    /// Σ_i a_i a_iᵀ over all items, a_i = [q_i; 1]; (k+1)², row-major.
    gram: Vec<f64>,
    /// Σ_i a_i (mu + b_i).
    gram_offset: Vec<f64>,
}

/// A folded-in user: the vector that scores items, and what went into it.
#[derive(Debug, Clone, PartialEq)]
pub struct UserVector {
    /// `p_u + z_u`, length k.
    pub factors: Vec<f32>,
    /// User bias (does not change the ranking; kept for predicted scores).
    pub bias: f32,
}

/// How far to fold a user in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldIn {
    /// Only the implicit part `|N(u)|^-1/2 Σ y_j` (`p_u = 0`).
    ImplicitOnly,
    /// Implicit part plus `p_u`, `b_u` solved by weighted least squares.
    LeastSquares,
}

impl CfModel {
    /// Builds a model from raw parts, validating shapes and values.
    pub fn new(
        k: usize,
        mu: f32,
        item_bias: Vec<f32>,
        q: Vec<f32>,
        y: Vec<f32>,
        params: FoldInParams,
    ) -> Result<CfModel, AssetError> {
        let bad = |reason: String| AssetError::Malformed {
            file: "cf.bin".into(),
            reason,
        };
        let n = item_bias.len();
        if k == 0 || k > 512 {
            return Err(bad(format!("factor count {k} out of range 1..=512")));
        }
        if q.len() != n * k || y.len() != n * k {
            return Err(bad(format!("factor matrices do not have {n}x{k} entries")));
        }
        if !(params.lambda > 0.0 && params.like_confidence > 0.0 && params.negative_ratio >= 0.0) {
            return Err(bad("fold-in parameters out of range".into()));
        }
        let d = k + 1;
        let mut gram = vec![0.0f64; d * d];
        let mut gram_offset = vec![0.0f64; d];
        let mut a = vec![0.0f64; d];
        for i in 0..n {
            for f in 0..k {
                a[f] = f64::from(q[i * k + f]);
            }
            a[k] = 1.0;
            let o = f64::from(mu + item_bias[i]);
            for r in 0..d {
                gram_offset[r] += a[r] * o;
                for c in r..d {
                    gram[r * d + c] += a[r] * a[c];
                }
            }
        }
        for r in 0..d {
            for c in 0..r {
                gram[r * d + c] = gram[c * d + r];
            }
        }
        Ok(CfModel {
            k,
            mu,
            item_bias,
            q,
            y,
            params,
            gram,
            gram_offset,
        })
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.item_bias.len()
    }
    /// Number of latent factors.
    pub fn k(&self) -> usize {
        self.k
    }
    /// The fold-in parameters.
    pub fn params(&self) -> FoldInParams {
        self.params
    }
    /// Item factor row q_i.
    pub fn q(&self, i: ArtistIdx) -> &[f32] {
        let i = i.0 as usize;
        &self.q[i * self.k..(i + 1) * self.k]
    }
    /// Implicit factor row y_j.
    pub fn y(&self, j: ArtistIdx) -> &[f32] {
        let j = j.0 as usize;
        &self.y[j * self.k..(j + 1) * self.k]
    }
    /// Item bias b_i.
    pub fn item_bias(&self, i: ArtistIdx) -> f32 {
        self.item_bias[i.0 as usize]
    }

    /// Folds in a user from their liked items (duplicates and out-of-range items are ignored).
    pub fn fold_in(&self, likes: &[ArtistIdx], mode: FoldIn) -> UserVector {
        let k = self.k;
        let mut items: Vec<usize> = likes
            .iter()
            .map(|a| a.0 as usize)
            .filter(|&i| i < self.n_items())
            .collect();
        items.sort_unstable();
        items.dedup();
        let mut z = vec![0.0f32; k];
        if items.is_empty() {
            return UserVector {
                factors: z,
                bias: 0.0,
            };
        }
        let norm = 1.0 / (items.len() as f32).sqrt();
        for &j in &items {
            for (zf, yf) in z.iter_mut().zip(&self.y[j * k..(j + 1) * k]) {
                *zf += yf;
            }
        }
        z.iter_mut().for_each(|x| *x *= norm);
        if mode == FoldIn::ImplicitOnly {
            return UserVector {
                factors: z,
                bias: 0.0,
            };
        }
        // Weighted least squares for x = [p_u; b_u], offsets o_i = mu + b_i + q_i·z.
        let d = k + 1;
        let w0 = f64::from(self.params.negative_ratio) * items.len() as f64 / self.n_items() as f64;
        let c = f64::from(self.params.like_confidence);
        let lambda = f64::from(self.params.lambda)
            * items.len() as f64
            * (1.0 + f64::from(self.params.negative_ratio));
        let zf: Vec<f64> = z.iter().map(|&x| f64::from(x)).collect();
        // A = w0·G + Σ_{i∈N} (c - w0) a_i a_iᵀ + λI
        let mut a_mat: Vec<f64> = self.gram.iter().map(|g| g * w0).collect();
        // rhs = -w0·Σ_all a_i o_i + Σ_{i∈N} [c·a_i(1 - o_i) + w0·a_i o_i]
        // Σ_all a_i o_i = gram_offset + G[:, :k]·z
        let mut rhs = vec![0.0f64; d];
        for (r, rv) in rhs.iter_mut().enumerate() {
            let gz: f64 = (0..k).map(|f| self.gram[r * d + f] * zf[f]).sum();
            *rv = -w0 * (self.gram_offset[r] + gz);
        }
        let mut a = vec![0.0f64; d];
        for &i in &items {
            let qi = &self.q[i * k..(i + 1) * k];
            for f in 0..k {
                a[f] = f64::from(qi[f]);
            }
            a[k] = 1.0;
            let o =
                f64::from(self.mu + self.item_bias[i]) + (0..k).map(|f| a[f] * zf[f]).sum::<f64>();
            for r in 0..d {
                rhs[r] += c * a[r] * (1.0 - o) + w0 * a[r] * o;
                for col in 0..d {
                    a_mat[r * d + col] += (c - w0) * a[r] * a[col];
                }
            }
        }
        for r in 0..d {
            a_mat[r * d + r] += lambda;
        }
        match cholesky_solve(&mut a_mat, &mut rhs, d) {
            Some(()) => {
                let factors = (0..k).map(|f| z[f] + rhs[f] as f32).collect();
                UserVector {
                    factors,
                    bias: rhs[k] as f32,
                }
            }
            // Cannot happen for λ > 0 (the matrix is positive definite), but never panic.
            None => UserVector {
                factors: z,
                bias: 0.0,
            },
        }
    }

    /// Ranking scores for every item: `b_i + q_i · u` (`mu` and `b_u` are constant per user).
    pub fn scores(&self, user: &UserVector) -> Vec<f32> {
        let k = self.k;
        self.q
            .chunks_exact(k)
            .zip(&self.item_bias)
            .map(|(qi, b)| b + dot(qi, &user.factors))
            .collect()
    }

    /// Among `likes`, the item whose implicit factor pushes item `i` up the most, if any does.
    pub fn strongest_neighbour(&self, i: ArtistIdx, likes: &[ArtistIdx]) -> Option<ArtistIdx> {
        let qi = self.q(i);
        likes
            .iter()
            .filter(|&&j| j != i && (j.0 as usize) < self.n_items())
            .map(|&j| (j, dot(qi, self.y(j))))
            .filter(|(_, s)| *s > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(j, _)| j)
    }

    /// Serialises to the `cf.bin` format (factors as f16).
    pub fn encode(&self) -> Vec<u8> {
        self.encode_as(FactorFormat::F16)
    }

    /// Serialises to `cf.bin` with the factors in `format`.
    pub fn encode_as(&self, format: FactorFormat) -> Vec<u8> {
        let mut w = Writer::new(match format {
            FactorFormat::F16 => MAGIC,
            FactorFormat::Int8 => MAGIC_INT8,
        });
        w.u32(self.n_items() as u32);
        w.u16(self.k as u16);
        w.f32(self.mu);
        w.f32(self.params.lambda);
        w.f32(self.params.like_confidence);
        w.f32(self.params.negative_ratio);
        w.f32s(&self.item_bias);
        match format {
            FactorFormat::F16 => {
                w.f16s(&self.q);
                w.f16s(&self.y);
            }
            FactorFormat::Int8 => {
                let rows = |m: &[f32]| -> (Vec<f32>, Vec<i8>) {
                    let (mut scales, mut steps) = (Vec::new(), Vec::new());
                    for row in m.chunks_exact(self.k) {
                        let (s, q) = quantise_row(row);
                        scales.push(s);
                        steps.extend(q);
                    }
                    (scales, steps)
                };
                let ((sq, q), (sy, y)) = (rows(&self.q), rows(&self.y));
                w.f32s(&sq);
                w.f32s(&sy);
                w.i8s(&q);
                w.i8s(&y);
            }
        }
        w.finish()
    }

    /// Parses and validates `cf.bin` (either [`FactorFormat`]).
    pub fn decode(bytes: &[u8]) -> Result<CfModel, AssetError> {
        let format = FactorFormat::of(bytes).unwrap_or(FactorFormat::F16);
        let magic = match format {
            FactorFormat::F16 => MAGIC,
            FactorFormat::Int8 => MAGIC_INT8,
        };
        let mut r = Reader::open("cf.bin", bytes, magic)?;
        let n = r.u32()? as usize;
        let k = r.u16()? as usize;
        let mu = r.f32()?;
        let params = FoldInParams {
            lambda: r.f32()?,
            like_confidence: r.f32()?,
            negative_ratio: r.f32()?,
        };
        let per_item = match format {
            FactorFormat::F16 => k.checked_mul(4).map(|b| b + 4),
            FactorFormat::Int8 => k.checked_mul(2).map(|b| b + 12),
        };
        let expected = per_item
            .and_then(|p| n.checked_mul(p))
            .ok_or_else(|| r.err("size overflow"))?;
        let left = bytes.len().saturating_sub(6 + 4 + 2 + 16);
        if expected != left {
            return Err(r.err(format!(
                "{n} items x {k} factors need {expected} bytes, {left} present"
            )));
        }
        let item_bias = r.f32s(n)?;
        let (q, y) = match format {
            FactorFormat::F16 => (r.f16s(n * k)?, r.f16s(n * k)?),
            FactorFormat::Int8 => {
                let (sq, sy) = (r.f32s(n)?, r.f32s(n)?);
                if k == 0 || sq.iter().chain(&sy).any(|&s| s <= 0.0) {
                    return Err(r.err("a factor scale is not positive"));
                }
                let expand = |steps: Vec<i8>, scales: &[f32]| -> Vec<f32> {
                    steps
                        .chunks_exact(k)
                        .zip(scales)
                        .flat_map(|(row, &s)| row.iter().map(move |&x| f32::from(x) * s))
                        .collect()
                };
                let (q, y) = (r.i8s(n * k)?, r.i8s(n * k)?);
                (expand(q, &sq), expand(y, &sy))
            }
        };
        r.end()?;
        CfModel::new(k, mu, item_bias, q, y, params)
    }

    /// A copy whose factors went through the f16 round trip of [`CfModel::encode`].
    pub fn quantised(&self) -> CfModel {
        CfModel::decode(&self.encode()).expect("own encoding decodes")
    }
}

/// Dot product, written so the compiler vectorises it (also in wasm with simd128).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 4];
    let ca = a.chunks_exact(4);
    let cb = b.chunks_exact(4);
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Solves `A x = b` in place for symmetric positive definite `A` (n×n, row-major); `b` becomes x.
pub(crate) fn cholesky_solve(a: &mut [f64], b: &mut [f64], n: usize) -> Option<()> {
    for j in 0..n {
        let mut s = a[j * n + j];
        for k in 0..j {
            s -= a[j * n + k] * a[j * n + k];
        }
        if s <= 0.0 || !s.is_finite() {
            return None;
        }
        let l = s.sqrt();
        a[j * n + j] = l;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / l;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    Some(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tiny deterministic model: 6 items, k = 3.
    pub(crate) fn tiny() -> CfModel {
        let n = 6;
        let k = 3;
        let q: Vec<f32> = (0..n * k)
            .map(|x| ((x * 7 % 11) as f32 - 5.0) / 10.0)
            .collect();
        let y: Vec<f32> = (0..n * k)
            .map(|x| ((x * 5 % 13) as f32 - 6.0) / 12.0)
            .collect();
        let b: Vec<f32> = (0..n).map(|i| i as f32 / 20.0 - 0.1).collect();
        CfModel::new(
            k,
            0.2,
            b,
            q,
            y,
            FoldInParams {
                lambda: 0.5,
                like_confidence: 3.0,
                negative_ratio: 4.0,
            },
        )
        .unwrap()
    }

    #[test]
    fn least_squares_fold_in_matches_brute_force_normal_equations() {
        let m = tiny();
        let likes = [ArtistIdx(1), ArtistIdx(4)];
        let u = m.fold_in(&likes, FoldIn::LeastSquares);
        let z = m.fold_in(&likes, FoldIn::ImplicitOnly).factors;
        // Gradient of the objective at the solution must vanish.
        let k = m.k();
        let w0 = 4.0 * 2.0 / 6.0;
        let p: Vec<f32> = (0..k).map(|f| u.factors[f] - z[f]).collect();
        let mut grad = vec![0.0f64; k + 1];
        for i in 0..m.n_items() {
            let liked = likes.contains(&ArtistIdx(i as u32));
            let (w, r) = if liked { (3.0, 1.0) } else { (w0, 0.0) };
            let s = 0.2
                + m.item_bias(ArtistIdx(i as u32))
                + u.bias
                + dot(m.q(ArtistIdx(i as u32)), &u.factors);
            let e = f64::from(r - s) * w;
            for f in 0..k {
                grad[f] += e * f64::from(m.q(ArtistIdx(i as u32))[f]);
            }
            grad[k] += e;
        }
        for f in 0..k {
            grad[f] -= 5.0 * f64::from(p[f]); // lambda 0.5 x 2 likes x (1 + 4)
        }
        grad[k] -= 5.0 * f64::from(u.bias);
        assert!(grad.iter().all(|g| g.abs() < 1e-4), "{grad:?}");
    }

    #[test]
    fn empty_and_out_of_range_likes_fold_to_zero() {
        let m = tiny();
        let u = m.fold_in(&[ArtistIdx(99)], FoldIn::LeastSquares);
        assert!(u.factors.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn int8_factors_round_trip_within_half_a_step_and_reject_truncation() {
        let m = tiny();
        let bytes = m.encode_as(FactorFormat::Int8);
        assert_eq!(FactorFormat::of(&bytes), Some(FactorFormat::Int8));
        let back = CfModel::decode(&bytes).unwrap();
        assert_eq!((back.n_items(), back.k()), (m.n_items(), m.k()));
        for i in 0..m.n_items() {
            let a = ArtistIdx(i as u32);
            let step = m.q(a).iter().fold(0f32, |x, v| x.max(v.abs())) / 127.0;
            for (x, y) in m.q(a).iter().zip(back.q(a)) {
                assert!((x - y).abs() <= step / 2.0 + 1e-6, "{x} vs {y}");
            }
        }
        assert_eq!(
            back.encode_as(FactorFormat::Int8),
            bytes,
            "stable re-encoding"
        );
        for cut in [0, 5, 30, bytes.len() - 1] {
            assert!(CfModel::decode(&bytes[..cut]).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn encode_decode_round_trip_and_corruption() {
        let m = tiny();
        let bytes = m.encode();
        let back = CfModel::decode(&bytes).unwrap();
        assert_eq!(back.n_items(), 6);
        assert!(back.q.iter().zip(&m.q).all(|(a, b)| (a - b).abs() < 1e-3));
        for cut in 0..bytes.len() {
            assert!(CfModel::decode(&bytes[..cut]).is_err());
        }
        let mut nan = bytes.clone();
        let at = bytes.len() - 2; // last f16 of y
        nan[at..].copy_from_slice(&half::f16::NAN.to_le_bytes());
        assert!(CfModel::decode(&nan).is_err());
    }

    #[test]
    fn dot_matches_naive() {
        let a: Vec<f32> = (0..13).map(|x| x as f32 * 0.3).collect();
        let b: Vec<f32> = (0..13).map(|x| 1.0 - x as f32 * 0.1).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
    }
}
