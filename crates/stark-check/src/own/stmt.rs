//! Blocks and statements: scopes, `let`, jumps, returns (OWN-RETURN-001).

use super::place::Root;
use super::state::{LoanId, State};
use super::{kill, Owner, Prov};
use stark_syntax::ast::{self, StmtKind};
use stark_syntax::{Diagnostic, Span};

impl Owner<'_, '_, '_> {
    /// A block; `fn_body` when it is a function's body, whose value is
    /// returned.
    pub(super) fn block(&mut self, b: &ast::Block, fn_body: bool) -> Prov {
        self.scopes.push(Vec::new());
        for s in &b.stmts {
            self.stmt(s);
        }
        let value = match &b.tail {
            Some(tail) => {
                let mark = self.temps.len();
                let value = self.expr(tail);
                self.temps.truncate(mark);
                self.temps.extend(&value);
                if fn_body {
                    self.check_return(&value, tail.span);
                }
                value
            }
            None => Vec::new(),
        };
        let tail = b.tail.as_ref().filter(|_| !fn_body).map(|t| t.span);
        self.exit_scope(b.span, &value, tail);
        value
    }

    pub(super) fn stmt(&mut self, s: &ast::Stmt) {
        let mark = self.temps.len();
        match &s.kind {
            StmtKind::Empty | StmtKind::Item(_) => {}
            StmtKind::Expr { expr, .. } => {
                self.expr(expr);
            }
            StmtKind::Let(l) => self.let_stmt(l),
            StmtKind::Return(value) => {
                let prov = value.as_ref().map_or(Vec::new(), |v| self.expr(v));
                if let Some(v) = value {
                    self.check_return(&prov, v.span);
                }
                self.state = State::unreachable();
            }
            StmtKind::Break(value) => {
                let prov = value.as_ref().map_or(Vec::new(), |v| self.expr(v));
                if let Some(frame) = self.loops.last_mut() {
                    frame.values.extend(prov.iter().copied());
                }
                self.jump(true, s.span);
                self.check_break_value(&prov, value.as_ref().map_or(s.span, |v| v.span));
            }
            StmtKind::Continue => self.jump(false, s.span),
        }
        self.temps.truncate(mark);
    }

    pub(super) fn let_stmt(&mut self, l: &ast::LetStmt) {
        let Some(&id) = self.cx.env.local_at.get(&l.name.span) else { return };
        let prov = l.init.as_ref().map_or(Vec::new(), |e| self.expr(e));
        if let Some(init) = &l.init {
            self.check_temp_escape(&prov, init.span, self.scopes.len());
        }
        if l.shared {
            self.zones.insert(id);
        }
        self.bind(id, prov);
    }

    /// `break` or `continue`: the state leaves for the loop's exit or head,
    /// without the locals of the blocks it leaves.
    pub(super) fn jump(&mut self, is_break: bool, span: Span) {
        let state = std::mem::replace(&mut self.state, State::unreachable());
        let Some(depth) = self.loops.last().map(|f| f.depth) else { return };
        let mut state = state;
        let leaving: Vec<u32> = self.scopes[depth..].iter().flatten().copied().collect();
        // The locals of the blocks left die at the jump.
        let end = Span { lo: span.lo, hi: span.lo + 1 };
        kill(&mut state, &leaving, end, &self.loans);
        let frame = self.loops.last_mut().expect("inside a loop");
        let slot = if is_break { &mut frame.breaks } else { &mut frame.continues };
        *slot = Some(State::join_opt(slot.take(), state));
    }

    /// A `break` value must not borrow a local of the blocks it leaves.
    pub(super) fn check_break_value(&mut self, prov: &[LoanId], span: Span) {
        let Some(depth) = self.loops.last().map(|f| f.depth) else { return };
        let leaving: Vec<u32> = self.scopes[depth..].iter().flatten().copied().collect();
        for &l in prov {
            let loan = &self.loans[l as usize];
            if let Some(id) = loan.place.local_root().filter(|id| leaving.contains(id) && loan.place.owned_by_root()) {
                let (borrowed, name) = (loan.span, self.name(id));
                let d = Diagnostic::error("E0103", format!("`{name}` does not live long enough"))
                    .primary(span, format!("the loop's value borrows `{name}`"))
                    .secondary(borrowed, format!("`{name}` is borrowed here"))
                    .note(format!("`{name}` is dropped when `break` leaves its block"));
                self.push(d);
                return;
            }
        }
    }

    /// OWN-RETURN-001: a returned reference derives only from reference
    /// parameters.
    pub(super) fn check_return(&mut self, prov: &[LoanId], span: Span) {
        let Some(ret) = self.ret else { return };
        if !self.carrying(ret) || !self.state.reachable {
            return;
        }
        // A closure or a value holding references "borrows"; a reference "refers".
        let prefix = if self.is_ref(ret) { "a reference to" } else { "a value that borrows" };
        for &l in prov {
            let place = self.loans[l as usize].place.clone();
            let what = match place.root {
                Root::Caller(_) => continue,
                Root::Local(_) if !place.owned_by_root() => continue,
                Root::Local(id) if self.params.contains(&id) => {
                    format!("{prefix} parameter `{}`, which is passed by value", self.name(id))
                }
                Root::Local(id) => format!("{prefix} local variable `{}`", self.name(id)),
                Root::Temp(_) => format!("{prefix} a temporary value"),
            };
            let borrowed = self.loans[l as usize].span;
            let mut d = Diagnostic::error("E0103", format!("cannot return {what}")).primary(span, "returned here");
            if borrowed != span {
                d = d.secondary(borrowed, "borrowed here");
            }
            let d = d
                .note("a returned reference must come from a reference parameter (OWN-RETURN-001)")
                .help("return an owned value instead");
            self.push(d);
            return;
        }
    }

    /// A borrow of a temporary bound to a local that outlives it.
    pub(super) fn check_temp_escape(&mut self, prov: &[LoanId], span: Span, holder_depth: usize) {
        for &l in prov {
            let loan = &self.loans[l as usize];
            if let Root::Temp(t) = loan.place.root {
                if loan.place.owned_by_root() && holder_depth <= self.temp_depth[t as usize] {
                    let borrowed = loan.span;
                    let mut d = Diagnostic::error("E0103", "temporary value dropped while borrowed")
                        .primary(borrowed, "this temporary is dropped at the end of the statement")
                        .help("bind the value to a local with `let` first, then borrow the local");
                    if span != borrowed {
                        d = d.secondary(span, "but a borrow of it is kept here");
                    }
                    self.push(d);
                    return;
                }
            }
        }
    }
}
