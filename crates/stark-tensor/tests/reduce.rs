//! sum, mean, max, argmax and softmax.

mod common;

use common::*;
use stark_tensor::{DType, Scalar, Tensor};

#[test]
fn sum_all_and_along_each_axis() {
    let m = range(&[2, 3]);
    assert_eq!(values(&m.sum(None).unwrap(), &[]), [15.0]);
    assert_eq!(values(&m.sum(Some(0)).unwrap(), &[3]), [3.0, 5.0, 7.0]);
    assert_eq!(values(&m.sum(Some(1)).unwrap(), &[2]), [3.0, 12.0]);
    let c = range(&[2, 3, 4]);
    assert_eq!(values(&c.sum(Some(1)).unwrap(), &[2, 4]), [12., 15., 18., 21., 48., 51., 54., 57.]);
    let err = m.sum(Some(2)).unwrap_err();
    assert_eq!(err.message(), "sum: axis 2 is out of range for shape [2, 3] (rank 2)");
}

#[test]
fn sum_dtypes() {
    let i = Tensor::from_vec(vec![i32::MAX, i32::MAX], &[2]).unwrap();
    let s = i.sum(None).unwrap();
    assert_eq!((s.dtype(), s.item().unwrap()), (DType::Int64, Scalar::Int64(2 * i32::MAX as i64)));
    let b = Tensor::from_vec(vec![true, false, true], &[3]).unwrap();
    assert_eq!(b.sum(None).unwrap().item().unwrap(), Scalar::Int64(2));
    assert_eq!(range(&[2]).sum(None).unwrap().dtype(), DType::Float32);
}

#[test]
fn sum_of_empty_is_zero() {
    let e = Tensor::zeros(&[0, 3], DType::Float32).unwrap();
    assert_eq!(values(&e.sum(None).unwrap(), &[]), [0.0]);
    assert_eq!(values(&e.sum(Some(0)).unwrap(), &[3]), [0.0, 0.0, 0.0]);
    assert_eq!(values(&e.sum(Some(1)).unwrap(), &[0]), Vec::<f64>::new());
}

#[test]
fn sum_of_views_and_large_inputs() {
    let m = range(&[3, 4]);
    assert_eq!(values(&m.transpose().sum(Some(1)).unwrap(), &[4]), [12.0, 15.0, 18.0, 21.0]);
    assert_eq!(values(&m.slice(1, 0, 4, 2).unwrap().sum(Some(0)).unwrap(), &[2]), [12.0, 18.0]);
    let n = 1_000_000usize;
    let ones = Tensor::ones(&[n], DType::Float32).unwrap();
    assert_eq!(ones.sum(None).unwrap().to_vec_f64(), [n as f64]);
    let big = Tensor::ones(&[1000, 300], DType::Float64).unwrap();
    assert!(big.sum(Some(0)).unwrap().to_vec_f64().iter().all(|&x| x == 1000.0));
    assert!(big.sum(Some(1)).unwrap().to_vec_f64().iter().all(|&x| x == 300.0));
    let ints = Tensor::arange(0.0, 100_000.0, 1.0, DType::Int64).unwrap();
    assert_eq!(ints.sum(None).unwrap().item().unwrap(), Scalar::Int64(99_999 * 100_000 / 2));
}

#[test]
fn mean_is_float() {
    let m = range(&[2, 3]);
    assert_eq!(values(&m.mean(None).unwrap(), &[]), [2.5]);
    assert_eq!(values(&m.mean(Some(0)).unwrap(), &[3]), [1.5, 2.5, 3.5]);
    let i = i64s(&[1, 2, 3, 5], &[2, 2]);
    let mean = i.mean(Some(1)).unwrap();
    assert_eq!((mean.dtype(), mean.to_vec::<f32>().unwrap()), (DType::Float32, vec![1.5, 4.0]));
    let e = Tensor::zeros(&[0], DType::Float64).unwrap();
    assert!(e.mean(None).unwrap().to_vec_f64()[0].is_nan());
}

#[test]
fn max_and_argmax() {
    let m = f32s(&[3.0, 7.0, 1.0, 9.0, 2.0, 9.0], &[2, 3]);
    assert_eq!(values(&m.max(None).unwrap(), &[]), [9.0]);
    assert_eq!(values(&m.max(Some(0)).unwrap(), &[3]), [9.0, 7.0, 9.0]);
    assert_eq!(values(&m.max(Some(1)).unwrap(), &[2]), [7.0, 9.0]);
    assert_eq!(m.argmax(None).unwrap().item().unwrap(), Scalar::Int64(3));
    assert_eq!(m.argmax(Some(0)).unwrap().to_vec::<i64>().unwrap(), [1, 0, 1]);
    assert_eq!(m.argmax(Some(1)).unwrap().to_vec::<i64>().unwrap(), [1, 0]);
    let ints = Tensor::from_vec(vec![-5i32, -2, -9], &[3]).unwrap();
    assert_eq!(ints.max(None).unwrap().item().unwrap(), Scalar::Int32(-2));
    assert_eq!(m.transpose().argmax(Some(1)).unwrap().to_vec::<i64>().unwrap(), [1, 0, 1]);
}

