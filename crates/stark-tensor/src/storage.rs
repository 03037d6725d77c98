//! The element buffer behind every tensor: one typed `Vec` per dtype, held in
//! an `Arc` by tensors so views, moves and sends share it without copying.

use crate::dtype::{DType, Element};

/// A flat vector of elements of one dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum Buffer {
    /// `Bool` elements.
    Bool(Vec<bool>),
    /// `UInt8` elements.
    UInt8(Vec<u8>),
    /// `Int32` elements.
    Int32(Vec<i32>),
    /// `Int64` elements.
    Int64(Vec<i64>),
    /// `Float32` elements.
    Float32(Vec<f32>),
    /// `Float64` elements.
    Float64(Vec<f64>),
}

impl Buffer {
    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        match self {
            Buffer::Bool(_) => DType::Bool,
            Buffer::UInt8(_) => DType::UInt8,
            Buffer::Int32(_) => DType::Int32,
            Buffer::Int64(_) => DType::Int64,
            Buffer::Float32(_) => DType::Float32,
            Buffer::Float64(_) => DType::Float64,
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        with_dtype!(self.dtype(), T => self.slice::<T>().len())
    }

    /// Whether the buffer holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements as `T`; callers dispatch on `dtype()` first.
    pub(crate) fn slice<T: Element>(&self) -> &[T] {
        T::slice(self).expect("buffer dtype checked by the caller")
    }

    /// The element vector as `T`; callers dispatch on `dtype()` first.
    pub(crate) fn vec_mut<T: Element>(&mut self) -> &mut Vec<T> {
        T::vec_mut(self).expect("buffer dtype checked by the caller")
    }
}

/// A large freed buffer goes to the output pool (`alloc::recycle`) rather than back to the system.
impl Drop for Buffer {
    fn drop(&mut self) {
        with_dtype!(self.dtype(), T => crate::alloc::recycle(std::mem::take(self.vec_mut::<T>())));
    }
}
