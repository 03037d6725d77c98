//! The kernels timed by `bench/tensor/run`: prints `name seconds` lines, each
//! the best of `REPEAT` runs (default 5), after one untimed warm-up run.

use std::time::Instant;

use stark_tensor::{DType, Result, Tensor};

/// The best time of `repeat` runs of `f`, after a warm-up.
fn best(repeat: usize, mut f: impl FnMut() -> Result<Tensor>) -> Result<f64> {
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
    let a = Tensor::randn(&[1024, 1024], DType::Float32, 1)?;
    let b = Tensor::randn(&[1024, 1024], DType::Float32, 2)?;
    println!("matmul {}", best(repeat, || a.matmul(&b))?);
    let x = Tensor::randn(&[10_000_000], DType::Float32, 3)?;
    let y = Tensor::randn(&[10_000_000], DType::Float32, 4)?;
    println!("add {}", best(repeat, || x.add(&y))?);
    println!("exp {}", best(repeat, || Ok(x.exp()))?);
    let m = Tensor::randn(&[4096, 1000], DType::Float32, 5)?;
    println!("softmax {}", best(repeat, || m.softmax(1))?);
    println!("sum1 {}", best(repeat, || m.sum(Some(1)))?);
    println!("sum0 {}", best(repeat, || m.sum(Some(0)))?);
    Ok(())
}
