//! Model errors: values with codes, each naming the model's path (or
//! name) and the reason.

use std::fmt;

/// Why loading or running a model failed.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelError {
    /// M001: no file (or folder) at the path.
    NotFound { path: String },
    /// M002: the file is not a model (or tokenizer) this backend reads.
    Invalid { path: String, reason: String },
    /// M003: the model uses an operator (or feature) no backend supports.
    Unsupported { path: String, reason: String },
    /// M004: an input does not match the model's signature.
    Signature { model: String, reason: String },
    /// M005: the backend failed while running the model.
    Run { model: String, reason: String },
    /// M006: a batch could not be formed or split.
    Batch { model: String, reason: String },
    /// M007: the backend asked for is not available (not built in, its
    /// library cannot be opened, or no backend of that name).
    Unavailable { backend: String, reason: String },
}

impl ModelError {
    /// The error's code (`M001`..).
    pub fn code(&self) -> &'static str {
        match self {
            ModelError::NotFound { .. } => "M001",
            ModelError::Invalid { .. } => "M002",
            ModelError::Unsupported { .. } => "M003",
            ModelError::Signature { .. } => "M004",
            ModelError::Run { .. } => "M005",
            ModelError::Batch { .. } => "M006",
            ModelError::Unavailable { .. } => "M007",
        }
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "model error {}: ", self.code())?;
        match self {
            ModelError::NotFound { path } => write!(f, "cannot load `{path}`: no such file"),
            ModelError::Invalid { path, reason } => {
                write!(f, "cannot load `{path}`: {reason}")
            }
            ModelError::Unsupported { path, reason } => write!(f, "cannot load `{path}`: {reason}"),
            ModelError::Signature { model, reason } => write!(f, "model `{model}`: {reason}"),
            ModelError::Run { model, reason } => write!(f, "model `{model}` failed: {reason}"),
            ModelError::Batch { model, reason } => write!(f, "model `{model}`: cannot batch: {reason}"),
            ModelError::Unavailable { backend, reason } => write!(f, "backend `{backend}` is not available: {reason}"),
        }
    }
}

impl std::error::Error for ModelError {}

/// A shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, ModelError>;
