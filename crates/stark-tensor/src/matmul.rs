//! Matrix products with numpy's `matmul` semantics: 1-d operands are
//! promoted to a row (left) or column (right) vector and the added dimension
//! removed from the result; dimensions before the last two are batch
//! dimensions and broadcast. Floats go through the `gemm` crate's GEMM, which
//! takes arbitrary row and column strides, so transposed and sliced views are
//! multiplied without a copy; integers use a plain triple loop (wrapping).
//! A large product threads inside the GEMM (on rayon's pool); a batch of small
//! ones is spread over rayon's pool instead.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::dtype::{DType, Element};
use crate::error::{Result, TensorError};
use crate::num::Numeric;
use crate::shape::{broadcast_shapes, broadcast_strides, Shape};
use crate::tensor::Tensor;

/// Multiply-adds (`m * k * n`) from which one product is threaded inside the GEMM.
/// Below it waking the pool and splitting the blocks cost about what a second
/// thread saves (on this 2-core machine two threads began to win near 128^3).
const THREADED_PRODUCT: usize = 1 << 21;

/// Multiply-adds over a whole batch of small products from which the batch is
/// spread over rayon's pool.
const THREADED_BATCH: usize = 1 << 18;

/// One matrix operand: where it starts and its row and column strides.
#[derive(Clone, Copy)]
struct Matrix {
    offset: usize,
    row_stride: usize,
    col_stride: usize,
}

/// An element type `matmul` can multiply: GEMM for floats, a loop for integers.
trait Gemm: Numeric {
    /// `c = a b` for an `m` x `k` matrix `a` and a `k` x `n` matrix `b`
    /// (`k` > 0), writing every element of the contiguous `c`.
    /// `threads` says whether the product may use rayon's pool (the loop never does).
    fn gemm(
        dims: (usize, usize, usize),
        a: &[Self],
        am: Matrix,
        b: &[Self],
        bm: Matrix,
        c: &mut [MaybeUninit<Self>],
        _threads: bool,
    ) {
        let (m, k, n) = dims;
        c.fill(MaybeUninit::new(Self::ZERO));
        // SAFETY: every element of `c` was initialised just above.
        let c = unsafe { &mut *(c as *mut [MaybeUninit<Self>] as *mut [Self]) };
        for i in 0..m {
            let row = &mut c[i * n..(i + 1) * n];
            for p in 0..k {
                let x = a[am.offset + i * am.row_stride + p * am.col_stride];
                let b_row = bm.offset + p * bm.row_stride;
                for (j, out) in row.iter_mut().enumerate() {
                    *out = out.add(x.mul(b[b_row + j * bm.col_stride]));
                }
            }
        }
    }
}

impl Gemm for u8 {}
impl Gemm for i32 {}
impl Gemm for i64 {}

macro_rules! float_gemm {
    ($t:ty) => {
        impl Gemm for $t {
            fn gemm(
                dims: (usize, usize, usize),
                a: &[Self],
                am: Matrix,
                b: &[Self],
                bm: Matrix,
                c: &mut [MaybeUninit<Self>],
                threads: bool,
            ) {
                let (m, k, n) = dims;
                let last_a = am.offset + (m - 1) * am.row_stride + (k - 1) * am.col_stride;
                let last_b = bm.offset + (k - 1) * bm.row_stride + (n - 1) * bm.col_stride;
                assert!(last_a < a.len() && last_b < b.len() && c.len() == m * n, "matmul operands in bounds");
                // gemm's own Rayon threading rather than splitting `c` into
                // blocks ourselves: it divides the work at its packed-panel
                // level, so the threads pack a shared block of one operand
                // together instead of each packing its own copy, and it runs
                // on rayon's global pool, the one every other kernel here uses
                // (matrixmultiply kept a second pool, whose threads competed
                // with rayon's).
                let parallelism = if threads {
                    gemm::Parallelism::Rayon(rayon::current_num_threads())
                } else {
                    gemm::Parallelism::None
                };
                // SAFETY: the asserts above show that every element the kernel
                // reads (through the given strides) lies inside `a` and `b`, and
                // that `c` holds exactly the `m` x `n` contiguous outputs (row
                // stride `n`, column stride 1). With `read_dst` false and `k` > 0
                // the GEMM writes every element of `c` before reading it, so `c`
                // may be uninitialised. gemm takes the sizes `m, n, k`, then
                // each matrix as pointer, column stride, row stride, and computes
                // `dst = alpha dst + beta lhs rhs`: beta, not alpha, is 1 here.
                unsafe {
                    gemm::gemm(
                        m,
                        n,
                        k,
                        c.as_mut_ptr().cast::<$t>(),
                        1,
                        n as isize,
                        false,
                        a.as_ptr().add(am.offset),
                        am.col_stride as isize,
                        am.row_stride as isize,
                        b.as_ptr().add(bm.offset),
                        bm.col_stride as isize,
                        bm.row_stride as isize,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        parallelism,
                    )
                }
            }
        }
    };
}

