//! The strided loop every element-wise kernel runs on.
//!
//! Operands are read through strides (0 on broadcast dimensions) into a
//! contiguous output. Dimensions are first coalesced, so a contiguous operand
//! becomes one long row; each row then runs one of a few specialised inner
//! loops (both unit-stride, one broadcast scalar, general), and the
//! unit-stride ones are plain slice zips that LLVM vectorises, in copies for
//! AVX-512F and AVX2 picked at run time (`with_simd`). Above
//! `PARALLEL_THRESHOLD` output elements the rows (or blocks of one long row)
//! are spread over rayon's pool.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::shape::coalesce;

/// Output elements below which kernels stay on the calling thread.
pub(crate) const PARALLEL_THRESHOLD: usize = 1 << 15;

/// Output elements per parallel task.
const BLOCK: usize = 1 << 14;

/// One input of a kernel: its buffer, strides in output coordinates, offset.
pub(crate) struct Operand<'a, T> {
    pub(crate) data: &'a [T],
    pub(crate) strides: Vec<usize>,
    pub(crate) offset: usize,
}

/// The coalesced iteration space of `K` operands: outer dimensions, each
/// operand's outer strides, and the length and strides of the inner row.
struct RowPlan<const K: usize> {
    outer: Vec<usize>,
    outer_strides: [Vec<usize>; K],
    inner: usize,
    inner_strides: [usize; K],
    base: [usize; K],
}

impl<const K: usize> RowPlan<K> {
    fn new(shape: &[usize], strides: [Vec<usize>; K], base: [usize; K]) -> RowPlan<K> {
        let (mut dims, mut coalesced) = coalesce(shape, &strides);
        let inner = dims.pop().unwrap_or(1);
        let inner_strides = std::array::from_fn(|k| coalesced[k].pop().unwrap_or(0));
        let outer_strides = std::array::from_fn(|k| std::mem::take(&mut coalesced[k]));
        RowPlan { outer: dims, outer_strides, inner, inner_strides, base }
    }

    /// Each operand's position of the first element of row `row`.
    fn row_start(&self, row: usize) -> [usize; K] {
        let mut start = self.base;
        let mut rest = row;
        for d in (0..self.outer.len()).rev() {
            let i = rest % self.outer[d];
            rest /= self.outer[d];
            for (s, strides) in start.iter_mut().zip(&self.outer_strides) {
                *s += i * strides[d];
            }
        }
        start
    }

    /// Runs `f(out_part, starts)` over the output split into rows (or blocks of a long row).
    fn for_each_row<O: Send>(&self, out: &mut [O], f: impl Fn(&mut [O], [usize; K]) + Sync) {
        let inner = self.inner;
        if out.is_empty() {
            return;
        }
        if out.len() < PARALLEL_THRESHOLD {
            out.chunks_mut(inner).enumerate().for_each(|(r, row)| f(row, self.row_start(r)));
        } else if inner >= PARALLEL_THRESHOLD {
            for (r, row) in out.chunks_mut(inner).enumerate() {
                let start = self.row_start(r);
                row.par_chunks_mut(BLOCK).enumerate().for_each(|(b, part)| {
                    f(part, std::array::from_fn(|k| start[k] + b * BLOCK * self.inner_strides[k]))
                });
            }
        } else {
            let rows_per_task = (BLOCK / inner).max(1);
            out.par_chunks_mut(inner)
                .with_min_len(rows_per_task)
                .enumerate()
                .for_each(|(r, row)| f(row, self.row_start(r)));
        }
    }
}

