//! Element-wise arithmetic with broadcasting (`+ - * / %`), the float
//! functions (`exp`, `log`, `sqrt`, `tanh`, `sigmoid`) and `relu`.

use std::ops::{Add, Div, Mul, Rem, Sub};

use crate::dtype::{DType, Element};
use crate::error::{Result, TensorError};
use crate::num::{Float, Numeric};
use crate::shape::{broadcast_shapes, broadcast_strides};
use crate::strided;
use crate::tensor::Tensor;

/// A binary arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/` (integers truncate; a zero integer divisor is an error).
    Div,
    /// `%` with the sign of the dividend (a zero integer divisor is an error).
    Rem,
}

impl BinaryOp {
    /// The operator's name in error messages.
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Rem => "rem",
        }
    }

    /// The dtype the operator computes and returns for these operand dtypes.
    pub fn result_dtype(self, lhs: DType, rhs: DType) -> Result<DType> {
        lhs.arithmetic(rhs).ok_or(TensorError::Unsupported { op: self.name(), dtype: DType::Bool })
    }

    /// Whether a zero divisor must be rejected: integer `/` and `%`.
    fn rejects_zero_divisor(self, dtype: DType) -> bool {
        matches!(self, BinaryOp::Div | BinaryOp::Rem) && !dtype.is_float()
    }
}

/// A float function of one element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FloatFn {
    Exp,
    Log,
    Sqrt,
    Tanh,
    Sigmoid,
}

impl Tensor {
    /// `self op other`, broadcasting both shapes, in the promoted dtype.
    pub fn binary(&self, other: &Tensor, op: BinaryOp) -> Result<Tensor> {
        let shape = broadcast_shapes(&self.shape, &other.shape)?;
        let dtype = op.result_dtype(self.dtype(), other.dtype())?;
        let (a, b) = (self.to_dtype(dtype), other.to_dtype(dtype));
        if op.rejects_zero_divisor(dtype) && shape.numel() > 0 && b.has_zero() {
            return Err(TensorError::DivisionByZero { op: op.name() });
        }
        let sa = broadcast_strides(&a.shape, &a.strides, &shape);
        let sb = broadcast_strides(&b.shape, &b.strides, &shape);
        let values = with_numeric!(dtype, T => {
            let (x, y) = (a.operand::<T>(sa), b.operand::<T>(sb));
            T::into_buffer(match op {
                BinaryOp::Add => strided::zip_map(&shape, x, y, <T as Numeric>::add),
                BinaryOp::Sub => strided::zip_map(&shape, x, y, <T as Numeric>::sub),
                BinaryOp::Mul => strided::zip_map(&shape, x, y, <T as Numeric>::mul),
                BinaryOp::Div => strided::zip_map(&shape, x, y, <T as Numeric>::div),
                BinaryOp::Rem => strided::zip_map(&shape, x, y, <T as Numeric>::rem),
            })
        }, bool => unreachable!("result_dtype is never Bool"));
        Ok(Tensor::from_buffer(values, shape))
    }

    /// Whether any element is zero (numeric dtypes; `false` for `Bool`).
    fn has_zero(&self) -> bool {
        with_numeric!(self.dtype(), T => self.map_values::<T, bool>(T::is_zero).contains(&true), bool => false)
    }

    /// Element-wise `self + other` with broadcasting.
    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Add)
    }

    /// Element-wise `self - other` with broadcasting.
    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Sub)
    }

    /// Element-wise `self * other` with broadcasting.
    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Mul)
    }

    /// Element-wise `self / other` with broadcasting (integers truncate).
    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Div)
    }

    /// Element-wise `self % other` with broadcasting (the sign of `self`).
    pub fn rem(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Rem)
    }

    /// `e^x` of every element.
    pub fn exp(&self) -> Tensor {
        self.float_fn(FloatFn::Exp)
    }

    /// The natural logarithm of every element (NaN below 0, -inf at 0).
    pub fn log(&self) -> Tensor {
        self.float_fn(FloatFn::Log)
    }

    /// The square root of every element (NaN below 0).
    pub fn sqrt(&self) -> Tensor {
        self.float_fn(FloatFn::Sqrt)
    }

    /// The hyperbolic tangent of every element.
    pub fn tanh(&self) -> Tensor {
        self.float_fn(FloatFn::Tanh)
    }

    /// The logistic function `1 / (1 + e^-x)` of every element.
    pub fn sigmoid(&self) -> Tensor {
        self.float_fn(FloatFn::Sigmoid)
    }

    /// `max(x, 0)` of every element, keeping the dtype (`Bool` is unchanged).
    pub fn relu(&self) -> Tensor {
        with_numeric!(self.dtype(), T => self.map_to::<T, T>(|x| if x > T::ZERO { x } else { T::ZERO }),
            bool => self.deep_clone())
    }

    /// `f` of every element in the float dtype the function computes in.
    fn float_fn(&self, f: FloatFn) -> Tensor {
        let input = self.to_dtype(self.dtype().float_result());
        // One monomorphic loop per function: a `match` inside the loop would
        // keep LLVM from vectorising it.
        with_float!(input.dtype(), T => match f {
            FloatFn::Exp => input.map_to::<T, T>(<T as Float>::exp),
            FloatFn::Log => input.map_to::<T, T>(<T as Float>::ln),
            FloatFn::Sqrt => input.map_to::<T, T>(<T as Float>::sqrt),
            FloatFn::Tanh => input.map_to::<T, T>(<T as Float>::tanh),
            FloatFn::Sigmoid => input.map_to::<T, T>(<T as Float>::sigmoid),
        }, other => unreachable!("float_result is a float"))
    }
}

macro_rules! operator {
    ($trait:ident, $method:ident) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Result<Tensor>;
            /// Element-wise with broadcasting; an error if the shapes do not broadcast.
            fn $method(self, other: &Tensor) -> Result<Tensor> {
                Tensor::$method(self, other)
            }
        }
    };
}

operator!(Add, add);
operator!(Sub, sub);
operator!(Mul, mul);
operator!(Div, div);
operator!(Rem, rem);
