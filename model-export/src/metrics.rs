//! Full-ranking top-k metrics (binary relevance).

use serde::Serialize;
use std::collections::HashSet;

/// Sums of per-user metrics; divide by `users` for the means.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct TopK {
    /// Users evaluated.
    pub users: usize,
    /// Mean precision@k.
    pub precision: f64,
    /// Mean recall@k.
    pub recall: f64,
    /// Mean NDCG@k.
    pub ndcg: f64,
    /// Mean average precision@k (normalised by min(k, |relevant|)).
    pub map: f64,
    /// Mean F1@k (per user, 0 without a hit).
    #[serde(default)]
    pub f1: f64,
}

impl TopK {
    /// Adds one user's ranking. `relevant` counts every held-out item, also ones the model cannot
    /// rank (absent from the catalog): they are misses, not dropped.
    pub fn add(&mut self, ranked: &[u32], relevant: &HashSet<u32>, n_relevant: usize, k: usize) {
        if n_relevant == 0 {
            return;
        }
        let mut hits = 0usize;
        let mut dcg = 0.0;
        let mut ap = 0.0;
        for (pos, item) in ranked.iter().take(k).enumerate() {
            if relevant.contains(item) {
                hits += 1;
                dcg += 1.0 / ((pos + 2) as f64).log2();
                ap += hits as f64 / (pos + 1) as f64;
            }
        }
        let ideal = n_relevant.min(k);
        let idcg: f64 = (0..ideal).map(|p| 1.0 / ((p + 2) as f64).log2()).sum();
        self.users += 1;
        let (p, r) = (hits as f64 / k as f64, hits as f64 / n_relevant as f64);
        if hits > 0 {
            self.f1 += 2.0 * p * r / (p + r);
        }
        self.precision += hits as f64 / k as f64;
        self.recall += hits as f64 / n_relevant as f64;
        self.ndcg += dcg / idcg;
        self.map += ap / ideal as f64;
    }

    /// The means over users.
    pub fn mean(&self) -> TopK {
        let n = self.users.max(1) as f64;
        TopK {
            users: self.users,
            precision: self.precision / n,
            recall: self.recall / n,
            ndcg: self.ndcg / n,
            map: self.map / n,
            f1: self.f1 / n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_empty_rankings() {
        let rel: HashSet<u32> = [1, 2].into_iter().collect();
        let mut m = TopK::default();
        m.add(&[1, 2, 3], &rel, 2, 10);
        let p = m.mean();
        assert!(
            (p.recall - 1.0).abs() < 1e-12
                && (p.ndcg - 1.0).abs() < 1e-12
                && (p.map - 1.0).abs() < 1e-12
        );
        assert!((p.precision - 0.2).abs() < 1e-12);
        assert!((p.f1 - 2.0 * 0.2 / 1.2).abs() < 1e-12);
        let mut m = TopK::default();
        m.add(&[5, 6], &rel, 2, 10);
        assert_eq!(m.mean().ndcg, 0.0);
    }

    #[test]
    fn unrankable_relevant_items_still_count() {
        let rel: HashSet<u32> = [1].into_iter().collect();
        let mut m = TopK::default();
        m.add(&[1], &rel, 2, 10); // one relevant item is outside the catalog
        assert!((m.mean().recall - 0.5).abs() < 1e-12);
    }

    #[test]
    fn hit_at_second_place() {
        let rel: HashSet<u32> = [9].into_iter().collect();
        let mut m = TopK::default();
        m.add(&[1, 9], &rel, 1, 10);
        let p = m.mean();
        assert!((p.ndcg - 1.0 / 3f64.log2()).abs() < 1e-12);
        assert!((p.map - 0.5).abs() < 1e-12);
    }
}
