//! The kernels timed by `bench/tensor/run`: prints `name seconds` lines, each
//! the best of `REPEAT` runs (default 5), after one untimed warm-up run.
//! Kernel names given as arguments (`bench exp add`) run only those.

use std::time::Instant;

use stark_tensor::{DType, Result, Tensor};

/// The best time of `repeat` runs of `f`, after a warm-up.
fn best(repeat: usize, f: &mut dyn FnMut() -> Result<Tensor>) -> Result<f64> {
    std::hint::black_box(f()?);
    let mut best = f64::INFINITY;
    for _ in 0..repeat {
        let start = Instant::now();
        std::hint::black_box(f()?);
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn main() -> Result<()> {
    let repeat = std::env::var("REPEAT").ok().and_then(|r| r.parse().ok()).unwrap_or(5);
    let only: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let time = |name: &str, f: &mut dyn FnMut() -> Result<Tensor>| -> Result<()> {
        if wanted(name) {
            println!("{name} {}", best(repeat, f)?);
        }
        Ok(())
    };
    let a = Tensor::randn(&[1024, 1024], DType::Float32, 1)?;
    let b = Tensor::randn(&[1024, 1024], DType::Float32, 2)?;
    time("matmul", &mut || a.matmul(&b))?;
    let x = Tensor::randn(&[10_000_000], DType::Float32, 3)?;
    let y = Tensor::randn(&[10_000_000], DType::Float32, 4)?;
    time("add", &mut || x.add(&y))?;
    time("exp", &mut || Ok(x.exp()))?;
    let m = Tensor::randn(&[4096, 1000], DType::Float32, 5)?;
    time("softmax", &mut || m.softmax(1))?;
    time("sum1", &mut || m.sum(Some(1)))?;
    time("sum0", &mut || m.sum(Some(0)))?;
    Ok(())
}
