//! Syntax errors: data first, turned into diagnostics in one place.

use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// A syntax error and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    /// What is wrong.
    pub kind: ParseErrorKind,
    /// Where.
    pub span: Span,
}

/// Every kind of syntax error.
#[derive(Clone, Debug, PartialEq)]
pub enum ParseErrorKind {
    /// Something else was expected here.
    Expected { expected: String, found: String },
    /// A `;` is missing; `after` is where it belongs.
    MissingSemicolon { found: String, after: Span },
    /// `a < b < c`: comparisons do not chain.
    ChainedComparison { first: Span },
    /// A reserved word where a name was expected.
    ReservedWord(&'static str),
    /// Nesting deeper than the parser allows.
    NestingTooDeep,
    /// `return`, `break` or `continue` where an expression is needed.
    StatementAsExpression(&'static str),
    /// `self` outside a trait, impl or method.
    ReceiverNotAllowed,
    /// `t.1e5`, `t.0u8` and friends.
    InvalidTupleIndex,
    /// `!` anywhere but a return type.
    NeverTypePosition,
    /// A `(`, `[` or `{` that never closes.
    Unclosed { open: Span, delimiter: char },
    /// `spawn` followed by something that is not a call or a block.
    SpawnNeedsCall,
    /// A struct literal as the outermost expression of a condition.
    StructLiteralNotAllowed,
    /// Syntax of the AI extension used with `--core`.
    ExtensionOnly(&'static str),
    /// `..base` not at the end of a struct literal.
    BaseNotLast,
}

impl ParseError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        use ParseErrorKind::*;
        match self.kind {
            Expected { .. } | MissingSemicolon { .. } => "E1101",
            ChainedComparison { .. } => "E1102",
            ReservedWord(_) => "E1103",
            NestingTooDeep => "E1104",
            StatementAsExpression(_) => "E1105",
            ReceiverNotAllowed => "E1106",
            InvalidTupleIndex => "E1107",
            NeverTypePosition => "E1108",
            Unclosed { .. } => "E1109",
            SpawnNeedsCall => "E1110",
            StructLiteralNotAllowed => "E1111",
            BaseNotLast => "E1112",
            ExtensionOnly(_) => "E0210",
        }
    }

    /// The diagnostic shown to the user.
    pub fn to_diagnostic(&self) -> Diagnostic {
        use ParseErrorKind::*;
        let code = self.code();
        let span = self.span;
        match &self.kind {
            Expected { expected, found } => Diagnostic::error(code, format!("expected {expected}, found {found}"))
                .primary(span, format!("expected {expected}")),
            MissingSemicolon { found, after } => Diagnostic::error(code, format!("expected `;`, found {found}"))
                .primary(*after, "expected `;` here")
                .secondary(span, "unexpected token"),
            ChainedComparison { first } => Diagnostic::error(code, "comparison operators cannot be chained")
                .primary(span, "second comparison")
                .secondary(*first, "first comparison")
                .help("split the comparison: `a < b && b < c`, or parenthesize to compare a Bool"),
            ReservedWord(word) => Diagnostic::error(code, format!("`{word}` is a reserved word"))
                .primary(span, "reserved word used as a name")
                .note("Core v1 reserves this word for future use; choose another name"),
            NestingTooDeep => Diagnostic::error(code, "nesting is too deep")
                .primary(span, "the parser's nesting limit is reached here")
                .help("split the expression into smaller pieces with `let` bindings"),
            StatementAsExpression(word) => {
                Diagnostic::error(code, format!("`{word}` is a statement, not an expression"))
                    .primary(span, "expected an expression")
                    .help(format!("wrap it in a block: `{{ {word} ...; }}`"))
            }
            ReceiverNotAllowed => Diagnostic::error(code, "`self` parameter is only allowed in trait and impl methods")
                .primary(span, "not a method"),
            InvalidTupleIndex => Diagnostic::error(code, "invalid tuple index")
                .primary(span, "expected an unsuffixed integer")
                .help("tuple fields are written `t.0`, `t.1`, ..."),
            NeverTypePosition => {
                Diagnostic::error(code, "the never type `!` is only allowed as a function's return type")
                    .primary(span, "not allowed here")
            }
            Unclosed { open, delimiter } => Diagnostic::error(code, format!("unclosed delimiter `{delimiter}`"))
                .primary(span, "the file ends here")
                .secondary(*open, "opened here"),
            SpawnNeedsCall => Diagnostic::error(code, "`spawn` takes a call or a block")
                .primary(span, "not a call")
                .help("write `spawn f(x)` or `spawn { ... }`"),
            StructLiteralNotAllowed => Diagnostic::error(code, "struct literals are not allowed here")
                .primary(span, "struct literal in a condition, scrutinee or iterable")
                .help("parenthesize it: `if (Config { verbose: true }).verbose { .. }`"),
            BaseNotLast => Diagnostic::error(code, "`..base` must come last in a struct literal")
                .primary(span, "fields follow the base"),
            ExtensionOnly(what) => Diagnostic::error(code, format!("AI extension syntax in a Core v1 program: {what}"))
                .primary(span, "extension-only syntax")
                .help("run without `--core` to enable the AI extension"),
        }
    }
}
