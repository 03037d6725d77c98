//! `stark-check`: semantic analysis of STARK programs. It loads a program
//! (its files, modules and path dependencies) through the `FileSystem`
//! trait, resolves every name, and reports every problem it finds rather
//! than stopping at the first.
//!
//! Status: loading, name resolution, type checking and ownership and
//! borrow checking are done; constructs the checker does not handle yet are reported as
//! "not supported yet" (E0900), never silently accepted.

pub mod defs;
pub mod fs;
pub mod items;
pub mod lang;
pub mod loader;
pub mod manifest;
mod own;
pub mod resolve;
pub mod ty;
pub mod typeck;
pub mod wf;

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
    /// Whether types were checked (only once names resolve).
    pub types_checked: bool,
    /// The types, when they were checked.
    pub typeck: Option<Typed>,
    /// The parsed packages (the standard library last): with the side
    /// tables, the typed HIR code generation reads.
    pub packages: Vec<Package>,
    /// The index of the program's own (entry) package in `packages`.
    pub root: usize,
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
    analyze(loader::load(entry, fs, mode), true)
}

/// Like [`check`], with the ownership and borrow checker switched on or
/// off (off only to measure what it costs).
pub fn check_with(entry: &Path, fs: &dyn FileSystem, mode: Mode, ownership: bool) -> Checked {
    analyze(loader::load(entry, fs, mode), ownership)
}

/// Checks a file as a block body (statements and items mixed): the mode
/// the Core v1 specification's example harness uses. The statements form
/// the body of one implicit function.
pub fn check_snippet(entry: &Path, fs: &dyn FileSystem, mode: Mode) -> Checked {
    analyze(loader::load_snippet(entry, fs, mode), true)
}

fn analyze(mut loaded: loader::Loaded, ownership: bool) -> Checked {
    let std_file = loaded.map.add(SourceFile::new("<std>", STD_SOURCE));
    let parsed = stark_syntax::parse_library(loaded.map.get(std_file));
    debug_assert!(parsed.diagnostics.is_empty(), "the standard library must parse: {:?}", parsed.diagnostics);
    loaded.diagnostics.extend(parsed.diagnostics);
    let mut checked = Checked {
        map: loaded.map,
        defs: DefTable::default(),
        resolutions: Resolutions::default(),
        diagnostics: loaded.diagnostics,
        types_checked: false,
        typeck: None,
        packages: Vec::new(),
        root: loaded.root.map_or(0, |r| r.0 as usize),
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
    checked.diagnostics.extend(diagnostics);
    // Unresolved names are error types from here on, so checking the rest
    // reports independent problems without cascades.
    {
        let (mut types, common) = ty::Types::new();
        let (items, item_errors) = items::collect(&loaded.packages, &defs, &resolutions, &mut types, common);
        checked.diagnostics.extend(item_errors);
        let root = loaded.root.map_or(0, |r| r.0 as usize);
        checked.diagnostics.extend(wf::check(&loaded.packages, root, &defs, &resolutions, &items, &mut types));
        let (results, body_errors) =
            typeck::check(&loaded.packages, &defs, &resolutions, &items, &mut types, common, ownership);
        checked.diagnostics.extend(body_errors);
        checked.types_checked = true;
        checked.typeck = Some(Typed { types, items, results });
    }
    // The standard library's own code is the toolchain's: a warning there
    // (a task it spawns and never joins, by design) says nothing to the user.
    let map = &checked.map;
    checked
        .diagnostics
        .retain(|d| d.severity == Severity::Error || d.primary_span().is_none_or(|s| map.file_id_of(s) != std_file));
    checked.defs = defs;
    checked.resolutions = resolutions;
    checked.packages = loaded.packages;
    checked
}

/// The checker's view of types, once names resolve.
#[derive(Debug)]
pub struct Typed {
    /// Every type.
    pub types: ty::Types,
    /// Every item signature.
    pub items: items::Items,
    /// Expression and local types.
    pub results: typeck::TypeckResults,
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
