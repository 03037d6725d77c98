//! Loading a program: the entry file, every `mod name;` file it declares
//! (MOD-FILE-001), and the path dependencies of its package manifest.
//! The result is one syntax tree per package, with every file module's
//! items filled into its `mod` declaration, and one `SourceMap`.

use crate::fs::FileSystem;
use crate::manifest::{self, Dependency};
use rustc_hash::FxHashMap;
use stark_syntax::ast::{Item, ItemKind, Program};
use stark_syntax::{Diagnostic, FileId, Mode, SourceFile, SourceMap, Span, Symbol};
use std::path::{Path, PathBuf};

/// The manifest file name.
pub const MANIFEST: &str = "starkpkg.json";

/// How deeply `mod` declarations may nest.
const MAX_MODULE_DEPTH: usize = 128;

/// Identifies a package of the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PkgId(pub u32);

/// One package: its name, its module tree and its dependencies.
#[derive(Debug)]
pub struct Package {
    /// The manifest's name (or the entry file's stem without a manifest).
    pub name: String,
    /// The root module's items, file modules filled in.
    pub program: Program,
    /// Dependencies by local alias.
    pub deps: Vec<(Symbol, PkgId)>,
    /// The entry file.
    pub root_file: FileId,
}

/// A loaded program.
#[derive(Debug)]
pub struct Loaded {
    /// Every source file.
    pub map: SourceMap,
    /// Packages, each after its dependencies.
    pub packages: Vec<Package>,
    /// The package that was asked for.
    pub root: Option<PkgId>,
    /// Problems found while loading and parsing.
    pub diagnostics: Vec<Diagnostic>,
}

/// Loads the program whose entry is `path`: a `.stark` file (the entry of
/// the package whose manifest names it, or a package of its own), or a
/// package directory holding `starkpkg.json`.
pub fn load(path: &Path, fs: &dyn FileSystem, mode: Mode) -> Loaded {
    let mut loader = Loader {
        fs,
        mode,
        map: SourceMap::new(),
        packages: Vec::new(),
        diagnostics: Vec::new(),
        by_root: FxHashMap::default(),
        loading: Vec::new(),
        files: FxHashMap::default(),
    };
    let root = loader.load_entry(path);
    Loaded { map: loader.map, packages: loader.packages, root, diagnostics: loader.diagnostics }
}

/// Loads one file as a snippet (`(Item | Statement)*`): its items stay
/// items, and its statements become the body of a function `snippet`.
pub fn load_snippet(path: &Path, fs: &dyn FileSystem, mode: Mode) -> Loaded {
    use stark_syntax::ast::{Block, FnDecl, Ident, StmtKind};
    let mut map = SourceMap::new();
    let mut diagnostics = Vec::new();
    let name = path.display().to_string();
    let file = match fs.read(path) {
        Ok(bytes) => match SourceFile::from_bytes(name, bytes) {
            Ok(file) => map.add(file),
            Err(err) => {
                map.add(err.file);
                diagnostics.push(err.diagnostic);
                return Loaded { map, packages: Vec::new(), root: None, diagnostics };
            }
        },
        Err(err) => {
            diagnostics.push(Diagnostic::error("E0208", format!("cannot read `{name}`: {}", crate::io_reason(&err))));
            return Loaded { map, packages: Vec::new(), root: None, diagnostics };
        }
    };
    let (stmts, errors) = stark_syntax::parse_snippet(map.get(file), mode);
    diagnostics.extend(errors);
    let mut items = Vec::new();
    let mut body = Vec::new();
    for stmt in stmts {
        match stmt.kind {
            StmtKind::Item(item) => items.push(*item),
            _ => body.push(stmt),
        }
    }
    let span = Span::at(map.get(file).base() as usize);
    let block = Block { stmts: body, tail: None, span };
    let name = Ident { name: Symbol::intern("snippet"), span };
    let decl = FnDecl {
        is_async: false,
        name,
        generics: Vec::new(),
        receiver: None,
        params: Vec::new(),
        ret: None,
        body: Some(block),
        sig_span: span,
    };
    items.push(Item { vis: stark_syntax::ast::Visibility::Inherited, kind: ItemKind::Fn(decl), doc: None, span });
    let program = Program { items };
    let package = Package { name: "snippet".into(), program, deps: Vec::new(), root_file: file };
    Loaded { map, packages: vec![package], root: Some(PkgId(0)), diagnostics }
}

