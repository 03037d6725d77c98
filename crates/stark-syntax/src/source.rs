//! Source files, byte spans and line lookup.

use crate::diagnostic::Diagnostic;
use std::fmt;

/// A half-open byte range `lo..hi` in one source file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub lo: u32,
    /// Offset one past the last byte.
    pub hi: u32,
}

impl Span {
    /// The span `lo..hi`.
    pub fn new(lo: usize, hi: usize) -> Span {
        Span { lo: lo as u32, hi: hi as u32 }
    }

    /// An empty span at `pos`.
    pub fn at(pos: usize) -> Span {
        Span::new(pos, pos)
    }

    /// The smallest span covering `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span { lo: self.lo.min(other.lo), hi: self.hi.max(other.hi) }
    }

    /// The byte range, for slicing the source text.
    pub fn range(self) -> std::ops::Range<usize> {
        self.lo as usize..self.hi as usize
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.lo, self.hi)
    }
}

/// One STARK source file: its name (as shown in diagnostics), its text,
/// and where it starts in the offset space of its `SourceMap` (0 for a
/// file on its own). Spans of the file's tokens are `base + local offset`.
#[derive(Clone, Debug)]
pub struct SourceFile {
    name: String,
    text: String,
    base: u32,
}

/// A file whose bytes are not acceptable STARK source (LEX-SOURCE-001).
#[derive(Debug)]
pub struct SourceError {
    /// The file, with invalid bytes replaced so that it can be displayed.
    pub file: SourceFile,
    /// What is wrong and where.
    pub diagnostic: Diagnostic,
}

impl SourceFile {
    /// A source file from text that is already known to be valid UTF-8.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile { name: name.into(), text: text.into(), base: 0 }
    }

    /// A source file from raw bytes: rejects invalid UTF-8 at its first bad
    /// byte and a leading byte-order mark, as Core v1 requires.
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> Result<SourceFile, Box<SourceError>> {
        let name = name.into();
        use crate::lexer::{LexError, LexErrorKind};
        let (text, error) = match String::from_utf8(bytes) {
            Ok(text) if text.starts_with('\u{feff}') => {
                (text, LexError::new(LexErrorKind::ByteOrderMark, Span::new(0, 3)))
            }
            Ok(text) => return Ok(SourceFile { name, text, base: 0 }),
            Err(err) => {
                let offset = err.utf8_error().valid_up_to();
                // Lossy decoding keeps the valid prefix, so `offset` is still
                // where the (replaced) invalid byte stands.
                let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
                (
                    text,
                    LexError::new(
                        LexErrorKind::InvalidUtf8 { offset },
                        Span::new(offset, offset + '\u{fffd}'.len_utf8()),
                    ),
                )
            }
        };
        Err(Box::new(SourceError { file: SourceFile { name, text, base: 0 }, diagnostic: error.to_diagnostic() }))
    }

    /// The name shown in diagnostics.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Where the file starts in its source map's offset space.
    pub fn base(&self) -> u32 {
        self.base
    }

    /// The byte range of `span` within this file's text.
    pub fn local_range(&self, span: Span) -> std::ops::Range<usize> {
        let lo = span.lo.saturating_sub(self.base) as usize;
        let hi = span.hi.saturating_sub(self.base) as usize;
        lo.min(self.text.len())..hi.min(self.text.len())
    }

    /// The text of `span`.
    pub fn slice(&self, span: Span) -> &str {
        &self.text[self.local_range(span)]
    }

    /// The 1-based line and column (in characters) of file-wide offset `pos`.
    pub fn line_col(&self, pos: u32) -> (usize, usize) {
        let pos = (pos.saturating_sub(self.base) as usize).min(self.text.len());
        let before = &self.text[..pos];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}

/// Identifies a file in a `SourceMap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// Every source file of a program, each at its own range of one offset
/// space, so a `Span` alone says which file it is in.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file after the last one (one byte of gap, so that an empty
    /// span at a file's end still belongs to it) and returns its id.
    pub fn add(&mut self, mut file: SourceFile) -> FileId {
        file.base = self.files.last().map_or(0, |f| f.base + f.text.len() as u32 + 1);
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// All files, in the order they were added.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// The file a span points into.
    pub fn file_id_of(&self, span: Span) -> FileId {
        let i = self.files.partition_point(|f| f.base <= span.lo);
        FileId(i.saturating_sub(1) as u32)
    }
}

impl From<SourceFile> for SourceMap {
    fn from(file: SourceFile) -> SourceMap {
        let mut map = SourceMap::new();
        map.add(file);
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_get_disjoint_offsets_and_spans_find_their_file() {
        let mut map = SourceMap::new();
        let a = map.add(SourceFile::new("a.stark", "fn a() {}"));
        let b = map.add(SourceFile::new("b.stark", "fn b(x: ) {}"));
        let file_b = map.get(b);
        assert_eq!(file_b.base(), 10);
        let parsed = crate::parse(file_b, crate::Mode::Extension);
        let span = parsed.diagnostics[0].primary_span().unwrap();
        assert_eq!(map.file_id_of(span), b);
        assert_eq!(map.file_id_of(Span::new(0, 2)), a);
        assert_eq!(file_b.line_col(span.lo), (1, 9));
        let text = crate::render(&map, &parsed.diagnostics, false);
        assert!(text.contains("b.stark:1:9"), "{text}");
    }
}
