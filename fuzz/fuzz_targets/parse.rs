//! Fuzz target `parse`: arbitrary bytes through `SourceFile::from_bytes`,
//! then the whole-file parser in both modes and the snippet parser, with
//! every diagnostic rendered. Any panic (in decoding, lexing, parsing,
//! recovery or rendering), hang or runaway allocation is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stark_syntax::{parse, parse_snippet, render, Mode, SourceFile};

fuzz_target!(|data: &[u8]| {
    match SourceFile::from_bytes("fuzz.stark", data.to_vec()) {
        Ok(file) => {
            let parsed = parse(&file, Mode::Extension);
            let _ = render(&file, &parsed.diagnostics, false);

            let parsed = parse(&file, Mode::Core);
            let _ = render(&file, &parsed.diagnostics, false);

            let (_stmts, diagnostics) = parse_snippet(&file, Mode::Extension);
            let _ = render(&file, &diagnostics, false);
        }
        Err(e) => {
            let _ = render(&e.file, std::slice::from_ref(&e.diagnostic), false);
        }
    }
});
