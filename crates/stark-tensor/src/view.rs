//! Layout operations. `transpose`, `swap_axes`, `permute` and `slice` are
//! views (new strides over the same buffer, no copy); so is `reshape` of a
//! contiguous tensor, and of a non-contiguous one whenever its strides allow
//! (as in numpy), else it copies. `concat` and `stack` copy.

use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::shape::{check_axis, checked_shape, Shape};
use crate::tensor::Tensor;

impl Tensor {
    /// The same elements in row-major order with shape `dims`: a view whenever
    /// strides exist that read them so (always for a contiguous tensor), else a copy.
    pub fn reshape(&self, dims: &[usize]) -> Result<Tensor> {
        let shape = checked_shape(dims)?;
        if shape.numel() != self.numel() {
            return Err(TensorError::Reshape { from: self.shape.clone(), to: shape });
        }
        if let Some(strides) = self.reshape_strides(&shape) {
            return Ok(self.view(shape, strides, self.offset));
        }
        let copy = self.deep_clone();
        let strides = shape.contiguous_strides();
        Ok(copy.view(shape, strides, 0))
    }

    /// Strides that read this tensor's elements in row-major order with shape
    /// `dims`, if there are any (numpy's no-copy reshape): the dimensions are
    /// matched in groups of equal element count, and the old dimensions of each
    /// group must be contiguous with one another.
    fn reshape_strides(&self, dims: &[usize]) -> Option<Vec<usize>> {
        if self.numel() == 0 {
            return Some(Shape::from(dims).contiguous_strides());
        }
        let old: Vec<(usize, usize)> =
            self.shape.iter().zip(&self.strides).filter(|(&d, _)| d != 1).map(|(&d, &s)| (d, s)).collect();
        let mut strides = vec![0; dims.len()];
        let (mut oi, mut ni) = (0, 0);
        while oi < old.len() && ni < dims.len() {
            let (mut new_count, mut old_count) = (dims[ni], old[oi].0);
            let (mut oj, mut nj) = (oi + 1, ni + 1);
            while new_count != old_count {
                if new_count < old_count {
                    new_count *= dims[nj];
                    nj += 1;
                } else {
                    old_count *= old[oj].0;
                    oj += 1;
                }
            }
            if (oi..oj - 1).any(|k| old[k].1 != old[k + 1].0 * old[k + 1].1) {
                return None;
            }
            strides[nj - 1] = old[oj - 1].1;
            for k in (ni + 1..nj).rev() {
                strides[k - 1] = strides[k] * dims[k];
            }
            (oi, ni) = (oj, nj);
        }
        Some(strides)
    }

    /// Like [`Tensor::reshape`], with the language's `-1`: one dimension may be
    /// -1 and takes the rest of the elements (which must divide evenly).
    pub fn reshape_infer(&self, dims: &[i64]) -> Result<Tensor> {
        let bad = || TensorError::InferredShape { dims: dims.to_vec(), shape: self.shape.clone() };
        let holes = dims.iter().filter(|&&d| d == -1).count();
        if holes > 1 || dims.iter().any(|&d| d < -1) {
            return Err(bad());
        }
        let known = dims.iter().filter(|&&d| d >= 0).try_fold(1usize, |n, &d| n.checked_mul(usize::try_from(d).ok()?));
        let known = known.ok_or_else(bad)?;
        let fill = match (holes, known) {
            (0, _) => 0,
            (_, 0) => return Err(bad()),
            (_, k) => self.numel() / k,
        };
        if holes == 1 && fill * known != self.numel() {
            return Err(bad());
        }
        let resolved: Vec<usize> = dims.iter().map(|&d| if d == -1 { fill } else { d as usize }).collect();
        self.reshape(&resolved)
    }

    /// A view with the dimensions in reverse order (a matrix's transpose), like numpy's `.T`.
    pub fn transpose(&self) -> Tensor {
        let perm: Vec<usize> = (0..self.rank()).rev().collect();
        self.permute(&perm).expect("a reversal is a permutation")
    }

