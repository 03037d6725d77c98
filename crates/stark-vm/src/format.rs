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

/// Appends `scalar(v, ty)` to `out` (integers, `Bool` and `Char` without
/// a temporary string).
pub fn scalar_into(v: Value, ty: NumTy, out: &mut String) {
    match ty {
        NumTy::I8 | NumTy::I16 | NumTy::I32 | NumTy::I64 => {
            let x = v.as_int();
            if x < 0 {
                out.push('-');
            }
            push_decimal(x.unsigned_abs(), out);
        }
        NumTy::U8 | NumTy::U16 | NumTy::U32 | NumTy::U64 => push_decimal(v.bits, out),
        NumTy::Bool => out.push_str(if v.as_bool() { "true" } else { "false" }),
        NumTy::Char => out.push(char::from_u32(v.bits as u32).unwrap_or('\u{fffd}')),
        _ => out.push_str(&scalar(v, ty)),
    }
}

/// Appends the decimal digits of `n` (two at a time, straight into the
/// string's buffer).
#[inline]
fn push_decimal(mut n: u64, out: &mut String) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";
    let len = n.checked_ilog10().unwrap_or(0) as usize + 1;
    out.reserve(len);
    // SAFETY: `len` bytes are reserved; each of `p[..len]` is written once
    // with an ASCII digit (`i` counts down from `len` to 0) before the
    // length is set.
    unsafe {
        let v = out.as_mut_vec();
        let at = v.len();
        let p = v.as_mut_ptr().add(at);
        let mut i = len;
        while n >= 100 {
            let d = (n % 100) as usize * 2;
            n /= 100;
            i -= 2;
            *p.add(i) = PAIRS[d];
            *p.add(i + 1) = PAIRS[d + 1];
        }
        if n >= 10 {
            let d = n as usize * 2;
            *p = PAIRS[d];
            *p.add(1) = PAIRS[d + 1];
        } else {
            *p = b'0' + n as u8;
        }
        v.set_len(at + len);
    }
}

/// The canonical `Display` text of a scalar of type `ty`.
pub fn scalar(v: Value, ty: NumTy) -> String {
    match ty {
        NumTy::I8 | NumTy::I16 | NumTy::I32 | NumTy::I64 => v.as_int().to_string(),
        NumTy::U8 | NumTy::U16 | NumTy::U32 | NumTy::U64 => v.bits.to_string(),
        NumTy::F32 => {
            let x = v.as_f32();
            let sci = nearest_even(&format!("{x:e}"), &format!("{x:.60e}"), |s| s.parse::<f32>().ok() == Some(x));
            let fixed = fixed_of(&sci);
            float(x as f64, &sci, &fixed)
        }
        NumTy::F64 => {
            let x = v.as_f64();
            let sci = nearest_even(&format!("{x:e}"), &format!("{x:.60e}"), |s| s.parse::<f64>().ok() == Some(x));
            let fixed = fixed_of(&sci);
            float(x, &sci, &fixed)
        }
        NumTy::Bool => if v.as_bool() { "true" } else { "false" }.into(),
        NumTy::Char => char::from_u32(v.bits as u32).unwrap_or('\u{fffd}').to_string(),
        NumTy::Unit => "()".into(),
    }
}

/// The shortest digits (`shortest`, scientific) with the spec's tie
/// rule: when the exact value (`exact`, scientific with many digits) lies
/// exactly halfway between two shortest candidates, the even one wins.
fn nearest_even(shortest: &str, exact: &str, round_trips: impl Fn(&str) -> bool) -> String {
    let (Some((mant, exp)), Some((exact_mant, _))) = (shortest.split_once('e'), exact.split_once('e')) else {
        return shortest.to_string();
    };
    let negative = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let all: Vec<u8> = exact_mant.bytes().filter(u8::is_ascii_digit).collect();
    let k = digits.len();
    if all.len() <= k || all[k] != b'5' || all[k + 1..].iter().any(|&d| d != b'0') {
        return shortest.to_string();
    }
    // A tie: round the exact digits half-to-even at k digits.
    let mut kept: Vec<u8> = all[..k].to_vec();
    if (kept[k - 1] - b'0') % 2 == 1 {
        let mut i = k;
        while i > 0 {
            i -= 1;
            if kept[i] == b'9' {
                kept[i] = b'0';
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    let kept = String::from_utf8(kept).unwrap_or_default();
    let kept = kept.trim_end_matches('0');
    let kept = if kept.is_empty() { "0" } else { kept };
    let body = if kept.len() > 1 { format!("{}.{}", &kept[..1], &kept[1..]) } else { kept.to_string() };
    let candidate = format!("{}{body}e{exp}", if negative { "-" } else { "" });
    if round_trips(&candidate) {
        candidate
    } else {
        shortest.to_string()
    }
}

/// The fixed-form text of a number in scientific form (`1.25e3` -> `1250`).
fn fixed_of(sci: &str) -> String {
    let Some((mant, exp)) = sci.split_once('e') else { return sci.to_string() };
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let point = 1 + exp;
    let body = if point <= 0 {
        format!("0.{}{}", "0".repeat((-point) as usize), digits)
    } else if point as usize >= digits.len() {
        format!("{}{}", digits, "0".repeat(point as usize - digits.len()))
    } else {
        format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
    };
    format!("{}{body}", if negative { "-" } else { "" })
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
        // A tie between two shortest candidates goes to the even digit.
        assert_eq!(f(1e15 + 0.25), "1000000000000000.2");
        assert_eq!(f(1e100), "1e100");
        assert_eq!(f(123456.0), "123456.0");
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
