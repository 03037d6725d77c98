//! The host half of maps and sets keyed by a type with its own `Eq` and
//! `Hash`. The standard library's `user_map_*`/`user_set_*` functions
//! (STARK code) hash and compare keys through the user's impls; these
//! natives only list candidate entries by hash and act at a position.
//! Such a table's entries are never probed by `Probe` (only by hash).

use crate::heap::Obj;
use crate::keymap::user_hash;
use crate::native::Cx;
use crate::program::Slot;
use crate::trap::Fault;
use crate::value::Value;

/// A native on a user-keyed table (arguments in order). A position comes
/// from `Candidate` and is checked again, since user code ran since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyedOp {
    /// `(table, hash, from)`: the first entry at or after `from` whose key
    /// hashed to `hash`, or -1.
    Candidate,
    /// `(table, at)`: a reference to the stored key (set element).
    KeyAt,
    /// `(map, hash, key, value)`: adds an entry for a key not present.
    MapPush,
    /// `(map, at)`: `Option<&V>` (or `&mut V`), `None` when `at` is -1.
    MapGet,
    /// `(map, at, value)`: replaces the value, giving the old one.
    MapReplace,
    /// `(map, at)`: removes the entry, giving `(key, value)`.
    MapTake,
    /// `(set, hash, value)`: adds an element not present.
    SetPush,
    /// `(set, at)`: removes the element, giving it.
    SetTake,
}

impl KeyedOp {
    /// How many argument registers the operation reads.
    pub fn reads(self) -> u16 {
        match self {
            KeyedOp::KeyAt | KeyedOp::MapGet | KeyedOp::MapTake | KeyedOp::SetTake => 2,
            KeyedOp::Candidate | KeyedOp::MapReplace | KeyedOp::SetPush => 3,
            KeyedOp::MapPush => 4,
        }
    }
}

fn stale() -> Fault {
    Fault::new("internal error: a user-keyed table changed during a lookup")
}

impl Cx<'_> {
    /// Runs `op`; its result goes to `R[base]`.
    pub(crate) fn keyed_op(&mut self, op: KeyedOp) -> Result<(), Fault> {
        let table = self.arg(0);
        let h = table.as_handle();
        let r = match op {
            KeyedOp::Candidate => {
                let hash = user_hash(self.arg(1).bits);
                let from = self.arg(2).as_int().max(0) as usize;
                let found = match self.task.heap.get(h) {
                    Obj::Map { map, .. } => map.candidate(hash, from),
                    Obj::Set { set, .. } => set.candidate(hash, from),
                    _ => return Err(stale()),
                };
                Value::int(found.map_or(-1, |i| i as i64))
            }
            KeyedOp::KeyAt => {
                let i = self.position()?.ok_or_else(stale)?;
                let (stored, slot) = match self.task.heap.get(h) {
                    Obj::Map { map, .. } => (map.at(i).0, self.map_slots(table).0),
                    Obj::Set { set, .. } => (*set.at(i), self.elem_slot(table)),
                    _ => return Err(stale()),
                };
                // An object key is referenced by its handle; a scalar one
                // through its place in the entry.
                match slot {
                    Slot::Owned(_) => stored,
                    _ => self.key_place(h, i, stored),
                }
            }
            KeyedOp::MapPush | KeyedOp::SetPush => {
                let hash = user_hash(self.arg(1).bits);
                let (x, v) = (self.arg(2), self.arg(3));
                match self.task.heap.get_mut(h) {
                    Obj::Map { map, .. } if op == KeyedOp::MapPush => map.push(hash, (x, v)),
                    Obj::Set { set, .. } => set.push(hash, x),
                    _ => return Err(stale()),
                };
                Value::UNIT
            }
            KeyedOp::MapGet => {
                let at = self.position()?;
                let vslot = self.map_slots(table).1;
                let Obj::Map { map, .. } = self.task.heap.get(h) else { return Err(stale()) };
                let found = at.map(|i| self.item_ref(h, i, map.at(i).1, vslot));
                self.option(found)
            }
            KeyedOp::MapReplace => {
                let (i, v) = (self.position()?.ok_or_else(stale)?, self.arg(2));
                let Obj::Map { map, .. } = self.task.heap.get_mut(h) else { return Err(stale()) };
                std::mem::replace(&mut map.at_mut(i).1, v)
            }
            KeyedOp::MapTake => {
                let i = self.position()?.ok_or_else(stale)?;
                let Obj::Map { map, .. } = self.task.heap.get_mut(h) else { return Err(stale()) };
                let (k, v) = map.remove_at(i);
                Value::handle(self.task.heap.new_record(self.site.layout, 0, &[k, v]))
            }
            KeyedOp::SetTake => {
                let i = self.position()?.ok_or_else(stale)?;
                let Obj::Set { set, .. } = self.task.heap.get_mut(h) else { return Err(stale()) };
                set.remove_at(i)
            }
        };
        self.ret(r);
        Ok(())
    }

    /// Argument 1 as a position: `None` for -1, else a live entry's.
    fn position(&self) -> Result<Option<usize>, Fault> {
        let i = self.arg(1).as_int();
        if i < 0 {
            return Ok(None);
        }
        let live = match self.task.heap.get(self.arg(0).as_handle()) {
            Obj::Map { map, .. } => map.is_live(i as usize),
            Obj::Set { set, .. } => set.is_live(i as usize),
            _ => false,
        };
        if live {
            Ok(Some(i as usize))
        } else {
            Err(stale())
        }
    }
}
