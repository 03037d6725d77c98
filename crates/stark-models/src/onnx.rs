//! The embedded default backend: ONNX on tract (pure Rust). The loaded
//! model is shared (`Send + Sync`); beside the plan for any batch size
//! (the batch dimension symbolic), it keeps a plan optimised for each
//! fixed batch size of `BUCKETS`, used when a batch has exactly that size
//! (the symbolic plan is about 1.5 times slower at batch 1). Run states
//! are kept between calls, one per caller running at once and plan, so a
//! call reuses one rather than setting its own up.
//!
//! tract picks a fixed plan's matrix kernel by a cost model that can be
//! wrong for the machine: on an AVX-512 EPYC, the wide serving MLP of
//! `bench/serving` ran 30% slower at batch 128 on its fixed plan than on
//! the symbolic one. So loading times each fixed plan against the
//! symbolic plan at its batch size (`tune`) and keeps only those that
//! are not clearly slower. Both plans compute the same function (they
//! differ at most in rounding, around 1e-7), so the choice changes speed,
//! not results.

use crate::backend::{Backend, Capabilities, Dim, TensorInfo};
use crate::error::{ModelError, Result};
use stark_tensor::{DType, Tensor};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tract_onnx::prelude as tr;
use tract_onnx::prelude::{Framework, InferenceModelExt, IntoRunnable};

/// The batch sizes that get a plan of their own.
pub const BUCKETS: [usize; 4] = [1, 8, 32, 128];

type Plan = Arc<tr::TypedRunnableModel>;

/// An ONNX model loaded with tract.
pub struct OnnxBackend {
    name: String,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
    /// Runs any batch size.
    symbolic: Plan,
    /// Plans for the batch sizes of `BUCKETS`.
    fixed: Vec<(usize, Plan)>,
    /// Idle run states, each with its plan's batch size (0: the symbolic plan).
    states: Mutex<Vec<(usize, tr::TypedSimpleState)>>,
}

/// The most idle run states kept (more callers at once make their own).
const MAX_STATES: usize = 16;

fn err_chain(e: &tr::TractError) -> String {
    format!("{e:#}").replace('\n', " ")
}

impl Backend for OnnxBackend {
    fn load(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        if !path.is_file() {
            return Err(ModelError::NotFound { path: shown });
        }
        let model = tract_onnx::onnx().model_for_path(path).map_err(|e| ModelError::Invalid {
            path: shown.clone(),
            reason: format!("not a valid ONNX model ({})", err_chain(&e)),
        })?;
        let typed = model.into_typed().map_err(|e| unsupported(&shown, &e))?;
        let inputs = infos(&typed, typed.input_outlets().map_err(|e| unsupported(&shown, &e))?)?;
        let outputs = infos(&typed, typed.output_outlets().map_err(|e| unsupported(&shown, &e))?)?;
        let plan = |m: tr::TypedModel| -> Result<Plan> {
            m.into_optimized().and_then(|m| m.into_runnable()).map_err(|e| unsupported(&shown, &e))
        };
        let symbolic = plan(typed.clone())?;
        let mut fixed = Vec::new();
        if let Some(Dim::Symbolic(batch)) = inputs.first().and_then(|i| i.dims.first()) {
            let sym = typed.sym(batch);
            for b in BUCKETS {
                let subs = HashMap::from([(sym.clone(), tr::TDim::Val(b as i64))]);
                let concrete = typed.set_symbols(&subs).map_err(|e| unsupported(&shown, &e))?;
                fixed.push((b, plan(concrete)?));
            }
            fixed = tune(&symbolic, fixed, &inputs);
        }
        let name = path.file_stem().map_or_else(|| shown.clone(), |s| s.to_string_lossy().into_owned());
        Ok(OnnxBackend { name, inputs, outputs, symbolic, fixed, states: Mutex::new(Vec::new()) })
    }

    fn infer(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        crate::signature::check(&self.name, &self.inputs, inputs)?;
        let batch = inputs.first().and_then(|t| t.shape().dims().first().copied()).unwrap_or(0);
        let (key, plan) = match self.fixed.iter().find(|(b, _)| *b == batch) {
            Some((b, p)) => (*b, p),
            None => (0, &self.symbolic),
        };
        let values = inputs.iter().map(|t| to_tract(t).map(tr::TValue::from)).collect::<Result<tr::TVec<_>>>()?;
        let run = |e: tr::TractError| ModelError::Run { model: self.name.clone(), reason: err_chain(&e) };
        let mut state = match self.take_state(key) {
            Some(state) => state,
            None => plan.spawn().map_err(run)?,
        };
        // A state whose run failed is dropped, not reused.
        let outs = state.run(values).map_err(run)?;
        self.keep_state(key, state);
        outs.iter().map(|t| from_tract(t).map_err(run)).collect()
    }

