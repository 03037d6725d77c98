use super::*;

fn kinds(src: &str) -> Vec<TokenKind> {
    let lexed = lex(src);
    assert!(lexed.errors.is_empty(), "unexpected errors: {:?}", lexed.errors);
    lexed.tokens.into_iter().map(|t| t.kind).filter(|k| *k != TokenKind::Eof).collect()
}

fn first_error(src: &str) -> LexErrorKind {
    lex(src).errors.into_iter().next().expect("an error").kind
}

#[test]
fn integers_with_bases_separators_and_suffixes() {
    let int = |value, suffix| TokenKind::Int { value, suffix };
    assert_eq!(
        kinds("42 1_000_000 0xFF_FF 0b1010_1010 0o755 42i32 255u8"),
        vec![
            int(42, None),
            int(1_000_000, None),
            int(0xffff, None),
            int(0b1010_1010, None),
            int(0o755, None),
            int(42, Some(IntSuffix::I32)),
            int(255, Some(IntSuffix::U8)),
        ]
    );
    assert_eq!(kinds("18446744073709551615"), vec![int(u64::MAX, None)]);
}

#[test]
fn bad_numbers() {
    assert_eq!(first_error("1__2"), LexErrorKind::BadSeparator);
    assert_eq!(first_error("12_"), LexErrorKind::BadSeparator);
    assert_eq!(first_error("0x"), LexErrorKind::MissingDigits);
    assert_eq!(first_error("0b102"), LexErrorKind::InvalidDigit { digit: '2', base: 2 });
    assert_eq!(first_error("18446744073709551616"), LexErrorKind::IntegerTooLarge);
    assert_eq!(first_error("1f32"), LexErrorKind::InvalidSuffix { suffix: "f32".into(), float: false });
    assert_eq!(first_error("1.5u8"), LexErrorKind::InvalidSuffix { suffix: "u8".into(), float: true });
}

#[test]
fn floats_and_tuple_index_shapes() {
    let float = |value, suffix| TokenKind::Float { value, suffix };
    assert_eq!(
        kinds("2.75 2.5e-3 1e10 42.0f32"),
        vec![float(2.75, None), float(2.5e-3, None), float(1e10, None), float(42.0, Some(FloatSuffix::F32)),]
    );
    // `1.` is not a float, and `1..2` is a range.
    assert_eq!(kinds("1..2").len(), 3);
    assert_eq!(kinds("x.0.1").len(), 3);
}

