//! A small ONNX graph writer over tract's protobuf types: no framework exports ONNX from Rust, so
//! the pipeline writes each model's graph itself (IR 8, opset 17, float32 initializers).

use prost::Message;
use tract_onnx::pb::{
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto::dimension,
    tensor_shape_proto::Dimension, type_proto, AttributeProto, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto,
};

/// The opset every graph declares (LayerNormalization needs 17; 18 moves Reduce axes to inputs).
pub const OPSET: i64 = 17;

/// One dimension of a graph input or output.
#[derive(Debug, Clone, Copy)]
pub enum Dim {
    /// A fixed size.
    Fixed(i64),
    /// A symbolic size (`batch`, `time`, ...).
    Named(&'static str),
}

/// A node attribute.
pub enum Attr {
    /// One integer.
    Int(&'static str, i64),
    /// Integers.
    Ints(&'static str, Vec<i64>),
    /// One float.
    Float(&'static str, f32),
}

impl Attr {
    fn proto(self) -> AttributeProto {
        let mut a = AttributeProto::default();
        match self {
            Attr::Int(n, v) => {
                a.name = n.into();
                a.r#type = AttributeType::Int as i32;
                a.i = v;
            }
            Attr::Ints(n, v) => {
                a.name = n.into();
                a.r#type = AttributeType::Ints as i32;
                a.ints = v;
            }
            Attr::Float(n, v) => {
                a.name = n.into();
                a.r#type = AttributeType::Float as i32;
                a.f = v;
            }
        }
        a
    }
}

/// A graph under construction: nodes in topological order, as they are added.
#[derive(Default)]
pub struct Graph {
    proto: GraphProto,
    names: usize,
}

fn value_info(name: &str, dims: &[Dim]) -> ValueInfoProto {
    let shape = TensorShapeProto {
        dim: dims
            .iter()
            .map(|d| Dimension {
                value: Some(match d {
                    Dim::Fixed(n) => dimension::Value::DimValue(*n),
                    Dim::Named(s) => dimension::Value::DimParam((*s).into()),
                }),
                ..Default::default()
            })
            .collect(),
    };
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(shape),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

impl Graph {
    /// An empty graph named `name`.
    pub fn new(name: &str) -> Graph {
        let mut g = Graph::default();
        g.proto.name = name.into();
        g
    }

    /// Declares a float input.
    pub fn input(&mut self, name: &str, dims: &[Dim]) -> String {
        self.proto.input.push(value_info(name, dims));
        name.into()
    }

    /// Declares `value` (an existing tensor) as a float output.
    pub fn output(&mut self, value: &str, dims: &[Dim]) {
        self.proto.output.push(value_info(value, dims));
    }

    /// A float constant of shape `dims` (row-major `data`).
    pub fn constant(&mut self, hint: &str, dims: &[usize], data: &[f32]) -> String {
        assert_eq!(
            dims.iter().product::<usize>(),
            data.len(),
            "{hint}: shape vs data"
        );
        let name = self.fresh(hint);
        self.proto.initializer.push(TensorProto {
            name: name.clone(),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: DataType::Float as i32,
            raw_data: data.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ..Default::default()
        });
        name
    }

    /// An int64 constant of shape `[values.len()]` (axes for Squeeze, Unsqueeze, ReduceSum).
    pub fn ints(&mut self, hint: &str, values: &[i64]) -> String {
        let name = self.fresh(hint);
        self.proto.initializer.push(TensorProto {
            name: name.clone(),
            dims: vec![values.len() as i64],
            data_type: DataType::Int64 as i32,
            raw_data: values.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ..Default::default()
        });
        name
    }

    /// Adds a node with one output and returns the output's name (`output` names it, or a fresh
    /// name from the op).
    pub fn node(
        &mut self,
        op: &str,
        inputs: &[&str],
        attrs: Vec<Attr>,
        output: Option<&str>,
    ) -> String {
        let out = output.map_or_else(|| self.fresh(&op.to_lowercase()), String::from);
        self.proto.node.push(NodeProto {
            input: inputs.iter().map(|s| (*s).into()).collect(),
            output: vec![out.clone()],
            name: format!("{op}_{}", self.proto.node.len()),
            op_type: op.into(),
            attribute: attrs.into_iter().map(Attr::proto).collect(),
            ..Default::default()
        });
        out
    }

    fn fresh(&mut self, hint: &str) -> String {
        self.names += 1;
        format!("{hint}_{}", self.names)
    }

    /// The serialized model, with `metadata` as string properties.
    pub fn into_bytes(self, doc: &str, metadata: &[(&str, String)]) -> Vec<u8> {
        ModelProto {
            ir_version: 8,
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: OPSET,
            }],
            producer_name: "attune-model-export".into(),
            producer_version: env!("CARGO_PKG_VERSION").into(),
            doc_string: doc.into(),
            graph: Some(self.proto),
            metadata_props: metadata
                .iter()
                .map(|(k, v)| StringStringEntryProto {
                    key: (*k).into(),
                    value: v.clone(),
                })
                .collect(),
            ..Default::default()
        }
        .encode_to_vec()
    }
}

/// `bytes` (a serialized model) with every float initializer of at least `min_elements` values
/// stored as float16 and cast back to float32 by a `Cast` node in front of the graph: half the
/// file, and tract folds the casts into float32 constants when it loads the model, so the
/// arithmetic stays float32. Returns the new bytes and how many initializers were halved.
pub fn weights_to_f16(bytes: &[u8], min_elements: usize) -> anyhow::Result<(Vec<u8>, usize)> {
    let mut model = ModelProto::decode(bytes)?;
    let graph = model
        .graph
        .as_mut()
        .ok_or_else(|| anyhow::anyhow!("the model has no graph"))?;
    let mut casts = Vec::new();
    for init in &mut graph.initializer {
        let n: i64 = init.dims.iter().product();
        if init.data_type != DataType::Float as i32 || (n as usize) < min_elements {
            continue;
        }
        let values: Vec<f32> = if init.raw_data.is_empty() {
            std::mem::take(&mut init.float_data)
        } else {
            init.raw_data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        };
        anyhow::ensure!(
            values.len() == n as usize,
            "{}: {} values for {n}",
            init.name,
            values.len()
        );
        let name = std::mem::take(&mut init.name);
        init.name = format!("{name}_f16");
        init.data_type = DataType::Float16 as i32;
        init.raw_data = values
            .iter()
            .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
            .collect();
        casts.push(NodeProto {
            input: vec![init.name.clone()],
            output: vec![name.clone()],
            name: format!("Cast_{name}"),
            op_type: "Cast".into(),
            attribute: vec![Attr::Int("to", DataType::Float as i64).proto()],
            ..Default::default()
        });
    }
    let halved = casts.len();
    casts.append(&mut graph.node);
    graph.node = casts;
    Ok((model.encode_to_vec(), halved))
}

/// The string property `key` of a serialized model's metadata, if it has one.
pub fn metadata(bytes: &[u8], key: &str) -> Option<String> {
    ModelProto::decode(bytes)
        .ok()?
        .metadata_props
        .into_iter()
        .find(|p| p.key == key)
        .map(|p| p.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::prelude::*;

    /// A written model, loaded and optimised by tract as the engine does.
    fn runnable(bytes: &[u8]) -> Arc<TypedRunnableModel> {
        tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap()
    }

    #[test]
    fn halved_weights_run_under_tract_within_float16_rounding() {
        let w: Vec<f32> = (0..64).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let mut g = super::Graph::new("t");
        let x = g.input("x", &[Dim::Fixed(1), Dim::Fixed(8)]);
        let wc = g.constant("w", &[8, 8], &w);
        let b = g.constant("b", &[8], &[0.25; 8]);
        let y = g.node("Gemm", &[&x, &wc, &b], vec![], Some("y"));
        g.output(&y, &[Dim::Fixed(1), Dim::Fixed(8)]);
        let full = g.into_bytes("test", &[("k", "v".into())]);
        let (half, n) = weights_to_f16(&full, 16).unwrap();
        assert_eq!(
            n, 1,
            "only the 64-value weight is halved, not the 8-value bias"
        );
        assert!(
            half.len() + 64 < full.len(),
            "{} vs {}",
            half.len(),
            full.len()
        );
        assert_eq!(metadata(&half, "k").as_deref(), Some("v"));
        let run = |bytes: &[u8]| -> Vec<f32> {
            let model = runnable(bytes);
            let input =
                tract_ndarray::Array2::from_shape_fn((1, 8), |(_, j)| j as f32 - 3.5).into_tensor();
            let out = model.run(tvec!(input.into())).unwrap();
            let out = out[0].to_plain_array_view::<f32>().unwrap();
            out.iter().copied().collect()
        };
        let (a, b) = (run(&full), run(&half));
        // float16 keeps 11 bits: each weight within 2^-11 of itself, relatively.
        let bound: f32 = (0..8).map(|j| (j as f32 - 3.5).abs() * 3.0).sum::<f32>() / 2048.0;
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= bound, "{x} vs {y} (bound {bound})");
        }
        assert_ne!(a, b, "the weights were not rounded");
    }

    #[test]
    fn a_written_gemm_runs_under_tract_with_a_symbolic_batch() {
        let mut g = super::Graph::new("t");
        let x = g.input("x", &[Dim::Named("batch"), Dim::Fixed(2)]);
        let w = g.constant("w", &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let b = g.constant("b", &[3], &[0.5, 0.0, -0.5]);
        let y = g.node("Gemm", &[&x, &w, &b], vec![], Some("y"));
        g.output(&y, &[Dim::Named("batch"), Dim::Fixed(3)]);
        let model = runnable(&g.into_bytes("test", &[]));
        let input = tract_ndarray::arr2(&[[1.0f32, 1.0], [0.0, 2.0]]).into_tensor();
        let out = model.run(tvec!(input.into())).unwrap();
        let out = out[0].to_plain_array_view::<f32>().unwrap();
        assert_eq!(out.as_slice().unwrap(), &[5.5, 7.0, 8.5, 8.5, 10.0, 11.5]);
    }
}
