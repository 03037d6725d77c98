//! The one diagnostic type every phase produces, and its rendering. This is
//! the only module that knows the rendering crate.

use crate::source::{SourceMap, Span};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The program is rejected.
    Error,
    /// The program is accepted, but something is probably wrong.
    Warning,
}

/// A span with a message: where a diagnostic points.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// The place.
    pub span: Span,
    /// What is said about it (may be empty).
    pub message: String,
    /// The primary label is underlined with `^`, others with `-`.
    pub primary: bool,
}

/// A compile-time message: a code, a message, labelled places and notes.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable code such as `E1001`.
    pub code: &'static str,
    /// One line saying what is wrong.
    pub message: String,
    /// The places involved; the first primary label is the main location.
    pub labels: Vec<Label>,
    /// Extra lines, rendered as `= help: ...` or `= note: ...`.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A new error with no labels yet.
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, code, message: message.into(), labels: Vec::new(), notes: Vec::new() }
    }

    /// A new warning with no labels yet.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }

    /// Adds the primary label.
    pub fn primary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into(), primary: true });
        self
    }

    /// Adds a secondary label.
    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into(), primary: false });
        self
    }

    /// Adds a `help:` line.
    pub fn help(mut self, text: impl Into<String>) -> Diagnostic {
        self.notes.push(format!("help: {}", text.into()));
        self
    }

    /// Adds a `note:` line.
    pub fn note(mut self, text: impl Into<String>) -> Diagnostic {
        self.notes.push(format!("note: {}", text.into()));
        self
    }

    /// The main location, if the diagnostic has one.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).map(|l| l.span)
    }

    fn to_codespan(&self, map: &SourceMap) -> cs::Diagnostic<usize> {
        let severity = match self.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
        };
        let labels = self
            .labels
            .iter()
            .map(|l| {
                let style = if l.primary { cs::LabelStyle::Primary } else { cs::LabelStyle::Secondary };
                let file = map.file_id_of(l.span);
                let range = map.get(file).local_range(l.span);
                cs::Label::new(style, file.0 as usize, range).with_message(&l.message)
            })
            .collect();
        cs::Diagnostic::new(severity)
            .with_code(self.code)
            .with_message(&self.message)
            .with_labels(labels)
            .with_notes(self.notes.clone())
    }
}

/// Renders diagnostics the way rustc shows them: the message, then the
/// source line with the span underlined. `color` adds ANSI colours.
pub fn render(map: &SourceMap, diagnostics: &[Diagnostic], color: bool) -> String {
    let mut files = SimpleFiles::new();
    for file in map.files() {
        files.add(file.name(), file.text());
    }
    let config = term::Config { chars: term::Chars::ascii(), ..term::Config::default() };
    let mut out = String::new();
    for diagnostic in diagnostics {
        let diagnostic = diagnostic.to_codespan(map);
        let rendered = if color {
            let mut buffer = term::termcolor::Buffer::ansi();
            term::emit_to_write_style(&mut buffer, &config, &files, &diagnostic)
                .map(|()| String::from_utf8_lossy(buffer.as_slice()).into_owned())
        } else {
            term::emit_into_string(&config, &files, &diagnostic)
        };
        // Rendering only fails for spans outside the file, which would be a
        // bug in a phase; fall back to the bare message rather than lose it.
        out.push_str(
            &rendered.unwrap_or_else(|_| {
                format!("error[{}]: {}\n", diagnostic.code.unwrap_or_default(), diagnostic.message)
            }),
        );
    }
    out
}
