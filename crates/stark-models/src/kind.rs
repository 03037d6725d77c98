//! Which backend loads a model: chosen by the program (`load_model_with`),
//! or by the kind of file: a folder or a `.safetensors` file goes to
//! candle, an ONNX file to tract unless `STARK_ONNX_BACKEND=onnxruntime`.

use crate::error::{ModelError, Result};
use std::fmt;
use std::path::Path;

/// The environment variable choosing the backend for ONNX files.
pub const ONNX_BACKEND_VARIABLE: &str = "STARK_ONNX_BACKEND";

/// A compute backend, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// ONNX on tract (pure Rust, always built in).
    Tract,
    /// ONNX on onnxruntime (cargo feature `ort`; the library opened at run time).
    OnnxRuntime,
    /// BERT-family safetensors encoders on candle (cargo feature `bert`).
    Candle,
}

impl BackendKind {
    /// Every backend, in the order they are listed to users.
    pub const ALL: [BackendKind; 3] = [BackendKind::Tract, BackendKind::OnnxRuntime, BackendKind::Candle];

    /// The backend's name (`tract`, `onnxruntime`, `candle`).
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Tract => "tract",
            BackendKind::OnnxRuntime => "onnxruntime",
            BackendKind::Candle => "candle",
        }
    }

    /// The backend called `name` (`ort` is accepted for onnxruntime).
    pub fn parse(name: &str) -> Result<BackendKind> {
        match name {
            "tract" => Ok(BackendKind::Tract),
            "onnxruntime" | "ort" => Ok(BackendKind::OnnxRuntime),
            "candle" => Ok(BackendKind::Candle),
            _ => Err(ModelError::Unavailable {
                backend: name.to_string(),
                reason: "no backend has that name (tract, onnxruntime, candle)".into(),
            }),
        }
    }

    /// Whether this build of STARK has the backend.
    pub fn built_in(self) -> bool {
        match self {
            BackendKind::Tract => true,
            BackendKind::OnnxRuntime => cfg!(feature = "ort"),
            BackendKind::Candle => cfg!(feature = "bert"),
        }
    }

    /// The error for a backend this build lacks.
    pub fn not_built(self) -> ModelError {
        let feature = if self == BackendKind::Candle { "bert" } else { "ort" };
        ModelError::Unavailable {
            backend: self.name().into(),
            reason: format!(
                "this stark was built without it (build with `cargo build --release -p stark-cli --features {feature}`)"
            ),
        }
    }

    /// The backend for the model at `path`: candle for a folder or a
    /// `.safetensors` file, else (ONNX) tract or what `STARK_ONNX_BACKEND` names.
    pub fn for_path(path: &Path) -> Result<BackendKind> {
        if path.is_dir() || path.extension().is_some_and(|e| e == "safetensors") {
            return Ok(BackendKind::Candle);
        }
        match std::env::var(ONNX_BACKEND_VARIABLE) {
            Ok(name) if !name.is_empty() => match BackendKind::parse(&name)? {
                BackendKind::Candle => Err(ModelError::Unavailable {
                    backend: "candle".into(),
                    reason: format!("{ONNX_BACKEND_VARIABLE} names a backend for ONNX files (tract, onnxruntime)"),
                }),
                kind => Ok(kind),
            },
            _ => Ok(BackendKind::Tract),
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}
