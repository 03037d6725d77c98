//! Dynamic batching's data side: requests (one tensor per input, each
//! with or without the batch dimension) stacked along the batch dimension
//! into one call, and the outputs split back, each request getting its own
//! rows in the form it asked in.

use crate::backend::TensorInfo;
use crate::error::{ModelError, Result};
use stark_tensor::Tensor;

/// Where a request's rows sit in the batch.
#[derive(Clone, Copy, Debug)]
pub struct Rows {
    start: usize,
    len: usize,
    /// It came without the batch dimension (one row, dropped again).
    squeezed: bool,
}

fn batch_err(model: &str, reason: String) -> ModelError {
    ModelError::Batch { model: model.to_string(), reason }
}

/// Stacks `requests` into one tensor per input.
pub fn stack(model: &str, inputs: &[TensorInfo], requests: &[Vec<Tensor>]) -> Result<(Vec<Tensor>, Vec<Rows>)> {
    let mut parts: Vec<Vec<Tensor>> = vec![Vec::with_capacity(requests.len()); inputs.len()];
    let mut rows = Vec::with_capacity(requests.len());
    let mut start = 0;
    for (r, request) in requests.iter().enumerate() {
        if request.len() != inputs.len() {
            return Err(batch_err(
                model,
                format!("request {r} has {} tensors for {} inputs", request.len(), inputs.len()),
            ));
        }
        let mut len = None;
        let mut squeezed = false;
        for ((info, t), part) in inputs.iter().zip(request).zip(parts.iter_mut()) {
            let (t, n, s) = with_batch(model, info, t)?;
            if len.is_some_and(|l| l != n) {
                return Err(batch_err(model, format!("request {r}'s inputs disagree on the batch size")));
            }
            len = Some(n);
            squeezed = s;
            part.push(t);
        }
        let len = len.unwrap_or(0);
        rows.push(Rows { start, len, squeezed });
        start += len;
    }
    let stacked = parts
        .iter()
        .map(|p| {
            let refs: Vec<&Tensor> = p.iter().collect();
            Tensor::concat(&refs, 0).map_err(|e| batch_err(model, e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((stacked, rows))
}

/// Checks one request as a batch would take it: the form of each tensor
/// (with or without the batch dimension) and the model's signature.
pub fn check(model: &str, inputs: &[TensorInfo], request: &[Tensor]) -> Result<()> {
    if request.len() != inputs.len() {
        return crate::signature::check(model, inputs, request);
    }
    let batched = inputs
        .iter()
        .zip(request)
        .map(|(info, t)| with_batch(model, info, t).map(|(t, _, _)| t))
        .collect::<Result<Vec<_>>>()?;
    crate::signature::check(model, inputs, &batched).map_err(|e| match e {
        ModelError::Signature { model, reason } => {
            ModelError::Signature { model, reason: format!("{reason} (a request of {})", describe_all(request)) }
        }
        other => other,
    })
}

fn describe_all(request: &[Tensor]) -> String {
    request.iter().map(crate::signature::describe).collect::<Vec<_>>().join(", ")
}

/// `t` with the batch dimension, its row count, and whether it was added.
fn with_batch(model: &str, info: &TensorInfo, t: &Tensor) -> Result<(Tensor, usize, bool)> {
    let dims = t.shape().dims();
    if dims.len() + 1 == info.dims.len() {
        let mut d = vec![1];
        d.extend_from_slice(dims);
        let t = t.reshape(&d).map_err(|e| batch_err(model, e.to_string()))?;
        return Ok((t, 1, true));
    }
    if dims.len() == info.dims.len() && !dims.is_empty() {
        return Ok((t.clone(), dims[0], false));
    }
    let want = info.to_string();
    Err(ModelError::Signature {
        model: model.to_string(),
        reason: format!(
            "input `{want}` cannot take {} (with or without the batch dimension)",
            crate::signature::describe(t)
        ),
    })
}

/// Splits the batched outputs back into each request's.
pub fn split(model: &str, outputs: &[Tensor], rows: &[Rows]) -> Result<Vec<Vec<Tensor>>> {
    rows.iter()
        .map(|r| {
            outputs
                .iter()
                .map(|o| {
                    let part = o.slice(0, r.start, r.start + r.len, 1).map_err(|e| batch_err(model, e.to_string()))?;
                    if !r.squeezed {
                        return Ok(part);
                    }
                    let dims = &part.shape().dims()[1..];
                    part.reshape(dims).map_err(|e| batch_err(model, e.to_string()))
                })
                .collect()
        })
        .collect()
}
