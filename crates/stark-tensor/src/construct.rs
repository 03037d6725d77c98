//! Constructors: `zeros`, `ones`, `full`, `scalar`, `rand`, `randn`,
//! `arange`, `eye`, `from_vec`.

use crate::dtype::{DType, Element, Scalar};
use crate::error::{Result, TensorError};
use crate::random::Rng;
use crate::shape::{checked_shape, Shape};
use crate::tensor::Tensor;

impl Tensor {
    /// A tensor of `shape` filled with 0 (`false` for `Bool`).
    pub fn zeros(shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::full(shape, Scalar::Int64(0).cast_to(dtype))
    }

    /// A tensor of `shape` filled with 1 (`true` for `Bool`).
    pub fn ones(shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::full(shape, Scalar::Int64(1).cast_to(dtype))
    }

    /// A tensor of `shape` filled with `value`, of `value`'s dtype.
    pub fn full(shape: &[usize], value: impl Into<Scalar>) -> Result<Tensor> {
        let shape = checked_shape(shape)?;
        let value = value.into();
        Ok(with_dtype!(value.dtype(), T => Tensor::from_values(vec![value.cast::<T>(); shape.numel()], shape)))
    }

    /// A 0-d tensor holding `value`.
    pub fn scalar(value: impl Into<Scalar>) -> Tensor {
        let value = value.into();
        with_dtype!(value.dtype(), T => Tensor::from_values(vec![value.cast::<T>()], Shape::default()))
    }

    /// A tensor of `shape` holding `values` in row-major order.
    pub fn from_vec<T: Element>(values: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        let shape = checked_shape(shape)?;
        if values.len() != shape.numel() {
            return Err(TensorError::DataLength { len: values.len(), shape });
        }
        Ok(Tensor::from_values(values, shape))
    }

    /// Uniform samples in `[0, 1)` of a float dtype, determined by `seed`.
    pub fn rand(shape: &[usize], dtype: DType, seed: u64) -> Result<Tensor> {
        // Float32 samples come from 24 bits: an f64 sample could round up to 1.0.
        let sample: fn(&mut Rng) -> f64 = match dtype {
            DType::Float32 => |rng| rng.next_f32() as f64,
            _ => Rng::next_f64,
        };
        Tensor::sampled("rand", shape, dtype, seed, sample)
    }

    /// Standard normal samples of a float dtype, determined by `seed`.
    pub fn randn(shape: &[usize], dtype: DType, seed: u64) -> Result<Tensor> {
        Tensor::sampled("randn", shape, dtype, seed, Rng::next_normal)
    }

    /// `shape` filled by `sample` from a generator seeded with `seed`.
    fn sampled(
        op: &'static str,
        shape: &[usize],
        dtype: DType,
        seed: u64,
        sample: fn(&mut Rng) -> f64,
    ) -> Result<Tensor> {
        let shape = checked_shape(shape)?;
        let mut rng = Rng::new(seed);
        with_float!(dtype, T => {
            let values: Vec<T> = (0..shape.numel()).map(|_| sample(&mut rng) as T).collect();
            Ok(Tensor::from_values(values, shape))
        }, other => Err(TensorError::Unsupported { op, dtype }))
    }

    /// The 1-d tensor `start, start + step, ..` up to (not including) `end`, like numpy's `arange`.
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        let invalid = || TensorError::Arange { start, end, step };
        if step == 0.0 || !(start.is_finite() && end.is_finite() && step.is_finite()) {
            return Err(invalid());
        }
        let count = ((end - start) / step).ceil().max(0.0);
        if count > isize::MAX as f64 {
            return Err(invalid());
        }
        let count = count as usize;
        Ok(with_dtype!(dtype, T => {
            let values: Vec<T> = (0..count).map(|i| T::from_f64(start + i as f64 * step)).collect();
            Tensor::from_values(values, Shape::new([count]))
        }))
    }

    /// The `n` x `n` identity matrix.
    pub fn eye(n: usize, dtype: DType) -> Result<Tensor> {
        let shape = checked_shape(&[n, n])?;
        Ok(with_dtype!(dtype, T => {
            let (zero, one) = (T::from_i64(0), T::from_i64(1));
            let values: Vec<T> = (0..n * n).map(|i| if i % (n + 1) == 0 { one } else { zero }).collect();
            Tensor::from_values(values, shape)
        }))
    }
}

impl Scalar {
    /// This value converted to `dtype` with Rust `as` semantics.
    pub fn cast_to(self, dtype: DType) -> Scalar {
        with_dtype!(dtype, T => self.cast::<T>().to_scalar())
    }
}
