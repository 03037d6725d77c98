//! Ownership and borrow checking of one body, after its types are known
//! (Core v1's OWN-* rules and the extension's task rules).
//!
//! The analysis walks the typed AST in evaluation order, keeping a
//! flow-sensitive [`State`]: moved places, the borrows each local carries
//! and dangling references. Branches are checked from the same state and
//! joined; loops are run to a fixed point. Borrows are lexical
//! (OWN-REGION-001): a borrow bound to a local lives until the local's
//! block ends (or it is `drop`ped); a borrow made for a call lives through
//! the call (OWN-BORROW-002: there are no two-phase borrows), and longer
//! when the call's result carries it (OWN-CARRY-001).
//!
//! One decision beyond Core v1's letter: when a referent goes out of scope
//! while a longer-lived local still holds a reference to it, that local
//! becomes dangling, and it is the *use* of a dangling local that is
//! reported (E0103), as the founding document's scope example expects.
//!
//! Codes: E0100 use of a moved or dropped value; E0101 a conflicting
//! borrow, or a move out of a borrow, an index or a `Drop` type; E0102 a
//! reference into a task's memory escaping to another task; E0103 a
//! dangling reference; W0010 a future or task local never awaited.

mod call;
mod expr;
mod flow;
mod place;
mod state;
mod stmt;

use crate::items::FnSig;
use crate::ty::{Ty, TyKind};
use crate::typeck::{FnCtxt, TypeckResults};
use place::{Place, Proj, Root};
use rustc_hash::{FxHashMap, FxHashSet};
use stark_syntax::ast;
use stark_syntax::{Diagnostic, Span};
use state::{Dangle, Loan, LoanId, Moved, State};

/// The borrows a value carries.
type Prov = Vec<LoanId>;

/// Checks the body of `f` (its types already checked without errors).
pub(crate) fn check_fn(
    cx: &mut FnCtxt<'_, '_>,
    results: &TypeckResults,
    f: &ast::FnDecl,
    body: &ast::Block,
    sig: &FnSig,
) -> Vec<Diagnostic> {
    let mut owner = Owner::new(cx, results, Some(sig.ret));
    // The library's own bodies hand what their callers gave them to tasks
    // (`parallel_map`'s function): the callers' arguments were checked.
    let defs = owner.cx.env.defs;
    owner.library =
        defs.at(f.name.span).is_some_and(|d| defs.def(d).package.0 as usize == defs.package_roots.len() - 1);
    owner.scopes.push(Vec::new());
    // An actor's fields live on across messages: a handler may use and
    // change them but not move them out.
    if let Some(def) = defs.at(f.name.span) {
        for adt in owner.cx.env.items.adts.values() {
            if let crate::items::AdtKind::Actor { fields, handlers } = &adt.kind {
                if handlers.iter().any(|&(_, h)| h == def) {
                    let local_at = &owner.cx.env.local_at;
                    owner.captured =
                        fields.iter().filter_map(|(field, _, _)| local_at.get(&field.span).copied()).collect();
                    owner.actor_handler = true;
                }
            }
        }
    }
    let receiver = f.receiver.map(|r| r.span);
    for span in receiver.into_iter().chain(f.params.iter().map(|p| p.name.span)) {
        if let Some(&id) = owner.cx.env.local_at.get(&span) {
            owner.param(id, span);
        }
    }
    owner.temps.clear();
    owner.block(body, true);
    owner.exit_scope(body.span, &[], None);
    owner.diagnostics
}

/// What an access does to a place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Reads (copies) it.
    Read,
    /// Assigns it.
    Write,
    /// Moves it out.
    Move,
    /// Moves it into `drop`.
    Drop,
    /// Borrows it with `&`.
    Shared,
    /// Borrows it with `&mut`.
    Mut,
}

/// A loop being checked: the states its jumps leave with.
struct LoopFrame {
    /// How many scopes were open when the loop began.
    depth: usize,
    breaks: Option<State>,
    continues: Option<State>,
    /// What the values of its `break`s carry (the value of a `loop`).
    values: Vec<LoanId>,
}

