//! The shipped taste model (`taste.bin`): a validation-tuned blend of collaborative filters that
//! all fold a visitor in from plain likes, with no training step on the device.
//!
//! - [`ItemWeights`]: sparse item-item weights (EDLAE, the strongest closed-form model on the
//!   evaluation, pruned to each artist's strongest neighbours, int8 with a scale per row): the
//!   score of an artist is the sum of the liked artists' weights towards it.
//! - [`ImplicitFactors`]: iALS item factors (int8, a scale per row); the user is folded in by the
//!   exact least-squares step `(YᵀY + λI + α Σ y yᵀ)⁻¹ (1+α) Σ y` over the liked artists.
//! - [`Blend`]: the weights of those two, SVD++ (`cf.bin`) and the neural CF model, each
//!   standardised per user first; a part that is absent (the neural model before the worker
//!   answers) drops out and the others are renormalised.
//!
//! `model-export evaluate` scores exactly these functions (`public/report/evaluation.md`).

use crate::binfmt::{quantise_row, Reader, Writer};
use crate::catalog::ArtistIdx;
use crate::cf::cholesky_solve;
use crate::error::AssetError;
use crate::rank::standardise;

/// File name of the taste model.
pub const TASTE_FILE: &str = "taste.bin";
const MAGIC: &[u8; 4] = b"ATNT";

fn bad(reason: impl Into<String>) -> AssetError {
    AssetError::Malformed {
        file: TASTE_FILE.into(),
        reason: reason.into(),
    }
}

/// Weights of the parts of the taste (each part's scores standardised per user first).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Blend {
    /// Sparse item-item weights ([`ItemWeights`]).
    pub item_item: f32,
    /// iALS ([`ImplicitFactors`]).
    pub ials: f32,
    /// SVD++ (`cf.bin`).
    pub svdpp: f32,
    /// The neural CF model (`models/ncf.onnx`), once it has answered.
    pub neural: f32,
}

/// Sparse item-item weights, one row per catalog artist, int8 with a per-row scale.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemWeights {
    /// Row starts into `index`/`value` (`n + 1` entries).
    start: Vec<u32>,
    index: Vec<u16>,
    /// int8 weights; the weight is `q · scale[row]`.
    q: Vec<i8>,
    scale: Vec<f32>,
}

impl ItemWeights {
    /// From rows of (target artist, weight); indices must be below `u16::MAX` and the item count.
    /// The weights are stored as int8 steps of each row's largest magnitude / 127.
    pub fn new(rows: &[Vec<(u32, f32)>]) -> Result<ItemWeights, AssetError> {
        let n = rows.len();
        if n > u16::MAX as usize {
            return Err(bad(format!("{n} items: at most 65,535 fit a u16 index")));
        }
        let mut start = vec![0u32];
        let (mut index, mut qs, mut scales) = (Vec::new(), Vec::new(), Vec::new());
        for r in rows {
            let (scale, q) = quantise_row(&r.iter().map(|e| e.1).collect::<Vec<_>>());
            for (&(j, _), q) in r.iter().zip(q) {
                if j as usize >= n {
                    return Err(bad(format!("weight towards item {j} of {n}")));
                }
                if q != 0 {
                    index.push(j as u16);
                    qs.push(q);
                }
            }
            scales.push(scale);
            start.push(index.len() as u32);
        }
        Ok(ItemWeights {
            start,
            index,
            q: qs,
            scale: scales,
        })
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.start.len() - 1
    }

    /// Stored weights in all.
    pub fn nonzeros(&self) -> usize {
        self.index.len()
    }

    fn row(&self, i: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let (a, b) = (self.start[i] as usize, self.start[i + 1] as usize);
        let scale = self.scale[i];
        self.index[a..b]
            .iter()
            .zip(&self.q[a..b])
            .map(move |(&j, &q)| (j as usize, f32::from(q) * scale))
    }

    /// Raw scores of every artist: the sum of the liked artists' rows (repeats and strangers
    /// ignored).
    pub fn scores(&self, likes: &[ArtistIdx]) -> Vec<f32> {
        let mut s = vec![0f32; self.n_items()];
        for i in distinct(likes, self.n_items()) {
            for (j, w) in self.row(i) {
                s[j] += w;
            }
        }
        s
    }

    /// The liked artist whose weight towards `target` is largest (positive), if any.
    pub fn strongest_neighbour(&self, target: ArtistIdx, likes: &[ArtistIdx]) -> Option<ArtistIdx> {
        distinct(likes, self.n_items())
            .into_iter()
            .filter_map(|i| {
                self.row(i)
                    .find(|&(j, _)| j == target.0 as usize)
                    .map(|(_, w)| (i, w))
            })
            .filter(|&(_, w)| w > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(i, _)| ArtistIdx(i as u32))
    }