#[test]
fn strings_and_escapes() {
    assert_eq!(kinds(r#""a\n\x41\u{1F600}""#), vec![TokenKind::Str("a\nA\u{1F600}".into())]);
    assert_eq!(kinds(r#"r"raw \n""#), vec![TokenKind::Str("raw \\n".into())]);
    assert_eq!(first_error(r#""\q""#), LexErrorKind::UnknownEscape('q'));
    assert_eq!(first_error(r#""\u{D800}""#), LexErrorKind::InvalidUnicodeEscape);
    assert_eq!(first_error(r#""\u{1234567}""#), LexErrorKind::InvalidUnicodeEscape);
    assert_eq!(first_error(r#""\xff""#), LexErrorKind::InvalidUtf8Escapes);
    assert_eq!(kinds(r#""\xc3\xa9""#), vec![TokenKind::Str("é".into())]);
    assert_eq!(first_error("\"open"), LexErrorKind::UnterminatedString);
}

#[test]
fn chars() {
    assert_eq!(
        kinds(r"'a' '\n' '\x41' '\u{1F600}'"),
        vec![TokenKind::Char('a'), TokenKind::Char('\n'), TokenKind::Char('A'), TokenKind::Char('\u{1F600}'),]
    );
    assert_eq!(first_error("''"), LexErrorKind::EmptyChar);
    assert_eq!(first_error("'ab'"), LexErrorKind::CharTooLong);
    assert_eq!(first_error(r"'\x80'"), LexErrorKind::InvalidHexEscape);
}

#[test]
fn comments_nest_and_docs_are_kept() {
    let lexed = lex("/* a /* b */ c */ x /** doc */ y // tail");
    assert!(lexed.errors.is_empty());
    assert_eq!(lexed.tokens.len(), 3);
    assert_eq!(lexed.docs[0].text, "doc");
    assert_eq!(first_error("/* /* */"), LexErrorKind::UnterminatedComment);
}

#[test]
fn maximal_munch_operators() {
    let puncts: Vec<_> = kinds("**= <<= >>= ..= ** :: -> => .. >>")
        .into_iter()
        .map(|k| match k {
            TokenKind::Punct(p) => p.as_str(),
            _ => "?",
        })
        .collect();
    assert_eq!(puncts, ["**=", "<<=", ">>=", "..=", "**", "::", "->", "=>", "..", ">>"]);
}

#[test]
fn keywords_reserved_words_and_identifier_limit() {
    assert_eq!(
        kinds("fn Int32 async dyn foo"),
        vec![
            TokenKind::Keyword(Keyword::Fn),
            TokenKind::Keyword(Keyword::Int32),
            TokenKind::Keyword(Keyword::Async),
            TokenKind::Keyword(Keyword::Dyn),
            TokenKind::Ident(Symbol::intern("foo")),
        ]
    );
    let long = "a".repeat(256);
    let lexed = lex(&format!("{long} b"));
    assert_eq!(lexed.errors[0].kind, LexErrorKind::IdentifierTooLong(256));
    assert_eq!(lexed.tokens.len(), 3, "the long identifier is one token");
    assert!(lex(&"a".repeat(255)).errors.is_empty());
}

#[test]
fn format_strings() {
    let lexed = lex(r#"f"n={count:04} r={ratio:.2} {{x}} {lookup(\"k:}\")} {p:*^10}""#);
    assert!(lexed.errors.is_empty(), "{:?}", lexed.errors);
    let TokenKind::FormatStr(pieces) = &lexed.tokens[0].kind else { panic!("not a format string") };
    let fields: Vec<_> = pieces
        .iter()
        .filter_map(|p| match p {
            FmtPiece::Field(f) => Some(f),
            FmtPiece::Text(_) => None,
        })
        .collect();
    assert_eq!(fields.len(), 4);
    let spec = fields[0].spec.as_ref().unwrap();
    assert!(spec.zero);
    assert_eq!(spec.width, Some(4));
    assert_eq!(fields[1].spec.as_ref().unwrap().precision, Some(2));
    assert_eq!(fields[2].tokens[2].kind, TokenKind::Str("k:}".into()));
    let fill = fields[3].spec.as_ref().unwrap();
    assert_eq!((fill.fill, fill.align, fill.width), (Some('*'), Some('^'), Some(10)));
    assert!(pieces.contains(&FmtPiece::Text(" {x} ".into())));
}

#[test]
fn bad_format_strings() {
    assert_eq!(first_error(r#"f"a } b""#), LexErrorKind::FormatStrayBrace);
    assert_eq!(first_error(r#"f"{x:>}""#), LexErrorKind::FormatAlignWithoutWidth);
    assert_eq!(first_error(r#"f"{x:q}""#), LexErrorKind::FormatBadSpec("q".into()));
    assert_eq!(first_error(r#"f"{}""#), LexErrorKind::FormatEmptyField);
    assert_eq!(first_error(r#"f"{x""#), LexErrorKind::FormatUnterminatedField);
    assert_eq!(first_error(r#"f"{g(\"a\nb\")}""#), LexErrorKind::FormatNestedEscape);
}

#[test]
fn nested_string_escapes_at_the_end_stay_in_bounds() {
    // Found by fuzzing: a `\` ending the input inside a nested string.
    for src in ["f\"{[\\\" ff\\", "f\"{g(\\\"a\\é\\\")}\""] {
        let lexed = lex(src);
        for error in &lexed.errors {
            assert!(error.span.hi as usize <= src.len());
            assert!(src.is_char_boundary(error.span.lo as usize) && src.is_char_boundary(error.span.hi as usize));
        }
    }
}

#[test]
fn source_rules() {
    assert_eq!(first_error("\u{feff}fn"), LexErrorKind::ByteOrderMark);
    assert_eq!(first_error("é"), LexErrorKind::UnexpectedChar('é'));
}