    fn reset(&self) {
        self.lock_states().clear();
    }

    fn capabilities(&self) -> Capabilities {
        let batched = self.inputs.iter().chain(&self.outputs).all(|i| matches!(i.dims.first(), Some(Dim::Symbolic(_))));
        Capabilities { max_batch: 1 << 16, planned_batches: self.fixed.iter().map(|(b, _)| *b).collect(), batched }
    }

    fn inputs(&self) -> &[TensorInfo] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorInfo] {
        &self.outputs
    }
}

impl OnnxBackend {
    fn lock_states(&self) -> std::sync::MutexGuard<'_, Vec<(usize, tr::TypedSimpleState)>> {
        self.states.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An idle run state of the plan for batch size `key`, if one is kept.
    fn take_state(&self, key: usize) -> Option<tr::TypedSimpleState> {
        let mut states = self.lock_states();
        let at = states.iter().rposition(|(k, _)| *k == key)?;
        Some(states.swap_remove(at).1)
    }

    /// Keeps a run state for the next call (up to `MAX_STATES`).
    fn keep_state(&self, key: usize, state: tr::TypedSimpleState) {
        let mut states = self.lock_states();
        if states.len() < MAX_STATES {
            states.push((key, state));
        }
    }
}

/// How long `tune` may spend on one model; a bucket whose timing would
/// not fit, and the larger ones, keep their fixed plans.
const TUNING_BUDGET: Duration = Duration::from_millis(250);

/// A fixed plan is dropped only when the symbolic plan is faster by more
/// than this factor (timings here are noisy; near a tie the fixed plan,
/// usually the faster one, stays).
const TUNING_MARGIN: f64 = 1.15;

/// The fixed plans that run their batch size about as fast as the
/// symbolic plan or faster, timed on zero inputs (a matrix kernel's speed
/// does not depend on the values). A model whose inputs have a symbolic
/// dimension besides the batch, or that fails on zeros, keeps them all.
fn tune(symbolic: &Plan, fixed: Vec<(usize, Plan)>, inputs: &[TensorInfo]) -> Vec<(usize, Plan)> {
    let started = Instant::now();
    // Time per row of one run of both plans, from the last bucket timed:
    // a bucket is timed only if it should fit in what is left of the budget.
    let mut per_row = Duration::ZERO;
    let mut kept = Vec::new();
    let mut rest = fixed.into_iter();
    for (b, plan) in rest.by_ref() {
        let affordable = started.elapsed() + per_row * (4 * b as u32) < TUNING_BUDGET;
        let timed = match zero_inputs(inputs, b) {
            Some(values) if affordable => symbolic_is_faster(symbolic, &plan, &values),
            _ => None,
        };
        if !matches!(timed, Some((true, _))) {
            kept.push((b, plan));
        }
        match timed {
            Some((_, pair)) => per_row = pair / b as u32,
            None => break,
        }
    }
    kept.extend(rest);
    kept
}

/// Zero tensors of the model's input shapes with batch size `batch`;
/// `None` if another dimension is symbolic or a dtype has no tract form.
fn zero_inputs(inputs: &[TensorInfo], batch: usize) -> Option<tr::TVec<tr::TValue>> {
    inputs
        .iter()
        .map(|info| {
            let (first, rest) = info.dims.split_first()?;
            let mut dims = vec![if matches!(first, Dim::Symbolic(_)) { batch } else { return None }];
            for d in rest {
                dims.push(match d {
                    Dim::Fixed(n) => *n,
                    Dim::Symbolic(_) => return None,
                });
            }
            let zeros = Tensor::zeros(&dims, info.dtype).ok()?;
            to_tract(&zeros).ok().map(tr::TValue::from)
        })
        .collect()
}

/// Whether `symbolic` runs `values` faster than `fixed` by more than
/// `TUNING_MARGIN` (the best of three timed runs each, alternating after
/// one untimed run each), and how long the untimed pair took; `None` if
/// either fails.
fn symbolic_is_faster(symbolic: &Plan, fixed: &Plan, values: &tr::TVec<tr::TValue>) -> Option<(bool, Duration)> {
    let (mut s, mut f) = (symbolic.spawn().ok()?, fixed.spawn().ok()?);
    let time = |state: &mut tr::TypedSimpleState| -> Option<Duration> {
        let t = Instant::now();
        state.run(values.clone()).ok()?;
        Some(t.elapsed())
    };
    let pair = time(&mut s)? + time(&mut f)?;
    let (mut best_s, mut best_f) = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        best_s = best_s.min(time(&mut s)?);
        best_f = best_f.min(time(&mut f)?);
    }
    Some((best_s.as_secs_f64() * TUNING_MARGIN < best_f.as_secs_f64(), pair))
}

