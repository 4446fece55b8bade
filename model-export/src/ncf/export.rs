//! [`NcfNet`] as an ONNX graph with the names the engine's runner expects
//! (`engine::models::ncf`): input `likes [1, items]`, output `scores [1, items]`. The item half
//! of the first MLP layer does not depend on the user, so it is precomputed (`item_mlp · W`).

use super::model::NcfNet;
use crate::onnx::{Attr, Dim, Graph};
use crate::tensors::values;
use attune_engine::models::ncf::{LIKES, SCORES};

fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; data.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = data[r * cols + c];
        }
    }
    t
}

/// The ONNX bytes of a trained network; `metadata` goes into the model's properties.
pub fn onnx_bytes(net: &NcfNet, metadata: &[(&str, String)]) -> Vec<u8> {
    let s = net.shape();
    let (n, d, h) = (s.items, s.dim, s.hidden);
    let h2 = net.mlp2.weight.val().dims()[1];
    let mut g = Graph::new("attune_ncf");
    let x = g.input(LIKES, &[Dim::Fixed(1), Dim::Fixed(n as i64)]);
    let qg = g.constant("user_gmf", &[n, d], &values(net.user_gmf.val()));
    let qm = g.constant("user_mlp", &[n, d], &values(net.user_mlp.val()));
    let pg_t = g.constant(
        "item_gmf_t",
        &[d, n],
        &transpose(&values(net.item_gmf.val()), n, d),
    );
    let hg = g.constant("gmf_out", &[1, d], &values(net.gmf_out.val()));
    let item_part = g.constant(
        "item_mlp_w",
        &[n, h],
        &values(net.mlp_item.forward(net.item_mlp.val())),
    );
    let w1 = g.constant("mlp_user_w", &[d, h], &values(net.mlp_user.weight.val()));
    let b1 = g.constant(
        "mlp_user_b",
        &[h],
        &values(net.mlp_user.bias.as_ref().expect("bias").val()),
    );
    let w2 = g.constant("mlp2_w", &[h, h2], &values(net.mlp2.weight.val()));
    let b2 = g.constant(
        "mlp2_b",
        &[h2],
        &values(net.mlp2.bias.as_ref().expect("bias").val()),
    );
    let wo = g.constant("mlp_out_w", &[h2, 1], &values(net.mlp_out.weight.val()));
    let bias = g.constant("bias", &[n], &values(net.bias.val()));

    let ug = g.node("MatMul", &[&x, &qg], vec![], None);
    let ugw = g.node("Mul", &[&ug, &hg], vec![], None);
    let gmf = g.node("MatMul", &[&ugw, &pg_t], vec![], None); // [1, n]
    let um = g.node("MatMul", &[&x, &qm], vec![], None);
    let a = g.node("Gemm", &[&um, &w1, &b1], vec![], None); // [1, h]
    let z1 = g.node("Add", &[&item_part, &a], vec![], None); // [n, h]
    let r1 = g.node("Relu", &[&z1], vec![], None);
    let z2 = g.node("Gemm", &[&r1, &w2, &b2], vec![], None); // [n, h2]
    let r2 = g.node("Relu", &[&z2], vec![], None);
    let mlp = g.node("MatMul", &[&r2, &wo], vec![], None); // [n, 1]
    let mlp_t = g.node(
        "Transpose",
        &[&mlp],
        vec![Attr::Ints("perm", vec![1, 0])],
        None,
    );
    let sum = g.node("Add", &[&gmf, &mlp_t], vec![], None);
    let out = g.node("Add", &[&sum, &bias], vec![], Some(SCORES));
    g.output(&out, &[Dim::Fixed(1), Dim::Fixed(n as i64)]);
    g.into_bytes(
        "Attune neural CF (GMF + MLP over an item-based user vector)",
        metadata,
    )
}

#[cfg(test)]
mod tests {
    use super::super::model::{NcfNet, NcfShape};
    use super::*;
    use attune_engine::models::ncf::NcfModel;
    use attune_engine::ArtistIdx;
    use burn::prelude::*;

    #[test]
    fn onnx_under_tract_matches_burn_forward() {
        Device::flex().seed(3);
        let shape = NcfShape {
            items: 300,
            dim: 8,
            hidden: 16,
        };
        let net = NcfNet::new(shape, &Device::flex());
        let model = NcfModel::from_bytes(&onnx_bytes(&net, &[]), 300).unwrap();
        let mut worst = 0f32;
        for likes in [
            vec![],
            vec![ArtistIdx(0)],
            vec![ArtistIdx(5), ArtistIdx(17), ArtistIdx(299)],
            (0..60).map(ArtistIdx).collect(),
        ] {
            let a = super::super::train::scores(&net, &likes);
            let b = model.scores(&likes).unwrap();
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                worst = worst.max((x - y).abs());
            }
        }
        assert!(worst <= 1e-4, "burn vs tract max abs diff {worst}");
        // A model for another catalog size is refused with a clear error.
        let err = NcfModel::from_bytes(&onnx_bytes(&net, &[]), 200).unwrap_err();
        assert!(err.to_string().contains("200"), "{err}");
    }
}
