//! STARK's models (LANGUAGE.md section 8): the compute-backend interface
//! and its backends, and the data side of dynamic batching.
//!
//! A [`Model`] is a loaded model shared by reference (cloning it copies
//! no weights), reached through the [`Backend`] interface: today the
//! embedded ONNX backend on tract ([`onnx::OnnxBackend`]).

pub mod backend;
pub mod batch;
pub mod error;
pub mod onnx;
pub mod signature;
pub mod text;

pub use backend::{Backend, Capabilities, Dim, TensorInfo};
pub use error::{ModelError, Result};
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
    backend: Backends,
}

/// The backends, statically dispatched.
enum Backends {
    Onnx(onnx::OnnxBackend),
}

impl Backends {
    fn get(&self) -> &onnx::OnnxBackend {
        match self {
            Backends::Onnx(b) => b,
        }
    }
}

impl Model {
    /// Loads the model at `path` (an ONNX file).
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref();
        let backend = Backends::Onnx(onnx::OnnxBackend::load(path)?);
        let name = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
        Ok(Model(Arc::new(Loaded { name, path: path.display().to_string(), backend })))
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
        self.0.backend.get().inputs()
    }

    /// The model's outputs.
    pub fn outputs(&self) -> &[TensorInfo] {
        self.0.backend.get().outputs()
    }

    /// What its backend can do.
    pub fn capabilities(&self) -> Capabilities {
        self.0.backend.get().capabilities()
    }

    /// Runs one request: one tensor per input, one per output.
    pub fn infer(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        self.0.backend.get().infer(inputs)
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
