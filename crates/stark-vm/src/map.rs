//! `HashMap` lookups and inserts on values (a key by value, never a
//! place), shared by the map natives (`native.rs`) and the instructions
//! the optimiser makes of them (`MapGetV`, `MapHasV`, `MapPutV`).

use crate::deep;
use crate::heap::{Heap, Obj};
use crate::program::{LayoutKind, Program, Slot};
use crate::value::Value;

/// The key and value slots of map `m`; `None` if `m` is not a map.
pub fn slots(heap: &Heap, prog: &Program, m: Value) -> Option<(Slot, Slot)> {
    match heap.get(m.as_handle()) {
        Obj::Map { layout, .. } => match prog.layout(*layout).kind {
            LayoutKind::Map { key, value } => Some((key, value)),
            _ => None,
        },
        _ => None,
    }
}

/// The position of the entry for `key` in map `m`, and the map's value
/// slot; `None` if `m` is not a map.
pub fn find(heap: &Heap, prog: &Program, m: Value, key: Value) -> Option<(Option<usize>, Slot)> {
    let (kslot, vslot) = slots(heap, prog, m)?;
    let probe = deep::probe(heap, prog, key, kslot);
    let Obj::Map { map, .. } = heap.get(m.as_handle()) else { return None };
    Some((map.find(probe.hash(), &probe), vslot))
}

/// `HashMap::get` unboxed (`MapGetRaw`): an owned value itself, a place
/// reference to any other, or `NONE`; `None` if `m` is not a map.
pub fn get_raw(heap: &Heap, prog: &Program, m: Value, key: Value) -> Option<Value> {
    let (found, vslot) = find(heap, prog, m, key)?;
    let Obj::Map { map, .. } = heap.get(m.as_handle()) else { return None };
    Some(match (found, vslot) {
        (None, _) => Value::NONE,
        (Some(i), Slot::Owned(_)) => map.at(i).1,
        (Some(i), _) => Value { bits: m.as_handle() as u64, ext: i as u64 },
    })
}

/// `HashMap::insert` of `k` and `v`, both moved in: the value it
/// replaced, if any, and the map's value slot; `None` if `m` is not a
/// map. A replaced entry keeps its stored key (the supplied duplicate is
/// destroyed).
pub fn insert(heap: &mut Heap, prog: &Program, m: Value, k: Value, v: Value) -> Option<(Option<Value>, Slot)> {
    let (kslot, vslot) = slots(heap, prog, m)?;
    let probe = deep::probe(heap, prog, k, kslot);
    let Obj::Map { map, .. } = heap.get(m.as_handle()) else { return None };
    // A read-modify-write inserts the key it just looked up.
    let (found, hash) = match map.find_again(&probe) {
        Some(i) => (Some(i), 0),
        None => {
            let hash = probe.hash();
            (map.find(hash, &probe), hash)
        }
    };
    let key = if found.is_none() { Some(probe.into_key()) } else { None };
    let Obj::Map { map, .. } = heap.get_mut(m.as_handle()) else { return None };
    let old = match (found, key) {
        (Some(i), _) => Some(std::mem::replace(&mut map.at_mut(i).1, v)),
        (None, Some(key)) => {
            map.push(hash, key, (k, v));
            None
        }
        (None, None) => None,
    };
    if old.is_some() && matches!(kslot, Slot::Owned(_)) {
        heap.free(prog, k);
    }
    Some((old, vslot))
}