/// A failure to type or optimise the model: an operator tract lacks is
/// named as such.
fn unsupported(path: &str, e: &tr::TractError) -> ModelError {
    let reason = err_chain(e);
    let reason = match reason.split("Unimplemented(").nth(1).and_then(|r| r.split(')').next()) {
        Some(op) => format!("unsupported operator `{op}` ({reason})"),
        None => format!("unsupported model ({reason})"),
    };
    ModelError::Unsupported { path: path.to_string(), reason }
}

/// The name, element type and shape of each outlet.
fn infos(model: &tr::TypedModel, outlets: &[tr::OutletId]) -> Result<Vec<TensorInfo>> {
    outlets
        .iter()
        .map(|&o| {
            let fact = model.outlet_fact(o).map_err(|e| unsupported("model", &e))?;
            let dims = fact
                .shape
                .dims()
                .iter()
                .map(|d| match d.to_i64() {
                    Ok(n) => Dim::Fixed(n as usize),
                    Err(_) => Dim::Symbolic(d.to_string()),
                })
                .collect();
            let dtype = dtype_of(fact.datum_type).unwrap_or(DType::Float32);
            Ok(TensorInfo { name: model.node(o.node).name.clone(), dtype, dims })
        })
        .collect()
}

fn dtype_of(d: tr::DatumType) -> Option<DType> {
    Some(match d {
        tr::DatumType::F32 => DType::Float32,
        tr::DatumType::F64 => DType::Float64,
        tr::DatumType::I32 => DType::Int32,
        tr::DatumType::I64 => DType::Int64,
        tr::DatumType::U8 => DType::UInt8,
        tr::DatumType::Bool => DType::Bool,
        _ => return None,
    })
}

/// A STARK tensor as a tract tensor (the elements are copied once).
fn to_tract(t: &Tensor) -> Result<tr::Tensor> {
    let dims = t.shape().dims().to_vec();
    let bad = |e: stark_tensor::TensorError| ModelError::Signature { model: String::new(), reason: e.to_string() };
    let r = match t.dtype() {
        DType::Float32 => tr::Tensor::from_shape(&dims, &t.to_vec::<f32>().map_err(bad)?),
        DType::Float64 => tr::Tensor::from_shape(&dims, &t.to_vec::<f64>().map_err(bad)?),
        DType::Int32 => tr::Tensor::from_shape(&dims, &t.to_vec::<i32>().map_err(bad)?),
        DType::Int64 => tr::Tensor::from_shape(&dims, &t.to_vec::<i64>().map_err(bad)?),
        DType::UInt8 => tr::Tensor::from_shape(&dims, &t.to_vec::<u8>().map_err(bad)?),
        DType::Bool => tr::Tensor::from_shape(&dims, &t.to_vec::<bool>().map_err(bad)?),
    };
    r.map_err(|e| ModelError::Signature { model: String::new(), reason: err_chain(&e) })
}

/// A tract tensor as a STARK tensor.
fn from_tract(t: &tr::TValue) -> tr::TractResult<Tensor> {
    let dims = t.shape().to_vec();
    let view = t.try_as_plain_ram()?;
    let made = match t.datum_type() {
        tr::DatumType::F32 => Tensor::from_vec(view.as_slice::<f32>()?.to_vec(), &dims),
        tr::DatumType::F64 => Tensor::from_vec(view.as_slice::<f64>()?.to_vec(), &dims),
        tr::DatumType::I32 => Tensor::from_vec(view.as_slice::<i32>()?.to_vec(), &dims),
        tr::DatumType::I64 => Tensor::from_vec(view.as_slice::<i64>()?.to_vec(), &dims),
        tr::DatumType::U8 => Tensor::from_vec(view.as_slice::<u8>()?.to_vec(), &dims),
        tr::DatumType::Bool => Tensor::from_vec(view.as_slice::<bool>()?.to_vec(), &dims),
        other => {
            return Err(tr::TractError::msg(format!(
                "the model gives {other:?} elements, which STARK tensors do not hold"
            )))
        }
    };
    made.map_err(|e| tr::TractError::msg(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(dims: Vec<Dim>) -> TensorInfo {
        TensorInfo { name: "x".into(), dtype: DType::Float32, dims }
    }

    #[test]
    fn zero_inputs_fill_the_batch_and_need_every_other_dimension_fixed() {
        let n = || Dim::Symbolic("N".into());
        let v = zero_inputs(&[info(vec![n(), Dim::Fixed(16)])], 8).expect("zeros");
        assert_eq!(v[0].shape(), &[8, 16]);
        assert!(zero_inputs(&[info(vec![n(), Dim::Symbolic("S".into())])], 8).is_none());
        assert!(zero_inputs(&[info(vec![Dim::Fixed(1), Dim::Fixed(16)])], 8).is_none());
    }
}
