//! Tokens: what the lexer produces and the parser consumes.

use crate::source::Span;
use crate::symbol::Symbol;
use std::fmt;

/// A token: its kind and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
}

/// The suffix of an integer literal, fixing its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntSuffix {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
}

/// The suffix of a float literal, fixing its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatSuffix {
    F32,
    F64,
}

/// One piece of an interpolated string literal.
#[derive(Clone, Debug, PartialEq)]
pub enum FmtPiece {
    /// Literal text, with escapes and `{{`/`}}` already decoded.
    Text(String),
    /// A `{expr:spec}` field.
    Field(FmtField),
}

/// A `{expr:spec}` field of an interpolated string: the expression's tokens
/// (ending with `Eof`) are parsed by the parser.
#[derive(Clone, Debug, PartialEq)]
pub struct FmtField {
    /// The expression's tokens, terminated by an `Eof` token.
    pub tokens: Vec<Token>,
    /// The format specification after `:`, if any.
    pub spec: Option<FormatSpec>,
    /// The whole field, braces included.
    pub span: Span,
}

/// A parsed format specification (`[[fill]align][sign][#][0][width][.precision][type]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormatSpec {
    /// Fill character, only with an alignment.
    pub fill: Option<char>,
    /// `<`, `>` or `^`.
    pub align: Option<char>,
    /// `+`, `-` or ` `.
    pub sign: Option<char>,
    /// `#`: alternate form.
    pub alternate: bool,
    /// `0`: pad with zeros after the sign.
    pub zero: bool,
    /// Minimum width.
    pub width: Option<u32>,
    /// Digits after the point (or maximum characters for strings).
    pub precision: Option<u32>,
    /// `b`, `o`, `x`, `X` or `f`.
    pub ty: Option<char>,
    /// The specification's source text.
    pub span: Span,
}

macro_rules! keywords {
    ($($variant:ident => $text:literal,)*) => {
        /// Keywords, including the primitive type names and Core's reserved words.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Keyword { $(#[doc = concat!("`", $text, "`")] $variant,)* }

        impl Keyword {
            /// The keyword spelled `text`, if it is one.
            pub fn from_spelling(text: &str) -> Option<Keyword> {
                match text { $($text => Some(Keyword::$variant),)* _ => None }
            }

            /// The keyword's spelling.
            pub fn as_str(self) -> &'static str {
                match self { $(Keyword::$variant => $text,)* }
            }
        }
    };
}

keywords! {
    If => "if", Else => "else", Match => "match", For => "for", While => "while",
    Loop => "loop", Break => "break", Continue => "continue", Return => "return",
    Fn => "fn", Struct => "struct", Enum => "enum", Trait => "trait", Impl => "impl",
    Let => "let", Mut => "mut", Const => "const", Type => "type", Use => "use", Mod => "mod",
    Int8 => "Int8", Int16 => "Int16", Int32 => "Int32", Int64 => "Int64",
    UInt8 => "UInt8", UInt16 => "UInt16", UInt32 => "UInt32", UInt64 => "UInt64",
    Float32 => "Float32", Float64 => "Float64", Bool => "Bool", String => "String",
    Char => "Char", Unit => "Unit", Str => "str",
    Pub => "pub", Priv => "priv",
    SelfValue => "self", SelfType => "Self", Super => "super", Crate => "crate",
    In => "in", As => "as", True => "true", False => "false",
    Async => "async", Await => "await", Yield => "yield", Where => "where",
    Macro => "macro", Unsafe => "unsafe", Extern => "extern", Import => "import",
    Export => "export", Null => "null", And => "and", Or => "or", Not => "not",
    Is => "is", Dyn => "dyn",
}

impl Keyword {
    /// Whether this is a primitive type name (`Int32`, `String`, `str`, ...).
    pub fn is_primitive_type(self) -> bool {
        use Keyword::*;
        matches!(
            self,
            Int8 | Int16
                | Int32
                | Int64
                | UInt8
                | UInt16
                | UInt32
                | UInt64
                | Float32
                | Float64
                | Bool
                | String
                | Char
                | Unit
                | Str
        )
    }

