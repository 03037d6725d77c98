//! Supervision trees, after Erlang/OTP. A supervisor holds actors and
//! other supervisors in the order they were added. When a child actor
//! fails and its own policy restarts it, the strategy says which siblings
//! restart with it: none (`OneForOne`), all (`OneForAll`) or those added
//! after it (`RestForOne`). When a child actor is past its restart limit
//! and the supervisor has a parent, the supervisor gives up and its parent
//! restarts it, every child afresh with its limits reset, applying the
//! parent's own strategy to the supervisor's siblings. Without a parent,
//! that one actor stops for good.

use crate::actor::ActorCell;
use crate::host::TaskHost;
use crate::tasks;
use stark_vm::Trap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// `Strategy::OneForOne`, `OneForAll`, `RestForOne`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Strategy {
    OneForOne,
    OneForAll,
    RestForOne,
}

impl Strategy {
    /// The strategy of enum tag `tag`.
    pub fn from_tag(tag: i64) -> Strategy {
        match tag {
            1 => Strategy::OneForAll,
            2 => Strategy::RestForOne,
            _ => Strategy::OneForOne,
        }
    }
}

/// A supervisor.
pub(crate) struct Supervisor {
    strategy: Strategy,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    children: Vec<Child>,
    parent: Option<Weak<Supervisor>>,
}

/// A supervised child.
#[derive(Clone)]
enum Child {
    Actor(Arc<ActorCell>),
    Supervisor(Arc<Supervisor>),
}

impl Child {
    fn is(&self, other: &Child) -> bool {
        match (self, other) {
            (Child::Actor(a), Child::Actor(b)) => Arc::ptr_eq(a, b),
            (Child::Supervisor(a), Child::Supervisor(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Supervisor {
    /// A supervisor with no children yet.
    pub fn new(strategy: Strategy) -> Supervisor {
        Supervisor { strategy, inner: Mutex::new(Inner::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds an actor (before it starts).
    pub fn adopt_actor(self: &Arc<Self>, cell: &Arc<ActorCell>) {
        cell.set_supervisor(Arc::downgrade(self));
        self.lock().children.push(Child::Actor(cell.clone()));
    }

    /// Adds a supervisor below this one.
    pub fn adopt(self: &Arc<Self>, child: Arc<Supervisor>) {
        child.lock().parent = Some(Arc::downgrade(self));
        self.lock().children.push(Child::Supervisor(child));
    }

    /// The siblings of `failed` that the strategy restarts with it.
    fn siblings(&self, failed: &Child) -> Vec<Child> {
        let children = self.lock().children.clone();
        let at = children.iter().position(|c| c.is(failed)).unwrap_or(children.len());
        let chosen = |(i, c): (usize, Child)| match self.strategy {
            Strategy::OneForOne => None,
            Strategy::OneForAll => (i != at).then_some(c),
            Strategy::RestForOne => (i > at).then_some(c),
        };
        children.into_iter().enumerate().filter_map(chosen).collect()
    }

    /// A child failed and is restarting: restart the siblings the strategy names.
    fn child_failed(&self, failed: &Child, why: &str, host: &TaskHost) {
        for sibling in self.siblings(failed) {
            restart(&sibling, why, host);
        }
    }

    /// Child actor `cell` failed and its policy restarts it.
    pub fn actor_restarting(&self, cell: &Arc<ActorCell>, trap: &Trap, host: &TaskHost) {
        let why = format!("{:?}: actor {} failed: {}", self.strategy, cell.name, trap.message);
        self.child_failed(&Child::Actor(cell.clone()), &why, host);
    }

    /// Child actor `cell` is past its restart limit: with a parent, this
    /// supervisor gives up and the parent restarts it (then `cell` is
    /// running again and this says true); without one, false.
    pub fn give_up(self: &Arc<Self>, cell: &Arc<ActorCell>, trap: &Trap, host: &TaskHost) -> bool {
        let Some(parent) = self.lock().parent.as_ref().and_then(Weak::upgrade) else { return false };
        let why = format!("supervisor gave up after actor {} failed: {}", cell.name, trap.message);
        for child in self.lock().children.clone() {
            match &child {
                Child::Actor(c) if Arc::ptr_eq(c, cell) => {
                    if let Some(body) = c.revive() {
                        tasks::spawn_actor(host, c.clone(), body);
                    }
                }
                _ => restart(&child, &why, host),
            }
        }
        parent.child_failed(&Child::Supervisor(self.clone()), &why, host);
        true
    }
}

/// Restarts a child: an actor from its factory, a supervisor's every child.
fn restart(child: &Child, why: &str, host: &TaskHost) {
    match child {
        Child::Actor(cell) => {
            if let Some(body) = cell.kill(why) {
                tasks::spawn_actor(host, cell.clone(), body);
            }
        }
        Child::Supervisor(s) => {
            for c in s.lock().children.clone() {
                restart(&c, why, host);
            }
        }
    }
}
