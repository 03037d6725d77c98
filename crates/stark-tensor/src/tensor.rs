//! The `Tensor` value: a dtype-tagged shared buffer plus a strided layout.

use std::sync::Arc;

use crate::dtype::{DType, Element, Scalar};
use crate::error::{Result, TensorError};
use crate::shape::Shape;
use crate::storage::Buffer;
use crate::strided::{self, Operand};

/// Where a tensor's data lives. Only the CPU exists so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// Host memory.
    Cpu,
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Device::Cpu => "cpu",
        })
    }
}

/// An n-dimensional array: a shared immutable buffer read through a layout
/// (shape, strides in elements, offset). Rust's `clone()` shares the buffer
/// (as a move or send does in STARK); [`Tensor::deep_clone`] copies it.
#[derive(Clone)]
pub struct Tensor {
    pub(crate) buffer: Arc<Buffer>,
    pub(crate) shape: Shape,
    pub(crate) strides: Vec<usize>,
    pub(crate) offset: usize,
}

impl Tensor {
    /// A contiguous tensor owning `buffer`, whose length must equal the shape's element count.
    pub(crate) fn from_buffer(buffer: Buffer, shape: Shape) -> Tensor {
        debug_assert_eq!(buffer.len(), shape.numel());
        let strides = shape.contiguous_strides();
        Tensor { buffer: Arc::new(buffer), shape, strides, offset: 0 }
    }

    /// A contiguous tensor from a vector whose length equals the shape's element count.
    pub(crate) fn from_values<T: Element>(values: Vec<T>, shape: Shape) -> Tensor {
        Tensor::from_buffer(T::into_buffer(values), shape)
    }

    /// A view of the same buffer with another layout.
    pub(crate) fn view(&self, shape: Shape, strides: Vec<usize>, offset: usize) -> Tensor {
        Tensor { buffer: Arc::clone(&self.buffer), shape, strides, offset }
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The strides, in elements, one per dimension.
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }

