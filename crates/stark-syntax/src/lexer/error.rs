//! Lexical errors: data first, turned into diagnostics in one place.

use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// A lexical error and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct LexError {
    /// What is wrong.
    pub kind: LexErrorKind,
    /// Where.
    pub span: Span,
}

/// Every kind of lexical error.
#[derive(Clone, Debug, PartialEq)]
pub enum LexErrorKind {
    /// A character that starts no token.
    UnexpectedChar(char),
    /// A string literal without its closing quote.
    UnterminatedString,
    /// A character literal without its closing quote.
    UnterminatedChar,
    /// `''`.
    EmptyChar,
    /// A character literal holding more than one character.
    CharTooLong,
    /// A `/* */` comment that never closes.
    UnterminatedComment,
    /// `\q` and friends.
    UnknownEscape(char),
    /// `\x` without two hex digits, or above `\x7F` in a character literal.
    InvalidHexEscape,
    /// `\u{..}` malformed, a surrogate, or above U+10FFFF.
    InvalidUnicodeEscape,
    /// `\xNN` escapes that leave the string invalid UTF-8.
    InvalidUtf8Escapes,
    /// `_` leading, trailing or doubled in a number.
    BadSeparator,
    /// `0x` with no digits, or an exponent with no digits.
    MissingDigits,
    /// A digit that the literal's base does not have.
    InvalidDigit { digit: char, base: u32 },
    /// A suffix that is not `i8`..`u64` (integers) or `f32`/`f64` (floats).
    InvalidSuffix { suffix: String, float: bool },
    /// An integer literal larger than `UInt64::MAX`.
    IntegerTooLarge,
    /// An identifier longer than 255 bytes.
    IdentifierTooLong(usize),
    /// A byte-order mark at the start of the file.
    ByteOrderMark,
    /// The file is not valid UTF-8.
    InvalidUtf8 { offset: usize },
    /// A `}` in an interpolated string that closes nothing.
    FormatStrayBrace,
    /// A format specification the language does not define.
    FormatBadSpec(String),
    /// An alignment with no width.
    FormatAlignWithoutWidth,
    /// A `{` field that never closes.
    FormatUnterminatedField,
    /// `{}` with no expression.
    FormatEmptyField,
    /// A string nested in a field that needs an escape of its own.
    FormatNestedEscape,
    /// `f"..."` nested in a field.
    FormatNestedFormat,
}

impl LexError {
    /// A new error.
    pub fn new(kind: LexErrorKind, span: Span) -> LexError {
        LexError { kind, span }
    }

