//! Fuzz target `parse`: arbitrary bytes through `SourceFile::from_bytes`,
//! then the whole-file parser in both modes and the snippet parser, with
//! every diagnostic rendered. The file is parsed once on its own (offset 0)
//! and once as the second file of a `SourceMap` (non-zero base offset).
//! Any panic (in decoding, lexing, parsing, recovery or rendering), hang or
//! runaway allocation is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stark_syntax::{parse, parse_snippet, render, Mode, SourceFile, SourceMap};

fuzz_target!(|data: &[u8]| {
    match SourceFile::from_bytes("fuzz.stark", data.to_vec()) {
        Ok(file) => {
            // On its own: the file starts at offset 0.
            let map = SourceMap::from(file.clone());
            let parsed = parse(&file, Mode::Extension);
            let _ = render(&map, &parsed.diagnostics, false);

            let parsed = parse(&file, Mode::Core);
            let _ = render(&map, &parsed.diagnostics, false);

            let (_stmts, diagnostics) = parse_snippet(&file, Mode::Extension);
            let _ = render(&map, &diagnostics, false);

            // After another file: every span carries a non-zero base.
            let mut map = SourceMap::new();
            map.add(SourceFile::new("first.stark", "fn first() {}\n"));
            let id = map.add(file);
            let parsed = parse(map.get(id), Mode::Extension);
            let _ = render(&map, &parsed.diagnostics, false);
        }
        Err(e) => {
            let e = *e;
            let map = SourceMap::from(e.file);
            let _ = render(&map, std::slice::from_ref(&e.diagnostic), false);
        }
    }
});
