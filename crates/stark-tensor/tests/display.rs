//! The display format.

mod common;

use common::*;
use stark_tensor::{DType, Tensor};

#[test]
fn matrix_of_integral_floats() {
    assert_eq!(range(&[2, 2]).to_string(), "tensor([[0., 1.],\n        [2., 3.]], shape=[2, 2], dtype=Float32)");
}

#[test]
fn three_dimensions_have_blank_lines_between_blocks() {
    let want = "tensor([[[ 0.,  1.,  2.],\n         [ 3.,  4.,  5.]],\n\n        [[ 6.,  7.,  8.],\n         [ 9., 10., 11.]]], shape=[2, 2, 3], dtype=Float32)";
    assert_eq!(range(&[2, 2, 3]).to_string(), want);
}

#[test]
fn float_styles() {
    assert_eq!(Tensor::scalar(1.5f64).to_string(), "tensor(1.5000, shape=[], dtype=Float64)");
    let fixed = f32s(&[0.1, -2.25, f32::NAN, f32::INFINITY], &[4]);
    assert_eq!(fixed.to_string(), "tensor([ 0.1000, -2.2500,     nan,     inf], shape=[4], dtype=Float32)");
    let sci = f64s(&[1e9, 1e-5, 0.0], &[3]);
    assert_eq!(sci.to_string(), "tensor([1.0000e+09, 1.0000e-05, 0.0000e+00], shape=[3], dtype=Float64)");
}

#[test]
fn integers_and_bools() {
    let i = Tensor::from_vec(vec![-1i64, 10, 200], &[3]).unwrap();
    assert_eq!(i.to_string(), "tensor([ -1,  10, 200], shape=[3], dtype=Int64)");
    let b = Tensor::from_vec(vec![true, false], &[2]).unwrap();
    assert_eq!(b.to_string(), "tensor([ true, false], shape=[2], dtype=Bool)");
}

#[test]
fn empty_tensor() {
    let e = Tensor::zeros(&[0, 3], DType::Float32).unwrap();
    assert_eq!(e.to_string(), "tensor([], shape=[0, 3], dtype=Float32)");
}

#[test]
fn long_rows_wrap_at_80_columns() {
    let want = "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n        14., 15., 16., 17., 18., 19.], shape=[20], dtype=Float32)";
    assert_eq!(range(&[20]).to_string(), want);
}

#[test]
fn big_tensors_are_summarised() {
    let want = "tensor([[   0.,    1.,    2., ...,   47.,   48.,   49.],\n        [  50.,   51.,   52., ...,   97.,   98.,   99.],\n        [ 100.,  101.,  102., ...,  147.,  148.,  149.],\n        ...,\n        [1850., 1851., 1852., ..., 1897., 1898., 1899.],\n        [1900., 1901., 1902., ..., 1947., 1948., 1949.],\n        [1950., 1951., 1952., ..., 1997., 1998., 1999.]], shape=[40, 50], dtype=Float32)";
    assert_eq!(range(&[40, 50]).to_string(), want);
    let long = range(&[1001]).to_string();
    assert_eq!(long, "tensor([   0.,    1.,    2., ...,  998.,  999., 1000.], shape=[1001], dtype=Float32)");
}

#[test]
fn views_display_their_own_elements() {
    let t = range(&[2, 3]).transpose();
    assert_eq!(t.to_string(), "tensor([[0., 3.],\n        [1., 4.],\n        [2., 5.]], shape=[3, 2], dtype=Float32)");
    assert_eq!(format!("{t:?}"), t.to_string());
}
