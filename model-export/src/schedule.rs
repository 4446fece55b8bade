//! The learning-rate schedule every burn trainer here uses.

/// Cosine decay from `peak` at `progress = 0` to 5% of it at `progress = 1`.
pub fn cosine_lr(peak: f64, progress: f64) -> f64 {
    peak * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn starts_at_the_peak_and_ends_at_five_percent() {
        assert_eq!(super::cosine_lr(2.0, 0.0), 2.0);
        assert!((super::cosine_lr(2.0, 1.0) - 0.1).abs() < 1e-12);
    }
}
