//! matmul: 2-d, vectors, batches with broadcasting, views, dtypes, errors.

mod common;

use common::*;
use stark_tensor::{DType, Tensor};

/// The product of two row-major matrices, by the definition.
fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
        }
    }
    c
}

#[test]
fn matrix_times_matrix() {
    let a = f32s(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let b = f32s(&[7., 8., 9., 10., 11., 12.], &[3, 2]);
    assert_eq!(values(&a.matmul(&b).unwrap(), &[2, 2]), [58., 64., 139., 154.]);
}

#[test]
fn vectors() {
    let a = f32s(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let v = f32s(&[1., 0., -1.], &[3]);
    assert_eq!(values(&a.matmul(&v).unwrap(), &[2]), [-2., -2.]);
    let w = f32s(&[1., 1.], &[2]);
    assert_eq!(values(&w.matmul(&a).unwrap(), &[3]), [5., 7., 9.]);
    assert_eq!(values(&v.matmul(&v).unwrap(), &[]), [2.]);
}

#[test]
fn batched_with_broadcast_batch_dimensions() {
    let a = range(&[2, 1, 2, 3]);
    let b = range(&[3, 3, 2]);
    let c = a.matmul(&b).unwrap();
    assert_eq!(c.shape().dims(), &[2, 3, 2, 2]);
    let (av, bv, cv) = (a.to_vec_f64(), b.to_vec_f64(), c.to_vec_f64());
    for i in 0..2 {
        for j in 0..3 {
            let want = naive(&av[i * 6..i * 6 + 6], &bv[j * 6..j * 6 + 6], 2, 3, 2);
            assert_eq!(&cv[(i * 3 + j) * 4..(i * 3 + j) * 4 + 4], &want[..]);
        }
    }
    let shared = range(&[3, 2]);
    let d = a.matmul(&shared).unwrap();
    assert_eq!(d.shape().dims(), &[2, 1, 2, 2]);
    assert_eq!(&d.to_vec_f64()[..4], &naive(&av[..6], &shared.to_vec_f64(), 2, 3, 2)[..]);
}

#[test]
fn transposed_and_sliced_views_multiply_without_copying() {
    let a = range(&[3, 2]);
    let at = a.transpose();
    let want = naive(&at.contiguous().to_vec_f64(), &a.to_vec_f64(), 2, 3, 2);
    assert_eq!(values(&at.matmul(&a).unwrap(), &[2, 2]), want);
    let s = range(&[4, 6]).slice(1, 1, 6, 2).unwrap();
    let want = naive(&s.contiguous().to_vec_f64(), &range(&[3, 2]).to_vec_f64(), 4, 3, 2);
    assert_eq!(values(&s.matmul(&range(&[3, 2])).unwrap(), &[4, 2]), want);
}

#[test]
fn integer_and_mixed_dtypes() {
    let a = i64s(&[1, 2, 3, 4], &[2, 2]);
    let c = a.matmul(&a).unwrap();
    assert_eq!((c.dtype(), c.to_vec::<i64>().unwrap()), (DType::Int64, vec![7, 10, 15, 22]));
    let f = f64s(&[1.0, 0.0, 0.0, 1.0], &[2, 2]);
    let m = a.matmul(&f).unwrap();
    assert_eq!((m.dtype(), m.to_vec_f64()), (DType::Float64, vec![1.0, 2.0, 3.0, 4.0]));
    let t = a.transpose().matmul(&a).unwrap();
    assert_eq!(t.to_vec::<i64>().unwrap(), [10, 14, 14, 20]);
}

#[test]
fn empty_dimensions() {
    let a = Tensor::zeros(&[2, 0], DType::Float32).unwrap();
    let b = Tensor::zeros(&[0, 3], DType::Float32).unwrap();
    assert_eq!(values(&a.matmul(&b).unwrap(), &[2, 3]), [0.0; 6]);
    assert_eq!(b.matmul(&Tensor::zeros(&[3, 4], DType::Float32).unwrap()).unwrap().shape().dims(), &[0, 4]);
}

#[test]
fn errors_name_both_shapes() {
    let err = range(&[2, 3]).matmul(&range(&[4, 5])).unwrap_err();
    assert_eq!(err.message(), "matmul: inner dimensions differ: [2, 3] x [4, 5]");
    assert_eq!(err.code(), "T002");
    let err = range(&[2, 2, 3]).matmul(&range(&[3, 3, 2])).unwrap_err();
    assert_eq!(err.message(), "cannot broadcast shapes [2, 2, 3] and [3, 3, 2]");
    assert!(Tensor::scalar(1.0f32).matmul(&range(&[1])).is_err());
}

#[test]
fn large_float32_matches_naive() {
    let (m, k, n) = (67, 129, 45);
    let a = Tensor::randn(&[m, k], DType::Float32, 1).unwrap();
    let b = Tensor::randn(&[k, n], DType::Float32, 2).unwrap();
    let want = naive(&a.to_vec_f64(), &b.to_vec_f64(), m, k, n);
    assert_close(&a.matmul(&b).unwrap().to_vec_f64(), &want, 1e-4);
}

#[test]
fn many_small_batches_match_per_batch_products() {
    let x = Tensor::randn(&[2000, 8, 5], DType::Float64, 3).unwrap();
    let y = Tensor::randn(&[2000, 5, 7], DType::Float64, 4).unwrap();
    let all = x.matmul(&y).unwrap();
    assert_eq!(all.shape().dims(), &[2000, 8, 7]);
    for i in [0, 1000, 1999] {
        let xi = x.slice(0, i, i + 1, 1).unwrap().reshape(&[8, 5]).unwrap();
        let yi = y.slice(0, i, i + 1, 1).unwrap().reshape(&[5, 7]).unwrap();
        let want = naive(&xi.to_vec_f64(), &yi.to_vec_f64(), 8, 5, 7);
        let got = all.slice(0, i, i + 1, 1).unwrap().to_vec_f64();
        assert_close(&got, &want, 1e-12);
    }
}

#[test]
fn outputs_in_reused_buffers_hold_no_stale_values() {
    // 512 x 512 Float32 is 1 MiB: large enough for freed buffers to be pooled and reused.
    let ones = Tensor::ones(&[512, 512], DType::Float32).unwrap();
    let zeros = Tensor::zeros(&[512, 512], DType::Float32).unwrap();
    for _ in 0..3 {
        drop(ones.matmul(&ones).unwrap());
        assert!(zeros.matmul(&ones).unwrap().to_vec::<f32>().unwrap().iter().all(|&x| x == 0.0));
        drop((&ones + &ones).unwrap());
        assert!((&zeros + &zeros).unwrap().to_vec::<f32>().unwrap().iter().all(|&x| x == 0.0));
        drop(ones.softmax(1).unwrap());
        assert!(zeros.exp().to_vec::<f32>().unwrap().iter().all(|&x| x == 1.0));
    }
}

#[test]
fn transposed_views_in_a_threaded_product_match_naive() {
    // 160 x 150 x 140 is 3.4M multiply-adds, above the size from which the
    // GEMM threads; both operands are transposed views (column-major strides).
    let (m, k, n) = (160, 150, 140);
    let a = Tensor::randn(&[k, m], DType::Float32, 7).unwrap().transpose();
    let b = Tensor::randn(&[n, k], DType::Float32, 8).unwrap().transpose();
    assert!(!a.is_contiguous() && !b.is_contiguous());
    let want = naive(&a.contiguous().to_vec_f64(), &b.contiguous().to_vec_f64(), m, k, n);
    assert_close(&a.matmul(&b).unwrap().to_vec_f64(), &want, 1e-3);
    let a64 = a.to_dtype(DType::Float64);
    let b64 = Tensor::randn(&[n, k], DType::Float64, 9).unwrap().transpose();
    let want = naive(&a64.contiguous().to_vec_f64(), &b64.contiguous().to_vec_f64(), m, k, n);
    assert_close(&a64.matmul(&b64).unwrap().to_vec_f64(), &want, 1e-9);
}
