//! Model runners: ONNX files written by `model-export`, run by tract (natively and in wasm32).

pub mod emotion;

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
