//! Tensor errors: values, never panics. Each variant carries data (shapes,
//! axes, dtypes), has a stable code, and renders a message naming the shapes.

use std::fmt;

use crate::dtype::DType;
use crate::shape::Shape;

/// The result of a fallible tensor operation.
pub type Result<T> = std::result::Result<T, TensorError>;

/// Everything that can go wrong in a tensor operation.
// Fields are the data the variant's message names; the variant docs say which.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq)]
pub enum TensorError {
    /// Two shapes cannot be broadcast together.
    Broadcast { lhs: Shape, rhs: Shape },
    /// `matmul` operands whose contracted dimensions differ.
    MatmulInner { lhs: Shape, rhs: Shape },
    /// `matmul` on a 0-d operand.
    MatmulRank { lhs: Shape, rhs: Shape },
    /// `reshape` to a shape with a different element count.
    Reshape { from: Shape, to: Shape },
    /// `from_vec` with a value count that does not match the shape.
    DataLength { len: usize, shape: Shape },
    /// An axis at or past the tensor's rank.
    Axis { op: &'static str, axis: usize, shape: Shape },
    /// An element index outside the shape (or of the wrong rank).
    Index { index: Vec<usize>, shape: Shape },
    /// A slice range outside its axis, reversed, or with a zero step.
    Slice { axis: usize, start: usize, end: usize, step: usize, shape: Shape },
    /// `permute` with something that is not a permutation of the axes.
    Permutation { perm: Vec<usize>, shape: Shape },
    /// `concat`/`stack` inputs whose shapes do not line up.
    JoinShape { op: &'static str, axis: usize, first: Shape, other: Shape },
    /// `concat`/`stack` of no tensors.
    EmptyJoin { op: &'static str },
    /// A reduction with no identity (`max`, `argmax`) over zero elements.
    EmptyReduction { op: &'static str, shape: Shape },
    /// A typed access (`to_vec::<T>`, `map`) on a tensor of another dtype.
    DType { op: &'static str, expected: DType, found: DType },
    /// An operation that does not accept this dtype.
    Unsupported { op: &'static str, dtype: DType },
    /// A shape whose element count overflows `usize`.
    TooLarge { shape: Vec<usize> },
    /// `arange` with a zero, NaN or infinite step or bound.
    Arange { start: f64, end: f64, step: f64 },
    /// `reshape_infer` with more than one -1, another negative size, or a -1 that cannot be filled.
    InferredShape { dims: Vec<i64>, shape: Shape },
    /// Integer `/` or `%` with a zero element in the divisor.
    DivisionByZero { op: &'static str },
}

impl TensorError {
    /// The stable code of this error (`T001`..), shown before the message.
    pub fn code(&self) -> &'static str {
        match self {
            TensorError::Broadcast { .. } => "T001",
            TensorError::MatmulInner { .. } => "T002",
            TensorError::MatmulRank { .. } => "T003",
            TensorError::Reshape { .. } => "T004",
            TensorError::DataLength { .. } => "T005",
            TensorError::Axis { .. } => "T006",
            TensorError::Index { .. } => "T007",
            TensorError::Slice { .. } => "T008",
            TensorError::Permutation { .. } => "T009",
            TensorError::JoinShape { .. } => "T010",
            TensorError::EmptyJoin { .. } => "T011",
            TensorError::EmptyReduction { .. } => "T012",
            TensorError::DType { .. } => "T013",
            TensorError::Unsupported { .. } => "T014",
            TensorError::TooLarge { .. } => "T015",
            TensorError::Arange { .. } => "T016",
            TensorError::DivisionByZero { .. } => "T017",
            TensorError::InferredShape { .. } => "T018",
        }
    }

    /// The message alone, without the code.
    pub fn message(&self) -> String {
        match self {
            TensorError::Broadcast { lhs, rhs } => format!("cannot broadcast shapes {lhs} and {rhs}"),
            TensorError::MatmulInner { lhs, rhs } => format!("matmul: inner dimensions differ: {lhs} x {rhs}"),
            TensorError::MatmulRank { lhs, rhs } => {
                format!("matmul: operands must have at least one dimension: {lhs} x {rhs}")
            }
            TensorError::Reshape { from, to } => {
                format!("cannot reshape {from} ({} elements) into {to} ({} elements)", from.numel(), to.numel())
            }
            TensorError::DataLength { len, shape } => {
                format!("from_vec: {len} values do not fill shape {shape} ({} elements)", shape.numel())
            }
            TensorError::Axis { op, axis, shape } => {
                format!("{op}: axis {axis} is out of range for shape {shape} (rank {})", shape.len())
            }
            TensorError::Index { index, shape } => format!("index {index:?} is out of bounds for shape {shape}"),
            TensorError::Slice { axis, start, end, step, shape } => {
                format!("slice {start}..{end} step {step} is invalid for axis {axis} of shape {shape}")
            }
            TensorError::Permutation { perm, shape } => {
                format!("permute: {perm:?} is not a permutation of the axes of shape {shape}")
            }
            TensorError::JoinShape { op, axis, first, other } => {
                format!("{op} along axis {axis}: shapes {first} and {other} do not match")
            }
            TensorError::EmptyJoin { op } => format!("{op}: needs at least one tensor"),
            TensorError::EmptyReduction { op, shape } => format!("{op}: cannot reduce zero elements (shape {shape})"),
            TensorError::DType { op, expected, found } => format!("{op}: expected dtype {expected}, found {found}"),
            TensorError::Unsupported { op, dtype } => format!("{op}: not supported for dtype {dtype}"),
            TensorError::TooLarge { shape } => format!("shape {shape:?} has too many elements"),
            TensorError::Arange { start, end, step } => {
                format!("arange: invalid range {start}..{end} step {step}")
            }
            TensorError::DivisionByZero { op } => format!("{op}: integer division by zero"),
            TensorError::InferredShape { dims, shape } => {
                format!("cannot reshape {shape} ({} elements) into {dims:?}", shape.numel())
            }
        }
    }
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error[{}]: {}", self.code(), self.message())
    }
}

impl std::error::Error for TensorError {}
