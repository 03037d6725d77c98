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
        Span {
            lo: lo as u32,
            hi: hi as u32,
        }
    }

    /// An empty span at `pos`.
    pub fn at(pos: usize) -> Span {
        Span::new(pos, pos)
    }

    /// The smallest span covering `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            lo: self.lo.min(other.lo),
            hi: self.hi.max(other.hi),
        }
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

/// One STARK source file: its name (as shown in diagnostics) and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    name: String,
    text: String,
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
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
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
            Ok(text) => return Ok(SourceFile { name, text }),
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
        Err(Box::new(SourceError {
            file: SourceFile { name, text },
            diagnostic: error.to_diagnostic(),
        }))
    }

    /// The name shown in diagnostics.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text of `span`.
    pub fn slice(&self, span: Span) -> &str {
        &self.text[span.range()]
    }

    /// The 1-based line and column (in characters) of byte offset `pos`.
    pub fn line_col(&self, pos: u32) -> (usize, usize) {
        let pos = (pos as usize).min(self.text.len());
        let before = &self.text[..pos];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}
