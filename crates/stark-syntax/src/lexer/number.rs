//! Number literals: decimal, hex, octal and binary integers, floats,
//! digit separators and type suffixes.

use super::{FloatSuffix, IntSuffix, LexErrorKind, Lexer, Token, TokenKind};

impl Lexer<'_> {
    /// A number literal at the cursor (which is on a digit).
    pub(super) fn number(&mut self) -> Token {
        let lo = self.pos;
        let radix = match (self.peek(), self.peek_at(1)) {
            (b'0', b'x' | b'X') => 16,
            (b'0', b'o' | b'O') => 8,
            (b'0', b'b' | b'B') => 2,
            _ => 10,
        };
        if radix != 10 {
            self.pos += 2;
        }
        let digits_lo = self.pos;
        let digit_ok: fn(u8) -> bool = if radix == 16 { |b| b.is_ascii_hexdigit() } else { |b| b.is_ascii_digit() };
        self.eat_digits(digit_ok);
        let mut ok = self.check_digits(digits_lo, radix);
        let mut is_float = false;
        if radix == 10 {
            if self.peek() == b'.' && self.peek_at(1).is_ascii_digit() {
                is_float = true;
                self.pos += 1;
                let frac_lo = self.pos;
                self.eat_digits(|b| b.is_ascii_digit());
                ok &= self.check_digits(frac_lo, 10);
            }
            if self.at_exponent() {
                is_float = true;
                ok &= self.exponent();
            }
        }
        let body_hi = self.pos;
        let suffix_lo = self.pos;
        while matches!(self.peek(), b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_') {
            self.pos += 1;
        }
        let suffix = &self.src[suffix_lo..self.pos];
        let kind = if is_float {
            self.float_kind(lo, body_hi, suffix, ok)
        } else {
            self.int_kind(lo, digits_lo, body_hi, radix, suffix, ok)
        };
        self.token(kind, lo)
    }

    fn eat_digits(&mut self, digit_ok: fn(u8) -> bool) {
        while digit_ok(self.peek()) || self.peek() == b'_' {
            self.pos += 1;
        }
    }

    /// Checks one run of digits with separators: non-empty, `_` only between
    /// digits, every digit valid for `radix`.
    fn check_digits(&mut self, lo: usize, radix: u32) -> bool {
        let text = &self.src[lo..self.pos];
        if text.is_empty() {
            self.error(LexErrorKind::MissingDigits, lo.saturating_sub(2), self.pos);
            return false;
        }
        if text.starts_with('_') || text.ends_with('_') || text.contains("__") {
            self.error(LexErrorKind::BadSeparator, lo, self.pos);
            return false;
        }
        // Binary and octal literals are scanned as decimal so that `0b102`
        // reports the bad digit rather than an odd suffix.
        if let Some((i, c)) = text.char_indices().find(|&(_, c)| c != '_' && c.to_digit(radix).is_none()) {
            self.error(LexErrorKind::InvalidDigit { digit: c, base: radix }, lo + i, lo + i + 1);
            return false;
        }
        true
    }

    /// Whether an exponent (`e`, optional sign, a digit) starts here.
    fn at_exponent(&self) -> bool {
        matches!(self.peek(), b'e' | b'E')
            && (self.peek_at(1).is_ascii_digit()
                || (matches!(self.peek_at(1), b'+' | b'-') && self.peek_at(2).is_ascii_digit()))
    }

    fn exponent(&mut self) -> bool {
        self.pos += 1;
        if matches!(self.peek(), b'+' | b'-') {
            self.pos += 1;
        }
        let lo = self.pos;
        self.eat_digits(|b| b.is_ascii_digit());
        self.check_digits(lo, 10)
    }

    fn int_kind(
        &mut self,
        lo: usize,
        digits_lo: usize,
        body_hi: usize,
        radix: u32,
        suffix: &str,
        ok: bool,
    ) -> TokenKind {
        let suffix = match suffix {
            "" => None,
            "i8" => Some(IntSuffix::I8),
            "i16" => Some(IntSuffix::I16),
            "i32" => Some(IntSuffix::I32),
            "i64" => Some(IntSuffix::I64),
            "u8" => Some(IntSuffix::U8),
            "u16" => Some(IntSuffix::U16),
            "u32" => Some(IntSuffix::U32),
            "u64" => Some(IntSuffix::U64),
            other => {
                let suffix = other.to_owned();
                self.error(LexErrorKind::InvalidSuffix { suffix, float: false }, body_hi, self.pos);
                return TokenKind::Error;
            }
        };
        if !ok {
            return TokenKind::Error;
        }
        let mut value: u64 = 0;
        for c in self.src[digits_lo..body_hi].chars().filter(|&c| c != '_') {
            let digit = c.to_digit(radix).unwrap_or(0) as u64;
            match value.checked_mul(radix as u64).and_then(|v| v.checked_add(digit)) {
                Some(v) => value = v,
                None => {
                    self.error(LexErrorKind::IntegerTooLarge, lo, body_hi);
                    return TokenKind::Error;
                }
            }
        }
        TokenKind::Int { value, suffix }
    }

    fn float_kind(&mut self, lo: usize, body_hi: usize, suffix: &str, ok: bool) -> TokenKind {
        let suffix = match suffix {
            "" => None,
            "f32" => Some(FloatSuffix::F32),
            "f64" => Some(FloatSuffix::F64),
            other => {
                let suffix = other.to_owned();
                self.error(LexErrorKind::InvalidSuffix { suffix, float: true }, body_hi, self.pos);
                return TokenKind::Error;
            }
        };
        if !ok {
            return TokenKind::Error;
        }
        let text: String = self.src[lo..body_hi].chars().filter(|&c| c != '_').collect();
        // The scanned body always has Rust's float syntax, so parsing succeeds.
        let value = text.parse::<f64>().unwrap_or(f64::NAN);
        TokenKind::Float { value, suffix }
    }
}
