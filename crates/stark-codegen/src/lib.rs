//! `stark-codegen`: lowers the typed HIR (the checked AST plus the
//! checker's side tables) to the VM's register bytecode. Generic
//! functions are monomorphised on demand, trait calls are dispatched
//! statically, drops are emitted in Core v1's order, and every
//! instruction carries its source line.
//!
//! Constructs the VM cannot run yet are reported as "not supported yet"
//! (E0900) at compile time, never run wrongly.

pub(crate) mod actor;
mod body;
mod call;
mod expr;
mod glue;
mod library;
mod model;
mod pattern;
mod place;
mod select;
mod tensor;
mod types;

use rustc_hash::FxHashMap;
use stark_check::defs::{DefId, DefKind, DefTable, Ns, Res};
use stark_check::items::Items;
use stark_check::lang::Lang;
use stark_check::resolve::Resolutions;
use stark_check::ty::{Ty, TyKind, Types};
use stark_check::typeck::TypeckResults;
use stark_check::Checked;
use stark_syntax::ast::{self, ItemKind};
use stark_syntax::{Diagnostic, SourceMap, Span, Symbol};
use stark_vm::program::{EntryKind, Function, Program};
use types::Subst;

/// Compiles a checked program (one with no errors) to bytecode.
pub fn compile(checked: &mut Checked) -> Result<Program, Vec<Diagnostic>> {
    let Some(typed) = checked.typeck.as_mut() else {
        return Err(vec![Diagnostic::error(
            "E0900",
            "not supported yet: running a program whose types were not checked",
        )]);
    };
    let mut c = Compiler {
        defs: &checked.defs,
        res: &checked.resolutions,
        items: &typed.items,
        results: &typed.results,
        types: &mut typed.types,
        lang: Lang::find(&checked.defs),
        map: &checked.map,
        std_package: checked.packages.len() - 1,
        bodies: FxHashMap::default(),
        local_at: checked.resolutions.locals.iter().enumerate().map(|(i, l)| (l.span, i as u32)).collect(),
        prog: Program::default(),
        instances: FxHashMap::default(),
        glue: FxHashMap::default(),
        call_glue: FxHashMap::default(),
        actor_decls: FxHashMap::default(),
        actor_runs: FxHashMap::default(),
        then_glue: None,
        apply_glue: FxHashMap::default(),
        layouts: FxHashMap::default(),
        variant_layouts: FxHashMap::default(),
        copy_cache: FxHashMap::default(),
        drop_cache: FxHashMap::default(),
        strings: FxHashMap::default(),
        files: FxHashMap::default(),
        jobs: Vec::new(),
        errors: Vec::new(),
        trait_methods: FxHashMap::default(),
    };
    c.prog.layouts.push(stark_vm::Layout { name: "String".into(), kind: stark_vm::LayoutKind::Str });
    for (i, package) in checked.packages.iter().enumerate() {
        c.collect_bodies(&package.program.items, i == c.std_package);
    }
    for (&trait_, t) in &c.items.traits {
        for &(name, def, _) in &t.methods {
            c.trait_methods.insert(def, (trait_, name));
        }
    }
    let Some(main) = c.find_main(checked.root) else {
        return Err(vec![Diagnostic::error("E0901", "the program has no `fn main`")
            .note("`stark run` starts a program at its root module's `main` function")]);
    };
    let entry = c.instance(main, Subst::default());
    c.prog.entry = entry;
    c.prog.entry_kind = c.entry_kind(main);
    while let Some(job) = c.jobs.pop() {
        c.run_job(job);
    }
    if c.errors.is_empty() {
        stark_vm::opt::optimize(&mut c.prog);
        Ok(c.prog)
    } else {
        Err(c.errors)
    }
}

/// A function body and where it sits.
#[derive(Clone, Copy)]
struct BodySrc<'a> {
    decl: &'a ast::FnDecl,
    library: bool,
}