    /// A view with axes `a` and `b` swapped.
    pub fn swap_axes(&self, a: usize, b: usize) -> Result<Tensor> {
        check_axis("swap_axes", a, &self.shape)?;
        check_axis("swap_axes", b, &self.shape)?;
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// A view whose axis `i` is this tensor's axis `perm[i]`.
    pub fn permute(&self, perm: &[usize]) -> Result<Tensor> {
        let mut seen = vec![false; self.rank()];
        let valid =
            perm.len() == self.rank() && perm.iter().all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
        if !valid {
            return Err(TensorError::Permutation { perm: perm.to_vec(), shape: self.shape.clone() });
        }
        let shape = Shape::new(perm.iter().map(|&p| self.shape[p]).collect::<Vec<_>>());
        let strides = perm.iter().map(|&p| self.strides[p]).collect();
        Ok(self.view(shape, strides, self.offset))
    }

    /// A view of elements `start..end` (every `step`-th) along `axis`.
    pub fn slice(&self, axis: usize, start: usize, end: usize, step: usize) -> Result<Tensor> {
        check_axis("slice", axis, &self.shape)?;
        if step == 0 || start > end || end > self.shape[axis] {
            return Err(TensorError::Slice { axis, start, end, step, shape: self.shape.clone() });
        }
        let mut dims = self.shape.to_vec();
        dims[axis] = (end - start).div_ceil(step);
        let mut strides = self.strides.clone();
        strides[axis] *= step;
        let offset = if dims[axis] == 0 { self.offset } else { self.offset + start * self.strides[axis] };
        Ok(self.view(Shape::new(dims), strides, offset))
    }

    /// The tensors joined along an existing `axis`; other dimensions must match. Dtypes promote.
    pub fn concat(tensors: &[&Tensor], axis: usize) -> Result<Tensor> {
        let shape = joined_shape(tensors, axis)?;
        let dtype = tensors.iter().map(|t| t.dtype()).fold(DType::Bool, DType::promote);
        let parts: Vec<Tensor> = tensors.iter().map(|t| t.to_dtype(dtype).contiguous()).collect();
        // Each part is `outer` runs, one per index before `axis`; the result interleaves them.
        let outer: usize = shape[..axis].iter().product();
        Ok(with_dtype!(dtype, T => {
            let mut values: Vec<T> = Vec::with_capacity(shape.numel());
            for o in 0..outer {
                for part in &parts {
                    let run = part.numel() / outer;
                    let data = part.contiguous_slice::<T>().expect("made contiguous above");
                    values.extend_from_slice(&data[o * run..(o + 1) * run]);
                }
            }
            Tensor::from_values(values, shape)
        }))
    }

    /// The tensors, all of one shape, joined along a new `axis` (`0..=rank`). Dtypes promote.
    pub fn stack(tensors: &[&Tensor], axis: usize) -> Result<Tensor> {
        let first = tensors.first().ok_or(TensorError::EmptyJoin { op: "stack" })?;
        if axis > first.rank() {
            return Err(TensorError::Axis { op: "stack", axis, shape: first.shape.clone() });
        }
        if let Some(t) = tensors.iter().find(|t| t.shape != first.shape) {
            let (first, other) = (first.shape.clone(), t.shape.clone());
            return Err(TensorError::JoinShape { op: "stack", axis, first, other });
        }
        let mut dims = first.shape.to_vec();
        dims.insert(axis, 1);
        let expanded: Vec<Tensor> = tensors.iter().map(|t| t.reshape(&dims)).collect::<Result<_>>()?;
        Tensor::concat(&expanded.iter().collect::<Vec<_>>(), axis)
    }
}

/// The shape of `tensors` concatenated along `axis`, or the error naming the first mismatch.
fn joined_shape(tensors: &[&Tensor], axis: usize) -> Result<Shape> {
    let first = tensors.first().ok_or(TensorError::EmptyJoin { op: "concat" })?;
    check_axis("concat", axis, &first.shape)?;
    let fits =
        |t: &Tensor| t.rank() == first.rank() && (0..t.rank()).all(|d| d == axis || t.shape[d] == first.shape[d]);
    if let Some(t) = tensors.iter().find(|t| !fits(t)) {
        let (first, other) = (first.shape.clone(), t.shape.clone());
        return Err(TensorError::JoinShape { op: "concat", axis, first, other });
    }
    let mut dims = first.shape.to_vec();
    dims[axis] = tensors.iter().map(|t| t.shape[axis]).sum();
    checked_shape(&dims)
}