struct Loader<'a> {
    fs: &'a dyn FileSystem,
    mode: Mode,
    map: SourceMap,
    packages: Vec<Package>,
    diagnostics: Vec<Diagnostic>,
    /// Packages already loaded, by canonical root directory.
    by_root: FxHashMap<PathBuf, PkgId>,
    /// Canonical roots of the packages being loaded (to find cycles).
    loading: Vec<PathBuf>,
    /// Canonical paths of the files loaded so far (one module per file).
    files: FxHashMap<PathBuf, Span>,
}

/// Where a package's sources are.
struct PackageSource {
    name: String,
    dir: PathBuf,
    entry: PathBuf,
    deps: Vec<(String, Dependency)>,
}

impl Loader<'_> {
    fn error(&mut self, code: &'static str, message: String, span: Option<Span>, label: &str) {
        let mut diagnostic = Diagnostic::error(code, message);
        if let Some(span) = span {
            diagnostic = diagnostic.primary(span, label);
        }
        self.diagnostics.push(diagnostic);
    }

    fn load_entry(&mut self, path: &Path) -> Option<PkgId> {
        // A `.stark` path is a file even when it is missing, so that the
        // error says the file cannot be read.
        let is_file = self.fs.is_file(path) || path.extension().is_some_and(|e| e == "stark");
        let source = if is_file { self.package_of_file(path)? } else { self.package_in_dir(path, None)? };
        self.load_package(source, None)
    }

    /// The package a file is the entry of: the nearest manifest naming it,
    /// or else a package made of the file alone.
    fn package_of_file(&mut self, file: &Path) -> Option<PackageSource> {
        let canonical = self.fs.canonicalize(file).ok();
        let mut dir = file.parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if self.fs.is_file(&d.join(MANIFEST)) {
                let source = self.package_in_dir(&d, None)?;
                if canonical.is_some() && self.fs.canonicalize(&source.entry).ok() == canonical {
                    return Some(source);
                }
                break;
            }
            dir = d.parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf);
        }
        let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        Some(PackageSource { name, dir, entry: file.to_path_buf(), deps: Vec::new() })
    }

    /// The package whose manifest is in `dir`.
    fn package_in_dir(&mut self, dir: &Path, span: Option<Span>) -> Option<PackageSource> {
        let path = dir.join(MANIFEST);
        let text = match self.fs.read(&path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_owned()),
            Err(err) => Err(crate::io_reason(&err)),
        };
        let manifest = text.and_then(|t| manifest::parse(&t));
        match manifest {
            Ok(m) => Some(PackageSource {
                name: m.name,
                entry: dir.join(&m.entry),
                dir: dir.to_path_buf(),
                deps: m.dependencies,
            }),
            Err(reason) => {
                self.error(
                    "E0230",
                    format!("invalid package manifest `{}`: {reason}", path.display()),
                    span,
                    "needed here",
                );
                None
            }
        }
    }

    fn load_package(&mut self, source: PackageSource, span: Option<Span>) -> Option<PkgId> {
        let canonical_dir = self.fs.canonicalize(&source.dir).unwrap_or_else(|_| source.dir.clone());
        if let Some(&id) = self.by_root.get(&canonical_dir) {
            return Some(id);
        }
        if self.loading.contains(&canonical_dir) {
            let cycle =
                self.loading.iter().chain([&canonical_dir]).map(|p| p.display().to_string()).collect::<Vec<_>>();
            self.error("E0232", format!("package dependency cycle: {}", cycle.join(" -> ")), span, "depends on itself");
            return None;
        }
        self.loading.push(canonical_dir.clone());
        let mut deps = Vec::new();
        for (alias, dependency) in &source.deps {
            if let Some(id) = self.load_dependency(&source, alias, dependency) {
                deps.push((Symbol::intern(alias), id));
            }
        }
        let package = self.load_root_file(&source, &canonical_dir, span).map(|(program, root_file)| Package {
            name: source.name.clone(),
            program,
            deps,
            root_file,
        });
        self.loading.pop();
        let id = PkgId(self.packages.len() as u32);
        self.packages.push(package?);
        self.by_root.insert(canonical_dir, id);
        Some(id)
    }

    fn load_dependency(&mut self, from: &PackageSource, alias: &str, dependency: &Dependency) -> Option<PkgId> {
        let manifest = from.dir.join(MANIFEST);
        match dependency {
            Dependency::Path(rel) => {
                let source = self.package_in_dir(&from.dir.join(rel), None)?;
                self.load_package(source, None)
            }
            Dependency::Registry(_) | Dependency::Git(_) => {
                let message = format!(
                    "not supported yet: dependency `{alias}` in `{}` needs a registry or git source; only `path` dependencies load",
                    manifest.display()
                );
                self.error("E0231", message, None, "");
                None
            }
        }
    }

    fn load_root_file(
        &mut self,
        source: &PackageSource,
        canonical_dir: &Path,
        span: Option<Span>,
    ) -> Option<(Program, FileId)> {
        let (mut program, file) = self.load_file(&source.entry, span)?;
        let module_dir = source.entry.parent().map(Path::to_path_buf).unwrap_or_default();
        self.fill_modules(&mut program.items, &module_dir, canonical_dir, 0);
        Some((program, file))
    }

    /// Reads and parses one file; reports and returns `None` when it cannot.
    fn load_file(&mut self, path: &Path, span: Option<Span>) -> Option<(Program, FileId)> {
        let name = path.display().to_string();
        let bytes = match self.fs.read(path) {
            Ok(bytes) => bytes,
            Err(err) => {
                let reason = crate::io_reason(&err);
                self.error("E0208", format!("cannot read `{name}`: {reason}"), span, "declared here");
                return None;
            }
        };
        let file = match SourceFile::from_bytes(name, bytes) {
            Ok(file) => self.map.add(file),
            Err(err) => {
                // Register the (lossy) text so the diagnostic can show it.
                let base = self.map.files().last().map_or(0, |f| f.base() + f.text().len() as u32 + 1);
                let mut diagnostic = err.diagnostic;
                for label in &mut diagnostic.labels {
                    label.span = Span { lo: label.span.lo + base, hi: label.span.hi + base };
                }
                self.map.add(err.file);
                self.diagnostics.push(diagnostic);
                return None;
            }
        };
        let parsed = stark_syntax::parse(self.map.get(file), self.mode);
        self.diagnostics.extend(parsed.diagnostics);
        Some((parsed.program, file))
    }

    /// Loads every `mod name;` among `items` (and inside inline modules),
    /// `dir` being the directory their files are looked up in.
    fn fill_modules(&mut self, items: &mut [Item], dir: &Path, package_dir: &Path, depth: usize) {
        for item in items {
            let span = item.span;
            let ItemKind::Mod(module) = &mut item.kind else {
                continue;
            };
            let name = module.name.name.as_str();
            let sub_dir = dir.join(name);
            if depth >= MAX_MODULE_DEPTH {
                self.error("E0208", format!("modules nest more than {MAX_MODULE_DEPTH} deep"), Some(span), "too deep");
                continue;
            }
            if module.items.is_none() {
                module.items = self.load_module_file(name, dir, package_dir, span).map(|p| p.items);
            }
            if let Some(items) = &mut module.items {
                self.fill_modules(items, &sub_dir, package_dir, depth + 1);
            }
        }
    }

    /// The file of `mod name;`: `dir/name.stark` or `dir/name/mod.stark`,
    /// exactly one of which must exist, inside the package.
    fn load_module_file(&mut self, name: &str, dir: &Path, package_dir: &Path, span: Span) -> Option<Program> {
        let candidates = [dir.join(format!("{name}.stark")), dir.join(name).join("mod.stark")];
        let found: Vec<&PathBuf> = candidates.iter().filter(|p| self.fs.is_file(p)).collect();
        let path = match found.as_slice() {
            [one] => (*one).clone(),
            [] => {
                let message = format!(
                    "module file for `{name}` not found: expected `{}` or `{}`",
                    candidates[0].display(),
                    candidates[1].display()
                );
                self.error("E0208", message, Some(span), "declared here");
                return None;
            }
            _ => {
                let message = format!(
                    "module `{name}` is ambiguous: both `{}` and `{}` exist",
                    candidates[0].display(),
                    candidates[1].display()
                );
                self.error("E0208", message, Some(span), "declared here");
                return None;
            }
        };
        let canonical = self.fs.canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !canonical.starts_with(package_dir) {
            self.error(
                "E0208",
                format!("module file `{}` is outside its package", path.display()),
                Some(span),
                "declared here",
            );
            return None;
        }
        if let Some(&first) = self.files.get(&canonical) {
            let diagnostic =
                Diagnostic::error("E0208", format!("file `{}` is already a module of this program", path.display()))
                    .primary(span, "declared again here")
                    .secondary(first, "first declared here");
            self.diagnostics.push(diagnostic);
            return None;
        }
        self.files.insert(canonical, span);
        self.load_file(&path, Some(span)).map(|(program, _)| program)
    }
}