    /// The stable error code.
    pub fn code(&self) -> &'static str {
        use LexErrorKind::*;
        match self.kind {
            UnexpectedChar(_) => "E1001",
            UnterminatedString => "E1002",
            UnterminatedChar | EmptyChar | CharTooLong => "E1003",
            UnterminatedComment => "E1004",
            UnknownEscape(_) => "E1005",
            InvalidHexEscape | InvalidUnicodeEscape => "E1006",
            InvalidUtf8Escapes => "E1007",
            BadSeparator => "E1008",
            MissingDigits | InvalidDigit { .. } => "E1009",
            InvalidSuffix { .. } => "E1010",
            IntegerTooLarge => "E1011",
            IdentifierTooLong(_) => "E1012",
            ByteOrderMark | InvalidUtf8 { .. } => "E1013",
            FormatStrayBrace | FormatUnterminatedField | FormatEmptyField => "E1014",
            FormatBadSpec(_) | FormatAlignWithoutWidth => "E1015",
            FormatNestedEscape | FormatNestedFormat => "E1016",
        }
    }

    /// The diagnostic shown to the user.
    pub fn to_diagnostic(&self) -> Diagnostic {
        use LexErrorKind::*;
        let (message, label, help): (String, &str, Option<&str>) = match &self.kind {
            UnexpectedChar(c) => (format!("unexpected character {c:?}"), "not valid here", Self::char_help(*c)),
            UnterminatedString => ("unterminated string literal".into(), "this string never closes", None),
            UnterminatedChar => ("unterminated character literal".into(), "expected a closing `'`", None),
            EmptyChar => ("empty character literal".into(), "a character literal holds exactly one character", None),
            CharTooLong => (
                "character literal holds more than one character".into(),
                "only one character allowed",
                Some("use a string literal (\"...\") for text"),
            ),
            UnterminatedComment => (
                "unterminated block comment".into(),
                "this comment never closes",
                Some("block comments nest: every `/*` needs its own `*/`"),
            ),
            UnknownEscape(c) => (
                format!("unknown escape sequence `\\{c}`"),
                "unknown escape",
                Some("valid escapes are \\n \\t \\r \\0 \\\\ \\' \\\" \\xNN \\u{NNNN}"),
            ),
            InvalidHexEscape => (
                "invalid `\\x` escape".into(),
                "expected two hex digits",
                Some("`\\xNN` takes exactly two hex digits; in a character literal it must be at most \\x7F"),
            ),
            InvalidUnicodeEscape => (
                "invalid unicode escape".into(),
                "not a Unicode scalar value",
                Some("`\\u{...}` takes 1 to 6 hex digits naming a scalar value (no surrogates, at most 10FFFF)"),
            ),
            InvalidUtf8Escapes => {
                ("`\\x` escapes make this string invalid UTF-8".into(), "decodes to invalid UTF-8", None)
            }
            BadSeparator => (
                "invalid digit separator".into(),
                "`_` must stand between two digits",
                Some("separators may not lead, trail or repeat: write `1_000`, not `1__000` or `1000_`"),
            ),
            MissingDigits => ("missing digits in number literal".into(), "expected digits here", None),
            InvalidDigit { digit, base } => {
                (format!("invalid digit `{digit}` in a base-{base} literal"), "invalid digit", None)
            }
            InvalidSuffix { suffix, float } => (
                format!("invalid suffix `{suffix}` for {} literal", if *float { "a float" } else { "an integer" }),
                "invalid suffix",
                Some(if *float {
                    "float suffixes are `f32` and `f64`"
                } else {
                    "integer suffixes are i8 i16 i32 i64 u8 u16 u32 u64; a float needs a `.` or exponent (`1.0f32`)"
                }),
            ),
            IntegerTooLarge => ("integer literal is too large".into(), "larger than UInt64::MAX", None),
            IdentifierTooLong(len) => {
                (format!("identifier is {len} bytes long"), "identifiers are at most 255 bytes", None)
            }
            ByteOrderMark => (
                "source file starts with a byte-order mark".into(),
                "byte-order mark",
                Some("save the file as UTF-8 without a BOM"),
            ),
            InvalidUtf8 { offset } => (
                format!("source file is not valid UTF-8 (first invalid byte at offset {offset})"),
                "invalid UTF-8",
                None,
            ),
            FormatStrayBrace => {
                ("unmatched `}` in interpolated string".into(), "closes nothing", Some("write `}}` for a literal `}`"))
            }
            FormatBadSpec(spec) => (
                format!("invalid format specification `{spec}`"),
                "not a format specification",
                Some("the form is [[fill]align][sign][#][0][width][.precision][type], type one of b o x X f"),
            ),
            FormatAlignWithoutWidth => (
                "alignment without a width in format specification".into(),
                "needs a width",
                Some("for example `{x:>8}`"),
            ),
            FormatUnterminatedField => (
                "unterminated field in interpolated string".into(),
                "this `{` never closes",
                Some("write `{{` for a literal `{`"),
            ),
            FormatEmptyField => (
                "empty field in interpolated string".into(),
                "expected an expression",
                Some("write `{{}}` for literal braces"),
            ),
            FormatNestedEscape => (
                "a string nested in an interpolation field cannot contain escapes".into(),
                "escape inside a nested string",
                Some("bind the string to a variable first and use the variable in the field"),
            ),
            FormatNestedFormat => (
                "interpolated strings cannot be nested".into(),
                "nested interpolated string",
                Some("bind the inner string to a variable first"),
            ),
        };
        let mut diagnostic = Diagnostic::error(self.code(), message).primary(self.span, label);
        if let Some(help) = help {
            diagnostic = diagnostic.help(help);
        }
        diagnostic
    }

    fn char_help(c: char) -> Option<&'static str> {
        match c {
            '\u{feff}' => Some("a byte-order mark is not allowed in STARK source"),
            c if !c.is_ascii() && c.is_alphabetic() => Some("identifiers are ASCII only"),
            '#' => Some("STARK has no attributes or macros"),
            _ => None,
        }
    }
}
