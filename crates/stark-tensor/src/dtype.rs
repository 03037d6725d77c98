//! Element types: the `DType` tag, the `Element` trait that ties a Rust type
//! to its tag and buffer variant, `Scalar` values, and the promotion rules.
//!
//! Promotion (mixed-dtype arithmetic promotes, it never errors): dtypes are
//! ordered `Bool < UInt8 < Int32 < Int64 < Float32 < Float64` and the result
//! is the greater of the two, as in PyTorch. Arithmetic on two `Bool`s is an
//! error. The float functions (`exp`, `log`, `sqrt`, `tanh`, `sigmoid`,
//! `softmax`, `mean`) compute in `Float32` for integer and `Bool` input.
//! Integer arithmetic wraps on overflow; integer `/` and `%` truncate, as
//! STARK's scalar operators do, and a zero divisor is an error.

use std::fmt;

use crate::storage::Buffer;

/// The element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// `bool`, displayed `true`/`false`.
    Bool,
    /// `u8`.
    UInt8,
    /// `i32`.
    Int32,
    /// `i64`.
    Int64,
    /// `f32`.
    Float32,
    /// `f64`.
    Float64,
}

impl DType {
    /// Every dtype, in promotion order.
    pub const ALL: [DType; 6] = [DType::Bool, DType::UInt8, DType::Int32, DType::Int64, DType::Float32, DType::Float64];

