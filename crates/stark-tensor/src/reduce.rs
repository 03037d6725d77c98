//! Reductions: `sum`, `mean`, `max`, `argmax`, over all elements or one axis.
//!
//! The input is made contiguous and seen as `[outer, n, inner]` with `n` the
//! reduced axis. When `inner` is 1 each output folds one contiguous row with
//! 16 independent accumulators (so LLVM vectorises the float adds it may not
//! reorder); otherwise whole rows of `inner` outputs are accumulated at once.
//! Large inputs are split over rayon's pool in fixed-size pieces whose partial
//! results combine in order, so results do not depend on the thread count.

use rayon::prelude::*;

use crate::dtype::{DType, Element};
use crate::error::{Result, TensorError};
use crate::num::Numeric;
use crate::shape::{check_axis, Shape};
use crate::strided::{with_simd, PARALLEL_THRESHOLD};
use crate::tensor::Tensor;

/// Independent accumulators per row fold.
const LANES: usize = 16;

/// Input elements per parallel task.
const TASK: usize = 1 << 16;

/// Input elements per parallel task of a column fold: larger than `TASK`,
/// since each task also allocates, fills and hands back a partial row.
const COLUMN_TASK: usize = 1 << 18;

/// A reduction's iteration space: `outer` x `n` (the reduced axis) x `inner`.
#[derive(Clone, Copy)]
struct Split {
    outer: usize,
    n: usize,
    inner: usize,
}

impl Tensor {
    /// The sum over `axis` (or of every element): floats keep their dtype, integers and `Bool` give `Int64`.
    pub fn sum(&self, axis: Option<usize>) -> Result<Tensor> {
        let (split, shape) = self.split("sum", axis)?;
        let input = self.contiguous();
        Ok(with_dtype!(self.dtype(), T => {
            let data = input.contiguous_slice::<T>().expect("contiguous");
            match self.dtype() {
                DType::Float32 => sum_as::<T, f32>(data, split, shape),
                DType::Float64 => sum_as::<T, f64>(data, split, shape),
                _ => sum_as::<T, i64>(data, split, shape),
            }
        }))
    }

    /// The mean over `axis` (or of every element), in the float dtype (`Float32` for integers).
    pub fn mean(&self, axis: Option<usize>) -> Result<Tensor> {
        let (split, _) = self.split("mean", axis)?;
        let sum = self.sum(axis)?;
        let wide = if sum.dtype().is_float() { sum.dtype() } else { DType::Float64 };
        let count = Tensor::scalar(split.n as f64).to_dtype(wide);
        Ok(sum.to_dtype(wide).div(&count)?.to_dtype(self.dtype().float_result()))
    }

    /// The greatest element over `axis` (or of all); NaN wins. An error when reducing zero elements.
    pub fn max(&self, axis: Option<usize>) -> Result<Tensor> {
        let (split, shape) = self.split("max", axis)?;
        self.expect_elements("max", split)?;
        let input = self.contiguous();
        Ok(with_dtype!(self.dtype(), T => {
            let data = input.contiguous_slice::<T>().expect("contiguous");
            Tensor::from_values(fold(data, split, T::LOWEST, |x| x, max_nan), shape)
        }))
    }

    /// The `Int64` index of the greatest element over `axis` (or in row-major order over all);
    /// the first of equal maxima, or the first NaN. An error when reducing zero elements.
    pub fn argmax(&self, axis: Option<usize>) -> Result<Tensor> {
        let (split, shape) = self.split("argmax", axis)?;
        self.expect_elements("argmax", split)?;
        let input = self.contiguous();
        Ok(with_dtype!(self.dtype(), T => {
            let data = input.contiguous_slice::<T>().expect("contiguous");
            Tensor::from_values(argmax(data, split), shape)
        }))
    }

