//! One shard of a sharded catalogue (`ATSH`): a run of items with int8 factors.
//!
//! Layout after the common header: first item (u32), item count (u32), dim (u32); then per item
//! the factor scale (f32), the bias (f32), and after those the factors (`dim` int8 each, the
//! factor is `q · scale`) and the valence/arousal (two int8, `x / 127`).

use crate::binfmt::{quantise_row, Reader, Writer};
use crate::error::AssetError;

const MAGIC: &[u8; 4] = b"ATSH";

/// A decoded shard.
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    /// Global number of the first item.
    pub first: u32,
    /// Factors per item.
    pub dim: usize,
    /// Per-item factor scale.
    pub scale: Vec<f32>,
    /// Per-item bias (added to the dot product).
    pub bias: Vec<f32>,
    /// int8 factors, `len × dim`, row-major.
    pub q: Vec<i8>,
    /// Valence and arousal per item, in steps of 1/127.
    pub emotion: Vec<[i8; 2]>,
}

fn unit_to_i8(x: f32) -> i8 {
    (x.clamp(-1.0, 1.0) * 127.0).round() as i8
}

impl Shard {
    /// Quantises `rows` (`bias.len() × dim` factors) starting at item `first`.
    pub fn quantise(
        first: u32,
        dim: usize,
        rows: &[f32],
        bias: &[f32],
        emotion: &[(f32, f32)],
    ) -> Shard {
        assert_eq!(rows.len(), bias.len() * dim, "rows × dim");
        assert_eq!(emotion.len(), bias.len(), "one emotion per item");
        let mut scale = Vec::with_capacity(bias.len());
        let mut q = Vec::with_capacity(rows.len());
        for row in rows.chunks_exact(dim) {
            let (s, r) = quantise_row(row);
            scale.push(s);
            q.extend(r);
        }
        Shard {
            first,
            dim,
            scale,
            bias: bias.to_vec(),
            q,
            emotion: emotion
                .iter()
                .map(|&(v, a)| [unit_to_i8(v), unit_to_i8(a)])
                .collect(),
        }
    }

    /// Items in the shard.
    pub fn len(&self) -> usize {
        self.bias.len()
    }

    /// Whether the shard has no items.
    pub fn is_empty(&self) -> bool {
        self.bias.is_empty()
    }

    /// Item `i`'s valence and arousal.
    pub fn emotion(&self, i: usize) -> (f32, f32) {
        let [v, a] = self.emotion[i];
        (f32::from(v) / 127.0, f32::from(a) / 127.0)
    }

    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(MAGIC);
        w.u32(self.first);
        w.u32(self.len() as u32);
        w.u32(self.dim as u32);
        w.f32s(&self.scale);
        w.f32s(&self.bias);
        w.i8s(&self.q);
        for e in &self.emotion {
            w.i8s(e);
        }
        w.finish()
    }

    /// Decodes and checks a shard file named `file`.
    pub fn decode(file: &str, bytes: &[u8]) -> Result<Shard, AssetError> {
        let mut r = Reader::open(file, bytes, MAGIC)?;
        let first = r.u32()?;
        let n = r.u32()? as usize;
        let dim = r.u32()? as usize;
        if dim == 0 || dim > 1024 {
            return Err(r.err(format!("dim {dim} out of range 1..=1024")));
        }
        let need = n
            .checked_mul(dim + 10)
            .ok_or_else(|| r.err("size overflows"))?;
        if need + 18 != bytes.len() {
            return Err(r.err(format!(
                "{n} items of {dim} factors need {} bytes, the file has {}",
                need + 18,
                bytes.len()
            )));
        }
        let scale = r.f32s(n)?;
        if scale.iter().any(|&s| s <= 0.0) {
            return Err(r.err("a factor scale is not positive"));
        }
        let bias = r.f32s(n)?;
        let q = r.i8s(n * dim)?;
        let e = r.i8s(n * 2)?;
        r.end()?;
        Ok(Shard {
            first,
            dim,
            scale,
            bias,
            q,
            emotion: e.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample(first: u32, n: usize, dim: usize) -> Shard {
        let rows: Vec<f32> = (0..n * dim)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 0.3)
            .collect();
        let bias: Vec<f32> = (0..n).map(|i| 1.0 - i as f32 / n as f32).collect();
        let emo: Vec<(f32, f32)> = (0..n).map(|i| ((i % 3) as f32 - 1.0, 0.5)).collect();
        Shard::quantise(first, dim, &rows, &bias, &emo)
    }

    #[test]
    fn round_trip_and_every_truncation_is_an_error() {
        let s = sample(32, 20, 8);
        let bytes = s.encode();
        assert_eq!(Shard::decode("s.bin", &bytes).unwrap(), s);
        for cut in 0..bytes.len() {
            assert!(Shard::decode("s.bin", &bytes[..cut]).is_err(), "cut {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Shard::decode("s.bin", &extra).is_err());
    }

    #[test]
    fn quantised_factors_are_within_half_a_step() {
        let row = [0.5f32, -0.25, 0.125, 0.0];
        let (s, q) = quantise_row(&row);
        for (x, q) in row.iter().zip(q) {
            assert!((x - f32::from(q) * s).abs() <= s / 2.0 + 1e-7);
        }
    }
}
