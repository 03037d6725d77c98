//! The flow-sensitive part of ownership checking: what has been moved,
//! which borrows each local carries, and which references dangle. Two
//! paths meet by union: a value moved on either path counts as moved.

use super::place::Place;
use stark_syntax::Span;
use std::collections::{BTreeMap, BTreeSet};

/// A borrow's index in the checker's list.
pub type LoanId = u32;

/// A borrow made somewhere in the body.
#[derive(Clone, Debug)]
pub struct Loan {
    /// What is borrowed.
    pub place: Place,
    /// `&mut` rather than `&`.
    pub mutable: bool,
    /// Where the borrow is made.
    pub span: Span,
    /// The iteration of a `for` loop.
    pub iteration: bool,
}

/// A place moved (or dropped) on some path to here.
#[derive(Clone, Debug, PartialEq)]
pub struct Moved {
    /// The place.
    pub place: Place,
    /// Where it was moved.
    pub span: Span,
    /// Moved by `drop(x)`.
    pub dropped: bool,
}

/// A reference whose referent went out of scope while it held it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dangle {
    /// The borrow it held.
    pub loan: LoanId,
    /// Where the referent was dropped.
    pub at: Span,
}

/// What is true at one point of a body.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// Whether control can reach this point.
    pub reachable: bool,
    /// Places moved on some path here.
    pub moved: Vec<Moved>,
    /// The borrows each local carries (a reference, or a value holding one).
    pub holds: BTreeMap<u32, BTreeSet<LoanId>>,
    /// Locals holding a reference whose referent is gone.
    pub dangling: BTreeMap<u32, Dangle>,
}

impl State {
    /// The state at the start of a body.
    pub fn start() -> State {
        State { reachable: true, moved: Vec::new(), holds: BTreeMap::new(), dangling: BTreeMap::new() }
    }

    /// The state after a jump: nothing holds, since nothing gets here.
    pub fn unreachable() -> State {
        State { reachable: false, ..State::start() }
    }

    /// The state where two paths meet.
    pub fn join(a: State, b: State) -> State {
        if !a.reachable {
            return b;
        }
        if !b.reachable {
            return a;
        }
        let mut out = a;
        for m in b.moved {
            if !out.moved.iter().any(|o| o.place == m.place) {
                out.moved.push(m);
            }
        }
        for (local, loans) in b.holds {
            out.holds.entry(local).or_default().extend(loans);
        }
        for (local, d) in b.dangling {
            out.dangling.entry(local).or_insert(d);
        }
        out
    }

    /// Joins an optional state (a jump that may not have happened).
    pub fn join_opt(a: Option<State>, b: State) -> State {
        match a {
            Some(a) => State::join(a, b),
            None => b,
        }
    }

    /// Every borrow some local carries.
    pub fn held(&self) -> impl Iterator<Item = LoanId> + '_ {
        self.holds.values().flatten().copied()
    }

    /// Forgets a local that goes out of scope or is bound afresh.
    pub fn forget(&mut self, local: u32) {
        self.holds.remove(&local);
        self.dangling.remove(&local);
        self.moved.retain(|m| m.place.local_root() != Some(local));
    }
}
