//! This machine's measured FP32 peak, for `bench/tensor/run`: every core at
//! once runs independent chains of fused multiply-adds on 8-wide `f32` SIMD
//! registers (AVX2 + FMA, chosen at run time; a plain loop elsewhere) and the
//! best of `ROUNDS` runs (default 5) is printed as `name value` lines:
//! `cores N`, `peak GFLOP/s` (all cores together) and `core GFLOP/s` (one).
//!
//! An FMA counts as two floating-point operations, as GEMM's `2 m n k` does.
//! Twelve accumulators per thread hide the FMA's latency (4 to 5 cycles,
//! two FMA units per core on current x86 cores need about ten in flight).

use std::hint::black_box;
use std::sync::Barrier;
use std::time::Instant;

/// Independent accumulator registers per thread.
const CHAINS: usize = 12;

/// `f32` lanes in one register.
const LANES: usize = 8;

/// FMA steps per chain in one timed run (about 0.1 s per core at 100 GFLOP/s).
const STEPS: usize = 40_000_000;

/// Runs `steps` FMAs on each of `CHAINS` 8-lane chains; returns a value that
/// depends on all of them, so none is optimised away.
fn fma_chains(steps: usize) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { fma_chains_avx2(steps) };
    }
    fma_chains_portable(steps)
}

/// [`fma_chains`] with AVX2 + FMA intrinsics: one `vfmadd` per chain per step.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_chains_avx2(steps: usize) -> f32 {
    use std::arch::x86_64::*;
    // acc * 0.999999 + 1e-6 stays near 1: no overflow, no denormals.
    let mul = _mm256_set1_ps(black_box(0.999_999));
    let add = _mm256_set1_ps(black_box(1e-6));
    let mut acc = [_mm256_set1_ps(black_box(1.0)); CHAINS];
    for _ in 0..steps {
        for a in acc.iter_mut() {
            *a = _mm256_fmadd_ps(*a, mul, add);
        }
    }
    let mut sum = _mm256_setzero_ps();
    for a in acc {
        sum = _mm256_add_ps(sum, a);
    }
    let mut lanes = [0.0f32; LANES];
    _mm256_storeu_ps(lanes.as_mut_ptr(), sum);
    lanes.iter().sum()
}

/// [`fma_chains`] as plain multiply-adds over arrays, for the compiler to
/// vectorise as well as the target allows (not fused without FMA hardware).
fn fma_chains_portable(steps: usize) -> f32 {
    let (mul, add) = (black_box(0.999_999f32), black_box(1e-6f32));
    let mut acc = [[black_box(1.0f32); LANES]; CHAINS];
    for _ in 0..steps {
        for chain in acc.iter_mut() {
            for a in chain.iter_mut() {
                *a = *a * mul + add;
            }
        }
    }
    acc.iter().flatten().sum()
}

/// GFLOP/s of `threads` threads running [`fma_chains`] at once, started
/// together: all their operations over the time the slowest one took.
fn gflops(threads: usize) -> f64 {
    let barrier = Barrier::new(threads);
    let seconds = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    black_box(fma_chains(black_box(STEPS)));
                    start.elapsed().as_secs_f64()
                })
            })
            .collect();
        runs.into_iter().map(|run| run.join().expect("FMA thread")).fold(0.0, f64::max)
    });
    (threads * STEPS * CHAINS * LANES * 2) as f64 / seconds / 1e9
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    black_box(fma_chains(STEPS / 10)); // warm-up: clocks up, code paged in
    let best = |threads| (0..rounds).map(|_| gflops(threads)).fold(0.0, f64::max);
    println!("cores {cores}");
    println!("peak {:.1}", best(cores));
    println!("core {:.1}", best(1));
}
