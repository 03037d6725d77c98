//! Property-style tests: random shapes and values from a fixed seed.

mod common;

use common::*;
use stark_tensor::{DType, Rng, Tensor};

/// Random cases per property.
const CASES: usize = 60;

/// A random shape of rank `1..=max_rank` with dimensions `1..=max_dim`.
fn random_shape(rng: &mut Rng, max_rank: usize, max_dim: usize) -> Vec<usize> {
    let rank = 1 + rng.below(max_rank as u64) as usize;
    (0..rank).map(|_| 1 + rng.below(max_dim as u64) as usize).collect()
}

/// A random permutation of `0..n`.
fn random_permutation(rng: &mut Rng, n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        p.swap(i, rng.below(i as u64 + 1) as usize);
    }
    p
}

#[test]
fn matmul_is_associative_within_tolerance() {
    let mut rng = Rng::new(11);
    for case in 0..CASES {
        let dims: Vec<usize> = (0..4).map(|_| 1 + rng.below(24) as usize).collect();
        let seed = case as u64 * 3;
        let a = Tensor::randn(&[dims[0], dims[1]], DType::Float64, seed).unwrap();
        let b = Tensor::randn(&[dims[1], dims[2]], DType::Float64, seed + 1).unwrap();
        let c = Tensor::randn(&[dims[2], dims[3]], DType::Float64, seed + 2).unwrap();
        let left = a.matmul(&b).unwrap().matmul(&c).unwrap();
        let right = a.matmul(&b.matmul(&c).unwrap()).unwrap();
        assert_close(&left.to_vec_f64(), &right.to_vec_f64(), 1e-9);
    }
}

#[test]
fn batched_matmul_matches_per_batch_products() {
    let mut rng = Rng::new(12);
    for case in 0..CASES / 2 {
        let (b, m, k, n) = (
            1 + rng.below(4) as usize,
            1 + rng.below(9) as usize,
            1 + rng.below(9) as usize,
            1 + rng.below(9) as usize,
        );
        let x = Tensor::randn(&[b, m, k], DType::Float32, case as u64).unwrap();
        let y = Tensor::randn(&[k, n], DType::Float32, case as u64 + 100).unwrap();
        let all = x.matmul(&y).unwrap();
        for i in 0..b {
            let xi = x.slice(0, i, i + 1, 1).unwrap().reshape(&[m, k]).unwrap();
            let one = all.slice(0, i, i + 1, 1).unwrap().reshape(&[m, n]).unwrap();
            assert_close(&one.to_vec_f64(), &xi.matmul(&y).unwrap().to_vec_f64(), 1e-6);
        }
    }
}

#[test]
fn transposing_twice_is_identity() {
    let mut rng = Rng::new(13);
    for case in 0..CASES {
        let shape = random_shape(&mut rng, 4, 5);
        let t = Tensor::rand(&shape, DType::Float32, case as u64).unwrap();
        let (a, b) = (rng.below(shape.len() as u64) as usize, rng.below(shape.len() as u64) as usize);
        let back = t.swap_axes(a, b).unwrap().swap_axes(a, b).unwrap();
        assert_eq!(back.shape(), t.shape());
        assert_eq!(back.to_vec::<f32>().unwrap(), t.to_vec::<f32>().unwrap());
        let perm = random_permutation(&mut rng, shape.len());
        let mut inverse = vec![0; perm.len()];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i;
        }
        let round = t.permute(&perm).unwrap().contiguous().permute(&inverse).unwrap();
        assert_eq!(round.to_vec::<f32>().unwrap(), t.to_vec::<f32>().unwrap());
    }
}

#[test]
fn reshape_round_trips() {
    let mut rng = Rng::new(14);
    for case in 0..CASES {
        let shape = random_shape(&mut rng, 4, 6);
        let t = Tensor::rand(&shape, DType::Float64, case as u64).unwrap();
        let view = match rng.below(3) {
            0 => t.transpose(),
            1 => t.slice(0, 0, shape[0], 2).unwrap(),
            _ => t.clone(),
        };
        let flat = view.reshape(&[view.numel()]).unwrap();
        let back = flat.reshape(view.shape().dims()).unwrap();
        assert_eq!(back.to_vec::<f64>().unwrap(), view.to_vec::<f64>().unwrap());
        let mut dims = view.shape().to_vec();
        dims.insert(rng.below(dims.len() as u64 + 1) as usize, 1);
        let widened = view.reshape(&dims).unwrap();
        assert!(widened.shares_buffer_with(&view), "adding a 1 never copies");
        assert_eq!(widened.to_vec::<f64>().unwrap(), view.to_vec::<f64>().unwrap());
    }
}

