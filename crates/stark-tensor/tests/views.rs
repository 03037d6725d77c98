//! Constructors, storage sharing and copy-on-write, and the layout operations.

mod common;

use common::*;
use stark_tensor::{DType, Device, Scalar, Tensor};

#[test]
fn constructors() {
    let z = Tensor::zeros(&[2, 3], DType::Int32).unwrap();
    assert_eq!((z.dtype(), z.numel(), z.to_vec::<i32>().unwrap()), (DType::Int32, 6, vec![0; 6]));
    assert_eq!(Tensor::ones(&[2], DType::Bool).unwrap().to_vec::<bool>().unwrap(), [true, true]);
    let f = Tensor::full(&[2, 2], 1.5f64).unwrap();
    assert_eq!((f.dtype(), f.to_vec::<f64>().unwrap()), (DType::Float64, vec![1.5; 4]));
    let e = Tensor::eye(3, DType::Float32).unwrap();
    assert_eq!(values(&e, &[3, 3]), [1., 0., 0., 0., 1., 0., 0., 0., 1.]);
    assert_eq!(Tensor::eye(0, DType::Float32).unwrap().numel(), 0);
    let s = Tensor::scalar(7i64);
    assert_eq!((s.rank(), s.item().unwrap()), (0, Scalar::Int64(7)));
    assert_eq!((s.device(), s.device().to_string()), (Device::Cpu, "cpu".to_string()));
}

#[test]
fn arange_like_numpy() {
    assert_eq!(Tensor::arange(0.0, 5.0, 1.0, DType::Int64).unwrap().to_vec::<i64>().unwrap(), [0, 1, 2, 3, 4]);
    assert_eq!(Tensor::arange(1.0, 2.0, 0.25, DType::Float64).unwrap().to_vec_f64(), [1.0, 1.25, 1.5, 1.75]);
    assert_eq!(Tensor::arange(5.0, 0.0, -2.0, DType::Int32).unwrap().to_vec::<i32>().unwrap(), [5, 3, 1]);
    assert_eq!(Tensor::arange(3.0, 0.0, 1.0, DType::Float32).unwrap().numel(), 0);
    let err = Tensor::arange(0.0, 1.0, 0.0, DType::Float32).unwrap_err();
    assert_eq!(err.message(), "arange: invalid range 0..1 step 0");
    assert!(Tensor::arange(0.0, f64::INFINITY, 1.0, DType::Float32).is_err());
}

#[test]
fn from_vec_checks_length() {
    let err = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[2, 2]).unwrap_err();
    assert_eq!(err.message(), "from_vec: 3 values do not fill shape [2, 2] (4 elements)");
    assert!(Tensor::from_vec(Vec::<f32>::new(), &[0, 5]).is_ok());
    assert!(Tensor::zeros(&[usize::MAX, 4], DType::UInt8).is_err());
}

#[test]
fn rand_and_randn_are_seeded() {
    let a = Tensor::rand(&[100], DType::Float32, 42).unwrap();
    let b = Tensor::rand(&[100], DType::Float32, 42).unwrap();
    let c = Tensor::rand(&[100], DType::Float32, 43).unwrap();
    assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
    assert_ne!(a.to_vec::<f32>().unwrap(), c.to_vec::<f32>().unwrap());
    assert!(a.to_vec_f64().iter().all(|x| (0.0..1.0).contains(x)));
    let n = Tensor::randn(&[10_000], DType::Float64, 1).unwrap();
    let mean = n.mean(None).unwrap().to_vec_f64()[0];
    assert!(mean.abs() < 0.05, "{mean}");
    let err = Tensor::rand(&[2], DType::Int32, 0).unwrap_err();
    assert_eq!(err.message(), "rand: not supported for dtype Int32");
}

#[test]
fn moving_and_cloning_share_the_buffer_but_deep_clone_copies() {
    let a = range(&[2, 2]);
    let b = a.clone();
    assert!(a.shares_buffer_with(&b) && a.is_shared());
    let c = a.deep_clone();
    assert!(!c.shares_buffer_with(&a));
    assert_eq!(c.to_vec::<f32>().unwrap(), a.to_vec::<f32>().unwrap());
    let sent = std::thread::spawn(move || b.sum(None).unwrap().to_vec_f64()).join().unwrap();
    assert_eq!(sent, [6.0]);
}

