//! HetRec 2011 Last.fm: the catalogue and SVD++ built from it, and every evaluation of the
//! fold-in recommenders on its held-out users.
//!
//! - [`corpus`]: the real data loaded once, the user split (hash of the id: 10% test, 10%
//!   validation, 80% train) and the catalogue.
//! - [`labels`]: emotion labels from tags (lexicons) and Deezer tracks.
//! - [`build`]: `build` and `tune`: the shipped `catalog.bin` and `cf.bin`.
//! - [`svdpp`]: SVD++ training (the browser folds users in, `engine::cf`).
//! - [`evaluate`]: held-out users folded in exactly as the browser does.
//! - [`cli`]: the bodies of `tune`'s grid and `evaluate`, and the verified asset loaders.
//! - [`report`]: the markdown of `build.md`, `tuning.md` and `evaluation.md`.
//! - [`baselines`]: the paper's baselines (content, item-kNN, iALS); the strongest tuned ones
//!   live in `crate::taste`.

pub mod baselines;
pub mod build;
pub mod cli;
pub mod corpus;
pub mod evaluate;
pub mod labels;
pub mod report;
pub mod svdpp;
