//! Times each backend on the same inputs and reports how far their outputs
//! are apart (docs/models.md quotes its figures):
//!
//!     ORT_DYLIB_PATH=.../libonnxruntime.so.1.32.0 \
//!     cargo run --release -p stark-models --features ort --example compare_backends
//!
//! The MLP (`models/mlp.onnx`) at batch 1 and 32 on tract and onnxruntime;
//! all-MiniLM-L6-v2 (`models/minilm/`, when fetched) on a batch of 8
//! padded sentences, on candle (safetensors), tract and onnxruntime (ONNX).
//! Backends this build lacks, or whose library does not open, are skipped.

use stark_models::{BackendKind, Model, Tokenizer};
use stark_tensor::Tensor;
use std::path::Path;
use std::time::Instant;

/// The mean time of one call, in microseconds, and the outputs.
fn time(model: &Model, input: &Tensor, calls: usize) -> (f64, Tensor) {
    let out = model.infer(std::slice::from_ref(input)).expect("runs").remove(0);
    let start = Instant::now();
    for _ in 0..calls {
        model.infer(std::slice::from_ref(input)).expect("runs");
    }
    (start.elapsed().as_secs_f64() * 1e6 / calls as f64, out)
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    a.to_vec_f64().iter().zip(b.to_vec_f64()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Runs `input` through `path` on each backend of `kinds`.
fn compare(label: &str, kinds: &[(BackendKind, &Path)], input: &Tensor, calls: usize) {
    let mut first: Option<Tensor> = None;
    for (kind, path) in kinds {
        let model = match Model::load_with(path, *kind) {
            Ok(m) => m,
            Err(e) => {
                println!("{label:<24} {kind:<12} skipped: {e}");
                continue;
            }
        };
        let (us, out) = time(&model, input, calls);
        let diff = first.as_ref().map_or(0.0, |f| max_diff(f, &out));
        println!("{label:<24} {kind:<12} {us:>10.1} us/call   max |diff| vs first {diff:.1e}");
        first.get_or_insert(out);
    }
}

fn main() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let mlp = models.join("mlp.onnx");
    let onnx = [(BackendKind::Tract, mlp.as_path()), (BackendKind::OnnxRuntime, mlp.as_path())];
    for n in [1usize, 32] {
        let x: Vec<f32> = (0..n * 16).map(|i| ((i % 7) as f32 - 3.0) * 0.25).collect();
        compare(&format!("mlp batch {n}"), &onnx, &Tensor::from_vec(x, &[n, 16]).unwrap(), 2000);
    }
    let dir = models.join("minilm");
    let Ok(tok) = Tokenizer::from_file(dir.join("tokenizer.json")) else {
        println!("all-MiniLM-L6-v2 skipped: run `python3 models/fetch_minilm.py`");
        return;
    };
    let texts = ["A man is eating food.", "The stock market fell sharply today.", "STARK runs models on every core."];
    let rows: Vec<Tensor> = (0..8).map(|i| tok.encode(texts[i % texts.len()]).unwrap()).collect();
    let ids = Tensor::concat(&rows.iter().collect::<Vec<_>>(), 0).unwrap();
    let file = dir.join("model.onnx");
    let kinds = [
        (BackendKind::Candle, dir.as_path()),
        (BackendKind::Tract, file.as_path()),
        (BackendKind::OnnxRuntime, file.as_path()),
    ];
    compare("minilm 8 x 128 tokens", &kinds, &ids, 10);
}
