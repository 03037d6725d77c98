//! Scalar arithmetic, comparison and casts at every numeric type, exactly
//! as Core v1 specifies (NUM-INT-ARITH-001, NUM-INT-DIV-001,
//! NUM-SHIFT-001, NUM-CAST-001, NUM-FLOAT-OP-001). The interpreter's fast
//! paths cover Int64 and Float64; everything else comes here.

use crate::bytecode::{BinOp, CmpOp, NumTy};
use crate::trap::Fault;
use crate::value::Value;

/// The integer a register holds at type `ty`, widened.
fn int(v: Value, ty: NumTy) -> i128 {
    if ty.is_signed() {
        v.as_int() as i128
    } else {
        v.bits as i128
    }
}

/// `x` at integer type `ty`, or an overflow.
fn fit(x: i128, ty: NumTy) -> Result<Value, Fault> {
    let (lo, hi) = ty.int_range();
    if x < lo || x > hi {
        return Err(Fault::overflow());
    }
    Ok(Value::from_bits(if ty.is_signed() { x as i64 as u64 } else { x as u64 }))
}

/// `a op b` at type `ty`.
pub fn binary(op: BinOp, ty: NumTy, a: Value, b: Value) -> Result<Value, Fault> {
    // 64-bit add, subtract and multiply without widening.
    let fast = match (ty, op) {
        (NumTy::U64, BinOp::Add) => Some(a.bits.checked_add(b.bits)),
        (NumTy::U64, BinOp::Sub) => Some(a.bits.checked_sub(b.bits)),
        (NumTy::U64, BinOp::Mul) => Some(a.bits.checked_mul(b.bits)),
        (NumTy::I64, BinOp::Add) => Some(a.as_int().checked_add(b.as_int()).map(|v| v as u64)),
        (NumTy::I64, BinOp::Sub) => Some(a.as_int().checked_sub(b.as_int()).map(|v| v as u64)),
        (NumTy::I64, BinOp::Mul) => Some(a.as_int().checked_mul(b.as_int()).map(|v| v as u64)),
        _ => None,
    };
    if let Some(r) = fast {
        return r.map(Value::from_bits).ok_or_else(Fault::overflow);
    }
    match ty {
        NumTy::F64 => return Ok(Value::f64(float_op(op, a.as_f64(), b.as_f64()))),
        NumTy::F32 => return Ok(Value::f32(float_op(op, a.as_f32() as f64, b.as_f32() as f64) as f32)),
        NumTy::Bool => {
            let (x, y) = (a.as_bool(), b.as_bool());
            return Ok(Value::bool(match op {
                BinOp::BitAnd => x & y,
                BinOp::BitOr => x | y,
                _ => x ^ y,
            }));
        }
        _ => {}
    }
    let (x, y) = (int(a, ty), int(b, ty));
    let r = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x.checked_mul(y).ok_or_else(Fault::overflow)?,
        BinOp::Div | BinOp::Rem => {
            if y == 0 {
                return Err(Fault::div_zero());
            }
            // Truncating division; MIN / -1 is caught by the range check.
            if op == BinOp::Div {
                x / y
            } else {
                if ty.is_signed() && x == ty.int_range().0 && y == -1 {
                    return Err(Fault::overflow());
                }
                x % y
            }
        }
        BinOp::Pow => {
            if y < 0 {
                return Err(Fault::new("negative exponent"));
            }
            let mut acc: i128 = 1;
            for _ in 0..y.min(200) {
                acc = acc.checked_mul(x).ok_or_else(Fault::overflow)?;
                fit(acc, ty)?;
            }
            if y > 200 && x.abs() > 1 {
                return Err(Fault::overflow());
            }
            acc
        }
        BinOp::BitAnd => x & y,
        BinOp::BitOr => x | y,
        BinOp::BitXor => x ^ y,
        BinOp::Shl | BinOp::Shr => {
            if y < 0 || y >= ty.bits() as i128 {
                return Err(Fault::new("shift out of range"));
            }
            if op == BinOp::Shl {
                x.checked_mul(1i128 << y).ok_or_else(Fault::overflow)?
            } else {
                x >> y
            }
        }
    };
    // Bitwise results of signed operands stay in range; others are checked.
    fit(r, ty)
}

