//! `stark-check`: semantic analysis of STARK programs. It loads a program
//! (its files, modules and path dependencies) through the `FileSystem`
//! trait, resolves every name, and reports every problem it finds rather
//! than stopping at the first.
//!
//! Status: loading and name resolution are done; type checking is next,
//! and `check` says so in its result (`Checked::types_checked`).

pub mod defs;
pub mod fs;
pub mod loader;
pub mod manifest;
pub mod resolve;

use defs::DefTable;
use fs::FileSystem;
use loader::Package;
use resolve::Resolutions;
use stark_syntax::{Diagnostic, Mode, Severity, SourceFile, SourceMap};
use std::path::Path;

/// The standard library's declarations, compiled into the toolchain.
const STD_SOURCE: &str = include_str!("../lib/std.stark");

/// What checking a program found.
#[derive(Debug)]
pub struct Checked {
    /// Every file read, the standard library's included.
    pub map: SourceMap,
    /// Every definition.
    pub defs: DefTable,
    /// What every path names.
    pub resolutions: Resolutions,
    /// Errors and warnings, in the order found.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether types were checked (not yet implemented: always false).
    pub types_checked: bool,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Checks the program whose entry is `entry` (a `.stark` file or a package
/// directory).
pub fn check(entry: &Path, fs: &dyn FileSystem, mode: Mode) -> Checked {
    let mut loaded = loader::load(entry, fs, mode);
    let std_file = loaded.map.add(SourceFile::new("<std>", STD_SOURCE));
    let parsed = stark_syntax::parse_library(loaded.map.get(std_file));
    debug_assert!(
        parsed.diagnostics.is_empty(),
        "the standard library must parse: {:?}",
        parsed.diagnostics
    );
    loaded.diagnostics.extend(parsed.diagnostics);
    let mut checked = Checked {
        map: loaded.map,
        defs: DefTable::default(),
        resolutions: Resolutions::default(),
        diagnostics: loaded.diagnostics,
        types_checked: false,
    };
    // Syntax and loading errors come first: names in a half-read program
    // would only produce follow-on errors.
    if loaded.root.is_none() || checked.has_errors() {
        return checked;
    }
    loaded.packages.push(Package {
        name: "std".into(),
        program: parsed.program,
        deps: Vec::new(),
        root_file: std_file,
    });
    let (defs, resolutions, diagnostics) = resolve::resolve(&loaded.packages);
    checked.defs = defs;
    checked.resolutions = resolutions;
    checked.diagnostics.extend(diagnostics);
    checked
}

/// The reason an I/O error happened, in words.
pub(crate) fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => err.to_string(),
    }
}

#[cfg(test)]
mod tests;
