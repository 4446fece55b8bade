//! The neural CF model (GMF + MLP over an item-based user vector): the user's liked artists ->
//! a score for every catalog artist.

use super::ModelError;
use crate::catalog::ArtistIdx;
use tract_onnx::prelude::*;

/// Input: `[1, n_items]`, [`crate::ncf::user_input`].
pub const LIKES: &str = "likes";
/// Output: `[1, n_items]` scores (logits of the next artist; higher is better).
pub const SCORES: &str = "scores";

/// A loaded, optimised NCF model for a catalog of a fixed size.
pub struct NcfModel {
    plan: std::sync::Arc<TypedRunnableModel>,
    n_items: usize,
}

impl std::fmt::Debug for NcfModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NcfModel({} items)", self.n_items)
    }
}

impl NcfModel {
    /// Loads and checks an ONNX model written by `model-export ncf`, for a catalog of `n_items`
    /// artists (a model for another catalog is refused when it is optimised or run).
    pub fn from_bytes(bytes: &[u8], n_items: usize) -> Result<NcfModel, ModelError> {
        let (mut model, _) = super::read_checked(bytes, &[LIKES], &[SCORES])?;
        model
            .set_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), [1, n_items]))
            .map_err(|e| ModelError::Interface(format!("{e:#}")))?;
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| {
                ModelError::Interface(format!("not a model for {n_items} artists: {e:#}"))
            })?;
        Ok(NcfModel { plan, n_items })
    }

    /// Catalog size the model was loaded for.
    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// Scores for every artist given the user's likes.
    pub fn scores(&self, likes: &[ArtistIdx]) -> Result<Vec<f32>, ModelError> {
        self.scores_for(&crate::ncf::user_input(likes, self.n_items))
    }

    /// Scores for an already encoded input row.
    pub fn scores_for(&self, input: &[f32]) -> Result<Vec<f32>, ModelError> {
        if input.len() != self.n_items {
            return Err(ModelError::Input(format!(
                "{} inputs for a model of {} artists",
                input.len(),
                self.n_items
            )));
        }
        let t = Tensor::from_shape(&[1, self.n_items], input)
            .map_err(|e| ModelError::Input(e.to_string()))?;
        let out = self
            .plan
            .run(tvec!(t.into()))
            .map_err(|e| ModelError::Run(format!("{e:#}")))?;
        let view = out[0]
            .to_plain_array_view::<f32>()
            .map_err(|e| ModelError::Run(e.to_string()))?;
        let s: Vec<f32> = view.iter().copied().collect();
        if s.len() != self.n_items || s.iter().any(|x| !x.is_finite()) {
            return Err(ModelError::Run(format!(
                "{} scores (expected {}), or a non-finite one",
                s.len(),
                self.n_items
            )));
        }
        Ok(s)
    }
}