#[test]
fn fill_is_copy_on_write() {
    let mut a = range(&[2, 2]);
    let b = a.clone();
    a.fill_(9.0f32);
    assert_eq!(a.to_vec::<f32>().unwrap(), [9.0; 4]);
    assert_eq!(b.to_vec::<f32>().unwrap(), [0.0, 1.0, 2.0, 3.0]);
    assert!(!a.shares_buffer_with(&b));
    let mut unique = range(&[3]);
    let before = unique.clone();
    drop(before);
    unique.fill_(2i64);
    assert_eq!(unique.to_vec::<f32>().unwrap(), [2.0; 3]);
}

#[test]
fn in_place_on_a_unique_view_writes_only_its_elements() {
    let mut col = range(&[3, 3]).slice(1, 1, 2, 1).unwrap();
    assert!(!col.is_shared());
    col.fill_(true);
    assert_eq!(values(&col, &[3, 1]), [1.0, 1.0, 1.0]);
    let mut t = range(&[2, 3]).transpose();
    t.map_(|x: f32| x * 10.0).unwrap();
    assert_eq!(values(&t, &[3, 2]), [0., 30., 10., 40., 20., 50.]);
    assert!(t.map_(|x: i32| x).is_err());
    let mut big = Tensor::zeros(&[100_000], DType::Float64).unwrap();
    big.map_(|x: f64| x + 1.0).unwrap();
    assert_eq!(big.sum(None).unwrap().to_vec_f64(), [100_000.0]);
}

#[test]
fn reshape_is_a_view_when_contiguous() {
    let a = range(&[2, 3]);
    let r = a.reshape(&[3, 2]).unwrap();
    assert!(r.shares_buffer_with(&a));
    assert_eq!(values(&r, &[3, 2]), [0., 1., 2., 3., 4., 5.]);
    let t = a.transpose().reshape(&[6]).unwrap();
    assert!(!t.shares_buffer_with(&a));
    assert_eq!(values(&t, &[6]), [0., 3., 1., 4., 2., 5.]);
    let column = a.transpose().reshape(&[3, 1, 2]).unwrap();
    assert!(column.shares_buffer_with(&a));
    assert_eq!(values(&column, &[3, 1, 2]), [0., 3., 1., 4., 2., 5.]);
    let err = a.reshape(&[4]).unwrap_err();
    assert_eq!(err.message(), "cannot reshape [2, 3] (6 elements) into [4] (4 elements)");
    assert_eq!(a.reshape(&[]).unwrap_err().code(), "T004");
    assert_eq!(Tensor::scalar(1.0f32).reshape(&[1, 1]).unwrap().shape().dims(), &[1, 1]);
}

#[test]
fn reshape_of_a_non_contiguous_view_avoids_copies_when_strides_allow() {
    let cols = range(&[4, 6]).slice(1, 0, 3, 1).unwrap();
    let split = cols.reshape(&[2, 2, 3]).unwrap();
    assert!(split.shares_buffer_with(&cols));
    assert_eq!(split.to_vec::<f32>().unwrap(), cols.to_vec::<f32>().unwrap());
    let flat = cols.reshape(&[12]).unwrap();
    assert!(!flat.shares_buffer_with(&cols));
    assert_eq!(flat.to_vec::<f32>().unwrap(), cols.to_vec::<f32>().unwrap());
    let line = range(&[8]);
    let every_other = line.slice(0, 0, 8, 2).unwrap().reshape(&[2, 1, 2]).unwrap();
    assert!(every_other.shares_buffer_with(&line));
    assert_eq!(values(&every_other, &[2, 1, 2]), [0., 2., 4., 6.]);
    let empty = range(&[4, 6]).slice(1, 2, 2, 1).unwrap().reshape(&[2, 0, 3]).unwrap();
    assert_eq!(empty.shape().dims(), &[2, 0, 3]);
}