    /// The language's name of this dtype (`Float32`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "Bool",
            DType::UInt8 => "UInt8",
            DType::Int32 => "Int32",
            DType::Int64 => "Int64",
            DType::Float32 => "Float32",
            DType::Float64 => "Float64",
        }
    }

    /// Whether this is `Float32` or `Float64`.
    pub fn is_float(self) -> bool {
        matches!(self, DType::Float32 | DType::Float64)
    }

    /// The dtype both operands are converted to: the greater of the two.
    pub fn promote(self, other: DType) -> DType {
        self.max(other)
    }

    /// The dtype `+ - * / %` compute and return in: the promoted dtype, or
    /// `None` when both operands are `Bool` (arithmetic on `Bool` is not supported).
    pub fn arithmetic(self, other: DType) -> Option<DType> {
        match self.promote(other) {
            DType::Bool => None,
            d => Some(d),
        }
    }

    /// The dtype a float function of this dtype returns: itself if a float, else `Float32`.
    pub fn float_result(self) -> DType {
        if self.is_float() {
            self
        } else {
            DType::Float32
        }
    }

    /// The dtype `sum` returns: floats keep theirs, integers and `Bool` give `Int64`.
    pub fn sum_result(self) -> DType {
        if self.is_float() {
            self
        } else {
            DType::Int64
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One element of any dtype: what `get` returns and `full`/`fill_` take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// A `Bool` element.
    Bool(bool),
    /// A `UInt8` element.
    UInt8(u8),
    /// An `Int32` element.
    Int32(i32),
    /// An `Int64` element.
    Int64(i64),
    /// A `Float32` element.
    Float32(f32),
    /// A `Float64` element.
    Float64(f64),
}

impl Scalar {
    /// The dtype of this value.
    pub fn dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::UInt8(_) => DType::UInt8,
            Scalar::Int32(_) => DType::Int32,
            Scalar::Int64(_) => DType::Int64,
            Scalar::Float32(_) => DType::Float32,
            Scalar::Float64(_) => DType::Float64,
        }
    }

    /// This value converted to `T` with Rust `as` semantics (floats saturate into integers, NaN gives 0).
    pub fn cast<T: Element>(self) -> T {
        match self {
            Scalar::Bool(v) => v.cast(),
            Scalar::UInt8(v) => v.cast(),
            Scalar::Int32(v) => v.cast(),
            Scalar::Int64(v) => v.cast(),
            Scalar::Float32(v) => v.cast(),
            Scalar::Float64(v) => v.cast(),
        }
    }

    /// This value as `f64`.
    pub fn to_f64(self) -> f64 {
        self.cast()
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(v) => write!(f, "{v}"),
            Scalar::UInt8(v) => write!(f, "{v}"),
            Scalar::Int32(v) => write!(f, "{v}"),
            Scalar::Int64(v) => write!(f, "{v}"),
            Scalar::Float32(v) => write!(f, "{v}"),
            Scalar::Float64(v) => write!(f, "{v}"),
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that is the element of one dtype (`f32` is `Float32`, ...).
pub trait Element:
    Copy + Send + Sync + PartialEq + PartialOrd + Default + fmt::Debug + fmt::Display + 'static + sealed::Sealed
{
    /// The dtype of this element type.
    const DTYPE: DType;
    /// The least value (negative infinity for floats), the identity of `max`.
    const LOWEST: Self;
    /// The elements of `buffer` if it holds this type.
    fn slice(buffer: &Buffer) -> Option<&[Self]>;
    /// The element vector of `buffer` if it holds this type.
    fn vec_mut(buffer: &mut Buffer) -> Option<&mut Vec<Self>>;
    /// Wraps a vector of this type as a buffer.
    fn into_buffer(values: Vec<Self>) -> Buffer;
    /// This element as a `Scalar`.
    fn to_scalar(self) -> Scalar;
    /// This element as `f64` (`as` semantics; `true` is 1).
    fn to_f64(self) -> f64;
    /// This element as `i64` (`as` semantics; `true` is 1).
    fn to_i64(self) -> i64;
    /// An element from an `f64` (`as` semantics; `Bool` is `v != 0`).
    fn from_f64(v: f64) -> Self;
    /// An element from an `i64` (`as` semantics; `Bool` is `v != 0`).
    fn from_i64(v: i64) -> Self;
    /// This element converted to `U` with Rust `as` semantics.
    #[inline(always)]
    fn cast<U: Element>(self) -> U {
        if Self::DTYPE.is_float() {
            U::from_f64(self.to_f64())
        } else {
            U::from_i64(self.to_i64())
        }
    }
}

macro_rules! element {
    ($t:ty, $variant:ident, lowest: $lowest:expr, $me:ident, $v:ident, to_f64: $to_f64:expr, to_i64: $to_i64:expr, from_f64: $from_f64:expr, from_i64: $from_i64:expr) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            const LOWEST: Self = $lowest;
            fn slice(buffer: &Buffer) -> Option<&[Self]> {
                match buffer {
                    Buffer::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn vec_mut(buffer: &mut Buffer) -> Option<&mut Vec<Self>> {
                match buffer {
                    Buffer::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn into_buffer(values: Vec<Self>) -> Buffer {
                Buffer::$variant(values)
            }
            fn to_scalar(self) -> Scalar {
                Scalar::$variant(self)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                let $me = self;
                $to_f64
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                let $me = self;
                $to_i64
            }
            #[inline(always)]
            fn from_f64($v: f64) -> Self {
                $from_f64
            }
            #[inline(always)]
            fn from_i64($v: i64) -> Self {
                $from_i64
            }
        }
        impl From<$t> for Scalar {
            fn from(v: $t) -> Scalar {
                Scalar::$variant(v)
            }
        }
    };
}

macro_rules! number {
    ($t:ty, $variant:ident, $lowest:expr) => {
        element!($t, $variant, lowest: $lowest, x, v, to_f64: x as f64, to_i64: x as i64, from_f64: v as $t, from_i64: v as $t);
    };
}

number!(u8, UInt8, 0);
number!(i32, Int32, i32::MIN);
number!(i64, Int64, i64::MIN);
number!(f32, Float32, f32::NEG_INFINITY);
number!(f64, Float64, f64::NEG_INFINITY);
element!(bool, Bool, lowest: false, x, v, to_f64: x as u8 as f64, to_i64: x as i64, from_f64: v != 0.0, from_i64: v != 0);
