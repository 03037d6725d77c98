//! Shapes, contiguous strides and numpy's broadcasting rule.

use std::fmt;
use std::ops::Deref;

use crate::error::{Result, TensorError};

/// The dimensions of a tensor: indexable, `len()`, displayed as `[2, 3]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Shape(Vec<usize>);

impl Shape {
    /// A shape from its dimensions.
    pub fn new(dims: impl Into<Vec<usize>>) -> Shape {
        Shape(dims.into())
    }

    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// The number of elements (1 for a 0-d shape), saturating at `usize::MAX`.
    pub fn numel(&self) -> usize {
        self.0.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).unwrap_or(usize::MAX)
    }

    /// The row-major strides of a contiguous tensor of this shape.
    pub fn contiguous_strides(&self) -> Vec<usize> {
        let mut strides = vec![0; self.0.len()];
        let mut step = 1usize;
        for (stride, &dim) in strides.iter_mut().zip(&self.0).rev() {
            *stride = step;
            step = step.saturating_mul(dim);
        }
        strides
    }
}

impl Deref for Shape {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        &self.0
    }
}

impl From<&[usize]> for Shape {
    fn from(dims: &[usize]) -> Shape {
        Shape(dims.to_vec())
    }
}

impl From<Vec<usize>> for Shape {
    fn from(dims: Vec<usize>) -> Shape {
        Shape(dims)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(dims: [usize; N]) -> Shape {
        Shape(dims.to_vec())
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// `dims` as a shape, or an error if its element count overflows `usize`.
pub(crate) fn checked_shape(dims: &[usize]) -> Result<Shape> {
    match dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) {
        Some(_) => Ok(Shape::from(dims)),
        None => Err(TensorError::TooLarge { shape: dims.to_vec() }),
    }
}

/// The shape two shapes broadcast to under numpy's rule: align on the right;
/// each pair of dimensions must be equal or one of them 1.
pub fn broadcast_shapes(lhs: &Shape, rhs: &Shape) -> Result<Shape> {
    let rank = lhs.len().max(rhs.len());
    let mut dims = vec![0; rank];
    for (i, dim) in dims.iter_mut().enumerate() {
        let l = dim_from_right(lhs, rank - 1 - i);
        let r = dim_from_right(rhs, rank - 1 - i);
        *dim = match (l, r) {
            (l, r) if l == r => l,
            (1, r) => r,
            (l, 1) => l,
            _ => return Err(TensorError::Broadcast { lhs: lhs.clone(), rhs: rhs.clone() }),
        };
    }
    Ok(Shape(dims))
}

/// The dimension `back` places from the right, 1 past the left end.
fn dim_from_right(shape: &[usize], back: usize) -> usize {
    if back < shape.len() {
        shape[shape.len() - 1 - back]
    } else {
        1
    }
}

/// The strides that read a tensor of `shape`/`strides` as if it had the
/// (broadcast) shape `target`: 0 on every added or stretched dimension.
pub(crate) fn broadcast_strides(shape: &[usize], strides: &[usize], target: &[usize]) -> Vec<usize> {
    let lead = target.len() - shape.len();
    (0..target.len())
        .map(|i| match i.checked_sub(lead) {
            Some(j) if shape[j] == target[i] => strides[j],
            _ => 0,
        })
        .collect()
}

/// Merges adjacent dimensions that every operand walks contiguously, and drops
/// dimensions of size 1, so kernels run long inner loops. Returns the new shape
/// and each operand's new strides.
pub(crate) fn coalesce(shape: &[usize], strides: &[Vec<usize>]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut dims: Vec<usize> = Vec::with_capacity(shape.len());
    let mut out: Vec<Vec<usize>> = vec![Vec::with_capacity(shape.len()); strides.len()];
    for (axis, &dim) in shape.iter().enumerate() {
        if dim == 1 {
            continue;
        }
        let mergeable =
            dims.last().is_some() && out.iter().zip(strides).all(|(o, s)| *o.last().unwrap() == s[axis] * dim);
        if mergeable {
            *dims.last_mut().unwrap() *= dim;
            for (o, s) in out.iter_mut().zip(strides) {
                *o.last_mut().unwrap() = s[axis];
            }
        } else {
            dims.push(dim);
            for (o, s) in out.iter_mut().zip(strides) {
                o.push(s[axis]);
            }
        }
    }
    (dims, out)
}

/// `axis` if it is below `rank`, else an error naming `op` and the shape.
pub(crate) fn check_axis(op: &'static str, axis: usize, shape: &Shape) -> Result<usize> {
    if axis < shape.len() {
        Ok(axis)
    } else {
        Err(TensorError::Axis { op, axis, shape: shape.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bc(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
        broadcast_shapes(&Shape::from(a), &Shape::from(b)).map(|s| s.0)
    }

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(bc(&[2, 3], &[3]).unwrap(), vec![2, 3]);
        assert_eq!(bc(&[4, 1, 3], &[2, 1]).unwrap(), vec![4, 2, 3]);
        assert_eq!(bc(&[], &[2, 2]).unwrap(), vec![2, 2]);
        assert_eq!(bc(&[0, 3], &[1, 3]).unwrap(), vec![0, 3]);
        assert_eq!(bc(&[0], &[1]).unwrap(), vec![0]);
        let err = bc(&[2, 3], &[4]).unwrap_err();
        assert_eq!(err.message(), "cannot broadcast shapes [2, 3] and [4]");
        assert!(bc(&[0], &[2]).is_err());
    }

    #[test]
    fn coalesce_merges_contiguous_runs_and_drops_ones() {
        let (dims, strides) = coalesce(&[2, 1, 3, 4], &[vec![12, 12, 4, 1], vec![0, 0, 4, 1]]);
        assert_eq!(dims, vec![2, 12]);
        assert_eq!(strides, vec![vec![12, 1], vec![0, 1]]);
        let (dims, _) = coalesce(&[3, 2], &[vec![1, 3]]);
        assert_eq!(dims, vec![3, 2]);
    }

    #[test]
    fn contiguous_strides_and_numel() {
        let s = Shape::from([2, 3, 4]);
        assert_eq!(s.contiguous_strides(), vec![12, 4, 1]);
        assert_eq!(s.numel(), 24);
        assert_eq!(Shape::from([]).numel(), 1);
        assert_eq!(s.to_string(), "[2, 3, 4]");
        assert!(checked_shape(&[usize::MAX, 2]).is_err());
    }
}
