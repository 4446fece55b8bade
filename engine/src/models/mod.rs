//! Model runners: ONNX files written by `model-export`, run by tract (natively and in wasm32).

pub mod emotion;
pub mod ncf;
pub mod user_emotion;

/// Why a model could not be loaded or run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The bytes are not an ONNX model tract can load.
    #[error("the model file is not a valid ONNX model: {0}")]
    Load(String),
    /// The model loads but is not the model this runner expects.
    #[error("the model does not have the expected interface: {0}")]
    Interface(String),
    /// The input does not fit the model.
    #[error("{0}")]
    Input(String),
    /// tract failed while running it.
    #[error("the model failed to run: {0}")]
    Run(String),
}

use tract_onnx::prelude::*;

/// Reads ONNX bytes and checks the graph's interface: its inputs must be exactly `inputs` (in
/// order) and it must have every one of `outputs`. Returns the model and, for each of `outputs`,
/// its position among the graph's outputs.
pub(crate) fn read_checked(
    bytes: &[u8],
    inputs: &[&str],
    outputs: &[&str],
) -> Result<(InferenceModel, Vec<usize>), ModelError> {
    let model = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .map_err(|e| ModelError::Load(format!("{e:#}")))?;
    let found: Vec<String> = model
        .input_outlets()
        .map_err(|e| ModelError::Load(e.to_string()))?
        .iter()
        .map(|o| model.node(o.node).name.clone())
        .collect();
    if found != inputs {
        return Err(ModelError::Interface(format!(
            "inputs {found:?}, expected {inputs:?}"
        )));
    }
    let names: Vec<String> = model
        .output_outlets()
        .map_err(|e| ModelError::Load(e.to_string()))?
        .iter()
        .map(|o| {
            model
                .outlet_label(*o)
                .map_or_else(|| model.node(o.node).name.clone(), String::from)
        })
        .collect();
    let order = outputs
        .iter()
        .map(|name| {
            names
                .iter()
                .position(|o| o == name)
                .ok_or_else(|| ModelError::Interface(format!("no output {name:?} in {names:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((model, order))
}