    /// The iteration space of reducing `axis` (all elements if `None`) and the result shape.
    fn split(&self, op: &'static str, axis: Option<usize>) -> Result<(Split, Shape)> {
        let Some(axis) = axis else {
            return Ok((Split { outer: 1, n: self.numel(), inner: 1 }, Shape::default()));
        };
        check_axis(op, axis, &self.shape)?;
        let dims = self.shape.dims();
        let split =
            Split { outer: dims[..axis].iter().product(), n: dims[axis], inner: dims[axis + 1..].iter().product() };
        let mut kept = dims.to_vec();
        kept.remove(axis);
        Ok((split, Shape::new(kept)))
    }

    /// An error if the reduction has outputs but nothing to reduce for them.
    fn expect_elements(&self, op: &'static str, split: Split) -> Result<()> {
        if split.n == 0 && split.outer * split.inner > 0 {
            Err(TensorError::EmptyReduction { op, shape: self.shape.clone() })
        } else {
            Ok(())
        }
    }
}

/// The sum of `data` (elements `T`) accumulated in `A`.
fn sum_as<T: Element, A: Numeric>(data: &[T], split: Split, shape: Shape) -> Tensor {
    Tensor::from_values(fold(data, split, A::ZERO, |x: T| x.cast::<A>(), A::add), shape)
}

/// `max` that lets NaN through (from either side).
#[inline(always)]
pub(crate) fn max_nan<T: Element>(a: T, b: T) -> T {
    #[allow(clippy::eq_op)]
    let b_is_nan = b != b;
    if b > a || b_is_nan {
        b
    } else {
        a
    }
}

/// Folds the `n` axis of `data` with `combine`, starting from its identity `init`.
fn fold<T, A>(
    data: &[T],
    split: Split,
    init: A,
    widen: impl Fn(T) -> A + Sync,
    combine: impl Fn(A, A) -> A + Sync,
) -> Vec<A>
where
    T: Element,
    A: Copy + Send + Sync,
{
    let Split { outer, n, inner } = split;
    let mut out = vec![init; outer * inner];
    if out.is_empty() || n == 0 {
        return out;
    }
    let parallel = data.len() >= PARALLEL_THRESHOLD;
    if inner == 1 {
        let row = |o: usize| fold_row(&data[o * n..(o + 1) * n], init, &widen, &combine, parallel);
        if parallel && outer > 1 {
            out.par_iter_mut().with_min_len((TASK / n).max(1)).enumerate().for_each(|(o, x)| *x = row(o));
        } else {
            out.iter_mut().enumerate().for_each(|(o, x)| *x = row(o));
        }
        return out;
    }
    let fold_rows = |o: usize, acc: &mut [A]| {
        let matrix = &data[o * n * inner..(o + 1) * n * inner];
        fold_columns(matrix, acc, init, (&widen, &combine), parallel)
    };
    if parallel && outer > 1 {
        out.par_chunks_mut(inner).enumerate().for_each(|(o, acc)| fold_rows(o, acc));
    } else {
        out.chunks_mut(inner).enumerate().for_each(|(o, acc)| fold_rows(o, acc));
    }
    out
}

/// Folds the rows (of length `acc.len()`) of a contiguous `matrix` into `acc`,
/// with `widen` and `combine` whose identity is `init`.
///
/// Rows are taken in groups of about `TASK` elements; each group folds into
/// its own partial row (in parallel when `parallel`), and the partial rows are
/// then combined in order, so the result never depends on the thread count.
fn fold_columns<T, A>(
    matrix: &[T],
    acc: &mut [A],
    init: A,
    (widen, combine): (&(impl Fn(T) -> A + Sync), &(impl Fn(A, A) -> A + Sync)),
    parallel: bool,
) where
    T: Element,
    A: Copy + Send + Sync,
{
    let width = acc.len();
    let group = (COLUMN_TASK / width).max(1) * width;
    let partial = |rows: &[T]| {
        let mut part = vec![init; width];
        with_simd(
            #[inline(always)]
            || fold_rows_into(&mut part, rows, widen, combine),
        );
        part
    };
    let partials: Vec<Vec<A>> = if parallel && matrix.len() >= 2 * group {
        matrix.par_chunks(group).map(partial).collect()
    } else {
        matrix.chunks(group).map(partial).collect()
    };
    for part in partials {
        acc.iter_mut().zip(part).for_each(|(a, x)| *a = combine(*a, x));
    }
}

