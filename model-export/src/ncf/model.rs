//! [`NcfNet`]: NeuMF (He et al., WWW 2017: GMF + MLP, fused by one output layer) with an
//! item-based user side. The user vector is `x·Q` with `x` the engine's
//! [`attune_engine::ncf::user_input`] (`|N|^-1/2` at each liked artist), so a user who was never
//! trained on is represented by their likes alone, in the browser as in training.

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::Distribution;

/// Sizes of the network.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NcfShape {
    /// Catalog artists.
    pub items: usize,
    /// Embedding size of each branch (GMF and MLP), on both the user and the item side.
    pub dim: usize,
    /// First MLP layer width (the second is half of it).
    pub hidden: usize,
}

/// The network.
#[derive(Module, Debug)]
pub struct NcfNet {
    /// User side, GMF branch: `[items, dim]`.
    pub user_gmf: Param<Tensor<2>>,
    /// User side, MLP branch: `[items, dim]`.
    pub user_mlp: Param<Tensor<2>>,
    /// Item side, GMF branch: `[items, dim]`.
    pub item_gmf: Param<Tensor<2>>,
    /// Item side, MLP branch: `[items, dim]`.
    pub item_mlp: Param<Tensor<2>>,
    /// Per-item bias `[items]`.
    pub bias: Param<Tensor<1>>,
    /// Output weights of the GMF branch `[1, dim]`.
    pub gmf_out: Param<Tensor<2>>,
    /// First MLP layer, user half (with the layer's bias).
    pub mlp_user: Linear,
    /// First MLP layer, item half (no bias).
    pub mlp_item: Linear,
    /// Second MLP layer.
    pub mlp2: Linear,
    /// MLP output (no bias).
    pub mlp_out: Linear,
}

impl NcfNet {
    /// A fresh network (embeddings N(0, 0.05²)).
    pub fn new(shape: NcfShape, device: &Device) -> NcfNet {
        let emb = || {
            Param::from_tensor(Tensor::random(
                [shape.items, shape.dim],
                Distribution::Normal(0.0, 0.05),
                device,
            ))
        };
        let h2 = (shape.hidden / 2).max(1);
        NcfNet {
            user_gmf: emb(),
            user_mlp: emb(),
            item_gmf: emb(),
            item_mlp: emb(),
            bias: Param::from_tensor(Tensor::zeros([shape.items], device)),
            gmf_out: Param::from_tensor(Tensor::ones([1, shape.dim], device)),
            mlp_user: LinearConfig::new(shape.dim, shape.hidden).init(device),
            mlp_item: LinearConfig::new(shape.dim, shape.hidden)
                .with_bias(false)
                .init(device),
            mlp2: LinearConfig::new(shape.hidden, h2).init(device),
            mlp_out: LinearConfig::new(h2, 1).with_bias(false).init(device),
        }
    }

    /// Its sizes.
    pub fn shape(&self) -> NcfShape {
        let [items, dim] = self.user_gmf.val().dims();
        NcfShape {
            items,
            dim,
            hidden: self.mlp_user.weight.val().dims()[1],
        }
    }

    /// `x [b, items]` (user inputs) -> `[b, items]` scores.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [b, n] = x.dims();
        let ug = x.clone().matmul(self.user_gmf.val());
        let um = x.matmul(self.user_mlp.val());
        let gmf = (ug * self.gmf_out.val()).matmul(self.item_gmf.val().transpose());
        let a = self.mlp_user.forward(um).unsqueeze_dim::<3>(1); // [b, 1, h]
        let p = self
            .mlp_item
            .forward(self.item_mlp.val())
            .unsqueeze_dim::<3>(0); // [1, n, h]
        let h = relu(self.mlp2.forward(relu(a + p))); // [b, n, h2]
        let mlp = self.mlp_out.forward(h).reshape([b, n]);
        gmf + mlp + self.bias.val().unsqueeze_dim::<2>(0)
    }
}
