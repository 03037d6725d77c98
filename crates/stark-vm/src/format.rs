//! Byte-exact rendering of scalars (PRINT-DISPLAY-001) and of `f"..."`
//! fields with a format specification (STD-FORMAT-004).

use crate::bytecode::NumTy;
use crate::value::Value;

/// A format specification `{x:spec}` of an interpolated string.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spec {
    /// Fill character (with an alignment).
    pub fill: Option<char>,
    /// `<`, `>` or `^`.
    pub align: Option<char>,
    /// `+`, `-` or ` `.
    pub sign: Option<char>,
    /// `#`: base prefix.
    pub alternate: bool,
    /// `0`: zero padding after the sign and prefix.
    pub zero: bool,
    /// Minimum width in Unicode scalar values.
    pub width: Option<u32>,
    /// Digits after the point.
    pub precision: Option<u32>,
    /// `b`, `o`, `x`, `X` or `f`.
    pub ty: Option<char>,
}

/// The canonical `Display` text of a scalar of type `ty`.
pub fn scalar(v: Value, ty: NumTy) -> String {
    match ty {
        NumTy::I8 | NumTy::I16 | NumTy::I32 | NumTy::I64 => v.as_int().to_string(),
        NumTy::U8 | NumTy::U16 | NumTy::U32 | NumTy::U64 => v.bits.to_string(),
        NumTy::F32 => float(v.as_f32() as f64, &format!("{:e}", v.as_f32()), &format!("{}", v.as_f32())),
        NumTy::F64 => float(v.as_f64(), &format!("{:e}", v.as_f64()), &format!("{}", v.as_f64())),
        NumTy::Bool => if v.as_bool() { "true" } else { "false" }.into(),
        NumTy::Char => char::from_u32(v.bits as u32).unwrap_or('\u{fffd}').to_string(),
        NumTy::Unit => "()".into(),
    }
}

/// A finite float in fixed form for decimal exponents in [-4, 15],
/// otherwise scientific; `sci` and `fixed` are the shortest round-trip
/// renderings in both forms (Rust's, which choose the same digits).
fn float(x: f64, sci: &str, fixed: &str) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let exp: i32 = sci.rsplit('e').next().and_then(|e| e.parse().ok()).unwrap_or(0);
    if (-4..=15).contains(&exp) {
        if fixed.contains('.') {
            fixed.into()
        } else {
            format!("{fixed}.0")
        }
    } else {
        sci.into()
    }
}

/// A number rendered under a specification: sign, base, prefix, zero
/// padding, precision, then width and alignment.
pub fn number(v: Value, ty: NumTy, spec: &Spec) -> String {
    let (negative, digits) = if ty.is_float() {
        let x = if ty == NumTy::F32 { v.as_f32() as f64 } else { v.as_f64() };
        let body = if !x.is_finite() {
            scalar(v, ty).trim_start_matches('-').to_string()
        } else if let Some(p) = spec.precision {
            if ty == NumTy::F32 {
                format!("{:.*}", p as usize, v.as_f32().abs())
            } else {
                format!("{:.*}", p as usize, x.abs())
            }
        } else {
            scalar(v, ty).trim_start_matches('-').to_string()
        };
        (x.is_sign_negative() && !x.is_nan(), body)
    } else {
        let (negative, magnitude) =
            if ty.is_signed() { (v.as_int() < 0, v.as_int().unsigned_abs()) } else { (false, v.bits) };
        let body = match spec.ty {
            Some('b') => format!("{magnitude:b}"),
            Some('o') => format!("{magnitude:o}"),
            Some('x') => format!("{magnitude:x}"),
            Some('X') => format!("{magnitude:X}"),
            _ => magnitude.to_string(),
        };
        (negative, body)
    };
    let sign = match (negative, spec.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    };
    let prefix = match (spec.alternate, spec.ty) {
        (true, Some('b')) => "0b",
        (true, Some('o')) => "0o",
        (true, Some('x' | 'X')) => "0x",
        _ => "",
    };
    let mut text = format!("{sign}{prefix}");
    if spec.zero && spec.align.is_none() {
        let width = spec.width.unwrap_or(0) as usize;
        let used = text.chars().count() + digits.chars().count();
        text.extend(std::iter::repeat_n('0', width.saturating_sub(used)));
        text.push_str(&digits);
        return text;
    }
    text.push_str(&digits);
    pad(&text, spec, '>')
}

/// `text` padded to the specification's width; `default` is the
/// alignment when none is written (`<` for text, `>` for numbers).
pub fn pad(text: &str, spec: &Spec, default: char) -> String {
    let width = spec.width.unwrap_or(0) as usize;
    let len = text.chars().count();
    if len >= width {
        return text.to_string();
    }
    let fill = spec.fill.unwrap_or(' ');
    let total = width - len;
    let (left, right) = match spec.align.unwrap_or(default) {
        '<' => (0, total),
        '^' => (total / 2, total - total / 2),
        _ => (total, 0),
    };
    let mut out = String::with_capacity(text.len() + total);
    out.extend(std::iter::repeat_n(fill, left));
    out.push_str(text);
    out.extend(std::iter::repeat_n(fill, right));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> String {
        scalar(Value::f64(x), NumTy::F64)
    }

    #[test]
    fn floats_use_fixed_form_for_exponents_minus_four_to_fifteen() {
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(-0.0), "-0.0");
        assert_eq!(f(1e15), "1000000000000000.0");
        assert_eq!(f(1e16), "1e16");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(0.00001), "1e-5");
        assert_eq!(f(1.5e-7), "1.5e-7");
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(f(f64::NEG_INFINITY), "-inf");
        assert_eq!(scalar(Value::f32(0.1), NumTy::F32), "0.1");
    }

    #[test]
    fn specs_follow_sign_prefix_zero_digits() {
        let spec = Spec { zero: true, width: Some(6), ..Spec::default() };
        assert_eq!(number(Value::int(-42), NumTy::I64, &spec), "-00042");
        let spec = Spec { alternate: true, zero: true, width: Some(10), ty: Some('x'), ..Spec::default() };
        assert_eq!(number(Value::int(255), NumTy::I64, &spec), "0x000000ff");
        let spec = Spec { ty: Some('x'), ..Spec::default() };
        assert_eq!(number(Value::int(-255), NumTy::I64, &spec), "-ff");
        let spec = Spec { precision: Some(2), ..Spec::default() };
        assert_eq!(number(Value::f64(2.675), NumTy::F64, &spec), "2.67");
        let spec = Spec { align: Some('^'), width: Some(6), ..Spec::default() };
        assert_eq!(pad("abc", &spec, '<'), " abc  ");
    }
}