#[test]
fn broadcasting_is_commutative() {
    let mut rng = Rng::new(15);
    for case in 0..CASES {
        let full = random_shape(&mut rng, 4, 4);
        let squash = |rng: &mut Rng| -> Vec<usize> {
            let drop = rng.below(full.len() as u64 + 1) as usize;
            full[drop..].iter().map(|&d| if rng.below(2) == 0 { 1 } else { d }).collect()
        };
        let (sa, sb) = (squash(&mut rng), squash(&mut rng));
        let a = Tensor::randn(&sa, DType::Float32, case as u64).unwrap();
        let b = Tensor::randn(&sb, DType::Float32, case as u64 + 1).unwrap();
        let (ab, ba) = (a.add(&b).unwrap(), b.add(&a).unwrap());
        assert_eq!(ab.shape(), ba.shape());
        assert_eq!(ab.to_vec::<f32>().unwrap(), ba.to_vec::<f32>().unwrap());
        let (p, q) = (a.mul(&b).unwrap(), b.mul(&a).unwrap());
        assert_eq!(p.to_vec::<f32>().unwrap(), q.to_vec::<f32>().unwrap());
    }
}

#[test]
fn kernels_agree_on_views_and_copies() {
    let mut rng = Rng::new(16);
    for case in 0..CASES {
        let shape = random_shape(&mut rng, 3, 7);
        let t = Tensor::randn(&shape, DType::Float32, case as u64).unwrap();
        let perm = random_permutation(&mut rng, shape.len());
        let view = t.permute(&perm).unwrap();
        let copy = view.contiguous();
        let axis = rng.below(shape.len() as u64) as usize;
        assert_eq!(view.exp().to_vec::<f32>().unwrap(), copy.exp().to_vec::<f32>().unwrap());
        assert_close(&view.sum(Some(axis)).unwrap().to_vec_f64(), &copy.sum(Some(axis)).unwrap().to_vec_f64(), 1e-5);
        assert_eq!(
            view.argmax(Some(axis)).unwrap().to_vec::<i64>().unwrap(),
            copy.argmax(Some(axis)).unwrap().to_vec::<i64>().unwrap()
        );
        assert_close(&view.softmax(axis).unwrap().to_vec_f64(), &copy.softmax(axis).unwrap().to_vec_f64(), 1e-6);
    }
}

/// A random shape of rank `0..=3` with dimensions `0..=3` (zero-size ones included).
fn small_shape(rng: &mut Rng) -> Vec<usize> {
    let rank = rng.below(4) as usize;
    (0..rank).map(|_| rng.below(4) as usize).collect()
}

/// A tensor of `shape` and a random dtype, with small values (zeros included).
fn small_tensor(rng: &mut Rng, shape: &[usize]) -> Tensor {
    let dtype = DType::ALL[rng.below(6) as usize];
    let n: usize = shape.iter().product();
    let values: Vec<i64> = (0..n).map(|_| rng.below(5) as i64 - 2).collect();
    Tensor::from_vec(values, shape).unwrap().to_dtype(dtype)
}

#[test]
fn no_operation_panics_on_any_input() {
    let mut rng = Rng::new(17);
    for _ in 0..3000 {
        let (sa, sb) = (small_shape(&mut rng), small_shape(&mut rng));
        let (a, b) = (small_tensor(&mut rng, &sa), small_tensor(&mut rng, &sb));
        let mut pick = |n: u64| rng.below(n) as usize;
        let axis = pick(4);
        let _ = (a.add(&b), a.sub(&b), a.mul(&b), a.div(&b), a.rem(&b), a.matmul(&b));
        let _ = (a.sum(Some(axis)), a.mean(Some(axis)), a.max(Some(axis)), a.argmax(Some(axis)), a.softmax(axis));
        let _ = (a.sum(None), a.mean(None), a.max(None), a.argmax(None));
        let _ = (a.exp(), a.log(), a.sqrt(), a.tanh(), a.sigmoid(), a.relu(), a.transpose(), a.to_string());
        let dims: Vec<usize> = (0..pick(4)).map(|_| pick(5)).collect();
        let inferred: Vec<i64> = (0..pick(4)).map(|_| pick(6) as i64 - 2).collect();
        let perm: Vec<usize> = (0..pick(4)).map(|_| pick(4)).collect();
        let _ = (a.reshape(&dims), a.reshape_infer(&inferred), a.permute(&perm), a.swap_axes(axis, pick(4)));
        let _ = a.slice(axis, pick(5), pick(5), pick(3));
        let _ = (Tensor::concat(&[&a, &b], axis), Tensor::stack(&[&a, &b], axis));
        let index: Vec<usize> = (0..pick(4)).map(|_| pick(4)).collect();
        let _ = (a.get(&index), a.item(), a.to_vec::<f32>(), a.map(|x: i64| x * 2));
        let mut c = a.clone();
        c.fill_(1.5f32);
        let _ = c.map_(|x: u8| x.wrapping_add(1));
        let _ = Tensor::arange(pick(5) as f64 - 2.0, pick(5) as f64, pick(3) as f64 - 1.0, a.dtype());
    }
}