/// The checker of one body.
struct Owner<'o, 'a, 'b> {
    cx: &'o mut FnCtxt<'a, 'b>,
    results: &'o TypeckResults,
    /// Every borrow made so far.
    loans: Vec<Loan>,
    /// Each borrow by what it borrows, how, and where.
    loan_ids: FxHashMap<(Place, bool, Span), LoanId>,
    /// Each temporary by where it is made.
    temp_ids: FxHashMap<Span, u32>,
    /// Borrows held by temporaries of the statements being evaluated.
    temps: Vec<LoanId>,
    /// For each temporary root: the scope depth of its statement.
    temp_depth: Vec<usize>,
    state: State,
    /// The locals declared in each open block, innermost last.
    scopes: Vec<Vec<u32>>,
    loops: Vec<LoopFrame>,
    /// The declared return type; `None` inside closures and spawned blocks.
    ret: Option<Ty>,
    params: FxHashSet<u32>,
    /// `shared let` zones, which tasks share without moving them.
    zones: FxHashSet<u32>,
    /// Locals moved somewhere (for the never-awaited warning).
    consumed: FxHashSet<u32>,
    /// The captures of the closure body being checked: a closure may be
    /// called more than once, so it cannot move them out.
    captured: FxHashSet<u32>,
    /// Checking the standard library's own code.
    library: bool,
    /// Checking an actor's handler (`captured` are its fields).
    actor_handler: bool,
    diagnostics: Vec<Diagnostic>,
    reported: FxHashSet<Span>,
}

impl<'o, 'a, 'b> Owner<'o, 'a, 'b> {
    fn new(cx: &'o mut FnCtxt<'a, 'b>, results: &'o TypeckResults, ret: Option<Ty>) -> Self {
        Owner {
            cx,
            results,
            loans: Vec::new(),
            loan_ids: FxHashMap::default(),
            temp_ids: FxHashMap::default(),
            temps: Vec::new(),
            temp_depth: Vec::new(),
            state: State::start(),
            scopes: Vec::new(),
            loops: Vec::new(),
            ret,
            params: FxHashSet::default(),
            zones: FxHashSet::default(),
            consumed: FxHashSet::default(),
            captured: FxHashSet::default(),
            library: false,
            actor_handler: false,
            diagnostics: Vec::new(),
            reported: FxHashSet::default(),
        }
    }

    // ----- Types -----

    fn ty(&self, e: &ast::Expr) -> Ty {
        match (self.results.expr_types.get(&e.span), &e.kind) {
            (Some(&t), _) => t,
            (None, ast::ExprKind::Paren(inner)) => self.ty(inner),
            _ => self.cx.env.common.err,
        }
    }

    fn local_ty(&self, id: u32) -> Ty {
        self.results.local_types.get(&id).copied().unwrap_or(self.cx.env.common.err)
    }

    fn is_copy(&mut self, ty: Ty) -> bool {
        self.cx.is_copy_ty(ty)
    }

    /// OWN-CARRY-001: whether values of `ty` may carry borrows: references,
    /// function values (closures capture), the library's borrowed views,
    /// and anything built from them.
    fn carrying(&self, ty: Ty) -> bool {
        self.carrying_depth(ty, 0)
    }

    fn carrying_depth(&self, ty: Ty, depth: u32) -> bool {
        if depth > 16 {
            return false;
        }
        match self.cx.types.kind(ty) {
            TyKind::Ref { .. } | TyKind::Fn(..) | TyKind::Slice(_) => true,
            TyKind::Tuple(items) => items.iter().any(|&t| self.carrying_depth(t, depth + 1)),
            TyKind::Array(elem, _) => self.carrying_depth(*elem, depth + 1),
            // A future holds its call's arguments until it runs; channels
            // and actor references are handles, whose values cannot be
            // references (they cross tasks).
            TyKind::Adt(def, args) => {
                let lang = self.cx.env.lang;
                if [lang.channel, lang.broadcast_channel, lang.actor_ref].contains(&Some(*def)) {
                    return false;
                }
                lang.is_view(*def)
                    || Some(*def) == lang.future
                    || args.iter().any(|&t| self.carrying_depth(t, depth + 1))
            }
            _ => false,
        }
    }

    /// `Future<T>` or `Task<T>`.
    fn is_future(&self, ty: Ty) -> bool {
        let lang = self.cx.env.lang;
        matches!(self.cx.types.kind(ty), TyKind::Adt(def, _) if Some(*def) == lang.future || Some(*def) == lang.task)
    }

