//! Values: the contents of one register, 16 bytes, untyped.
//!
//! The bytecode is typed, so a value carries no tag: the instruction that
//! reads a register knows what it holds (STYLE.md: the interpreter never
//! checks a value's type on a hot path). The encodings:
//!
//! | type | `bits` | `ext` |
//! |---|---|---|
//! | integers, `Bool`, `Char` | the value, sign- or zero-extended | 0 |
//! | floats | the IEEE bits (`Float32` as `f32` bits) | 0 |
//! | `Unit` | 0 | 0 |
//! | an owned object (struct, enum, tuple, array, `String`, `Vec`, ...) | its handle | 0 |
//! | `&T`, `&mut T` where `T` is an object type | the object's handle | 0 |
//! | `&T`, `&mut T` where `T` is a scalar | a place: `REG_PLACE | slot`, or an object handle | the field or element index |
//! | `&str`, `&[T]`, `&[T; N]` | the string or list object's handle | `SLICE | start << 32 | len` |
//! | `fn(..) -> R` | the function's index | the closure's environment handle, or `NONE` |
//!
//! `NONE` in `bits` marks a moved-from or never-initialised owner: drops skip it.

/// One register's contents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Value {
    /// The scalar bits, handle, place or function index.
    pub bits: u64,
    /// A slice's range, a place's index, a closure's environment.
    pub ext: u64,
}

/// A handle to an object of a task's heap.
pub type Handle = u32;

/// `bits` of a moved-from or uninitialised owner.
pub const NONE: u64 = u64::MAX;

/// Set in a handle for a program constant (shared by every task).
pub const CONST_HANDLE: u32 = 1 << 31;

/// Set in `ext` for a slice (so an empty slice is told from a whole object).
pub const SLICE: u64 = 1 << 63;

/// Set in `bits` for a place that is a register (the rest is the slot).
pub const REG_PLACE: u64 = 1 << 63;

impl Value {
    /// The empty (moved-from) value.
    pub const NONE: Value = Value { bits: NONE, ext: 0 };
    /// `()`.
    pub const UNIT: Value = Value { bits: 0, ext: 0 };

    /// A scalar from raw bits.
    #[inline(always)]
    pub fn from_bits(bits: u64) -> Value {
        Value { bits, ext: 0 }
    }

    /// A signed integer.
    #[inline(always)]
    pub fn int(v: i64) -> Value {
        Value { bits: v as u64, ext: 0 }
    }

    /// A float (`Float64`).
    #[inline(always)]
    pub fn f64(v: f64) -> Value {
        Value { bits: v.to_bits(), ext: 0 }
    }

    /// A `Float32`.
    #[inline(always)]
    pub fn f32(v: f32) -> Value {
        Value { bits: v.to_bits() as u64, ext: 0 }
    }

    /// A `Bool`.
    #[inline(always)]
    pub fn bool(v: bool) -> Value {
        Value { bits: v as u64, ext: 0 }
    }

    /// An object handle.
    #[inline(always)]
    pub fn handle(h: Handle) -> Value {
        Value { bits: h as u64, ext: 0 }
    }

    /// A view of `len` items of a string or list from `start`.
    #[inline(always)]
    pub fn slice(h: Handle, start: u32, len: u32) -> Value {
        Value { bits: h as u64, ext: SLICE | ((start as u64) << 32) | len as u64 }
    }

    /// The signed integer.
    #[inline(always)]
    pub fn as_int(self) -> i64 {
        self.bits as i64
    }

    /// The `Float64`.
    #[inline(always)]
    pub fn as_f64(self) -> f64 {
        f64::from_bits(self.bits)
    }

    /// The `Float32`.
    #[inline(always)]
    pub fn as_f32(self) -> f32 {
        f32::from_bits(self.bits as u32)
    }

    /// The `Bool`.
    #[inline(always)]
    pub fn as_bool(self) -> bool {
        self.bits != 0
    }

    /// The object handle.
    #[inline(always)]
    pub fn as_handle(self) -> Handle {
        self.bits as Handle
    }

    /// Whether this owner is empty (moved from or never set).
    #[inline(always)]
    pub fn is_none(self) -> bool {
        self.bits == NONE
    }

    /// A slice's start.
    #[inline(always)]
    pub fn slice_start(self) -> usize {
        ((self.ext >> 32) & 0x7fff_ffff) as usize
    }

    /// Whether this is a slice (rather than a whole object's handle).
    #[inline(always)]
    pub fn is_slice(self) -> bool {
        self.ext & SLICE != 0
    }

    /// A slice's length.
    #[inline(always)]
    pub fn slice_len(self) -> usize {
        (self.ext & 0xffff_ffff) as usize
    }
}

/// `*dst := v` in one 16-byte store, so a later whole-value read of it
/// is forwarded from the store instead of stalling on two 8-byte ones.
///
/// # Safety
/// `dst` must be valid for writes.
#[inline(always)]
pub unsafe fn store_value(dst: *mut Value, v: Value) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_set_epi64x, _mm_storeu_si128};
        // `Value` is `repr(C)` { bits, ext }: `bits` is the low half.
        _mm_storeu_si128(dst as *mut __m128i, _mm_set_epi64x(v.ext as i64, v.bits as i64));
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        *dst = v;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn value_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<super::Value>(), 16);
    }
}
