//! The offline batched ceiling of a model on the ONNX (tract) backend:
//! rows per second at the best batch size, one thread, as
//! `bench/serving/run` reports it beside the served throughput.
//!
//!     cargo run --release -p stark-models --example ceiling -- models/mlp.onnx [BATCH..]

use stark_models::Model;
use stark_tensor::Tensor;
use std::time::{Duration, Instant};

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "models/mlp.onnx".into());
    let model = match Model::load(&path) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let features = match model.inputs()[0].dims.last() {
        Some(stark_models::Dim::Fixed(n)) => *n,
        _ => 16,
    };
    eprintln!("fixed-batch plans kept: {:?}", model.capabilities().planned_batches);
    let input = |b: usize| Tensor::from_vec(vec![0.5f32; b * features], &[b, features]).expect("an input");
    let rate = |b: usize, time: Duration| {
        let x = input(b);
        let run = || model.infer(std::slice::from_ref(&x)).expect("inference");
        for _ in 0..20 {
            run();
        }
        let (mut rows, start) = (0usize, Instant::now());
        while start.elapsed() < time {
            run();
            rows += b;
        }
        rows as f64 / start.elapsed().as_secs_f64()
    };
    // Further arguments: the batch sizes to try (default 1, 8, 32, 128, 512).
    let mut sizes: Vec<usize> = std::env::args().skip(2).filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![1, 8, 32, 128, 512];
    }
    let mut best = (0.0f64, 0usize);
    for b in sizes {
        let r = rate(b, Duration::from_millis(500));
        eprintln!("batch {b}: {r:.0} rows/s");
        if r > best.0 {
            best = (r, b);
        }
    }
    // The size that won is measured again: its first figure is the
    // largest of five noisy ones, which would flatter the ceiling.
    println!("ceiling {:.0} (batch {})", rate(best.1, Duration::from_secs(1)), best.1);
}