    /// The position of the first element in the buffer.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.buffer.dtype()
    }

    /// The device holding the data (always the CPU for now).
    pub fn device(&self) -> Device {
        Device::Cpu
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// Whether this tensor reads its buffer in row-major order without gaps.
    pub fn is_contiguous(&self) -> bool {
        let (dims, strides) = crate::shape::coalesce(&self.shape, std::slice::from_ref(&self.strides));
        dims.is_empty() || (dims.len() == 1 && strides[0][0] == 1)
    }

    /// Whether another tensor (or view) shares this tensor's buffer.
    pub fn is_shared(&self) -> bool {
        Arc::strong_count(&self.buffer) > 1
    }

    /// Whether two tensors read the same buffer.
    pub fn shares_buffer_with(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.buffer, &other.buffer)
    }

    /// The elements in row-major order if the tensor is contiguous.
    pub(crate) fn contiguous_slice<T: Element>(&self) -> Option<&[T]> {
        let data = T::slice(&self.buffer)?;
        self.is_contiguous().then(|| &data[self.offset..self.offset + self.numel()])
    }

    /// The elements in row-major order, borrowed without a copy, if the tensor
    /// is contiguous and its dtype is `T`'s.
    pub fn as_slice<T: Element>(&self) -> Option<&[T]> {
        self.contiguous_slice()
    }

    /// The tensor as an operand of a strided kernel, read with `strides`.
    pub(crate) fn operand<T: Element>(&self, strides: Vec<usize>) -> Operand<'_, T> {
        Operand { data: self.buffer.slice::<T>(), strides, offset: self.offset }
    }

    /// This tensor, or a contiguous copy of it when it is a gapped or reordered view.
    pub fn contiguous(&self) -> Tensor {
        if self.is_contiguous() {
            self.clone()
        } else {
            self.deep_clone()
        }
    }

    /// A contiguous copy with its own buffer (the language's `clone()`).
    pub fn deep_clone(&self) -> Tensor {
        with_dtype!(self.dtype(), T => self.map_to::<T, T>(|x| x))
    }

    /// The elements in row-major order, if the dtype is `T`'s.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        self.expect_dtype::<T>("to_vec")?;
        Ok(match self.contiguous_slice::<T>() {
            Some(values) => values.to_vec(),
            None => self.gather::<T>(),
        })
    }

    /// The elements in row-major order, whatever the dtype, as `f64`.
    pub fn to_vec_f64(&self) -> Vec<f64> {
        with_dtype!(self.dtype(), T => self.map_values::<T, f64>(|x| x.to_f64()))
    }

    /// The element at `index` (one coordinate per dimension).
    pub fn get(&self, index: &[usize]) -> Result<Scalar> {
        let in_bounds = index.len() == self.rank() && index.iter().zip(self.shape.iter()).all(|(&i, &d)| i < d);
        if !in_bounds {
            return Err(TensorError::Index { index: index.to_vec(), shape: self.shape.clone() });
        }
        let position = self.offset + index.iter().zip(&self.strides).map(|(i, s)| i * s).sum::<usize>();
        Ok(with_dtype!(self.dtype(), T => self.buffer.slice::<T>()[position].to_scalar()))
    }

    /// The single element of a one-element tensor (of any rank).
    pub fn item(&self) -> Result<Scalar> {
        if self.numel() != 1 {
            return Err(TensorError::Index { index: vec![], shape: self.shape.clone() });
        }
        self.get(&vec![0; self.rank()])
    }

    /// A copy converted to `dtype` with Rust `as` semantics; shares the buffer if the dtype is already `dtype`.
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        with_dtype!(self.dtype(), S => with_dtype!(dtype, D => self.map_to::<S, D>(|x| x.cast::<D>())))
    }

    /// Applies `f` to every element, giving a new contiguous tensor of `U`'s dtype.
    /// The tensor's dtype must be `T`'s.
    pub fn map<T: Element, U: Element>(&self, f: impl Fn(T) -> U + Sync + Send) -> Result<Tensor> {
        self.expect_dtype::<T>("map")?;
        Ok(self.map_to(f))
    }

    /// Sets every element to `value` (converted to this dtype), in place.
    pub fn fill_(&mut self, value: impl Into<Scalar>) {
        let value = value.into();
        with_dtype!(self.dtype(), T => {
            let v = value.cast::<T>();
            self.update_::<T>(|_| v)
        })
    }

    /// Replaces every element `x` by `f(x)`, in place. The tensor's dtype must be `T`'s.
    pub fn map_<T: Element>(&mut self, f: impl Fn(T) -> T + Sync + Send) -> Result<()> {
        self.expect_dtype::<T>("map_")?;
        self.update_(f);
        Ok(())
    }

    /// Writes `f(x)` over every element. Copy-on-write: if the buffer is shared,
    /// this tensor first takes a contiguous copy of its own elements.
    fn update_<T: Element>(&mut self, f: impl Fn(T) -> T + Sync + Send) {
        if Arc::get_mut(&mut self.buffer).is_none() {
            *self = self.deep_clone();
        }
        let (shape, strides, offset) = (self.shape.clone(), self.strides.clone(), self.offset);
        let data = Arc::get_mut(&mut self.buffer).expect("buffer made unique above").vec_mut::<T>();
        strided::update_in_place(&shape, &strides, offset, data, f);
    }

    /// An error unless the dtype is `T`'s.
    pub(crate) fn expect_dtype<T: Element>(&self, op: &'static str) -> Result<()> {
        if self.dtype() == T::DTYPE {
            Ok(())
        } else {
            Err(TensorError::DType { op, expected: T::DTYPE, found: self.dtype() })
        }
    }

    /// `f` over every element (dtype `T`, checked by the caller) as a new contiguous tensor.
    pub(crate) fn map_to<T: Element, U: Element>(&self, f: impl Fn(T) -> U + Sync + Send) -> Tensor {
        Tensor::from_values(self.map_values(f), self.shape.clone())
    }

    /// `f` over every element (dtype `T`, checked by the caller), in row-major order.
    pub(crate) fn map_values<T: Element, U: Element>(&self, f: impl Fn(T) -> U + Sync + Send) -> Vec<U> {
        strided::map(&self.shape, self.operand::<T>(self.strides.clone()), f)
    }

    /// The elements (dtype `T`, checked by the caller) copied out in row-major order.
    fn gather<T: Element>(&self) -> Vec<T> {
        self.map_values::<T, T>(|x| x)
    }
}

/// Tensors are equal when dtype, shape and every element are (so NaN makes a tensor unequal to itself).
impl PartialEq for Tensor {
    fn eq(&self, other: &Tensor) -> bool {
        self.dtype() == other.dtype()
            && self.shape == other.shape
            && with_dtype!(self.dtype(), T => self.gather::<T>() == other.gather::<T>())
    }
}