/// `f(a)` over every position of `shape`, in row-major order.
pub(crate) fn map<A, O>(shape: &[usize], a: Operand<'_, A>, f: impl Fn(A) -> O + Sync + Send) -> Vec<O>
where
    A: Copy + Sync,
    O: Copy + Send + 'static,
{
    let plan = RowPlan::new(shape, [a.strides], [a.offset]);
    let stride = plan.inner_strides[0];
    let fill = |out: &mut [MaybeUninit<O>]| {
        plan.for_each_row(out, |row, [start]| {
            with_simd(
                #[inline(always)]
                || unary_row(row, a.data, start, stride, &f),
            )
        })
    };
    // SAFETY: `for_each_row` hands every output element to exactly one row
    // call, and `unary_row` writes every element of its row.
    unsafe { crate::alloc::filled(shape.iter().product(), fill) }
}

/// `f(a, b)` over every position of `shape`, in row-major order.
pub(crate) fn zip_map<A, B, O>(
    shape: &[usize],
    a: Operand<'_, A>,
    b: Operand<'_, B>,
    f: impl Fn(A, B) -> O + Sync + Send,
) -> Vec<O>
where
    A: Copy + Sync,
    B: Copy + Sync,
    O: Copy + Send + 'static,
{
    let plan = RowPlan::new(shape, [a.strides, b.strides], [a.offset, b.offset]);
    let [sa, sb] = plan.inner_strides;
    let fill = |out: &mut [MaybeUninit<O>]| {
        plan.for_each_row(out, |row, [ia, ib]| {
            with_simd(
                #[inline(always)]
                || binary_row(row, (a.data, ia, sa), (b.data, ib, sb), &f),
            )
        })
    };
    // SAFETY: as in `map`; `binary_row` writes every element of its row.
    unsafe { crate::alloc::filled(shape.iter().product(), fill) }
}

/// Replaces each element of the view (`shape`, `strides`, `offset`) of `data` by `f` of it.
pub(crate) fn update_in_place<T>(
    shape: &[usize],
    strides: &[usize],
    offset: usize,
    data: &mut [T],
    f: impl Fn(T) -> T + Sync + Send,
) where
    T: Copy + Send + Sync,
{
    if shape.contains(&0) {
        return;
    }
    let plan = RowPlan::new(shape, [strides.to_vec()], [offset]);
    let [stride] = plan.inner_strides;
    if plan.outer.is_empty() && stride == 1 {
        let run = &mut data[offset..offset + plan.inner];
        run.par_chunks_mut(BLOCK).for_each(|part| part.iter_mut().for_each(|x| *x = f(*x)));
        return;
    }
    let rows: usize = plan.outer.iter().product();
    for r in 0..rows {
        let [start] = plan.row_start(r);
        for j in 0..plan.inner {
            let x = &mut data[start + j * stride];
            *x = f(*x);
        }
    }
}

/// Runs `f` in a copy compiled for AVX-512F or AVX2 when the CPU has it, so
/// the loops inlined into it vectorise 16 or 8 `f32` wide instead of SSE2's 4.
/// Every copy does the same operations in the same order (no FMA
/// contraction), so results are identical whichever runs. Callers mark the
/// closure `#[inline(always)]`: it is called from each copy, and a closure
/// left out of line would be compiled for SSE2 only.
#[inline(always)]
pub(crate) fn with_simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        #[target_feature(enable = "avx512f")]
        unsafe fn run512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: the CPU supports AVX-512F, checked just above.
        return unsafe { run512(f) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        unsafe fn run<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { run(f) };
    }
    f()
}

/// One output row of a unary kernel, reading `a` from `start` with `stride`.
#[inline(always)]
fn unary_row<A: Copy, O>(out: &mut [MaybeUninit<O>], a: &[A], start: usize, stride: usize, f: &impl Fn(A) -> O) {
    let n = out.len();
    match stride {
        1 => out.iter_mut().zip(&a[start..start + n]).for_each(|(o, &x)| _ = o.write(f(x))),
        0 => {
            let x = a[start];
            out.iter_mut().for_each(|o| _ = o.write(f(x)));
        }
        _ => out.iter_mut().enumerate().for_each(|(j, o)| _ = o.write(f(a[start + j * stride]))),
    }
}

/// One output row of a binary kernel; each operand is `(data, start, stride)`.
#[inline(always)]
fn binary_row<A: Copy, B: Copy, O>(
    out: &mut [MaybeUninit<O>],
    (a, ia, sa): (&[A], usize, usize),
    (b, ib, sb): (&[B], usize, usize),
    f: &impl Fn(A, B) -> O,
) {
    let n = out.len();
    match (sa, sb) {
        (1, 1) => {
            let (a, b) = (&a[ia..ia + n], &b[ib..ib + n]);
            out.iter_mut().zip(a.iter().zip(b)).for_each(|(o, (&x, &y))| _ = o.write(f(x, y)));
        }
        (0, 1) => {
            let x = a[ia];
            out.iter_mut().zip(&b[ib..ib + n]).for_each(|(o, &y)| _ = o.write(f(x, y)));
        }
        (1, 0) => {
            let y = b[ib];
            out.iter_mut().zip(&a[ia..ia + n]).for_each(|(o, &x)| _ = o.write(f(x, y)));
        }
        _ => out.iter_mut().enumerate().for_each(|(j, o)| _ = o.write(f(a[ia + j * sa], b[ib + j * sb]))),
    }
}
