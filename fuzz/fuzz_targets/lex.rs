//! Fuzz target `lex`: lexes any UTF-8 input, at offset 0 (`lex`) and at a
//! non-zero base offset (`lex_at`), and asserts that every span the lexer
//! produces (tokens, including the tokens and spans of interpolation fields
//! and format specs nested in `f"..."` literals, doc comments and lexical
//! errors) is ordered (`lo <= hi`), inside the text and on char boundaries,
//! and that the token stream ends with exactly one `Eof`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stark_syntax::lexer::{lex, lex_at, FmtPiece, Lexed, Token, TokenKind};
use stark_syntax::Span;

/// The base used for the `lex_at` run: not 0, and not a multiple of 4096.
const BASE: u32 = 1_000_003;

fn check_span(text: &str, base: u32, span: Span, what: &str) {
    assert!(span.lo <= span.hi, "{what} span {span:?} is reversed (base {base})");
    assert!(span.lo >= base, "{what} span {span:?} starts before the base {base}");
    let (lo, hi) = ((span.lo - base) as usize, (span.hi - base) as usize);
    assert!(hi <= text.len(), "{what} span {span:?} ends past the text (len {}, base {base})", text.len());
    assert!(
        text.is_char_boundary(lo) && text.is_char_boundary(hi),
        "{what} span {span:?} is not on char boundaries (base {base})"
    );
}

fn check_tokens(text: &str, base: u32, tokens: &[Token]) {
    for token in tokens {
        check_span(text, base, token.span, "token");
        if let TokenKind::FormatStr(pieces) = &token.kind {
            for piece in pieces.iter() {
                if let FmtPiece::Field(field) = piece {
                    check_span(text, base, field.span, "f-string field");
                    if let Some(spec) = &field.spec {
                        check_span(text, base, spec.span, "format spec");
                    }
                    check_tokens(text, base, &field.tokens);
                }
            }
        }
    }
}

fn check(text: &str, base: u32, lexed: &Lexed) {
    check_tokens(text, base, &lexed.tokens);
    let eofs = lexed.tokens.iter().filter(|t| t.kind == TokenKind::Eof).count();
    assert_eq!(eofs, 1, "expected exactly one Eof token (base {base})");
    assert_eq!(lexed.tokens.last().map(|t| &t.kind), Some(&TokenKind::Eof), "Eof is not last (base {base})");
    for doc in &lexed.docs {
        check_span(text, base, doc.span, "doc comment");
    }
    for error in &lexed.errors {
        check_span(text, base, error.span, "lex error");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check(text, 0, &lex(text));
    check(text, BASE, &lex_at(text, BASE));
});