/// Folds the rows of `rows` (each `part.len()` long) into `part`, four at a
/// time: the four combine among themselves first, so `part` is loaded and
/// stored once per four rows rather than once per row.
#[inline(always)]
fn fold_rows_into<T: Element, A: Copy>(
    part: &mut [A],
    rows: &[T],
    widen: &impl Fn(T) -> A,
    combine: &impl Fn(A, A) -> A,
) {
    let width = part.len();
    let mut quads = rows.chunks_exact(4 * width);
    for quad in &mut quads {
        let (r0, rest) = quad.split_at(width);
        let (r1, rest) = rest.split_at(width);
        let (r2, r3) = rest.split_at(width);
        for (j, a) in part.iter_mut().enumerate() {
            let x = combine(combine(widen(r0[j]), widen(r1[j])), combine(widen(r2[j]), widen(r3[j])));
            *a = combine(*a, x);
        }
    }
    for row in quads.remainder().chunks_exact(width) {
        part.iter_mut().zip(row).for_each(|(a, &x)| *a = combine(*a, widen(x)));
    }
}

/// Folds one contiguous row: chunks of `TASK` elements (in parallel when
/// `parallel`) each fold with `LANES` independent accumulators, and the
/// chunk results combine in order, so the result never depends on the thread count.
pub(crate) fn fold_row<T, A>(
    row: &[T],
    init: A,
    widen: &(impl Fn(T) -> A + Sync),
    combine: &(impl Fn(A, A) -> A + Sync),
    parallel: bool,
) -> A
where
    T: Element,
    A: Copy + Send + Sync,
{
    let chunk = |part: &[T]| {
        with_simd(
            #[inline(always)]
            || fold_lanes(part, init, widen, combine),
        )
    };
    if row.len() <= TASK {
        return chunk(row);
    }
    let partials: Vec<A> =
        if parallel { row.par_chunks(TASK).map(chunk).collect() } else { row.chunks(TASK).map(chunk).collect() };
    partials.into_iter().fold(init, combine)
}

/// Folds `values` with `LANES` independent accumulators, which LLVM vectorises.
#[inline(always)]
pub(crate) fn fold_lanes<T, A>(values: &[T], init: A, widen: &impl Fn(T) -> A, combine: &impl Fn(A, A) -> A) -> A
where
    T: Element,
    A: Copy,
{
    let mut acc = [init; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a = combine(*a, widen(x));
        }
    }
    let tail = chunks.remainder().iter().fold(init, |a, &x| combine(a, widen(x)));
    acc.iter().fold(tail, |t, &a| combine(t, a))
}

/// The index along `n` of the greatest element for every output position.
fn argmax<T: Element>(data: &[T], split: Split) -> Vec<i64> {
    let Split { outer, n, inner } = split;
    let mut out = vec![0i64; outer * inner];
    let lane = |position: usize| {
        let (o, j) = (position / inner, position % inner);
        let base = o * n * inner + j;
        let mut best = 0;
        for k in 1..n {
            let (x, b) = (data[base + k * inner], data[base + best * inner]);
            #[allow(clippy::eq_op)]
            let better = x > b || (x != x && b == b);
            if better {
                best = k;
            }
        }
        best as i64
    };
    if data.len() >= PARALLEL_THRESHOLD {
        out.par_iter_mut().with_min_len((TASK / n.max(1)).max(1)).enumerate().for_each(|(p, x)| *x = lane(p));
    } else {
        out.iter_mut().enumerate().for_each(|(p, x)| *x = lane(p));
    }
    out
}