    fn encode(&self, w: &mut Writer) {
        w.u32(self.n_items() as u32);
        w.u32(self.nonzeros() as u32);
        for i in 0..self.n_items() {
            let (a, b) = (self.start[i] as usize, self.start[i + 1] as usize);
            w.u16((b - a) as u16);
            w.f32(self.scale[i]);
            for (&j, &q) in self.index[a..b].iter().zip(&self.q[a..b]) {
                w.u16(j);
                w.i8(q);
            }
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<ItemWeights, AssetError> {
        let n = r.u32()? as usize;
        let nnz = r.u32()? as usize;
        if n > u16::MAX as usize {
            return Err(r.err(format!("{n} items: more than a u16 index holds")));
        }
        let mut start = Vec::with_capacity(n + 1);
        start.push(0u32);
        let mut index = Vec::with_capacity(nnz.min(1 << 24));
        let mut qs = Vec::with_capacity(nnz.min(1 << 24));
        let mut scales = Vec::with_capacity(n);
        for _ in 0..n {
            let len = r.u16()? as usize;
            let scale = r.f32()?;
            if !scale.is_finite() || scale <= 0.0 {
                return Err(r.err(format!("row scale {scale} is not a positive number")));
            }
            for _ in 0..len {
                let j = r.u16()?;
                let q = r.i8()?;
                if j as usize >= n {
                    return Err(r.err(format!("weight towards item {j} of {n}")));
                }
                index.push(j);
                qs.push(q);
            }
            scales.push(scale);
            start.push(index.len() as u32);
        }
        if index.len() != nnz {
            return Err(r.err(format!("{} weights, the header says {nnz}", index.len())));
        }
        Ok(ItemWeights {
            start,
            index,
            q: qs,
            scale: scales,
        })
    }
}

/// iALS item factors and the fold-in's hyper-parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ImplicitFactors {
    k: usize,
    lambda: f32,
    alpha: f32,
    /// `n x k`, row-major int8; factor = `q · scale[row]`.
    q: Vec<i8>,
    scale: Vec<f32>,
    /// The same, dequantised.
    y: Vec<f32>,
    /// `YᵀY`, `k x k`.
    gram: Vec<f64>,
}

impl ImplicitFactors {
    /// From item factor rows (int8-rounded per row, as stored), `lambda` and `alpha`.
    pub fn new(rows: &[Vec<f32>], lambda: f32, alpha: f32) -> Result<ImplicitFactors, AssetError> {
        let k = rows.first().map_or(0, Vec::len);
        if k == 0 || k > 512 || rows.iter().any(|r| r.len() != k) {
            return Err(bad(format!(
                "iALS factors must be 1..=512 wide and equal, got {k}"
            )));
        }
        let (mut qs, mut scales) = (Vec::with_capacity(rows.len() * k), Vec::new());
        for r in rows {
            let (scale, q) = quantise_row(r);
            qs.extend(q);
            scales.push(scale);
        }
        ImplicitFactors::from_quantised(k, lambda, alpha, qs, scales)
    }

    fn from_quantised(
        k: usize,
        lambda: f32,
        alpha: f32,
        q: Vec<i8>,
        scale: Vec<f32>,
    ) -> Result<ImplicitFactors, AssetError> {
        if !(lambda > 0.0 && lambda.is_finite() && alpha >= 0.0 && alpha.is_finite()) {
            return Err(bad(format!("iALS λ {lambda} / α {alpha} out of range")));
        }
        if scale.is_empty() {
            return Err(bad("iALS factors for no items"));
        }
        let y: Vec<f32> = q
            .chunks_exact(k)
            .zip(&scale)
            .flat_map(|(row, &s)| row.iter().map(move |&v| f32::from(v) * s))
            .collect();
        // YᵀY is symmetric: sum the upper triangle (this runs at every page load) and mirror it.
        let mut gram = vec![0f64; k * k];
        for row in y.chunks_exact(k) {
            for a in 0..k {
                let ra = f64::from(row[a]);
                for b in a..k {
                    gram[a * k + b] += ra * f64::from(row[b]);
                }
            }
        }
        for a in 0..k {
            for b in 0..a {
                gram[a * k + b] = gram[b * k + a];
            }
        }
        Ok(ImplicitFactors {
            k,
            lambda,
            alpha,
            q,
            scale,
            y,
            gram,
        })
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.y.len() / self.k
    }