/// Work left to do: a function instance or a closure to compile.
enum Job<'a> {
    Fn { index: u32, def: DefId, subst: Subst },
    Glue { index: u32, ty: Ty },
    Closure { index: u32, closure: body::ClosureJob<'a> },
}

/// The state of compiling one program.
pub(crate) struct Compiler<'a> {
    defs: &'a DefTable,
    res: &'a Resolutions,
    items: &'a Items,
    results: &'a TypeckResults,
    types: &'a mut Types,
    lang: Lang,
    map: &'a SourceMap,
    std_package: usize,
    bodies: FxHashMap<DefId, BodySrc<'a>>,
    local_at: FxHashMap<Span, u32>,
    prog: Program,
    instances: FxHashMap<(DefId, Vec<(Symbol, Ty)>), u32>,
    glue: FxHashMap<Ty, u32>,
    /// The deferred-call glue of each function (`call_glue`).
    call_glue: FxHashMap<u32, u32>,
    /// Each actor's declaration (its fields' defaults).
    pub(crate) actor_decls: FxHashMap<DefId, &'a ast::ActorDecl>,
    /// Each actor's running loop (`actor_run_fn`).
    actor_runs: FxHashMap<DefId, u32>,
    /// The body of `Future::then` (`then_glue`).
    then_glue: Option<u32>,
    /// Deferred calls of function values, by arity (`apply_glue`).
    apply_glue: FxHashMap<u16, u32>,
    layouts: FxHashMap<Ty, u32>,
    variant_layouts: FxHashMap<(Ty, u32), u32>,
    copy_cache: FxHashMap<Ty, bool>,
    drop_cache: FxHashMap<Ty, bool>,
    strings: FxHashMap<String, u32>,
    files: FxHashMap<u32, u32>,
    jobs: Vec<Job<'a>>,
    errors: Vec<Diagnostic>,
    /// Trait methods: their trait and name.
    trait_methods: FxHashMap<DefId, (DefId, Symbol)>,
}

impl<'a> Compiler<'a> {
    fn collect_bodies(&mut self, items: &'a [ast::Item], library: bool) {
        for item in items {
            match &item.kind {
                ItemKind::Fn(f) => self.add_body(f, library),
                ItemKind::Impl(i) => {
                    for it in &i.items {
                        if let ast::ImplItem::Fn(_, f) = it {
                            self.add_body(f, library);
                        }
                    }
                }
                ItemKind::Trait(t) => {
                    for it in &t.items {
                        if let ast::TraitItem::Fn(f) = it {
                            self.add_body(f, library);
                        }
                    }
                }
                ItemKind::Mod(m) => {
                    if let Some(items) = &m.items {
                        self.collect_bodies(items, library);
                    }
                }
                ItemKind::Actor(a) => {
                    if let Some(def) = self.defs.at(a.name.span) {
                        self.actor_decls.insert(def, a);
                    }
                    for h in &a.handlers {
                        self.add_body(h, library);
                    }
                }
                _ => {}
            }
        }
    }

    fn add_body(&mut self, decl: &'a ast::FnDecl, library: bool) {
        if let Some(def) = self.defs.at(decl.name.span) {
            self.bodies.insert(def, BodySrc { decl, library });
            if let Some(body) = &decl.body {
                self.collect_nested(&body.stmts, library);
            }
        }
    }

    /// Functions declared inside function bodies.
    fn collect_nested(&mut self, stmts: &'a [ast::Stmt], library: bool) {
        for stmt in stmts {
            if let ast::StmtKind::Item(item) = &stmt.kind {
                self.collect_bodies(std::slice::from_ref(item), library);
            }
        }
    }

    fn find_main(&self, package: usize) -> Option<DefId> {
        let root = *self.defs.package_roots.get(package)?;
        let binding = self.defs.scope(root)?.ns(Ns::Value).get(&Symbol::intern("main"))?;
        match binding.res {
            Res::Def(def) if self.defs.def(def).kind == DefKind::Fn => Some(def),
            _ => None,
        }
    }

