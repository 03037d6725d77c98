//! The onnxruntime backend (cargo feature `ort`): ONNX models on Microsoft's
//! ONNX Runtime through the `ort` crate, the shared library opened at run
//! time, not linked: `ORT_DYLIB_PATH` names it (for instance the
//! `libonnxruntime.so.*` the `onnxruntime` wheel ships under
//! `site-packages/onnxruntime/capi/`), otherwise the system's dynamic loader
//! looks for `libonnxruntime.so`.
//!
//! A session runs one call at a time (onnxruntime spreads each call over
//! the cores itself); concurrent calls on one model wait their turn.

use crate::backend::{Backend, Capabilities, Dim, TensorInfo};
use crate::error::{ModelError, Result};
use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, TensorElementType, ValueType};
use stark_tensor::{DType, Tensor};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

/// The environment variable naming the onnxruntime library.
pub const LIBRARY_VARIABLE: &str = "ORT_DYLIB_PATH";

/// An ONNX model loaded with onnxruntime.
pub struct OrtBackend {
    name: String,
    session: Mutex<Session>,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
}

/// The process's onnxruntime environment: the library is opened once.
fn environment() -> Result<&'static ort::environment::Environment> {
    static ENV: OnceLock<std::result::Result<ort::environment::Environment, String>> = OnceLock::new();
    let env = ENV.get_or_init(|| {
        let lib = std::env::var(LIBRARY_VARIABLE).unwrap_or_else(|_| "libonnxruntime.so".into());
        let builder = ort::init_from(&lib).map_err(|e| {
            format!(
                "cannot open the onnxruntime library ({e}); set {LIBRARY_VARIABLE} to a libonnxruntime.so \
                 (`pip install onnxruntime` ships one under site-packages/onnxruntime/capi/)"
            )
        })?;
        builder.with_name("stark").build().map_err(|e| format!("onnxruntime failed to start ({e})"))
    });
    env.as_ref().map_err(|reason| ModelError::Unavailable { backend: "onnxruntime".into(), reason: reason.clone() })
}

impl Backend for OrtBackend {
    fn load(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        if !path.is_file() {
            return Err(ModelError::NotFound { path: shown });
        }
        let env = environment()?;
        let invalid = |e: String| refused(&shown, e);
        let mut builder = Session::builder(env).map_err(|e| invalid(e.to_string()))?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        builder = builder.with_intra_threads(threads).map_err(|e| invalid(e.to_string()))?;
        // Idle intra-op threads sleep rather than spin: spinning ones take
        // the cores the runtime's tasks (the askers, the batcher) need.
        builder = builder.with_intra_op_spinning(false).map_err(|e| invalid(e.to_string()))?;
        let session = builder.commit_from_file(path).map_err(|e| invalid(e.to_string()))?;
        let inputs = session.inputs().iter().map(|o| info(&shown, o.name(), o.dtype())).collect::<Result<_>>()?;
        let outputs = session.outputs().iter().map(|o| info(&shown, o.name(), o.dtype())).collect::<Result<_>>()?;
        let name = path.file_stem().map_or_else(|| shown.clone(), |s| s.to_string_lossy().into_owned());
        Ok(OrtBackend { name, session: Mutex::new(session), inputs, outputs })
    }

    fn infer(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        crate::signature::check(&self.name, &self.inputs, inputs)?;
        let run = |e: String| ModelError::Run { model: self.name.clone(), reason: e };
        let values = inputs.iter().map(|t| to_ort(t).map_err(run)).collect::<Result<Vec<SessionInputValue>>>()?;
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outs = session.run(&values[..]).map_err(|e| run(e.to_string()))?;
        outs.values().map(|v| from_ort(&v).map_err(run)).collect()
    }

    fn capabilities(&self) -> Capabilities {
        let batched = self.inputs.iter().chain(&self.outputs).all(|i| matches!(i.dims.first(), Some(Dim::Symbolic(_))));
        Capabilities { max_batch: 1 << 16, planned_batches: Vec::new(), batched }
    }

    fn inputs(&self) -> &[TensorInfo] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorInfo] {
        &self.outputs
    }
}

