//! STARK's tensors (LANGUAGE.md section 7): storage, shape rules and CPU kernels.
//!
//! ```
//! use stark_tensor::{DType, Tensor};
//!
//! let a = Tensor::arange(0.0, 6.0, 1.0, DType::Float32)?.reshape(&[2, 3])?;
//! let b = Tensor::from_vec(vec![10.0f32, 20.0, 30.0], &[3])?;
//! let c = (&a + &b)?; // [2, 3] + [3] broadcasts
//! assert_eq!(c.to_vec::<f32>()?, [10.0, 21.0, 32.0, 13.0, 24.0, 35.0]);
//! let p = a.matmul(&a.transpose())?; // the transpose is a view: no copy
//! assert_eq!(p.to_vec::<f32>()?, [5.0, 14.0, 14.0, 50.0]);
//! assert_eq!(a.softmax(1)?.sum(Some(1))?.shape().dims(), &[2]);
//! assert_eq!((&a + &Tensor::zeros(&[4], DType::Float32)?).unwrap_err().to_string(),
//!            "error[T001]: cannot broadcast shapes [2, 3] and [4]");
//! # Ok::<(), stark_tensor::TensorError>(())
//! ```
//!
//! # Design
//!
//! A [`Tensor`] is a dtype-tagged [`Buffer`] behind an `Arc` plus a strided
//! layout (shape, strides in elements, offset). The buffer is immutable once
//! shared: moving or sending a tensor, and Rust's `clone()`, copy no data;
//! [`Tensor::deep_clone`] is the language's `clone()`. In-place operations
//! ([`Tensor::fill_`], [`Tensor::map_`]) take `&mut self` and copy first only
//! if the buffer is shared (copy-on-write), so other holders never see a change.
//!
//! `transpose` (reversing the axes), `swap_axes`, `permute` and `slice` are
//! views over the same buffer, and so is `reshape` wherever strides can
//! express it (always for a contiguous tensor); otherwise `reshape` copies.
//! Every kernel accepts any layout and writes a fresh contiguous result.
//!
//! # Dtypes and promotion
//!
//! `Float32`, `Float64`, `Int32`, `Int64`, `UInt8`, `Bool`. Mixed dtypes
//! promote (never error) to the greater of `Bool < UInt8 < Int32 < Int64 <
//! Float32 < Float64`, as in PyTorch; arithmetic on two `Bool`s is an error.
//! Same-dtype arithmetic keeps the dtype (as the checker types it):
//! integers wrap on overflow, and integer `/` and `%` truncate like STARK's
//! scalar operators, with a zero divisor reported as an error. The float
//! functions (`exp`, `log`, `sqrt`, `tanh`, `sigmoid`, `softmax`) and `mean`
//! compute in `Float32` for integer and `Bool` input; `sum` gives `Int64` for
//! them (numpy's rule), `argmax` gives `Int64`, `max` and `relu` keep the
//! dtype. Casts ([`Tensor::to_dtype`]) follow Rust's `as` (floats saturate
//! into integers, NaN becomes 0, nonzero becomes `true`).
//!
//! # Errors
//!
//! Bad input never panics: fallible operations return [`TensorError`], whose
//! variants carry the shapes involved and a stable code, and whose messages
//! name both shapes (`cannot broadcast shapes [2, 3] and [4]`).
//!
//! # Speed
//!
//! Element-wise kernels coalesce dimensions and run unit-stride inner loops
//! that LLVM vectorises, with AVX-512F and AVX2 copies chosen at run time
//! (`f32` `exp` is a branch-free polynomial,
//! [`exp_f32`], so it vectorises too); reductions fold rows with 16
//! independent accumulators. Above about 32k elements work is split over
//! rayon's pool. Float `matmul` calls the `gemm` crate's GEMM (threaded on
//! rayon's pool above about 2M multiply-adds) directly on strided views.
//! `softmax` is fused per row.
//! Outputs are written once into uninitialised memory; freed buffers of 1 to
//! 256 MiB are pooled (256 MiB at most) and reused for the next output of
//! about their size, which spares the page faults of fresh memory.
//!
//! # Display
//!
//! PyTorch's style plus the shape: `tensor([[1., 2.], [3., 4.]], shape=[2, 2],
//! dtype=Float32)` over several lines, summarised with `...` above 1000
//! elements; `docs/tensors.md` gives the exact rules.
#![warn(missing_docs)]

/// Runs `$body` with `$T` bound to the Rust element type of `$dtype`.
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::dtype::DType::Bool => {
                type $T = bool;
                $body
            }
            $crate::dtype::DType::UInt8 => {
                type $T = u8;
                $body
            }
            $crate::dtype::DType::Int32 => {
                type $T = i32;
                $body
            }
            $crate::dtype::DType::Int64 => {
                type $T = i64;
                $body
            }
            $crate::dtype::DType::Float32 => {
                type $T = f32;
                $body
            }
            $crate::dtype::DType::Float64 => {
                type $T = f64;
                $body
            }
        }
    };
}

/// Runs `$body` with `$T` bound to the element type of a numeric `$dtype`,
/// or evaluates `$bool` for `Bool`.
macro_rules! with_numeric {
    ($dtype:expr, $T:ident => $body:expr, bool => $bool:expr) => {
        match $dtype {
            $crate::dtype::DType::Bool => $bool,
            $crate::dtype::DType::UInt8 => {
                type $T = u8;
                $body
            }
            $crate::dtype::DType::Int32 => {
                type $T = i32;
                $body
            }
            $crate::dtype::DType::Int64 => {
                type $T = i64;
                $body
            }
            $crate::dtype::DType::Float32 => {
                type $T = f32;
                $body
            }
            $crate::dtype::DType::Float64 => {
                type $T = f64;
                $body
            }
        }
    };
}

/// Runs `$body` with `$T` bound to `f32` or `$f64`, or evaluates `$other`.
macro_rules! with_float {
    ($dtype:expr, $T:ident => $body:expr, other => $other:expr) => {
        match $dtype {
            $crate::dtype::DType::Float32 => {
                type $T = f32;
                $body
            }
            $crate::dtype::DType::Float64 => {
                type $T = f64;
                $body
            }
            _ => $other,
        }
    };
}

mod alloc;
mod construct;
mod display;
mod dtype;
mod elementwise;
mod error;
pub mod functions;
mod matmul;
mod num;
mod random;
mod reduce;
mod shape;
mod softmax;
mod storage;
mod strided;
mod tensor;
mod view;

pub use display::{EDGE_ITEMS, SUMMARY_THRESHOLD};
pub use dtype::{DType, Element, Scalar};
pub use elementwise::BinaryOp;
pub use error::{Result, TensorError};
pub use num::{exp_f32, Float, Numeric};
pub use random::Rng;
pub use shape::{broadcast_shapes, Shape};
pub use storage::Buffer;
pub use tensor::{Device, Tensor};
