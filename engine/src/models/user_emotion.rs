//! The user-emotion model: self-attention over the user's recent events -> their current valence
//! and arousal, its uncertainty, and the attention each event received.

use super::ModelError;
use crate::user_emotion::{ModelInput, StateEstimate, CONTEXT_DIM, EVENT_DIM, MAX_EVENTS};
use tract_onnx::prelude::*;

/// Input: `[batch, seq, EVENT_DIM]` encoded events (`user_emotion::encode`).
pub const EVENTS: &str = "events";
/// Input: `[batch, seq]`, 1 for an event, 0 for padding.
pub const MASK: &str = "mask";
/// Input: `[batch, CONTEXT_DIM]`, the present moment.
pub const CONTEXT: &str = "context";
/// Output: `[batch, 2]` valence and arousal in [-1, 1].
pub const STATE: &str = "state";
/// Output: `[batch, 2]` log-variance of valence and arousal.
pub const LOG_VAR: &str = "log_var";
/// Output: `[batch, seq]` attention of the estimate over the events (0 on padding).
pub const ATTENTION: &str = "attention";

/// A loaded, optimised user-emotion model (fixed at one history of [`MAX_EVENTS`] rows).
pub struct UserEmotionModel {
    plan: std::sync::Arc<TypedRunnableModel>,
    order: [usize; 3],
}

impl std::fmt::Debug for UserEmotionModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserEmotionModel")
    }
}

impl UserEmotionModel {
    /// Loads and checks an ONNX model written by `model-export user-emotion train`.
    pub fn from_bytes(bytes: &[u8]) -> Result<UserEmotionModel, ModelError> {
        let (mut model, order) = super::read_checked(
            bytes,
            &[EVENTS, MASK, CONTEXT],
            &[STATE, LOG_VAR, ATTENTION],
        )?;
        let order = [order[0], order[1], order[2]];
        let facts = [
            InferenceFact::dt_shape(f32::datum_type(), [1, MAX_EVENTS, EVENT_DIM]),
            InferenceFact::dt_shape(f32::datum_type(), [1, MAX_EVENTS]),
            InferenceFact::dt_shape(f32::datum_type(), [1, CONTEXT_DIM]),
        ];
        for (i, fact) in facts.into_iter().enumerate() {
            model
                .set_input_fact(i, fact)
                .map_err(|e| ModelError::Interface(format!("{e:#}")))?;
        }
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| ModelError::Load(format!("{e:#}")))?;
        Ok(UserEmotionModel { plan, order })
    }

    /// The estimate for one encoded history.
    pub fn estimate(&self, input: &ModelInput) -> Result<StateEstimate, ModelError> {
        let tensor = |shape: &[usize], data: &[f32]| {
            Tensor::from_shape(shape, data).map_err(|e| ModelError::Input(e.to_string()))
        };
        let inputs = tvec!(
            tensor(&[1, MAX_EVENTS, EVENT_DIM], &input.events)?.into(),
            tensor(&[1, MAX_EVENTS], &input.mask)?.into(),
            tensor(&[1, CONTEXT_DIM], &input.context)?.into(),
        );
        let out = self
            .plan
            .run(inputs)
            .map_err(|e| ModelError::Run(format!("{e:#}")))?;
        let get = |i: usize| -> Result<Vec<f32>, ModelError> {
            let view = out[self.order[i]]
                .to_plain_array_view::<f32>()
                .map_err(|e| ModelError::Run(e.to_string()))?;
            Ok(view.iter().copied().collect())
        };
        let (state, log_var, attention) = (get(0)?, get(1)?, get(2)?);
        if state.len() != 2 || log_var.len() != 2 {
            return Err(ModelError::Run(format!(
                "unexpected outputs {state:?} {log_var:?}"
            )));
        }
        StateEstimate::from_outputs(
            [state[0], state[1]],
            [log_var[0], log_var[1]],
            &attention,
            input.len,
        )
        .map_err(ModelError::Run)
    }
}