float_gemm!(f32);
float_gemm!(f64);

impl Tensor {
    /// The matrix product with numpy's `matmul` semantics (batched, broadcasting batch dimensions).
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        let shapes = || (self.shape.clone(), other.shape.clone());
        if self.rank() == 0 || other.rank() == 0 {
            let (lhs, rhs) = shapes();
            return Err(TensorError::MatmulRank { lhs, rhs });
        }
        // A vector on the left is a row [1, k]; on the right, a column [k, 1].
        let a = if self.rank() == 1 { self.reshape(&[1, self.numel()])? } else { self.clone() };
        let b = if other.rank() == 1 { other.reshape(&[other.numel(), 1])? } else { other.clone() };
        let (m, k, n) = (a.shape[a.rank() - 2], a.shape[a.rank() - 1], b.shape[b.rank() - 1]);
        if b.shape[b.rank() - 2] != k {
            let (lhs, rhs) = shapes();
            return Err(TensorError::MatmulInner { lhs, rhs });
        }
        let batch = broadcast_shapes(&batch_of(&a), &batch_of(&b)).map_err(|_| {
            let (lhs, rhs) = shapes();
            TensorError::Broadcast { lhs, rhs }
        })?;
        let unsupported = TensorError::Unsupported { op: "matmul", dtype: DType::Bool };
        let dtype = self.dtype().arithmetic(other.dtype()).ok_or(unsupported)?;
        let (a, b) = (a.to_dtype(dtype), b.to_dtype(dtype));
        let values = with_numeric!(dtype, T => T::into_buffer(batched::<T>(&a, &b, &batch, (m, k, n))),
            bool => unreachable!("arithmetic is never Bool"));
        // The result drops the dimensions that promoting vectors added.
        let mut dims = batch.to_vec();
        dims.extend((self.rank() > 1).then_some(m));
        dims.extend((other.rank() > 1).then_some(n));
        Ok(Tensor::from_buffer(values, Shape::new(dims)))
    }
}

/// The batch dimensions of a matrix operand (all but the last two).
fn batch_of(t: &Tensor) -> Shape {
    Shape::from(&t.shape[..t.rank() - 2])
}

/// Every batch's `m` x `n` product, batch after batch, as one contiguous vector.
fn batched<T: Gemm>(a: &Tensor, b: &Tensor, batch: &Shape, (m, k, n): (usize, usize, usize)) -> Vec<T> {
    let count = batch.numel();
    let len = count * m * n;
    if k == 0 {
        return vec![T::ZERO; len];
    }
    let (ra, rb) = (a.rank(), b.rank());
    let sa = broadcast_strides(&a.shape[..ra - 2], &a.strides[..ra - 2], batch);
    let sb = broadcast_strides(&b.shape[..rb - 2], &b.strides[..rb - 2], batch);
    let (da, db) = (a.buffer.slice::<T>(), b.buffer.slice::<T>());
    // Big products thread inside the GEMM; many small ones thread across the batch.
    let big = m.saturating_mul(k).saturating_mul(n) >= THREADED_PRODUCT;
    let product = |index: usize, c: &mut [MaybeUninit<T>]| {
        let (oa, ob) = batch_offsets(index, batch, &sa, &sb);
        let am = Matrix { offset: a.offset + oa, row_stride: a.strides[ra - 2], col_stride: a.strides[ra - 1] };
        let bm = Matrix { offset: b.offset + ob, row_stride: b.strides[rb - 2], col_stride: b.strides[rb - 1] };
        T::gemm((m, k, n), da, am, db, bm, c, big);
    };
    let fill = |out: &mut [MaybeUninit<T>]| {
        if out.is_empty() {
            return;
        }
        if !big && count > 1 && count.saturating_mul(m * k * n) >= THREADED_BATCH {
            out.par_chunks_mut(m * n).enumerate().for_each(|(index, c)| product(index, c));
        } else {
            out.chunks_mut(m * n).enumerate().for_each(|(index, c)| product(index, c));
        }
    };
    // SAFETY: the chunks of `m * n` cover the output, and `gemm` writes every element of its chunk.
    unsafe { crate::alloc::filled(len, fill) }
}

/// The offsets of batch `index` (row-major over `batch`) in both operands.
fn batch_offsets(index: usize, batch: &[usize], sa: &[usize], sb: &[usize]) -> (usize, usize) {
    let (mut rest, mut oa, mut ob) = (index, 0, 0);
    for d in (0..batch.len()).rev() {
        let i = rest % batch[d];
        rest /= batch[d];
        oa += i * sa[d];
        ob += i * sb[d];
    }
    (oa, ob)
}
