//! The compute-backend interface (after founding document 004): load a
//! model from an artifact, infer one request, infer a batch, report
//! capabilities and input/output metadata, drain and reset. Backends are
//! statically dispatched (`crate::Model` is an enum over them).

use crate::error::Result;
use stark_tensor::{DType, Tensor};
use std::fmt;
use std::path::Path;

/// One dimension of a model input or output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// A size given at run time (`N`, `batch`, `sequence`).
    Symbolic(String),
}

/// A model input's or output's name, element type and shape.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub dtype: DType,
    pub dims: Vec<Dim>,
}

impl fmt::Display for TensorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dims: Vec<String> = self
            .dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => n.to_string(),
                Dim::Symbolic(s) => s.clone(),
            })
            .collect();
        write!(f, "{}: {:?}[{}]", self.name, self.dtype, dims.join(", "))
    }
}

/// What a backend can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// The largest batch it runs in one call.
    pub max_batch: usize,
    /// The batch sizes it has a specialised (faster) plan for.
    pub planned_batches: Vec<usize>,
    /// Whether the first dimension of every input and output is a batch.
    pub batched: bool,
}

/// A compute backend: a loaded model that runs requests.
pub trait Backend: Send + Sync + Sized {
    /// Loads the model at `path`.
    fn load(path: &Path) -> Result<Self>;
    /// Runs one request (one tensor per input); one tensor per output.
    fn infer(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>>;
    /// What the backend can do.
    fn capabilities(&self) -> Capabilities;
    /// The model's inputs.
    fn inputs(&self) -> &[TensorInfo];
    /// The model's outputs.
    fn outputs(&self) -> &[TensorInfo];
    /// Waits until no request is running (nothing is queued inside the backend).
    fn drain(&self) {}
    /// Drops cached run states (they are rebuilt on demand).
    fn reset(&self) {}
}
