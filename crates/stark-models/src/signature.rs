//! Checking a request against the model's inputs: how many tensors, each
//! one's element type, rank and fixed sizes, and that a symbolic size
//! (`N`) is the same wherever it appears. Errors name both shapes.

use crate::backend::{Dim, TensorInfo};
use crate::error::{ModelError, Result};
use stark_tensor::Tensor;
use std::collections::HashMap;

/// A tensor's element type and shape, written like `TensorInfo`'s.
pub fn describe(t: &Tensor) -> String {
    let dims: Vec<String> = t.shape().dims().iter().map(|d| d.to_string()).collect();
    format!("{:?}[{}]", t.dtype(), dims.join(", "))
}

/// Checks `given` against `inputs`.
pub fn check(model: &str, inputs: &[TensorInfo], given: &[Tensor]) -> Result<()> {
    let fail = |reason: String| Err(ModelError::Signature { model: model.to_string(), reason });
    if given.len() != inputs.len() {
        let names: Vec<String> = inputs.iter().map(|i| i.to_string()).collect();
        return fail(format!("expects {} input(s) ({}), got {}", inputs.len(), names.join("; "), given.len()));
    }
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for (info, t) in inputs.iter().zip(given) {
        let dims = t.shape().dims();
        let mut ok = t.dtype() == info.dtype && dims.len() == info.dims.len();
        for (d, &n) in info.dims.iter().zip(dims) {
            ok &= match d {
                Dim::Fixed(m) => *m == n,
                Dim::Symbolic(s) => *sizes.entry(s.as_str()).or_insert(n) == n,
            };
        }
        if !ok {
            return fail(format!("input `{}` expects {}, got {}", info.name, expected(info), describe(t)));
        }
    }
    Ok(())
}

fn expected(info: &TensorInfo) -> String {
    let s = info.to_string();
    s.split_once(": ").map_or(s.clone(), |(_, rest)| rest.to_string())
}
