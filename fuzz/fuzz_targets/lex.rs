//! Fuzz target `lex`: lexes any UTF-8 input and asserts that every span the
//! lexer produces (tokens, including the tokens and spans of interpolation
//! fields and format specs nested in `f"..."` literals, doc comments and
//! lexical errors) is ordered (`lo <= hi`), inside the text and on char
//! boundaries, and that the token stream ends with exactly one `Eof`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stark_syntax::lexer::{lex, FmtPiece, Token, TokenKind};
use stark_syntax::Span;

fn check_span(text: &str, span: Span, what: &str) {
    let (lo, hi) = (span.lo as usize, span.hi as usize);
    assert!(lo <= hi, "{what} span {span:?} is reversed");
    assert!(hi <= text.len(), "{what} span {span:?} ends past the text (len {})", text.len());
    assert!(
        text.is_char_boundary(lo) && text.is_char_boundary(hi),
        "{what} span {span:?} is not on char boundaries"
    );
}

fn check_tokens(text: &str, tokens: &[Token]) {
    for token in tokens {
        check_span(text, token.span, "token");
        if let TokenKind::FormatStr(pieces) = &token.kind {
            for piece in pieces.iter() {
                if let FmtPiece::Field(field) = piece {
                    check_span(text, field.span, "f-string field");
                    if let Some(spec) = &field.spec {
                        check_span(text, spec.span, "format spec");
                    }
                    check_tokens(text, &field.tokens);
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lexed = lex(text);
    check_tokens(text, &lexed.tokens);
    let eofs = lexed.tokens.iter().filter(|t| t.kind == TokenKind::Eof).count();
    assert_eq!(eofs, 1, "expected exactly one Eof token");
    assert_eq!(lexed.tokens.last().map(|t| &t.kind), Some(&TokenKind::Eof), "Eof is not last");
    for doc in &lexed.docs {
        check_span(text, doc.span, "doc comment");
    }
    for error in &lexed.errors {
        check_span(text, error.span, "lex error");
    }
});