/// A model onnxruntime refuses: an operator it lacks is M003, anything else M002.
fn refused(path: &str, reason: String) -> ModelError {
    let reason = reason.replace('\n', " ");
    if reason.contains("No opset import for domain") || reason.contains("not a registered function/op") {
        ModelError::Unsupported { path: path.to_string(), reason: format!("unsupported operator ({reason})") }
    } else {
        ModelError::Invalid { path: path.to_string(), reason: format!("not a valid ONNX model ({reason})") }
    }
}

/// An input's or output's metadata.
fn info(path: &str, name: &str, ty: &ValueType) -> Result<TensorInfo> {
    let unsupported = |what: String| ModelError::Unsupported { path: path.into(), reason: what };
    let ValueType::Tensor { ty, shape, dimension_symbols } = ty else {
        return Err(unsupported(format!("`{name}` is not a tensor ({ty})")));
    };
    let dtype = dtype_of(*ty).ok_or_else(|| unsupported(format!("`{name}` holds {ty} elements")))?;
    let dims = shape
        .iter()
        .zip(dimension_symbols.iter())
        .map(|(&n, s)| match n {
            n if n >= 0 => Dim::Fixed(n as usize),
            _ if s.is_empty() => Dim::Symbolic("?".into()),
            _ => Dim::Symbolic(s.clone()),
        })
        .collect();
    Ok(TensorInfo { name: name.to_string(), dtype, dims })
}

fn dtype_of(t: TensorElementType) -> Option<DType> {
    Some(match t {
        TensorElementType::Float32 => DType::Float32,
        TensorElementType::Float64 => DType::Float64,
        TensorElementType::Int32 => DType::Int32,
        TensorElementType::Int64 => DType::Int64,
        TensorElementType::Uint8 => DType::UInt8,
        TensorElementType::Bool => DType::Bool,
        _ => return None,
    })
}

/// A STARK tensor as an onnxruntime value (the elements are copied once).
fn to_ort(t: &Tensor) -> std::result::Result<SessionInputValue<'static>, String> {
    fn make<T: ort::value::PrimitiveTensorElementType + Clone + std::fmt::Debug + 'static>(
        dims: Vec<i64>,
        data: std::result::Result<Vec<T>, stark_tensor::TensorError>,
    ) -> std::result::Result<SessionInputValue<'static>, String> {
        let data = data.map_err(|e| e.to_string())?;
        ort::value::Tensor::from_array((dims, data)).map(|v| v.into()).map_err(|e| e.to_string())
    }
    let dims: Vec<i64> = t.shape().dims().iter().map(|&d| d as i64).collect();
    match t.dtype() {
        DType::Float32 => make(dims, t.to_vec::<f32>()),
        DType::Float64 => make(dims, t.to_vec::<f64>()),
        DType::Int32 => make(dims, t.to_vec::<i32>()),
        DType::Int64 => make(dims, t.to_vec::<i64>()),
        DType::UInt8 => make(dims, t.to_vec::<u8>()),
        DType::Bool => make(dims, t.to_vec::<bool>()),
    }
}

/// An onnxruntime output as a STARK tensor.
fn from_ort(v: &DynValue) -> std::result::Result<Tensor, String> {
    fn take<T: ort::value::PrimitiveTensorElementType + stark_tensor::Element + Clone + std::fmt::Debug>(
        v: &DynValue,
    ) -> std::result::Result<Tensor, String> {
        let (shape, data) = v.try_extract_tensor::<T>().map_err(|e| e.to_string())?;
        let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
        Tensor::from_vec(data.to_vec(), &dims).map_err(|e| e.to_string())
    }
    match v.dtype() {
        ValueType::Tensor { ty: TensorElementType::Float32, .. } => take::<f32>(v),
        ValueType::Tensor { ty: TensorElementType::Float64, .. } => take::<f64>(v),
        ValueType::Tensor { ty: TensorElementType::Int32, .. } => take::<i32>(v),
        ValueType::Tensor { ty: TensorElementType::Int64, .. } => take::<i64>(v),
        ValueType::Tensor { ty: TensorElementType::Uint8, .. } => take::<u8>(v),
        ValueType::Tensor { ty: TensorElementType::Bool, .. } => take::<bool>(v),
        other => Err(format!("the model gives {other}, which STARK tensors do not hold")),
    }
}