    /// Whether Core v1 reserves this word without giving it a meaning.
    /// (`async` and `await` get their meaning from the AI extension.)
    pub fn is_reserved(self) -> bool {
        use Keyword::*;
        matches!(
            self,
            Async
                | Await
                | Yield
                | Where
                | Macro
                | Unsafe
                | Extern
                | Import
                | Export
                | Null
                | And
                | Or
                | Not
                | Is
                | Dyn
        )
    }
}

macro_rules! puncts {
    ($($variant:ident => $text:literal,)*) => {
        /// Operators and delimiters.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Punct { $(#[doc = concat!("`", $text, "`")] $variant,)* }

        impl Punct {
            /// The operator's spelling.
            pub fn as_str(self) -> &'static str {
                match self { $(Punct::$variant => $text,)* }
            }
        }
    };
}

puncts! {
    Plus => "+", Minus => "-", Star => "*", Slash => "/", Percent => "%", StarStar => "**",
    EqEq => "==", Ne => "!=", Lt => "<", Le => "<=", Gt => ">", Ge => ">=",
    AndAnd => "&&", OrOr => "||", Bang => "!", Amp => "&", Pipe => "|", Caret => "^",
    Tilde => "~", Shl => "<<", Shr => ">>",
    Eq => "=", PlusEq => "+=", MinusEq => "-=", StarEq => "*=", SlashEq => "/=",
    PercentEq => "%=", StarStarEq => "**=", AmpEq => "&=", PipeEq => "|=", CaretEq => "^=",
    ShlEq => "<<=", ShrEq => ">>=",
    DotDot => "..", DotDotEq => "..=", Question => "?", ColonColon => "::", Dot => ".",
    Arrow => "->", FatArrow => "=>",
    LParen => "(", RParen => ")", LBracket => "[", RBracket => "]", LBrace => "{", RBrace => "}",
    Comma => ",", Semi => ";", Colon => ":",
}

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// An identifier (never a keyword).
    Ident(Symbol),
    /// A keyword or reserved word.
    Keyword(Keyword),
    /// An operator or delimiter.
    Punct(Punct),
    /// An integer literal.
    Int { value: u64, suffix: Option<IntSuffix> },
    /// A floating-point literal.
    Float { value: f64, suffix: Option<FloatSuffix> },
    /// A string literal (cooked or raw), decoded.
    Str(Box<str>),
    /// A character literal.
    Char(char),
    /// An interpolated string literal `f"..."`.
    FormatStr(Box<[FmtPiece]>),
    /// A token the lexer rejected; its error is already reported.
    Error,
    /// The end of the input.
    Eof,
}

impl TokenKind {
    /// Whether the token is this punctuation.
    pub fn is(&self, punct: Punct) -> bool {
        matches!(self, TokenKind::Punct(p) if *p == punct)
    }

    /// Whether the token is this keyword.
    pub fn is_kw(&self, kw: Keyword) -> bool {
        matches!(self, TokenKind::Keyword(k) if *k == kw)
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenKind::Ident(sym) => write!(f, "identifier `{sym}`"),
            TokenKind::Keyword(kw) if kw.is_reserved() => write!(f, "reserved word `{}`", kw.as_str()),
            TokenKind::Keyword(kw) => write!(f, "keyword `{}`", kw.as_str()),
            TokenKind::Punct(p) => write!(f, "`{}`", p.as_str()),
            TokenKind::Int { .. } => f.write_str("integer literal"),
            TokenKind::Float { .. } => f.write_str("float literal"),
            TokenKind::Str(_) => f.write_str("string literal"),
            TokenKind::Char(_) => f.write_str("character literal"),
            TokenKind::FormatStr(_) => f.write_str("interpolated string"),
            TokenKind::Error => f.write_str("invalid token"),
            TokenKind::Eof => f.write_str("end of file"),
        }
    }
}
