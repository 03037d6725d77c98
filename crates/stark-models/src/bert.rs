//! The safetensors backend: BERT-family sentence encoders (such as
//! all-MiniLM-L6-v2) on candle, on the CPU. A model is a folder holding
//! `config.json` (Hugging Face's) and `model.safetensors` (or that
//! `.safetensors` file, `config.json` beside it).
//!
//! It takes `input_ids: Int64[N, L]` (a tokenizer's ids, padded with the
//! config's `pad_token_id`: padding is masked out of attention) and gives
//! `sentence_embedding: Float32[N, hidden]`: the mean of the last hidden
//! states over the non-padding tokens, L2-normalised (sentence-transformers'
//! pooling).

use crate::backend::{Backend, Capabilities, Dim, TensorInfo};
use crate::error::{ModelError, Result};
use candle_core::{DType as CDType, Device, Tensor as CTensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use stark_tensor::{DType, Tensor};
use std::path::{Path, PathBuf};

/// A BERT encoder loaded with candle.
pub struct BertBackend {
    name: String,
    model: BertModel,
    pad_id: i64,
    vocab: i64,
    max_length: usize,
    hidden: usize,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
}

/// Where the weights and the config of the model at `path` are.
fn files(path: &Path) -> (PathBuf, PathBuf) {
    if path.is_dir() {
        (path.join("model.safetensors"), path.join("config.json"))
    } else {
        (path.to_path_buf(), path.with_file_name("config.json"))
    }
}

/// Reads and parses `config.json`.
fn read_config(path: &Path) -> Result<Config> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|_| ModelError::NotFound { path: shown.clone() })?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ModelError::Invalid { path: shown.clone(), reason: format!("not a valid config.json ({e})") })?;
    let kind = value.get("model_type").and_then(|v| v.as_str()).unwrap_or("bert");
    if !matches!(kind, "bert" | "roberta" | "xlm-roberta" | "camembert") {
        let reason = format!("model_type `{kind}` is not a BERT-family encoder (the safetensors backend runs BERT)");
        return Err(ModelError::Unsupported { path: shown, reason });
    }
    serde_json::from_value(value)
        .map_err(|e| ModelError::Invalid { path: shown, reason: format!("not a BERT config.json ({e})") })
}

fn candle_reason(e: &candle_core::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

impl Backend for BertBackend {
    fn load(path: &Path) -> Result<Self> {
        let (weights, config_path) = files(path);
        let shown = weights.display().to_string();
        if !weights.is_file() {
            return Err(ModelError::NotFound { path: shown });
        }
        let config = read_config(&config_path)?;
        // SAFETY: the file is mapped read-only; STARK never writes model files
        // while they are loaded.
        let vb =
            unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], CDType::F32, &Device::Cpu) }.map_err(|e| {
                ModelError::Invalid {
                    path: shown.clone(),
                    reason: format!("not a valid safetensors file ({})", candle_reason(&e)),
                }
            })?;
        let model = BertModel::load(vb, &config).map_err(|e| ModelError::Unsupported {
            path: shown.clone(),
            reason: format!("not a BERT encoder matching its config.json ({})", candle_reason(&e)),
        })?;
        let name = path.file_stem().map_or_else(|| shown.clone(), |s| s.to_string_lossy().into_owned());
        let sym = |s: &str| Dim::Symbolic(s.to_string());
        let inputs = vec![TensorInfo { name: "input_ids".into(), dtype: DType::Int64, dims: vec![sym("N"), sym("L")] }];
        let outputs = vec![TensorInfo {
            name: "sentence_embedding".into(),
            dtype: DType::Float32,
            dims: vec![sym("N"), Dim::Fixed(config.hidden_size)],
        }];
        Ok(BertBackend {
            name,
            model,
            pad_id: config.pad_token_id as i64,
            vocab: config.vocab_size as i64,
            max_length: config.max_position_embeddings,
            hidden: config.hidden_size,
            inputs,
            outputs,
        })
    }

    fn infer(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        crate::signature::check(&self.name, &self.inputs, inputs)?;
        let (ids, dims) = self.checked_ids(&inputs[0])?;
        let run = |e: String| ModelError::Run { model: self.name.clone(), reason: e };
        let embedding = self.embed(ids, &dims).map_err(|e| run(candle_reason(&e)))?;
        let out = Tensor::from_vec(embedding, &[dims[0], self.hidden]).map_err(|e| run(e.to_string()))?;
        Ok(vec![out])
    }

    fn capabilities(&self) -> Capabilities {
        // A batch of 4,096 sequences of 512 tokens is already ~3 GB of activations.
        Capabilities { max_batch: 1 << 12, planned_batches: Vec::new(), batched: true }
    }

    fn inputs(&self) -> &[TensorInfo] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorInfo] {
        &self.outputs
    }
}

impl BertBackend {
    /// The ids of `t`, checked against the vocabulary and the longest sequence.
    fn checked_ids(&self, t: &Tensor) -> Result<(Vec<i64>, Vec<usize>)> {
        let dims = t.shape().dims().to_vec();
        let bad = |reason: String| ModelError::Signature { model: self.name.clone(), reason };
        if dims[1] > self.max_length {
            return Err(bad(format!(
                "input `input_ids` has {} tokens, more than the model's {}",
                dims[1], self.max_length
            )));
        }
        let ids = t.to_vec::<i64>().map_err(|e| bad(e.to_string()))?;
        if let Some(id) = ids.iter().find(|&&i| i < 0 || i >= self.vocab) {
            return Err(bad(format!("token id {id} is outside the vocabulary (0..{})", self.vocab)));
        }
        Ok((ids, dims))
    }

    /// The sentence embeddings of `ids` (`[n, l]`), flat.
    fn embed(&self, ids: Vec<i64>, dims: &[usize]) -> candle_core::Result<Vec<f32>> {
        let mask: Vec<f32> = ids.iter().map(|&i| if i == self.pad_id { 0.0 } else { 1.0 }).collect();
        let ids = CTensor::from_vec(ids, (dims[0], dims[1]), &Device::Cpu)?;
        let mask = CTensor::from_vec(mask, (dims[0], dims[1]), &Device::Cpu)?;
        let hidden = self.model.forward(&ids, &ids.zeros_like()?, Some(&mask))?;
        // Mean over the non-padding tokens, then L2-normalised.
        let summed = hidden.broadcast_mul(&mask.unsqueeze(2)?)?.sum(1)?;
        let counts = mask.sum_keepdim(1)?.clamp(1e-9f32, f32::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12f32, f32::MAX)?;
        mean.broadcast_div(&norm)?.flatten_all()?.to_vec1::<f32>()
    }
}