#[test]
fn reshape_infers_one_dimension() {
    let a = range(&[2, 6]);
    assert_eq!(a.reshape_infer(&[-1, 4]).unwrap().shape().dims(), &[3, 4]);
    assert_eq!(a.reshape_infer(&[3, 2, -1]).unwrap().shape().dims(), &[3, 2, 2]);
    assert_eq!(a.reshape_infer(&[12]).unwrap().shape().dims(), &[12]);
    let err = a.reshape_infer(&[-1, 5]).unwrap_err();
    assert_eq!(err.message(), "cannot reshape [2, 6] (12 elements) into [-1, 5]");
    assert!(a.reshape_infer(&[-1, -1]).is_err());
    assert!(a.reshape_infer(&[-2, 6]).is_err());
    assert!(a.reshape_infer(&[0, -1]).is_err());
    assert!(a.reshape_infer(&[5, 3]).is_err());
    assert_eq!(
        Tensor::zeros(&[0, 4], DType::Int32).unwrap().reshape_infer(&[2, -1, 2]).unwrap().shape().dims(),
        &[2, 0, 2]
    );
}

#[test]
fn transpose_and_permute_are_views() {
    let a = range(&[2, 3, 4]);
    let p = a.permute(&[2, 0, 1]).unwrap();
    assert!(p.shares_buffer_with(&a) && !p.is_contiguous());
    assert_eq!(p.shape().dims(), &[4, 2, 3]);
    assert_eq!(p.get(&[3, 1, 2]).unwrap(), Scalar::Float32(23.0));
    let t = a.swap_axes(0, 2).unwrap();
    assert_eq!(t.shape().dims(), &[4, 3, 2]);
    assert_eq!(t.get(&[1, 2, 1]).unwrap(), Scalar::Float32(21.0));
    let r = a.transpose();
    assert_eq!(r.shape().dims(), &[4, 3, 2]);
    assert_eq!(r.get(&[3, 2, 1]).unwrap(), a.get(&[1, 2, 3]).unwrap());
    let err = a.permute(&[0, 0, 1]).unwrap_err();
    assert_eq!(err.message(), "permute: [0, 0, 1] is not a permutation of the axes of shape [2, 3, 4]");
    assert!(a.swap_axes(0, 3).is_err());
    assert_eq!(range(&[3]).transpose().shape().dims(), &[3]);
}

#[test]
fn slice_with_step() {
    let a = range(&[3, 5]);
    let s = a.slice(1, 1, 5, 2).unwrap();
    assert!(s.shares_buffer_with(&a));
    assert_eq!(values(&s, &[3, 2]), [1., 3., 6., 8., 11., 13.]);
    let rows = a.slice(0, 1, 3, 1).unwrap();
    assert!(rows.is_contiguous());
    assert_eq!(values(&rows, &[2, 5]), (5..15).map(f64::from).collect::<Vec<_>>());
    assert_eq!(a.slice(0, 2, 2, 1).unwrap().shape().dims(), &[0, 5]);
    let err = a.slice(1, 2, 6, 1).unwrap_err();
    assert_eq!(err.message(), "slice 2..6 step 1 is invalid for axis 1 of shape [3, 5]");
    assert!(a.slice(0, 0, 1, 0).is_err());
    assert!(a.slice(0, 2, 1, 1).is_err());
    let nested = s.slice(0, 1, 3, 1).unwrap().slice(1, 1, 2, 1).unwrap();
    assert_eq!(values(&nested, &[2, 1]), [8., 13.]);
}

