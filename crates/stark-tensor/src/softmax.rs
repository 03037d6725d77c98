//! Softmax, fused: per row one pass for the maximum, one for `e^(x - max)`
//! and its sum, and one to scale by `1 / sum`; rows run in parallel.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::error::Result;
use crate::num::{Float, Numeric};
use crate::reduce::{fold_lanes, max_nan};
use crate::shape::check_axis;
use crate::strided::{with_simd, PARALLEL_THRESHOLD};
use crate::tensor::Tensor;

/// Rows per parallel task are chosen to give each task about this many elements.
const TASK: usize = 1 << 14;

impl Tensor {
    /// `e^x / sum(e^x)` along `axis`, in the float dtype (`Float32` for integers).
    pub fn softmax(&self, axis: usize) -> Result<Tensor> {
        check_axis("softmax", axis, &self.shape)?;
        let last = self.rank() - 1;
        if axis != last {
            let moved = self.swap_axes(axis, last)?.softmax(last)?;
            return Ok(moved.swap_axes(axis, last)?.contiguous());
        }
        let input = self.to_dtype(self.dtype().float_result()).contiguous();
        Ok(with_float!(input.dtype(), T => {
            let data = input.contiguous_slice::<T>().expect("contiguous");
            Tensor::from_values(softmax_rows(data, self.shape[last]), self.shape.clone())
        }, other => unreachable!("float_result is a float")))
    }
}

/// Softmax of each contiguous row of length `n` in `data`.
fn softmax_rows<T: Float>(data: &[T], n: usize) -> Vec<T> {
    let fill = |out: &mut [MaybeUninit<T>]| {
        if n == 0 {
            return;
        }
        let row = |(o, x): (&mut [MaybeUninit<T>], &[T])| {
            with_simd(
                #[inline(always)]
                || softmax_row(x, o),
            )
        };
        if data.len() >= PARALLEL_THRESHOLD {
            let task_rows = (TASK / n).max(1);
            out.par_chunks_mut(n).zip(data.par_chunks(n)).with_min_len(task_rows).for_each(row);
        } else {
            out.chunks_mut(n).zip(data.chunks(n)).for_each(row);
        }
    };
    // SAFETY: the rows of length `n` cover the output (when `n` is 0 it is
    // empty), and `softmax_row` writes every element of its row.
    unsafe { crate::alloc::filled(data.len(), fill) }
}

/// Softmax of one row `x` into `out`, writing every element.
#[inline(always)]
fn softmax_row<T: Float>(x: &[T], out: &mut [MaybeUninit<T>]) {
    let max = fold_lanes(x, T::NEG_INFINITY, &|v| v, &max_nan);
    out.iter_mut().zip(x).for_each(|(o, &v)| _ = o.write(v.sub(max).exp()));
    // SAFETY: every element of `out` was written just above (`out` and `x` have the same length).
    let out = unsafe { &mut *(out as *mut [MaybeUninit<T>] as *mut [T]) };
    let sum = fold_lanes(out, T::ZERO, &|v| v, &<T as Numeric>::add);
    let scale = T::ONE.div(sum);
    out.iter_mut().for_each(|o| *o = o.mul(scale));
}
