//! Text: a Hugging Face `tokenizer.json` (WordPiece, BPE, ..., with its
//! normaliser, pre-tokeniser, post-processor, padding and truncation)
//! turning text into the token ids a model takes.

use crate::error::{ModelError, Result};
use stark_tensor::Tensor;
use std::path::Path;
use std::sync::Arc;

/// A loaded tokenizer, cheap to clone and shared across tasks.
#[derive(Clone)]
pub struct Tokenizer(Arc<tokenizers::Tokenizer>);

impl Tokenizer {
    /// Loads a `tokenizer.json`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Tokenizer> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        if !path.is_file() {
            return Err(ModelError::NotFound { path: shown });
        }
        tokenizers::Tokenizer::from_file(path)
            .map(|t| Tokenizer(Arc::new(t)))
            .map_err(|e| ModelError::Invalid { path: shown, reason: format!("not a tokenizer.json: {e}") })
    }

    /// The ids of `text` (with the special tokens its post-processor adds),
    /// as an `Int64` tensor of shape `[1, length]`.
    pub fn encode(&self, text: &str) -> Result<Tensor> {
        let encoding = self
            .0
            .encode(text, true)
            .map_err(|e| ModelError::Run { model: "tokenizer".into(), reason: e.to_string() })?;
        let ids: Vec<i64> = encoding.get_ids().iter().map(|&i| i as i64).collect();
        let n = ids.len();
        Tensor::from_vec(ids, &[1, n]).map_err(|e| ModelError::Run { model: "tokenizer".into(), reason: e.to_string() })
    }

    /// How many tokens the vocabulary has (with the added ones).
    pub fn vocab_size(&self) -> usize {
        self.0.get_vocab_size(true)
    }
}