    /// Factors.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Raw scores of every artist for a user folded in from these likes.
    pub fn scores(&self, likes: &[ArtistIdx]) -> Vec<f32> {
        let k = self.k;
        let items = distinct(likes, self.n_items());
        let alpha = f64::from(self.alpha);
        let mut a = self.gram.clone();
        let mut b = vec![0f64; k];
        for &i in &items {
            let yi = &self.y[i * k..(i + 1) * k];
            for p in 0..k {
                let yp = f64::from(yi[p]);
                b[p] += (1.0 + alpha) * yp;
                for q in 0..k {
                    a[p * k + q] += alpha * yp * f64::from(yi[q]);
                }
            }
        }
        for p in 0..k {
            a[p * k + p] += f64::from(self.lambda);
        }
        if items.is_empty() || cholesky_solve(&mut a, &mut b, k).is_none() {
            return vec![0.0; self.n_items()];
        }
        let x: Vec<f32> = b.iter().map(|&v| v as f32).collect();
        self.y
            .chunks_exact(k)
            .map(|row| crate::cf::dot(row, &x))
            .collect()
    }

    fn encode(&self, w: &mut Writer) {
        w.u32(self.n_items() as u32);
        w.u16(self.k as u16);
        w.f32(self.lambda);
        w.f32(self.alpha);
        for (row, &scale) in self.q.chunks_exact(self.k).zip(&self.scale) {
            w.f32(scale);
            for &q in row {
                w.i8(q);
            }
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<ImplicitFactors, AssetError> {
        let n = r.u32()? as usize;
        let k = r.u16()? as usize;
        let (lambda, alpha) = (r.f32()?, r.f32()?);
        if k == 0 || k > 512 {
            return Err(r.err(format!("{k} iALS factors (1..=512)")));
        }
        let mut q = Vec::with_capacity((n * k).min(1 << 26));
        let mut scales = Vec::with_capacity(n.min(1 << 20));
        for _ in 0..n {
            let scale = r.f32()?;
            if !scale.is_finite() || scale <= 0.0 {
                return Err(r.err(format!("row scale {scale} is not a positive number")));
            }
            scales.push(scale);
            for _ in 0..k {
                q.push(r.i8()?);
            }
        }
        ImplicitFactors::from_quantised(k, lambda, alpha, q, scales)
    }
}

/// The liked items, in range and without repeats, in first-seen order.
fn distinct(likes: &[ArtistIdx], n: usize) -> Vec<usize> {
    let mut seen = std::collections::HashSet::new();
    likes
        .iter()
        .map(|a| a.0 as usize)
        .filter(|&i| i < n && seen.insert(i))
        .collect()
}

/// The whole taste model.
#[derive(Debug, Clone, PartialEq)]
pub struct TasteModel {
    /// Sparse item-item weights.
    pub item_item: ItemWeights,
    /// iALS factors.
    pub ials: ImplicitFactors,
    /// How the parts are blended.
    pub blend: Blend,
}

impl TasteModel {
    /// Checks that the parts agree on the item count and the weights are sane.
    pub fn new(
        item_item: ItemWeights,
        ials: ImplicitFactors,
        blend: Blend,
    ) -> Result<TasteModel, AssetError> {
        if item_item.n_items() != ials.n_items() {
            return Err(bad(format!(
                "item-item weights cover {} items, iALS {}",
                item_item.n_items(),
                ials.n_items()
            )));
        }
        let w = [blend.item_item, blend.ials, blend.svdpp, blend.neural];
        if w.iter().any(|x| !x.is_finite() || *x < 0.0) || w.iter().sum::<f32>() <= 0.0 {
            return Err(bad(format!(
                "blend weights {w:?} must be >= 0 and not all 0"
            )));
        }
        Ok(TasteModel {
            item_item,
            ials,
            blend,
        })
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.item_item.n_items()
    }

    /// The blended taste, standardised: `standardise(Σ w_c · standardise(s_c))` over the parts
    /// present (`svd`: SVD++ scores, standardised; `neural`: the neural CF model's raw scores).
    pub fn scores(
        &self,
        likes: &[ArtistIdx],
        svd: Option<&[f32]>,
        neural: Option<&[f32]>,
    ) -> Vec<f32> {
        let n = self.n_items();
        let mut parts: Vec<(f32, Vec<f32>)> = Vec::with_capacity(4);
        if self.blend.item_item > 0.0 {
            parts.push((
                self.blend.item_item,
                standardise(&self.item_item.scores(likes)),
            ));
        }
        if self.blend.ials > 0.0 {
            parts.push((self.blend.ials, standardise(&self.ials.scores(likes))));
        }
        if let Some(s) = svd.filter(|s| s.len() == n && self.blend.svdpp > 0.0) {
            parts.push((self.blend.svdpp, s.to_vec()));
        }
        if let Some(s) = neural.filter(|s| s.len() == n && self.blend.neural > 0.0) {
            parts.push((self.blend.neural, standardise(s)));
        }
        let mut out = vec![0f32; n];
        for (w, s) in &parts {
            for (o, x) in out.iter_mut().zip(s) {
                *o += w * x;
            }
        }
        standardise(&out)
    }

    /// Serialises to `taste.bin`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(MAGIC);
        let b = self.blend;
        w.f32s(&[b.item_item, b.ials, b.svdpp, b.neural]);
        self.item_item.encode(&mut w);
        self.ials.encode(&mut w);
        w.finish()
    }

    /// Parses and validates `taste.bin`.
    pub fn decode(bytes: &[u8]) -> Result<TasteModel, AssetError> {
        let mut r = Reader::open(TASTE_FILE, bytes, MAGIC)?;
        let w = r.f32s(4)?;
        let blend = Blend {
            item_item: w[0],
            ials: w[1],
            svdpp: w[2],
            neural: w[3],
        };
        let item_item = ItemWeights::decode(&mut r)?;
        let ials = ImplicitFactors::decode(&mut r)?;
        r.end()?;
        TasteModel::new(item_item, ials, blend)
    }

    /// A copy that went through the file's rounding (what the browser scores).
    pub fn quantised(&self) -> TasteModel {
        TasteModel::decode(&self.encode()).expect("own encoding decodes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> TasteModel {
        // Two taste groups {0, 1, 2} and {3, 4, 5}.
        let rows: Vec<Vec<(u32, f32)>> = (0..6u32)
            .map(|i| {
                let g = i / 3 * 3;
                (g..g + 3).filter(|&j| j != i).map(|j| (j, 0.5)).collect()
            })
            .collect();
        let factors: Vec<Vec<f32>> = (0..6)
            .map(|i| {
                if i < 3 {
                    vec![1.0, 0.1]
                } else {
                    vec![0.1, 1.0]
                }
            })
            .collect();
        TasteModel::new(
            ItemWeights::new(&rows).unwrap(),
            ImplicitFactors::new(&factors, 1.0, 5.0).unwrap(),
            Blend {
                item_item: 0.5,
                ials: 0.5,
                svdpp: 0.0,
                neural: 0.2,
            },
        )
        .unwrap()
    }

    #[test]
    fn likes_pull_their_group_up_in_every_part() {
        let m = model();
        let likes = [ArtistIdx(0)];
        for s in [
            m.item_item.scores(&likes),
            m.ials.scores(&likes),
            m.scores(&likes, None, None),
        ] {
            assert!(s[1] > s[4] && s[2] > s[5], "{s:?}");
        }
        assert_eq!(
            m.item_item.strongest_neighbour(ArtistIdx(1), &likes),
            Some(ArtistIdx(0))
        );
        assert_eq!(m.item_item.strongest_neighbour(ArtistIdx(4), &likes), None);
    }

    #[test]
    fn a_missing_part_drops_out_and_a_present_one_counts() {
        let m = model();
        let likes = [ArtistIdx(0)];
        let base = m.scores(&likes, None, None);
        // Neural scores that favour the other group move the blend.
        let neural = [0.0, 0.0, 0.0, 9.0, 9.0, 9.0];
        let with = m.scores(&likes, None, Some(&neural));
        assert_ne!(base, with);
        // A length mismatch is ignored, not a panic.
        assert_eq!(m.scores(&likes, None, Some(&[1.0])), base);
        assert_eq!(m.scores(&[], None, None), vec![0.0; 6]);
    }

    #[test]
    fn round_trips_and_rejects_every_truncation() {
        let m = model();
        let bytes = m.encode();
        assert_eq!(TasteModel::decode(&bytes).unwrap(), m.quantised());
        assert_eq!(m.quantised().encode(), bytes, "quantising is idempotent");
        for cut in 0..bytes.len() {
            assert!(TasteModel::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(TasteModel::decode(&long).is_err());
    }

    #[test]
    fn rejects_hostile_values() {
        let m = model();
        let mut bytes = m.encode();
        // Blend weights are the first four f32s after magic + version.
        bytes[6..10].copy_from_slice(&(-1f32).to_le_bytes());
        assert!(TasteModel::decode(&bytes).is_err());
        let rows = vec![vec![(7u32, 1.0f32)]];
        assert!(ItemWeights::new(&rows).is_err());
        assert!(ImplicitFactors::new(&[vec![f32::NAN; 0]], 1.0, 1.0).is_err());
    }
}