fn float_op(op: BinOp, x: f64, y: f64) -> f64 {
    let r = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        BinOp::Rem => x % y,
        _ => f64::NAN,
    };
    if r.is_nan() {
        f64::NAN
    } else {
        r
    }
}

/// `a op b` compared at type `ty` (IEEE for floats: NaN is unordered).
pub fn compare(op: CmpOp, ty: NumTy, a: Value, b: Value) -> bool {
    use std::cmp::Ordering::*;
    let ord = match ty {
        NumTy::F64 => a.as_f64().partial_cmp(&b.as_f64()),
        NumTy::F32 => a.as_f32().partial_cmp(&b.as_f32()),
        t if t.is_signed() => Some(a.as_int().cmp(&b.as_int())),
        _ => Some(a.bits.cmp(&b.bits)),
    };
    match (op, ord) {
        (CmpOp::Ne, None) => true,
        (_, None) => false,
        (CmpOp::Eq, Some(o)) => o == Equal,
        (CmpOp::Ne, Some(o)) => o != Equal,
        (CmpOp::Lt, Some(o)) => o == Less,
        (CmpOp::Le, Some(o)) => o != Greater,
        (CmpOp::Gt, Some(o)) => o == Greater,
        (CmpOp::Ge, Some(o)) => o != Less,
    }
}

/// `-a` at type `ty`.
pub fn negate(ty: NumTy, a: Value) -> Result<Value, Fault> {
    match ty {
        NumTy::F64 => Ok(Value::f64(-a.as_f64())),
        NumTy::F32 => Ok(Value::f32(-a.as_f32())),
        _ => fit(-int(a, ty), ty),
    }
}

/// `!a`: logical for `Bool`, bitwise for integers.
pub fn not(ty: NumTy, a: Value) -> Value {
    match ty {
        NumTy::Bool => Value::bool(!a.as_bool()),
        t if t.is_signed() => Value::int(!a.as_int()),
        t => {
            let mask = if t.bits() == 64 { u64::MAX } else { (1u64 << t.bits()) - 1 };
            Value::from_bits(!a.bits & mask)
        }
    }
}

/// `a as to`, from type `from` (NUM-CAST-001).
pub fn cast(from: NumTy, to: NumTy, a: Value) -> Result<Value, Fault> {
    let bad = || Fault::new(format!("invalid cast: the value does not fit in {}", to.name()));
    if from.is_float() {
        let x = if from == NumTy::F32 { a.as_f32() as f64 } else { a.as_f64() };
        return match to {
            NumTy::F64 => Ok(Value::f64(x)),
            NumTy::F32 => Ok(Value::f32(x as f32)),
            t if t.is_int() => {
                if !x.is_finite() {
                    return Err(bad());
                }
                let t_x = x.trunc();
                let (lo, hi) = t.int_range();
                if t_x < lo as f64 || t_x > hi as f64 {
                    return Err(bad());
                }
                fit(t_x as i128, t).map_err(|_| bad())
            }
            _ => Err(bad()),
        };
    }
    let x = match from {
        NumTy::Bool | NumTy::Char | NumTy::Unit => a.bits as i128,
        _ => int(a, from),
    };
    match to {
        NumTy::F64 => Ok(Value::f64(x as f64)),
        NumTy::F32 => Ok(Value::f32(x as f32)),
        NumTy::Char => match char::from_u32(x as u32).filter(|_| (0..=0x10ffff).contains(&x)) {
            Some(c) => Ok(Value::from_bits(c as u64)),
            None => Err(bad()),
        },
        NumTy::Bool => Ok(Value::bool(x != 0)),
        t => fit(x, t).map_err(|_| bad()),
    }
}
