//! Helpers shared by the integration tests.
#![allow(dead_code)]

use stark_tensor::{DType, Tensor};

/// A Float32 tensor from values and a shape.
pub fn f32s(values: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(values.to_vec(), shape).unwrap()
}

/// A Float64 tensor from values and a shape.
pub fn f64s(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(values.to_vec(), shape).unwrap()
}

/// An Int64 tensor from values and a shape.
pub fn i64s(values: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(values.to_vec(), shape).unwrap()
}

/// The Float32 range 0, 1, .. n-1 reshaped to `shape`.
pub fn range(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::arange(0.0, n as f64, 1.0, DType::Float32).unwrap().reshape(shape).unwrap()
}

/// The elements as f64, with the shape checked.
pub fn values(t: &Tensor, shape: &[usize]) -> Vec<f64> {
    assert_eq!(t.shape().dims(), shape, "shape of {t}");
    t.to_vec_f64()
}

/// Asserts two float vectors are equal within `tol` (absolute plus relative).
pub fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "lengths differ: {got:?} vs {want:?}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = g == w || (g - w).abs() <= tol * (1.0 + w.abs()) || (g.is_nan() && w.is_nan());
        assert!(ok, "element {i}: got {g}, want {w}\n got {got:?}\nwant {want:?}");
    }
}
