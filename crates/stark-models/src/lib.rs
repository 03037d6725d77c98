//! STARK's models (LANGUAGE.md section 8): the compute-backend interface
//! and its backends, and the data side of dynamic batching.
//!
//! A [`Model`] is a loaded model shared by reference (cloning it copies
//! no weights), reached through the [`Backend`] interface, statically
//! dispatched over three backends: ONNX on tract ([`onnx::OnnxBackend`],
//! embedded, the default for `.onnx` files), ONNX on onnxruntime
//! (`ort::OrtBackend`, cargo feature `ort`) and BERT-family safetensors
//! encoders on candle (`bert::BertBackend`, cargo feature `bert`, on by
//! default).

pub mod backend;
pub mod batch;
#[cfg(feature = "bert")]
pub mod bert;
pub mod error;
pub mod kind;
pub mod onnx;
#[cfg(feature = "ort")]
pub mod ort;
pub mod signature;
pub mod text;

pub use backend::{Backend, Capabilities, Dim, TensorInfo};
pub use error::{ModelError, Result};
pub use kind::BackendKind;
pub use text::Tokenizer;

use stark_tensor::Tensor;
use std::path::Path;
use std::sync::Arc;

/// A loaded model, cheap to clone and shared across tasks and threads.
#[derive(Clone)]
pub struct Model(Arc<Loaded>);

struct Loaded {
    name: String,
    path: String,
    kind: BackendKind,
    backend: Backends,
}

/// The backends, statically dispatched.
enum Backends {
    Onnx(onnx::OnnxBackend),
    #[cfg(feature = "ort")]
    Ort(ort::OrtBackend),
    #[cfg(feature = "bert")]
    Bert(Box<bert::BertBackend>),
}

/// Calls `$call` on whichever backend `$b` holds.
macro_rules! dispatch {
    ($b:expr, $x:ident => $call:expr) => {
        match $b {
            Backends::Onnx($x) => $call,
            #[cfg(feature = "ort")]
            Backends::Ort($x) => $call,
            #[cfg(feature = "bert")]
            Backends::Bert($x) => $call,
        }
    };
}

impl Backends {
    /// Loads `path` with the backend `kind`.
    fn load(kind: BackendKind, path: &Path) -> Result<Backends> {
        match kind {
            BackendKind::Tract => onnx::OnnxBackend::load(path).map(Backends::Onnx),
            #[cfg(feature = "ort")]
            BackendKind::OnnxRuntime => ort::OrtBackend::load(path).map(Backends::Ort),
            #[cfg(feature = "bert")]
            BackendKind::Candle => bert::BertBackend::load(path).map(|b| Backends::Bert(Box::new(b))),
            #[allow(unreachable_patterns)]
            other => Err(other.not_built()),
        }
    }
}

impl Model {
    /// Loads the model at `path` with the backend its kind of file calls for
    /// ([`BackendKind::for_path`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref();
        Model::load_with(path, BackendKind::for_path(path)?)
    }

    /// Loads the model at `path` with the backend `kind`.
    pub fn load_with(path: impl AsRef<Path>, kind: BackendKind) -> Result<Model> {
        let path = path.as_ref();
        let backend = Backends::load(kind, path)?;
        let name = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
        Ok(Model(Arc::new(Loaded { name, path: path.display().to_string(), kind, backend })))
    }

    /// The backend that runs it.
    pub fn backend(&self) -> BackendKind {
        self.0.kind
    }

    /// The model's name (its file's stem).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Where it was loaded from.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// The model's inputs.
    pub fn inputs(&self) -> &[TensorInfo] {
        dispatch!(&self.0.backend, b => b.inputs())
    }

    /// The model's outputs.
    pub fn outputs(&self) -> &[TensorInfo] {
        dispatch!(&self.0.backend, b => b.outputs())
    }

    /// What its backend can do.
    pub fn capabilities(&self) -> Capabilities {
        dispatch!(&self.0.backend, b => b.capabilities())
    }

    /// Runs one request: one tensor per input, one per output.
    pub fn infer(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        dispatch!(&self.0.backend, b => b.infer(inputs))
    }

    /// Runs requests as one batch (each request's tensors with or without
    /// the batch dimension); each gets its own outputs back.
    pub fn infer_batch(&self, requests: &[Vec<Tensor>]) -> Result<Vec<Vec<Tensor>>> {
        let (stacked, rows) = batch::stack(self.name(), self.inputs(), requests)?;
        let outputs = self.infer(&stacked)?;
        batch::split(self.name(), &outputs, &rows)
    }

    /// Checks a request for `infer_batch` (with or without the batch dimension).
    pub fn check_request(&self, request: &[Tensor]) -> Result<()> {
        batch::check(self.name(), self.inputs(), request)
    }

    /// Waits until no request is running.
    pub fn drain(&self) {
        dispatch!(&self.0.backend, b => b.drain())
    }

    /// Drops the backend's cached run states.
    pub fn reset(&self) {
        dispatch!(&self.0.backend, b => b.reset())
    }

    /// Whether two handles share one loaded model.
    pub fn same(&self, other: &Model) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Model({})", self.0.path)
    }
}
