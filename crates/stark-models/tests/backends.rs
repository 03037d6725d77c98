//! The candle (safetensors BERT) and onnxruntime backends against
//! onnxruntime's own outputs, within 1e-5:
//! - `models/tiny_bert/` (random weights, committed; `models/generate.py`),
//!   always;
//! - the real all-MiniLM-L6-v2 (`models/minilm/`, fetched by
//!   `models/fetch_minilm.py`; its reference embeddings are committed in
//!   `models/minilm_reference.json`), when it has been fetched;
//! - the onnxruntime backend (cargo feature `ort`), when the library opens.
//!
//! Tests whose files or library are missing say so on stderr and pass.

use stark_models::{BackendKind, Model, Tokenizer};
use stark_tensor::Tensor;
use std::path::PathBuf;

fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

fn json(file: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(models().join(file)).expect(file);
    serde_json::from_str(&text).expect("valid JSON")
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().unwrap()).collect()
}

/// The largest difference between `got` and `want`, after checking the sizes.
fn max_error(got: &Tensor, want: &[f64]) -> f64 {
    let got = got.to_vec_f64();
    assert_eq!(got.len(), want.len());
    got.iter().zip(want).map(|(g, w)| (g - w).abs()).fold(0.0, f64::max)
}

fn tiny_ids() -> Tensor {
    let r = json("reference.json");
    let ids: Vec<i64> = r["tiny_bert/ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    let shape: Vec<usize> =
        r["tiny_bert/shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    Tensor::from_vec(ids, &shape).unwrap()
}

#[cfg(feature = "bert")]
#[test]
fn tiny_bert_on_candle_matches_onnxruntime() {
    let m = Model::load(models().join("tiny_bert")).unwrap();
    assert_eq!(m.backend(), BackendKind::Candle);
    assert_eq!(m.name(), "tiny_bert");
    assert_eq!(m.inputs()[0].to_string(), "input_ids: Int64[N, L]");
    assert_eq!(m.outputs()[0].to_string(), "sentence_embedding: Float32[N, 16]");
    let out = m.infer(&[tiny_ids()]).unwrap();
    assert_eq!(out[0].shape().dims(), &[3, 16]);
    let err = max_error(&out[0], &floats(&json("reference.json")["tiny_bert/embedding"]));
    assert!(err <= 1e-5, "candle differs from onnxruntime by {err}");
    // The same file given directly, config.json beside it.
    let direct = Model::load(models().join("tiny_bert/model.safetensors")).unwrap();
    assert!(max_error(&direct.infer(&[tiny_ids()]).unwrap()[0], &out[0].to_vec_f64()) == 0.0);
}

#[test]
fn tiny_bert_onnx_on_tract_matches_onnxruntime() {
    let m = Model::load(models().join("tiny_bert.onnx")).unwrap();
    assert_eq!(m.backend(), BackendKind::Tract);
    let out = m.infer(&[tiny_ids()]).unwrap();
    let err = max_error(&out[0], &floats(&json("reference.json")["tiny_bert/embedding"]));
    assert!(err <= 1e-5, "tract differs from onnxruntime by {err}");
}

/// Padding does not change a sentence's embedding: the row alone, without
/// its padding, gives the same vector (the attention mask and the pooling
/// skip the pad id).
#[cfg(feature = "bert")]
#[test]
fn padding_is_masked_out() {
    let m = Model::load(models().join("tiny_bert")).unwrap();
    let ids = tiny_ids();
    let all = m.infer(std::slice::from_ref(&ids)).unwrap().remove(0);
    let first: Vec<i64> = ids.to_vec::<i64>().unwrap()[..8].iter().copied().filter(|&i| i != 0).collect();
    assert!(first.len() < 8, "the first sentence is padded");
    let n = first.len();
    let alone = m.infer(&[Tensor::from_vec(first, &[1, n]).unwrap()]).unwrap().remove(0);
    let err = max_error(&alone, &all.to_vec_f64()[..16]);
    assert!(err <= 1e-5, "padding changed the embedding by {err}");
}

#[cfg(feature = "bert")]
#[test]
fn bert_requests_are_checked() {
    let m = Model::load(models().join("tiny_bert")).unwrap();
    let outside = m.infer(&[Tensor::from_vec(vec![2i64, 100, 3], &[1, 3]).unwrap()]).unwrap_err();
    assert_eq!(
        outside.to_string(),
        "model error M004: model `tiny_bert`: token id 100 is outside the vocabulary (0..100)"
    );
    let long = m.infer(&[Tensor::from_vec(vec![5i64; 33], &[1, 33]).unwrap()]).unwrap_err();
    assert!(long.to_string().contains("has 33 tokens, more than the model's 32"), "{long}");
    let floats = m.infer(&[Tensor::from_vec(vec![1.0f32; 3], &[1, 3]).unwrap()]).unwrap_err();
    assert!(floats.to_string().contains("expects Int64[N, L], got Float32[1, 3]"), "{floats}");
}

#[cfg(feature = "bert")]
#[test]
fn bert_load_errors_name_the_file_and_the_reason() {
    let dir = std::env::temp_dir().join(format!("stark-bert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = Model::load(dir.join("nothing")).unwrap_err();
    assert_eq!(missing.code(), "M001", "{missing}");
    // Weights but no config.json.
    std::fs::copy(models().join("tiny_bert/model.safetensors"), dir.join("model.safetensors")).unwrap();
    let no_config = Model::load(&dir).unwrap_err();
    assert!(
        matches!(&no_config, stark_models::ModelError::NotFound { path } if path.ends_with("config.json")),
        "{no_config}"
    );
    // A config of another family.
    std::fs::write(dir.join("config.json"), r#"{"model_type": "gpt2"}"#).unwrap();
    let gpt2 = Model::load(&dir).unwrap_err();
    assert_eq!(gpt2.code(), "M003", "{gpt2}");
    assert!(gpt2.to_string().contains("model_type `gpt2` is not a BERT-family encoder"), "{gpt2}");
    // A config whose sizes do not match the weights.
    let config = std::fs::read_to_string(models().join("tiny_bert/config.json")).unwrap();
    std::fs::write(dir.join("config.json"), config.replace("\"hidden_size\": 16", "\"hidden_size\": 24")).unwrap();
    let mismatch = Model::load(&dir).unwrap_err();
    assert_eq!(mismatch.code(), "M003", "{mismatch}");
    // Weights that are not safetensors.
    std::fs::write(dir.join("config.json"), config).unwrap();
    std::fs::write(dir.join("model.safetensors"), "not tensors").unwrap();
    let garbage = Model::load(&dir).unwrap_err();
    assert_eq!(garbage.code(), "M002", "{garbage}");
    assert!(garbage.to_string().contains("not a valid safetensors file"), "{garbage}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn backends_are_chosen_by_name_and_refused_clearly() {
    let unknown = BackendKind::parse("pytorch").unwrap_err();
    assert_eq!(unknown.code(), "M007");
    assert_eq!(
        unknown.to_string(),
        "model error M007: backend `pytorch` is not available: no backend has that name (tract, onnxruntime, candle)"
    );
    let tract = Model::load_with(models().join("mlp.onnx"), BackendKind::Tract).unwrap();
    assert_eq!(tract.backend(), BackendKind::Tract);
    for kind in BackendKind::ALL.into_iter().filter(|k| !k.built_in()) {
        let e = Model::load_with(models().join("mlp.onnx"), kind).unwrap_err();
        assert_eq!(e.code(), "M007", "{e}");
        assert!(e.to_string().contains("this stark was built without it"), "{e}");
    }
}

/// The real MiniLM, when `models/fetch_minilm.py` has fetched it.
fn minilm() -> Option<(PathBuf, Tensor, Vec<Vec<f64>>)> {
    let dir = models().join("minilm");
    if !dir.join("model.safetensors").is_file() {
        eprintln!("skipped: all-MiniLM-L6-v2 is not fetched (run `python3 models/fetch_minilm.py`)");
        return None;
    }
    let reference = json("minilm_reference.json");
    let tok = Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    let rows: Vec<Tensor> =
        reference["sentences"].as_array().unwrap().iter().map(|s| tok.encode(s.as_str().unwrap()).unwrap()).collect();
    let ids = Tensor::concat(&rows.iter().collect::<Vec<_>>(), 0).unwrap();
    let embeddings = reference["embeddings"].as_array().unwrap().iter().map(floats).collect();
    Some((dir, ids, embeddings))
}

fn assert_minilm(kind: BackendKind, path: PathBuf, ids: &Tensor, want: &[Vec<f64>]) {
    let m = Model::load_with(path, kind).unwrap();
    assert_eq!(m.outputs()[0].dims.last(), Some(&stark_models::Dim::Fixed(384)));
    let out = m.infer(std::slice::from_ref(ids)).unwrap().remove(0);
    let flat: Vec<f64> = want.iter().flatten().copied().collect();
    let err = max_error(&out, &flat);
    eprintln!("all-MiniLM-L6-v2 on {kind}: largest difference from onnxruntime {err:.1e}");
    assert!(err <= 1e-5, "{kind} differs from onnxruntime by {err}");
    // Semantics a person can judge: the two sentences about eating are close,
    // the stock market is far from both.
    let v = out.to_vec_f64();
    let cos = |a: usize, b: usize| (0..384).map(|i| v[a * 384 + i] * v[b * 384 + i]).sum::<f64>();
    assert!(cos(0, 1) > 0.7 && cos(0, 2) < 0.2 && cos(1, 2) < 0.2, "{} {} {}", cos(0, 1), cos(0, 2), cos(1, 2));
}

#[cfg(feature = "bert")]
#[test]
fn minilm_on_candle_matches_onnxruntime() {
    if let Some((dir, ids, want)) = minilm() {
        assert_eq!(ids.shape().dims(), &[4, 128], "the MiniLM tokenizer pads to 128");
        assert_minilm(BackendKind::Candle, dir, &ids, &want);
    }
}

#[test]
fn minilm_onnx_on_tract_matches_onnxruntime() {
    if let Some((dir, ids, want)) = minilm() {
        assert_minilm(BackendKind::Tract, dir.join("model.onnx"), &ids, &want);
    }
}

/// Whether the onnxruntime library opens (it is found through `ORT_DYLIB_PATH`).
#[cfg(feature = "ort")]
fn ort_available() -> bool {
    match Model::load_with(models().join("mlp.onnx"), BackendKind::OnnxRuntime) {
        Ok(_) => true,
        Err(e) => {
            assert_eq!(e.code(), "M007", "{e}");
            eprintln!("skipped: {e}");
            false
        }
    }
}

#[cfg(feature = "ort")]
#[test]
fn onnxruntime_backend_matches_onnxruntime() {
    if !ort_available() {
        return;
    }
    let r = json("reference.json");
    let mlp = Model::load_with(models().join("mlp.onnx"), BackendKind::OnnxRuntime).unwrap();
    assert_eq!(mlp.inputs()[0].to_string(), "features: Float32[N, 16]");
    for n in [1usize, 3, 8] {
        let x: Vec<f32> = (0..n * 16).map(|i| ((i % 7) as f32 - 3.0) * 0.25).collect();
        let out = mlp.infer(&[Tensor::from_vec(x, &[n, 16]).unwrap()]).unwrap();
        assert!(max_error(&out[0], &floats(&r[format!("mlp/{n}")])) <= 1e-5);
    }
    let tiny = Model::load_with(models().join("tiny_bert.onnx"), BackendKind::OnnxRuntime).unwrap();
    assert!(max_error(&tiny.infer(&[tiny_ids()]).unwrap()[0], &floats(&r["tiny_bert/embedding"])) <= 1e-5);
    let bad = mlp.infer(&[Tensor::from_vec(vec![0f32; 3], &[1, 3]).unwrap()]).unwrap_err();
    assert_eq!(bad.code(), "M004");
    let unsupported = Model::load_with(models().join("unsupported_op.onnx"), BackendKind::OnnxRuntime).unwrap_err();
    assert_eq!(unsupported.code(), "M003", "{unsupported}");
    let not_onnx = Model::load_with(models().join("generate.py"), BackendKind::OnnxRuntime).unwrap_err();
    assert_eq!(not_onnx.code(), "M002", "{not_onnx}");
    if let Some((dir, ids, want)) = minilm() {
        assert_minilm(BackendKind::OnnxRuntime, dir.join("model.onnx"), &ids, &want);
    }
}