    fn name(&self, id: u32) -> &'static str {
        self.cx.env.res.locals.get(id as usize).map_or("?", |l| l.name.as_str())
    }

    fn describe(&self, place: &Place) -> String {
        place.describe(&self.cx.env.res.locals)
    }

    // ----- Borrows -----

    /// Records a borrow, held by the current statement until bound.
    /// The same borrow made again (a loop checked once more) is the same
    /// loan, so that loops reach their fixed point.
    fn new_loan(&mut self, place: Place, mutable: bool, span: Span) -> LoanId {
        let key = (place, mutable, span);
        let id = match self.loan_ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.loans.len() as LoanId;
                self.loans.push(Loan { place: key.0.clone(), mutable, span, iteration: false });
                self.loan_ids.insert(key, id);
                id
            }
        };
        self.temps.push(id);
        id
    }

    /// The temporary made at `span`, dropped at the end of its statement.
    fn new_temp(&mut self, span: Span) -> Place {
        let depth = self.scopes.len();
        let next = self.temp_depth.len() as u32;
        let id = *self.temp_ids.entry(span).or_insert(next);
        if id == next {
            self.temp_depth.push(depth);
        }
        Place { root: Root::Temp(id), proj: Vec::new() }
    }

    /// Whether a borrow is live: held by a temporary or by a local in scope.
    fn live(&self) -> Vec<LoanId> {
        let mut live: Vec<LoanId> = self.temps.clone();
        live.extend(self.state.held());
        live
    }

    /// The borrows a value read from `place` carries.
    fn carried(&self, place: &Place) -> Prov {
        place.local_root().and_then(|id| self.state.holds.get(&id)).map_or(Vec::new(), |s| s.iter().copied().collect())
    }

    /// The local that holds `loan`, if one does.
    fn holder(&self, loan: LoanId) -> Option<u32> {
        self.state.holds.iter().find(|(_, ls)| ls.contains(&loan)).map(|(&id, _)| id)
    }

    // ----- Accesses -----

    /// Checks an access to `place` against moves, dangling references and
    /// live borrows.
    fn access(&mut self, place: &Place, kind: Access, span: Span) {
        if !self.state.reachable {
            return;
        }
        if let Some(m) = self.moved_conflict(place, kind) {
            return self.report_moved(place, kind, span, m);
        }
        if kind != Access::Write {
            if let Some(d) = place.local_root().and_then(|id| self.state.dangling.get(&id).copied()) {
                return self.report_dangling(place, span, d);
            }
        }
        for loan in self.live() {
            let l = &self.loans[loan as usize];
            let conflicts = l.mutable || !matches!(kind, Access::Read | Access::Shared);
            // Re-pointing a reference leaves what it pointed to borrowed,
            // not the reference: `cur = &n.next` while `*cur` is matched.
            let behind = l.place.proj.get(place.proj.len()) == Some(&Proj::Deref);
            if kind == Access::Write && behind && place.contains(&l.place) {
                continue;
            }
            if conflicts && l.place.overlaps(place) {
                return self.report_conflict(place, kind, span, loan);
            }
        }
    }

    fn moved_conflict(&self, place: &Place, kind: Access) -> Option<Moved> {
        self.state
            .moved
            .iter()
            .find(|m| match kind {
                // Assigning a whole moved place re-initialises it; assigning
                // into one does not.
                Access::Write => m.place.contains(place) && m.place != *place,
                _ => m.place.overlaps(place),
            })
            .cloned()
    }

    /// Moves `place` out (by `drop` when `dropped`), giving what it carries.
    fn move_out(&mut self, place: Place, span: Span, dropped: bool) -> Prov {
        if place.through_deref() {
            self.error(
                "E0101",
                span,
                format!("cannot move out of `{}`, which is behind a reference", self.describe(&place)),
                "value moved here",
                Some("borrow it with `&`, or use `.clone()` to copy it"),
            );
            return self.carried(&place);
        }
        if place.through_index() {
            self.error(
                "E0101",
                span,
                format!("cannot move out of the indexed place `{}`", self.describe(&place)),
                "value moved here",
                Some("borrow the element with `&`, clone it, or take it out with a method such as `remove` or `pop`"),
            );
            return self.carried(&place);
        }
        if let Some(id) = place.local_root().filter(|id| self.captured.contains(id)) {
            let name = self.name(id);
            let message = if self.actor_handler {
                format!("cannot move the actor's field `{name}` out: it lives on for the next message")
            } else {
                format!("cannot move `{name}` out of the closure: a closure may be called more than once")
            };
            self.error("E0101", span, message, "moved out here", Some("clone it, or borrow it"));
            return self.carried(&place);
        }
        self.access(&place, if dropped { Access::Drop } else { Access::Move }, span);
        let Some(id) = place.local_root() else { return Vec::new() };
        self.consumed.insert(id);
        let prov = if place.proj.is_empty() {
            self.state.holds.remove(&id).map_or(Vec::new(), |s| s.into_iter().collect())
        } else {
            self.carried(&place)
        };
        if self.state.reachable && !self.state.moved.iter().any(|m| m.place.contains(&place)) {
            self.state.moved.push(Moved { place, span, dropped });
        }
        prov
    }

    /// Borrows a place (`&p`, `&mut p`, an auto-borrowed receiver).
    fn borrow_place(&mut self, place: Place, mutable: bool, span: Span) -> Prov {
        self.access(&place, if mutable { Access::Mut } else { Access::Shared }, span);
        let mut prov = self.carried(&place);
        prov.push(self.new_loan(place, mutable, span));
        prov
    }

    /// Uses the value in `place`: a copy, a reborrow of a `&mut`, or a move.
    fn use_place(&mut self, place: Place, ty: Ty, span: Span) -> Prov {
        if self.is_copy(ty) {
            self.access(&place, Access::Read, span);
            return self.carried(&place);
        }
        if matches!(self.cx.types.kind(ty), TyKind::Ref { mutable: true, .. }) {
            // A `&mut` passed on is reborrowed: the original stays usable
            // once the new borrow ends.
            return self.borrow_place(place.with(Proj::Deref), true, span);
        }
        self.move_out(place, span, false)
    }

    // ----- Scopes -----

    /// Binds a parameter: what it carries is the caller's.
    fn param(&mut self, id: u32, span: Span) {
        self.params.insert(id);
        self.declare(id);
        if self.carrying(self.local_ty(id)) {
            let loan = self.new_loan(Place { root: Root::Caller(id), proj: Vec::new() }, false, span);
            self.state.holds.entry(id).or_default().insert(loan);
        }
    }

    /// Binds a local afresh in the innermost scope.
    fn declare(&mut self, id: u32) {
        self.state.forget(id);
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(id);
        }
    }

    /// Binds a local carrying `prov`.
    fn bind(&mut self, id: u32, prov: Prov) {
        self.declare(id);
        if !prov.is_empty() && self.carrying(self.local_ty(id)) {
            self.state.holds.entry(id).or_default().extend(prov);
        }
    }

    /// Ends the innermost scope at the end of `span`: its locals die, the
    /// references still held to them dangle, and a block value (`tail`,
    /// with the borrows `value` carries) must not borrow them.
    fn exit_scope(&mut self, span: Span, value: &[LoanId], tail: Option<Span>) {
        let dying = self.scopes.pop().unwrap_or_default();
        let end = Span { lo: span.hi.saturating_sub(1), hi: span.hi };
        for &id in &dying {
            self.warn_unawaited(id);
        }
        if let Some(tail) = tail {
            for &l in value {
                let loan = &self.loans[l as usize];
                if let Some(id) = loan.place.local_root().filter(|id| dying.contains(id) && loan.place.owned_by_root())
                {
                    let (borrowed, name) = (loan.span, self.name(id));
                    let d = Diagnostic::error("E0103", format!("`{name}` does not live long enough"))
                        .primary(tail, format!("this value borrows `{name}`"))
                        .secondary(borrowed, format!("`{name}` is borrowed here"))
                        .secondary(end, format!("`{name}` is dropped here, while still borrowed"));
                    self.push(d);
                }
            }
        }
        let loans = &self.loans;
        kill(&mut self.state, &dying, end, loans);
        self.temps.retain(|&l| !dies(&loans[l as usize], &dying));
    }

    /// A future or task local that goes out of scope never consumed.
    fn warn_unawaited(&mut self, id: u32) {
        if self.params.contains(&id) || self.consumed.contains(&id) || !self.is_future(self.local_ty(id)) {
            return;
        }
        let Some(local) = self.cx.env.res.locals.get(id as usize) else { return };
        let (span, name) = (local.span, local.name.as_str());
        let d = Diagnostic::warning("W0010", format!("unused `{name}`: it is dropped without being awaited"))
            .primary(span, "this future or task is never awaited, joined or spawned")
            .help("write `.await` (or `await e`), or `spawn` it to run concurrently; a task's failure is lost unless it is joined");
        self.push(d);
    }

    // ----- Diagnostics -----

    fn push(&mut self, d: Diagnostic) {
        if let Some(span) = d.primary_span() {
            if !self.reported.insert(span) {
                return;
            }
        }
        self.diagnostics.push(d);
    }

    fn error(&mut self, code: &'static str, span: Span, message: String, label: &str, help: Option<&str>) {
        if !self.state.reachable {
            return;
        }
        let mut d = Diagnostic::error(code, message).primary(span, label);
        if let Some(help) = help {
            d = d.help(help);
        }
        self.push(d);
    }

    fn report_moved(&mut self, place: &Place, kind: Access, span: Span, m: Moved) {
        let (what, moved) = (self.describe(place), self.describe(&m.place));
        let message = match (m.dropped, kind) {
            (true, Access::Drop) => format!("`{what}` is dropped twice"),
            (true, _) => format!("use of `{what}` after it was dropped"),
            (false, _) if m.place == *place || m.place.contains(place) => format!("use of moved value `{what}`"),
            (false, _) => format!("use of partially moved value `{what}`"),
        };
        let earlier = if m.span.lo >= span.lo { ", in an earlier iteration of the loop" } else { "" };
        let first = if m.dropped {
            format!("`{moved}` is dropped here{earlier}")
        } else {
            format!("`{moved}` is moved here{earlier}")
        };
        let d = Diagnostic::error("E0100", message)
            .primary(
                span,
                match (kind, m.dropped) {
                    (Access::Drop, _) => "dropped again here",
                    (_, true) => "used here after the drop",
                    _ => "used here after the move",
                },
            )
            .secondary(m.span, first)
            .help("use `.clone()` before the move to keep a copy, or borrow it with `&`");
        self.push(d);
    }

    fn report_dangling(&mut self, place: &Place, span: Span, d: Dangle) {
        let loan = self.loans[d.loan as usize].clone();
        let user = place.local_root().map_or_else(|| self.describe(place), |id| self.name(id).to_string());
        let referent = self.describe(&loan.place);
        let diag = Diagnostic::error("E0103", format!("`{user}` refers to `{referent}`, which no longer exists"))
            .primary(span, format!("`{user}` is used here"))
            .secondary(loan.span, format!("`{referent}` is borrowed here"))
            .secondary(d.at, format!("`{referent}` is dropped here, while still borrowed"))
            .help("declare the value in the same scope as the reference, or outside it");
        self.push(diag);
    }

    fn report_conflict(&mut self, place: &Place, kind: Access, span: Span, loan: LoanId) {
        let l = self.loans[loan as usize].clone();
        let what = self.describe(place);
        let borrowed = self.describe(&l.place);
        let (message, label) = match (kind, l.mutable) {
            (Access::Write | Access::Mut | Access::Move | Access::Drop, _) if l.iteration => {
                (format!("cannot mutate `{what}` while iterating over it"), "mutated here")
            }
            (Access::Mut, true) => {
                (format!("cannot borrow `{what}` as mutable more than once at a time"), "second mutable borrow")
            }
            (Access::Mut, false) => (
                format!("cannot borrow `{what}` as mutable because it is also borrowed as immutable"),
                "mutable borrow here",
            ),
            (Access::Shared, _) => (
                format!("cannot borrow `{what}` as immutable because it is also borrowed as mutable"),
                "immutable borrow here",
            ),
            (Access::Write, _) => (format!("cannot assign to `{what}` while it is borrowed"), "assigned here"),
            (Access::Move, _) => (format!("cannot move out of `{what}` while it is borrowed"), "moved here"),
            (Access::Drop, _) => (format!("cannot drop `{what}` while it is borrowed"), "dropped here"),
            (Access::Read, _) => (format!("cannot use `{what}` while it is mutably borrowed"), "used here"),
        };
        let first = match (l.iteration, l.mutable) {
            (true, _) => format!("`{borrowed}` is borrowed for the iteration here"),
            (false, true) => format!("`{borrowed}` is mutably borrowed here"),
            (false, false) => format!("`{borrowed}` is borrowed here"),
        };
        let mut d = Diagnostic::error("E0101", message).primary(span, label).secondary(l.span, first);
        d = match self.holder(loan) {
            _ if l.iteration => d.note(format!("`{borrowed}` stays borrowed until the loop ends")),
            Some(h) => {
                let name = self.name(h);
                d.note(format!("the borrow is held by `{name}`, which lives until the end of its block"))
                    .help(format!("end the borrow first: put `{name}` in an inner block, or `drop({name})`"))
            }
            None => d.note("a borrow made in an expression lasts until the end of its statement (or call)"),
        };
        self.push(d);
    }
}

/// Whether a borrow dies with one of `dying`.
fn dies(loan: &Loan, dying: &[u32]) -> bool {
    loan.place.owned_by_root() && loan.place.local_root().is_some_and(|id| dying.contains(&id))
}

/// Ends the locals `dying` in `state` at `end`: what they held is
/// released, and other locals' borrows of them dangle.
fn kill(state: &mut State, dying: &[u32], end: Span, loans: &[Loan]) {
    for &id in dying {
        state.forget(id);
    }
    let mut dangles = Vec::new();
    for (&holder, held) in state.holds.iter_mut() {
        held.retain(|&l| {
            let dead = dies(&loans[l as usize], dying);
            if dead {
                dangles.push((holder, Dangle { loan: l, at: end }));
            }
            !dead
        });
    }
    for (holder, d) in dangles {
        state.dangling.entry(holder).or_insert(d);
    }
}
