//! `HashMap` lookups and inserts on values (a key by value, never a
//! place), shared by the map natives (`native.rs`) and the instructions
//! the optimiser makes of them (`MapGetV`, `MapHasV`, `MapPutV`).

use crate::deep;
use crate::heap::{Heap, KeyMap, Obj};
use crate::keymap::find;
use crate::program::{LayoutKind, Program, Slot};
use crate::trap::Fault;
use crate::value::Value;

/// A map's table with its key and value slots.
type Table<'h> = (&'h KeyMap<(Value, Value)>, Slot, Slot);

/// The table of map `m` and its key and value slots; `None` if `m` is
/// not a map.
pub fn table<'h>(heap: &'h Heap, prog: &Program, m: Value) -> Option<Table<'h>> {
    match heap.get(m.as_handle()) {
        Obj::Map { layout, map } => match prog.layout(*layout).kind {
            LayoutKind::Map { key, value } => Some((map, key, value)),
            _ => None,
        },
        _ => None,
    }
}

/// The fault of a map operation on a value that is not a map (a bug in
/// the bytecode, never a program's).
pub fn not_a_map() -> Fault {
    Fault::new("internal error: a map operation on a value that is not a map")
}

/// Whether map `m` has an entry for `key`; `None` if `m` is not a map.
pub fn contains(heap: &Heap, prog: &Program, m: Value, key: Value) -> Option<bool> {
    let (map, kslot, _) = table(heap, prog, m)?;
    let probe = deep::probe(heap, prog, key, kslot);
    Some(find(map, heap, prog, &probe, kslot).is_some())
}

/// `HashMap::get` unboxed (`MapGetRaw`): an owned value itself, a place
/// reference to any other, or `NONE`; `None` if `m` is not a map.
pub fn get_raw(heap: &Heap, prog: &Program, m: Value, key: Value) -> Option<Value> {
    let mut v = Value::NONE;
    get_raw_into(heap, prog, m, key, &mut v).then_some(v)
}

/// [`get_raw`] written straight into `out` (a register) as one 16-byte
/// store; false, writing nothing, if `m` is not a map. (An
/// `Option<Value>` is returned through memory, and the interpreter's
/// 16-byte read of it stalled on the two 8-byte writes behind it.)
pub fn get_raw_into(heap: &Heap, prog: &Program, m: Value, key: Value, out: &mut Value) -> bool {
    let Some((map, kslot, vslot)) = table(heap, prog, m) else { return false };
    let probe = deep::probe(heap, prog, key, kslot);
    let v = match (find(map, heap, prog, &probe, kslot), vslot) {
        (None, _) => Value::NONE,
        (Some(i), Slot::Owned(_)) => map.at(i).1,
        (Some(i), _) => Value { bits: m.as_handle() as u64, ext: i as u64 },
    };
    // SAFETY: `out` is a valid, exclusive place.
    unsafe { crate::value::store_value(out, v) };
    true
}

/// `HashMap::insert` of `k` and `v`, both moved in: the value it
/// replaced, if any, and the map's value slot; `None` if `m` is not a
/// map. A replaced entry keeps its stored key (the supplied duplicate is
/// destroyed).
pub fn insert(heap: &mut Heap, prog: &Program, m: Value, k: Value, v: Value) -> Option<(Option<Value>, Slot)> {
    let (map, kslot, vslot) = table(heap, prog, m)?;
    let probe = deep::probe(heap, prog, k, kslot);
    let same = |stored| probe.matches(heap, prog, stored, kslot);
    // A read-modify-write inserts the key it just looked up.
    let (found, hash) = match map.find_again(same) {
        Some(i) => (Some(i), 0),
        None => {
            let hash = probe.hash();
            (map.find(hash, same), hash)
        }
    };
    let Obj::Map { map, .. } = heap.get_mut(m.as_handle()) else { return None };
    let old = match found {
        Some(i) => Some(std::mem::replace(&mut map.at_mut(i).1, v)),
        None => {
            map.push(hash, (k, v));
            None
        }
    };
    if old.is_some() && matches!(kslot, Slot::Owned(_)) {
        heap.free(prog, k);
    }
    Some((old, vslot))
}

/// `insert` whose result is dropped at once (`MapInsertDiscard`): the
/// value it replaces is destroyed. `None` if `m` is not a map.
pub fn insert_discard(heap: &mut Heap, prog: &Program, m: Value, k: Value, v: Value) -> Option<()> {
    if let (Some(old), Slot::Owned(_)) = insert(heap, prog, m, k, v)? {
        heap.free(prog, old);
    }
    Some(())
}
