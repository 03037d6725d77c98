//! The free-function forms the language also offers (`softmax(t, axis)`,
//! `relu(t)`, ...): each is the method of the same name.

use crate::error::Result;
use crate::tensor::Tensor;

/// [`Tensor::softmax`] as a function.
pub fn softmax(t: &Tensor, axis: usize) -> Result<Tensor> {
    t.softmax(axis)
}

/// [`Tensor::relu`] as a function.
pub fn relu(t: &Tensor) -> Tensor {
    t.relu()
}

/// [`Tensor::sigmoid`] as a function.
pub fn sigmoid(t: &Tensor) -> Tensor {
    t.sigmoid()
}

/// [`Tensor::tanh`] as a function.
pub fn tanh(t: &Tensor) -> Tensor {
    t.tanh()
}

/// [`Tensor::exp`] as a function.
pub fn exp(t: &Tensor) -> Tensor {
    t.exp()
}

/// [`Tensor::log`] as a function.
pub fn log(t: &Tensor) -> Tensor {
    t.log()
}

/// [`Tensor::sqrt`] as a function.
pub fn sqrt(t: &Tensor) -> Tensor {
    t.sqrt()
}

/// [`Tensor::matmul`] as a function.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    a.matmul(b)
}
