//! Reading burn tensors back as plain numbers (for export, metrics and parity checks).

use burn::prelude::*;

/// A float tensor's values in row-major order, as f32.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 tensor")
}
