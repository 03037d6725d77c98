//! Element-wise arithmetic, broadcasting, float functions and dtype promotion.

mod common;

use common::*;
use stark_tensor::{BinaryOp, DType, Scalar, Tensor};

#[test]
fn add_sub_mul_div_same_shape() {
    let a = f32s(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let b = f32s(&[10.0, 20.0, 30.0, 40.0], &[2, 2]);
    assert_eq!(values(&(&a + &b).unwrap(), &[2, 2]), [11.0, 22.0, 33.0, 44.0]);
    assert_eq!(values(&(&b - &a).unwrap(), &[2, 2]), [9.0, 18.0, 27.0, 36.0]);
    assert_eq!(values(&(&a * &b).unwrap(), &[2, 2]), [10.0, 40.0, 90.0, 160.0]);
    assert_eq!(values(&(&b / &a).unwrap(), &[2, 2]), [10.0, 10.0, 10.0, 10.0]);
}

#[test]
fn broadcast_row_column_and_scalar() {
    let m = range(&[2, 3]);
    let row = f32s(&[10.0, 20.0, 30.0], &[3]);
    assert_eq!(values(&m.add(&row).unwrap(), &[2, 3]), [10.0, 21.0, 32.0, 13.0, 24.0, 35.0]);
    let col = f32s(&[100.0, 200.0], &[2, 1]);
    assert_eq!(values(&m.add(&col).unwrap(), &[2, 3]), [100.0, 101.0, 102.0, 203.0, 204.0, 205.0]);
    let s = Tensor::scalar(2.0f32);
    assert_eq!(values(&m.mul(&s).unwrap(), &[2, 3]), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    assert_eq!(values(&s.sub(&m).unwrap(), &[2, 3]), [2.0, 1.0, 0.0, -1.0, -2.0, -3.0]);
}

#[test]
fn broadcast_both_sides_and_rank_difference() {
    let a = f32s(&[1.0, 2.0, 3.0], &[3, 1]);
    let b = f32s(&[10.0, 20.0], &[1, 2]);
    assert_eq!(values(&a.add(&b).unwrap(), &[3, 2]), [11.0, 21.0, 12.0, 22.0, 13.0, 23.0]);
    let c = range(&[2, 1, 2]);
    let d = f32s(&[1.0, 2.0, 3.0], &[3, 1]);
    assert_eq!(values(&c.mul(&d).unwrap(), &[2, 3, 2]), [0., 1., 0., 2., 0., 3., 2., 3., 4., 6., 6., 9.]);
}

#[test]
fn broadcast_zero_size_dimensions() {
    let empty = Tensor::zeros(&[0, 3], DType::Float32).unwrap();
    let row = f32s(&[1.0, 2.0, 3.0], &[3]);
    assert_eq!(values(&empty.add(&row).unwrap(), &[0, 3]), Vec::<f64>::new());
    let one = f32s(&[5.0], &[1]);
    let zero = Tensor::zeros(&[0], DType::Float32).unwrap();
    assert_eq!(zero.add(&one).unwrap().shape().dims(), &[0]);
    let err = zero.add(&f32s(&[1.0, 2.0], &[2])).unwrap_err();
    assert_eq!(err.message(), "cannot broadcast shapes [0] and [2]");
}

#[test]
fn broadcast_error_names_both_shapes() {
    let err = range(&[2, 3]).add(&range(&[4])).unwrap_err();
    assert_eq!(err.to_string(), "error[T001]: cannot broadcast shapes [2, 3] and [4]");
    assert_eq!(err.code(), "T001");
}

#[test]
fn ops_on_non_contiguous_views() {
    let m = range(&[2, 3]);
    let t = m.transpose();
    assert!(!t.is_contiguous());
    let sum = t.add(&t).unwrap();
    assert_eq!(values(&sum, &[3, 2]), [0.0, 6.0, 2.0, 8.0, 4.0, 10.0]);
    let cols = range(&[3, 4]).slice(1, 1, 4, 2).unwrap();
    assert_eq!(values(&cols, &[3, 2]), [1.0, 3.0, 5.0, 7.0, 9.0, 11.0]);
    let scaled = cols.mul(&f32s(&[1.0, 10.0], &[2])).unwrap();
    assert_eq!(values(&scaled, &[3, 2]), [1.0, 30.0, 5.0, 70.0, 9.0, 110.0]);
    assert_eq!(values(&t.exp().log(), &[3, 2]).iter().map(|x| x.round()).collect::<Vec<_>>(), [0., 3., 1., 4., 2., 5.]);
}

#[test]
fn large_inputs_take_the_parallel_path() {
    let n = 100_003;
    let a = Tensor::arange(0.0, n as f64, 1.0, DType::Float32).unwrap();
    let b = Tensor::ones(&[n], DType::Float32).unwrap();
    let c = a.add(&b).unwrap().to_vec::<f32>().unwrap();
    assert!(c.iter().enumerate().all(|(i, &x)| x == i as f32 + 1.0));
    let m = a.slice(0, 0, 100_000, 1).unwrap().reshape(&[1000, 100]).unwrap();
    let bc = m.add(&Tensor::arange(0.0, 1000.0, 1.0, DType::Float32).unwrap().reshape(&[1000, 1]).unwrap()).unwrap();
    let v = bc.to_vec::<f32>().unwrap();
    assert_eq!(v[100 * 999 + 99], (99_999 + 999) as f32);
    let tr = m.transpose().add(&m.transpose()).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(tr[1], 200.0);
}

#[test]
fn dtype_promotion() {
    let i = i64s(&[1, 2], &[2]);
    let f = f32s(&[0.5, 0.5], &[2]);
    let sum = i.add(&f).unwrap();
    assert_eq!(sum.dtype(), DType::Float32);
    assert_eq!(sum.to_vec::<f32>().unwrap(), [1.5, 2.5]);
    let ints = i.add(&Tensor::from_vec(vec![1i32, 1], &[2]).unwrap()).unwrap();
    assert_eq!(ints.dtype(), DType::Int64);
    let bools = Tensor::from_vec(vec![true, true], &[2]).unwrap();
    let counted = bools.add(&Tensor::from_vec(vec![1u8, 2], &[2]).unwrap()).unwrap();
    assert_eq!((counted.dtype(), counted.to_vec::<u8>().unwrap()), (DType::UInt8, vec![2, 3]));
    let err = bools.add(&bools).unwrap_err();
    assert_eq!(err.message(), "add: not supported for dtype Bool");
    assert_eq!(f.add(&f64s(&[1.0, 1.0], &[2])).unwrap().dtype(), DType::Float64);
    assert_eq!(BinaryOp::Div.result_dtype(DType::Float64, DType::Int32).unwrap(), DType::Float64);
}

#[test]
fn integer_division_and_remainder_truncate() {
    let a = i64s(&[7, -7, 7, -7], &[4]);
    let b = i64s(&[2, 2, -2, -2], &[4]);
    let q = a.div(&b).unwrap();
    assert_eq!((q.dtype(), q.to_vec::<i64>().unwrap()), (DType::Int64, vec![3, -3, -3, 3]));
    assert_eq!((&a % &b).unwrap().to_vec::<i64>().unwrap(), [1, -1, 1, -1]);
    let min = Tensor::from_vec(vec![i32::MIN], &[1]).unwrap();
    assert_eq!(min.div(&Tensor::scalar(-1i32)).unwrap().to_vec::<i32>().unwrap(), [i32::MIN]);
    let err = a.div(&i64s(&[1, 0], &[2, 1])).unwrap_err();
    assert_eq!(err.to_string(), "error[T017]: div: integer division by zero");
    assert!(a.rem(&Tensor::scalar(0i64)).is_err());
    let empty = Tensor::zeros(&[0], DType::Int64).unwrap();
    assert_eq!(empty.div(&Tensor::scalar(0i64)).unwrap().numel(), 0);
}

#[test]
fn float_division_and_remainder() {
    let a = f64s(&[1.0, -7.5, 0.0], &[3]);
    let b = f64s(&[0.0, 2.0, 0.0], &[3]);
    let q = a.div(&b).unwrap().to_vec::<f64>().unwrap();
    assert_eq!((q[0], q[1]), (f64::INFINITY, -3.75));
    assert!(q[2].is_nan());
    assert_eq!(a.rem(&f64s(&[1.0, 2.0, 1.0], &[3])).unwrap().to_vec::<f64>().unwrap(), [0.0, -1.5, 0.0]);
}

#[test]
fn integer_arithmetic_wraps() {
    let a = Tensor::from_vec(vec![250u8], &[1]).unwrap();
    assert_eq!(a.add(&a).unwrap().to_vec::<u8>().unwrap(), [244]);
    let m = Tensor::from_vec(vec![i32::MAX], &[1]).unwrap();
    assert_eq!(m.add(&Tensor::scalar(1i32)).unwrap().to_vec::<i32>().unwrap(), [i32::MIN]);
}

#[test]
fn float_functions() {
    let x = f64s(&[0.0, 1.0, 4.0], &[3]);
    assert_close(&x.exp().to_vec_f64(), &[1.0, 1f64.exp(), 4f64.exp()], 1e-15);
    assert_close(&x.sqrt().to_vec_f64(), &[0.0, 1.0, 2.0], 0.0);
    assert_close(&x.log().to_vec_f64(), &[f64::NEG_INFINITY, 0.0, 4f64.ln()], 1e-15);
    assert_close(&x.tanh().to_vec_f64(), &[0.0, 1f64.tanh(), 4f64.tanh()], 1e-15);
    assert_close(&x.sigmoid().to_vec_f64(), &[0.5, 1.0 / (1.0 + (-1f64).exp()), 1.0 / (1.0 + (-4f64).exp())], 1e-15);
    let y = f32s(&[-1.0, 0.0, 2.5], &[3]);
    assert_close(&y.exp().to_vec_f64(), &[(-1f64).exp(), 1.0, 2.5f64.exp()], 1e-6);
    assert_close(&y.sigmoid().to_vec_f64(), &[0.2689414, 0.5, 0.9241418], 1e-6);
    assert!(f32s(&[-1.0], &[1]).sqrt().to_vec::<f32>().unwrap()[0].is_nan());
}

#[test]
fn float_functions_promote_integers_to_float32() {
    let x = i64s(&[0, 1], &[2]);
    let e = x.exp();
    assert_eq!(e.dtype(), DType::Float32);
    assert_close(&e.to_vec_f64(), &[1.0, std::f64::consts::E], 1e-6);
}

#[test]
fn relu_keeps_dtype() {
    let x = f32s(&[-1.0, 0.0, 2.0], &[3]);
    assert_eq!(x.relu().to_vec::<f32>().unwrap(), [0.0, 0.0, 2.0]);
    let i = Tensor::from_vec(vec![-3i32, 3], &[2]).unwrap();
    assert_eq!(i.relu().to_vec::<i32>().unwrap(), [0, 3]);
}

#[test]
fn map_with_a_closure() {
    let x = range(&[2, 2]);
    let y = x.map(|v: f32| v * v + 1.0).unwrap();
    assert_eq!(values(&y, &[2, 2]), [1.0, 2.0, 5.0, 10.0]);
    let flags = x.map(|v: f32| v > 1.5).unwrap();
    assert_eq!((flags.dtype(), flags.to_vec::<bool>().unwrap()), (DType::Bool, vec![false, false, true, true]));
    let err = x.map(|v: i64| v).unwrap_err();
    assert_eq!(err.message(), "map: expected dtype Int64, found Float32");
    assert_eq!(x.transpose().map(|v: f32| v).unwrap().to_vec::<f32>().unwrap(), [0.0, 2.0, 1.0, 3.0]);
}

#[test]
fn casts_follow_as_semantics() {
    let x = f32s(&[-1.5, 2.7, f32::NAN, 1e20], &[4]);
    assert_eq!(x.to_dtype(DType::Int32).to_vec::<i32>().unwrap(), [-1, 2, 0, i32::MAX]);
    assert_eq!(x.to_dtype(DType::Bool).to_vec::<bool>().unwrap(), [true, true, true, true]);
    assert_eq!(x.to_dtype(DType::UInt8).to_vec::<u8>().unwrap(), [0, 2, 0, 255]);
    let b = Tensor::from_vec(vec![true, false], &[2]).unwrap();
    assert_eq!(b.to_dtype(DType::Float64).to_vec::<f64>().unwrap(), [1.0, 0.0]);
    assert_eq!(Scalar::Float64(3.9).cast_to(DType::Int64), Scalar::Int64(3));
}

#[test]
fn vectorised_exp_matches_the_scalar_function_bit_for_bit() {
    let x = Tensor::randn(&[10_007], DType::Float32, 21).unwrap().mul(&Tensor::scalar(30.0f32)).unwrap();
    let want: Vec<f32> = x.to_vec::<f32>().unwrap().into_iter().map(stark_tensor::exp_f32).collect();
    assert_eq!(x.exp().to_vec::<f32>().unwrap(), want);
}
