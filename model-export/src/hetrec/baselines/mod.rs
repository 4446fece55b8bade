//! The paper's baselines on HetRec, each folded in from plain likes like the shipped model.

pub mod content;
pub mod ials;
pub mod item_knn;