#[test]
fn max_and_argmax_with_nan_and_negative_infinity() {
    let x = f32s(&[1.0, f32::NAN, 5.0, f32::NAN], &[4]);
    assert!(x.max(None).unwrap().to_vec_f64()[0].is_nan());
    assert_eq!(x.argmax(None).unwrap().item().unwrap(), Scalar::Int64(1));
    let y = f32s(&[f32::NEG_INFINITY, f32::NEG_INFINITY], &[2]);
    assert_eq!(y.max(None).unwrap().to_vec_f64(), [f64::NEG_INFINITY]);
    assert_eq!(y.argmax(None).unwrap().item().unwrap(), Scalar::Int64(0));
}

#[test]
fn max_of_nothing_is_an_error() {
    let e = Tensor::zeros(&[2, 0], DType::Float32).unwrap();
    let err = e.max(Some(1)).unwrap_err();
    assert_eq!(err.message(), "max: cannot reduce zero elements (shape [2, 0])");
    assert!(e.argmax(None).is_err());
    assert_eq!(e.max(Some(0)).unwrap().shape().dims(), &[0]);
}

#[test]
fn softmax_rows_and_columns() {
    let x = f64s(&[1.0, 2.0, 3.0, 1.0, 1.0, 1.0], &[2, 3]);
    let s = x.softmax(1).unwrap();
    let e = [1f64.exp(), 2f64.exp(), 3f64.exp()];
    let z: f64 = e.iter().sum();
    assert_close(&values(&s, &[2, 3]), &[e[0] / z, e[1] / z, e[2] / z, 1. / 3., 1. / 3., 1. / 3.], 1e-15);
    let c = x.softmax(0).unwrap();
    let first = 1.0 / (1.0 + 1f64.exp());
    assert_close(
        &values(&c, &[2, 3]),
        &[0.5, 1.0 - first, 1.0 - 1.0 / (1.0 + 2f64.exp()), 0.5, first, 1.0 / (1.0 + 2f64.exp())],
        1e-15,
    );
    assert!(c.is_contiguous());
}

#[test]
fn softmax_is_stable_and_promotes() {
    let big = f32s(&[1000.0, 1000.0, -1000.0], &[3]);
    assert_close(&big.softmax(0).unwrap().to_vec_f64(), &[0.5, 0.5, 0.0], 1e-7);
    let ints = i64s(&[0, 0], &[2]);
    let s = ints.softmax(0).unwrap();
    assert_eq!((s.dtype(), s.to_vec::<f32>().unwrap()), (DType::Float32, vec![0.5, 0.5]));
    assert!(range(&[2]).softmax(1).is_err());
    let empty = Tensor::zeros(&[3, 0], DType::Float32).unwrap();
    assert_eq!(empty.softmax(1).unwrap().shape().dims(), &[3, 0]);
}

#[test]
fn softmax_large_rows_sum_to_one() {
    let x = Tensor::randn(&[300, 1000], DType::Float32, 5).unwrap();
    let s = x.softmax(1).unwrap();
    let sums = s.sum(Some(1)).unwrap().to_vec_f64();
    assert!(sums.iter().all(|&v| (v - 1.0).abs() < 1e-5), "{:?}", &sums[..4]);
    let rows = x.to_vec::<f32>().unwrap();
    let row = &rows[..1000];
    let m = row.iter().cloned().fold(f32::MIN, f32::max) as f64;
    let z: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
    assert_close(
        &s.to_vec_f64()[..3],
        &[((row[0] as f64) - m).exp() / z, ((row[1] as f64) - m).exp() / z, ((row[2] as f64) - m).exp() / z],
        1e-5,
    );
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let x = Tensor::randn(&[700, 1500], DType::Float32, 9).unwrap();
    let run = || {
        let sums = [None, Some(0), Some(1)].map(|axis| x.sum(axis).unwrap().to_vec::<f32>().unwrap());
        (sums, x.softmax(1).unwrap().to_vec::<f32>().unwrap(), x.exp().to_vec::<f32>().unwrap())
    };
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(run);
    let three = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap().install(run);
    assert!(one == three, "results differ between 1 and 3 threads");
}