    fn entry_kind(&mut self, main: DefId) -> EntryKind {
        let ret = self.items.fns[&main].ret;
        let shown = self.types.display(ret, self.defs);
        match shown.as_str() {
            "Int32" => EntryKind::Status,
            "Result<(), String>" => EntryKind::ResultUnit,
            "Result<Int32, String>" => EntryKind::ResultStatus,
            _ => EntryKind::Unit,
        }
    }

    /// The function index of `def` at `subst` (compiled later).
    pub(crate) fn instance(&mut self, def: DefId, subst: Subst) -> u32 {
        let mut key: Vec<(Symbol, Ty)> = subst.iter().map(|(&k, &v)| (k, v)).collect();
        key.sort_by_key(|(k, _)| k.as_str());
        if let Some(&i) = self.instances.get(&(def, key.clone())) {
            return i;
        }
        let index = self.new_function(self.display_name(def));
        self.instances.insert((def, key), index);
        self.jobs.push(Job::Fn { index, def, subst });
        index
    }

    /// A new, empty function slot.
    pub(crate) fn new_function(&mut self, name: String) -> u32 {
        self.prog.functions.push(Function { name, ..Function::default() });
        (self.prog.functions.len() - 1) as u32
    }

    /// `name`, or `Type::name` for a method.
    fn display_name(&self, def: DefId) -> String {
        let d = self.defs.def(def);
        match self.defs.owners.get(&def) {
            Some(&owner) => {
                let owner_def = self.defs.def(owner);
                let owner_name = match owner_def.kind {
                    DefKind::Impl => self
                        .items
                        .impl_by_def(owner)
                        .map(|imp| {
                            let ty = imp.self_ty;
                            match self.types.kind(ty) {
                                TyKind::Adt(a, _) => self.defs.def(*a).name.to_string(),
                                _ => self.types.display(ty, self.defs),
                            }
                        })
                        .unwrap_or_default(),
                    _ => owner_def.name.to_string(),
                };
                format!("{owner_name}::{}", d.name)
            }
            None => d.name.to_string(),
        }
    }

    fn run_job(&mut self, job: Job<'a>) {
        match job {
            Job::Fn { index, def, subst } => {
                let Some(src) = self.bodies.get(&def).copied() else {
                    let name = self.display_name(def);
                    self.unsupported(self.defs.def(def).span, &format!("calling `{name}`, which has no body"));
                    return;
                };
                let f = body::compile_fn(self, def, src.decl, subst, src.library);
                self.prog.functions[index as usize] = f;
            }
            Job::Glue { index, ty } => {
                let f = glue::drop_glue(self, ty);
                self.prog.functions[index as usize] = f;
            }
            Job::Closure { index, closure } => {
                let f = body::compile_closure(self, closure);
                self.prog.functions[index as usize] = f;
            }
        }
    }

    /// Reports a construct the VM does not run yet.
    pub(crate) fn unsupported(&mut self, span: Span, what: &str) {
        let diagnostic = Diagnostic::error("E0900", format!("not supported yet: {what}"))
            .primary(span, "the VM cannot run this yet");
        if !self.errors.iter().any(|d| d.message == diagnostic.message) {
            self.errors.push(diagnostic);
        }
    }

    /// The handle of string constant `s`.
    pub(crate) fn string_const(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.strings.get(s) {
            return i | stark_vm::value::CONST_HANDLE;
        }
        let i = self.prog.strings.len() as u32;
        self.prog.strings.push(s.into());
        self.strings.insert(s.to_string(), i);
        i | stark_vm::value::CONST_HANDLE
    }

    /// The file index (for line tables) of a span's file, and the line.
    pub(crate) fn line_of(&mut self, span: Span) -> (u32, u32) {
        let id = self.map.file_id_of(span);
        let file = self.map.get(id);
        let index = match self.files.get(&id.0) {
            Some(&i) => i,
            None => {
                let i = self.prog.files.len() as u32;
                self.prog.files.push(file.name().to_string());
                self.files.insert(id.0, i);
                i
            }
        };
        let (line, _) = file.line_col(span.lo);
        (index, line as u32)
    }
}