#[test]
fn concat_and_stack() {
    let a = range(&[2, 2]);
    let b = f32s(&[9., 9.], &[1, 2]);
    assert_eq!(values(&Tensor::concat(&[&a, &b], 0).unwrap(), &[3, 2]), [0., 1., 2., 3., 9., 9.]);
    let c = f32s(&[7., 8.], &[2, 1]);
    assert_eq!(values(&Tensor::concat(&[&a, &c], 1).unwrap(), &[2, 3]), [0., 1., 7., 2., 3., 8.]);
    assert_eq!(values(&Tensor::concat(&[&a.transpose(), &a], 0).unwrap(), &[4, 2]), [0., 2., 1., 3., 0., 1., 2., 3.]);
    let s = Tensor::stack(&[&a, &a], 0).unwrap();
    assert_eq!(values(&s, &[2, 2, 2]), [0., 1., 2., 3., 0., 1., 2., 3.]);
    let s1 = Tensor::stack(&[&a, &a], 2).unwrap();
    assert_eq!(values(&s1, &[2, 2, 2]), [0., 0., 1., 1., 2., 2., 3., 3.]);
    let mixed = Tensor::concat(&[&a, &i64s(&[1, 1], &[1, 2])], 0).unwrap();
    assert_eq!(mixed.dtype(), DType::Float32);
    let err = Tensor::concat(&[&a, &c], 0).unwrap_err();
    assert_eq!(err.message(), "concat along axis 0: shapes [2, 2] and [2, 1] do not match");
    assert!(Tensor::stack(&[&a, &b], 0).is_err());
    assert!(Tensor::concat(&[], 0).is_err());
    assert!(Tensor::stack(&[&a], 3).is_err());
    let empty = Tensor::zeros(&[0, 2], DType::Float32).unwrap();
    assert_eq!(values(&Tensor::concat(&[&empty, &b], 0).unwrap(), &[1, 2]), [9., 9.]);
}

#[test]
fn get_and_to_vec() {
    let a = range(&[2, 3]);
    assert_eq!(a.get(&[1, 2]).unwrap(), Scalar::Float32(5.0));
    let err = a.get(&[2, 0]).unwrap_err();
    assert_eq!(err.message(), "index [2, 0] is out of bounds for shape [2, 3]");
    assert!(a.get(&[1]).is_err());
    assert_eq!(a.to_vec::<f32>().unwrap(), [0., 1., 2., 3., 4., 5.]);
    assert_eq!(a.to_vec::<i64>().unwrap_err().message(), "to_vec: expected dtype Int64, found Float32");
    assert_eq!(a.shape().to_string(), "[2, 3]");
    assert_eq!((a.shape()[1], a.shape().len()), (3, 2));
    assert!(a.item().is_err());
}

#[test]
fn as_slice_borrows_contiguous_data_only() {
    let a = range(&[2, 2]);
    assert_eq!(a.as_slice::<f32>(), Some(&[0.0, 1.0, 2.0, 3.0][..]));
    assert_eq!(a.as_slice::<f64>(), None);
    assert_eq!(a.transpose().as_slice::<f32>(), None);
    assert_eq!(a.slice(0, 1, 2, 1).unwrap().as_slice::<f32>(), Some(&[2.0, 3.0][..]));
}

#[test]
fn free_functions_match_methods() {
    use stark_tensor::functions;
    let x = f32s(&[-1.0, 0.5, 2.0], &[3]);
    assert_eq!(functions::softmax(&x, 0).unwrap().to_vec_f64(), x.softmax(0).unwrap().to_vec_f64());
    assert_eq!(functions::relu(&x).to_vec_f64(), [0.0, 0.5, 2.0]);
    assert_eq!(functions::sigmoid(&x).to_vec_f64(), x.sigmoid().to_vec_f64());
    assert_eq!(functions::tanh(&x).to_vec_f64(), x.tanh().to_vec_f64());
    assert_eq!(functions::exp(&x).to_vec_f64(), x.exp().to_vec_f64());
    assert_eq!(functions::log(&x).to_vec_f64()[1..], x.log().to_vec_f64()[1..]);
    assert_eq!(functions::sqrt(&x).to_vec_f64()[1..], x.sqrt().to_vec_f64()[1..]);
    assert_eq!(functions::matmul(&x, &x).unwrap().to_vec_f64(), [5.25]);
}

#[test]
fn equality_compares_dtype_shape_and_elements() {
    let a = range(&[2, 3]);
    assert_eq!(a, a.deep_clone());
    assert_eq!(a.transpose().transpose(), a);
    assert_ne!(a, a.reshape(&[3, 2]).unwrap());
    assert_ne!(a, a.to_dtype(DType::Float64));
    assert_ne!(f32s(&[f32::NAN], &[1]), f32s(&[f32::NAN], &[1]));
}

#[test]
fn tensors_can_cross_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Tensor>();
    assert_send_sync::<stark_tensor::TensorError>();
}

#[test]
fn a_tensor_handle_stays_small() {
    // Arc to the buffer, shape, strides and offset: moving a tensor moves only this.
    assert_eq!(std::mem::size_of::<Tensor>(), 64);
}
