//! The ONNX backend against onnxruntime: `models/reference.json` holds
//! onnxruntime's outputs for fixed inputs (written by `models/generate.py`);
//! ours must agree within 1e-5. Also the load and signature errors, and
//! batching.

use stark_models::{Dim, Model, ModelError};
use stark_tensor::{DType, Tensor};
use std::path::PathBuf;

fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

fn load(name: &str) -> Model {
    Model::load(models().join(name)).expect("the test model loads")
}

fn reference(key: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(models().join("reference.json")).expect("reference.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    json[key].as_array().expect(key).iter().map(|v| v.as_f64().unwrap()).collect()
}

/// The inputs `generate.py` uses: ((i % 7) - 3) * scale over the flat index.
fn pattern(dims: &[usize], scale: f32) -> Tensor {
    let n: usize = dims.iter().product();
    let values: Vec<f32> = (0..n).map(|i| ((i % 7) as f32 - 3.0) * scale).collect();
    Tensor::from_vec(values, dims).unwrap()
}

fn assert_close(got: &Tensor, want: &[f64]) {
    let got = got.to_vec_f64();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-5, "element {i}: {g} vs onnxruntime's {w}");
    }
}

#[test]
fn mlp_matches_onnxruntime_at_planned_and_other_batch_sizes() {
    let m = load("mlp.onnx");
    for n in [1, 3, 8] {
        let out = m.infer(&[pattern(&[n, 16], 0.25)]).unwrap();
        assert_eq!(out[0].shape().dims(), &[n, 4]);
        assert_close(&out[0], &reference(&format!("mlp/{n}")));
    }
}

#[test]
fn run_states_kept_between_calls_give_the_same_rows() {
    // Each call after the first reuses a kept run state (of its batch
    // size's plan, or of the symbolic one for 3 and 5), from one thread
    // and from several at once; a reset drops them.
    let m = load("mlp.onnx");
    for round in 0..3 {
        for n in [1, 3, 8, 5, 3] {
            let out = m.infer(&[pattern(&[n, 16], 0.25)]).unwrap();
            if n != 5 {
                assert_close(&out[0], &reference(&format!("mlp/{n}")));
            }
        }
        if round == 1 {
            m.reset();
        }
    }
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..20 {
                    let out = m.infer(&[pattern(&[8, 16], 0.25)]).unwrap();
                    assert_close(&out[0], &reference("mlp/8"));
                }
            });
        }
    });
}

#[test]
fn embedder_and_two_inputs_match_onnxruntime() {
    let ids: Vec<i64> = (0..10).map(|i| i * 7 % 100).collect();
    let e = load("embedder.onnx").infer(&[Tensor::from_vec(ids, &[2, 5]).unwrap()]).unwrap();
    assert_close(&e[0], &reference("embedder/2x5"));
    let outs = load("two_inputs.onnx").infer(&[pattern(&[2, 4], 0.25), pattern(&[2, 4], 0.5)]).unwrap();
    assert_close(&outs[0], &reference("two_inputs/out"));
    assert_close(&outs[1], &reference("two_inputs/diff"));
}

#[test]
fn metadata_names_inputs_outputs_and_symbolic_dims() {
    let m = load("mlp.onnx");
    assert_eq!(m.name(), "mlp");
    assert_eq!(m.inputs()[0].name, "features");
    assert_eq!(m.inputs()[0].dtype, DType::Float32);
    assert_eq!(m.inputs()[0].dims, vec![Dim::Symbolic("N".into()), Dim::Fixed(16)]);
    assert_eq!(m.outputs()[0].to_string(), "logits: Float32[N, 4]");
    assert!(m.capabilities().batched);
    // Loading keeps the fixed plans that beat the symbolic one here.
    assert!(m.capabilities().planned_batches.iter().all(|b| [1, 8, 32, 128].contains(b)));
    assert!(m.same(&m.clone()));
}

#[test]
fn load_errors_name_the_path_and_the_reason() {
    let missing = Model::load(models().join("nope.onnx")).unwrap_err();
    assert_eq!(missing.code(), "M001");
    assert!(missing.to_string().contains("nope.onnx"), "{missing}");
    let generator = Model::load(models().join("generate.py")).unwrap_err();
    assert_eq!(generator.code(), "M002", "{generator}");
    let unsupported = Model::load(models().join("unsupported_op.onnx")).unwrap_err();
    assert_eq!(unsupported.code(), "M003", "{unsupported}");
    assert!(unsupported.to_string().contains("FrobnicateTensor"), "{unsupported}");
}

#[test]
fn signature_errors_name_both_shapes() {
    let m = load("mlp.onnx");
    let e = m.infer(&[pattern(&[2, 3], 1.0)]).unwrap_err();
    assert!(matches!(e, ModelError::Signature { .. }));
    assert_eq!(
        e.to_string(),
        "model error M004: model `mlp`: input `features` expects Float32[N, 16], got Float32[2, 3]"
    );
    let ints = Tensor::from_vec(vec![0i64; 16], &[1, 16]).unwrap();
    assert!(m.infer(&[ints]).unwrap_err().to_string().contains("got Int64[1, 16]"));
    let two = load("two_inputs.onnx").infer(&[pattern(&[2, 4], 1.0), pattern(&[3, 4], 1.0)]).unwrap_err();
    assert!(two.to_string().contains("input `b` expects Float32[N, 4], got Float32[3, 4]"), "{two}");
    assert!(m.infer(&[]).unwrap_err().to_string().contains("expects 1 input(s)"));
}

#[test]
fn a_batch_gives_each_request_what_it_would_get_alone() {
    let m = load("mlp.onnx");
    let rows = pattern(&[5, 16], 0.25);
    let requests: Vec<Vec<Tensor>> = vec![
        vec![rows.slice(0, 0, 1, 1).unwrap().reshape(&[16]).unwrap()],
        vec![rows.slice(0, 1, 3, 1).unwrap()],
        vec![rows.slice(0, 3, 5, 1).unwrap()],
    ];
    let batched = m.infer_batch(&requests).unwrap();
    assert_eq!(batched[0][0].shape().dims(), &[4]);
    assert_eq!(batched[1][0].shape().dims(), &[2, 4]);
    for (req, got) in requests.iter().zip(&batched) {
        // Alone it may run on another plan (a fixed batch size): equal
        // within rounding.
        let alone = m.infer_batch(std::slice::from_ref(req)).unwrap();
        assert_eq!(alone[0][0].shape(), got[0].shape());
        for (a, b) in alone[0][0].to_vec_f64().iter().zip(got[0].to_vec_f64()) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }
    let bad = m.infer_batch(&[vec![pattern(&[3], 1.0)]]).unwrap_err();
    assert_eq!(bad.code(), "M004", "{bad}");
}
