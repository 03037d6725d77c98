//! Interpolated string literals `f"..."` (LEX-FORMAT-001..004): literal
//! text, `{{`/`}}`, and `{expr:spec}` fields whose expressions are lexed
//! here into tokens for the parser.

use super::{Context, FmtField, FmtPiece, FormatSpec, LexErrorKind, Lexer, Punct, Token, TokenKind};
use crate::source::Span;

impl Lexer<'_> {
    /// An interpolated string; the cursor is on the `"` after `f`.
    pub(super) fn format_string(&mut self, lo: usize) -> Token {
        self.pos += 1;
        let mut pieces = Vec::new();
        let mut text = Vec::new();
        let mut ok = true;
        loop {
            match (self.peek(), self.peek_at(1)) {
                _ if self.at_end() => {
                    self.error(LexErrorKind::UnterminatedString, lo, lo + 2);
                    return self.token(TokenKind::Error, lo);
                }
                (b'"', _) => break,
                (b'\\', _) => ok &= self.escape(&mut text, false),
                (b'{', b'{') | (b'}', b'}') => {
                    text.push(self.peek());
                    self.pos += 2;
                }
                (b'{', _) => {
                    if !text.is_empty() {
                        ok &= self.push_text(&mut pieces, std::mem::take(&mut text), lo);
                    }
                    match self.field() {
                        Some(field) => pieces.push(FmtPiece::Field(field)),
                        None => ok = false,
                    }
                }
                (b'}', _) => {
                    self.error(LexErrorKind::FormatStrayBrace, self.pos, self.pos + 1);
                    self.pos += 1;
                    ok = false;
                }
                (b, _) => {
                    text.push(b);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        if !text.is_empty() {
            ok &= self.push_text(&mut pieces, text, lo);
        }
        if ok {
            self.token(TokenKind::FormatStr(pieces.into_boxed_slice()), lo)
        } else {
            self.token(TokenKind::Error, lo)
        }
    }

    fn push_text(&mut self, pieces: &mut Vec<FmtPiece>, bytes: Vec<u8>, lo: usize) -> bool {
        match String::from_utf8(bytes) {
            Ok(text) => {
                pieces.push(FmtPiece::Text(text));
                true
            }
            Err(_) => {
                self.error(LexErrorKind::InvalidUtf8Escapes, lo, self.pos);
                false
            }
        }
    }

    /// One `{expr[:spec]}` field; the cursor is on the `{`. Returns `None`
    /// after reporting an error; the cursor is then past the field, or on
    /// the enclosing literal's closing `"`.
    fn field(&mut self) -> Option<FmtField> {
        let lo = self.pos;
        self.pos += 1;
        let mut tokens = Vec::new();
        let mut depth = 0u32;
        let mut ok = true;
        let spec = loop {
            let token = self.next_token_in(Context::Field);
            match &token.kind {
                TokenKind::Eof => {
                    self.error(LexErrorKind::FormatUnterminatedField, lo, lo + 1);
                    return None;
                }
                TokenKind::Error => ok = false,
                TokenKind::Punct(Punct::LParen | Punct::LBracket | Punct::LBrace) => depth += 1,
                TokenKind::Punct(Punct::RParen | Punct::RBracket) => depth = depth.saturating_sub(1),
                TokenKind::Punct(Punct::RBrace) if depth == 0 => break None,
                TokenKind::Punct(Punct::RBrace) => depth -= 1,
                TokenKind::Punct(Punct::Colon) if depth == 0 => break Some(self.format_spec(lo)?),
                _ => {}
            }
            tokens.push(token);
        };
        if tokens.is_empty() {
            self.error(LexErrorKind::FormatEmptyField, lo, self.pos);
            return None;
        }
        tokens.push(Token { kind: TokenKind::Eof, span: self.span(self.pos - 1, self.pos - 1) });
        ok.then(|| FmtField { tokens, spec, span: self.span(lo, self.pos) })
    }

    /// The specification after a field's `:`, through the closing `}`.
    fn format_spec(&mut self, field_lo: usize) -> Option<FormatSpec> {
        let lo = self.pos;
        let rest = &self.src[lo..];
        let Some(len) = rest.find(['}', '"']).filter(|&n| rest.as_bytes()[n] == b'}') else {
            self.error(LexErrorKind::FormatUnterminatedField, field_lo, field_lo + 1);
            self.pos += rest.find('"').unwrap_or(rest.len());
            return None;
        };
        self.pos = lo + len + 1;
        let text = &rest[..len];
        match parse_spec(text, self.span(lo, lo + len)) {
            Ok(spec) => Some(spec),
            Err(kind) => {
                self.error(kind, lo, lo + len);
                None
            }
        }
    }
}

/// Parses `[[fill]align][sign][#][0][width][.precision][type]`.
fn parse_spec(text: &str, span: Span) -> Result<FormatSpec, LexErrorKind> {
    let chars: Vec<char> = text.chars().collect();
    let mut spec = FormatSpec { span, ..FormatSpec::default() };
    let mut i = 0;
    let is_align = |c: Option<&char>| matches!(c, Some('<' | '>' | '^'));
    if is_align(chars.get(1)) {
        spec.fill = Some(chars[0]);
        spec.align = Some(chars[1]);
        i = 2;
    } else if is_align(chars.first()) {
        spec.align = Some(chars[0]);
        i = 1;
    }
    if let Some(&c @ ('+' | '-' | ' ')) = chars.get(i) {
        spec.sign = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'#') {
        spec.alternate = true;
        i += 1;
    }
    if chars.get(i) == Some(&'0') && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
        spec.zero = true;
        i += 1;
    }
    let bad = || LexErrorKind::FormatBadSpec(text.to_owned());
    spec.width = decimal(&chars, &mut i).map_err(|()| bad())?;
    if chars.get(i) == Some(&'.') {
        i += 1;
        spec.precision = Some(decimal(&chars, &mut i).map_err(|()| bad())?.ok_or_else(bad)?);
    }
    if let Some(&c @ ('b' | 'o' | 'x' | 'X' | 'f')) = chars.get(i) {
        spec.ty = Some(c);
        i += 1;
    }
    if i != chars.len() {
        return Err(bad());
    }
    if spec.align.is_some() && spec.width.is_none() {
        return Err(LexErrorKind::FormatAlignWithoutWidth);
    }
    Ok(spec)
}

/// Reads decimal digits at `chars[*i..]`: `Ok(None)` when there are none,
/// `Err` when they overflow.
fn decimal(chars: &[char], i: &mut usize) -> Result<Option<u32>, ()> {
    let start = *i;
    let mut value: u32 = 0;
    while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
        value = value.checked_mul(10).and_then(|v| v.checked_add(d)).ok_or(())?;
        *i += 1;
    }
    Ok((*i > start).then_some(value))
}
