//! Moving values between tasks. Tasks share no heap: a message, a spawned
//! task's body and a task's result are exported from one heap into a
//! [`Portable`] tree (the source objects are freed: the value moves) and
//! imported into the receiver's heap (ARCHITECTURE.md: "a copy of the
//! object graph; no shared handles"). Runtime objects (channels, task
//! handles) travel as shared handles.

use crate::deep::elem_slot;
use crate::heap::{record_slots, Heap, HostRef, KeyMap, Obj, POOLED_FIELDS};
use crate::program::{LayoutKind, Program, Slot};
use crate::trap::Fault;
use crate::value::{Value, CONST_HANDLE, NONE};

/// Why a `Gc` value cannot be sent (docs/memory.md).
pub const GC_CROSSING: &str =
    "gc error G005: a Gc value cannot move to another task: a Gc graph belongs to the task that made it (send the data, not the Gc)";

/// A value detached from every heap.
#[derive(Clone, Debug)]
pub enum Portable {
    /// A scalar (or an empty owner).
    Scalar(Value),
    /// A `String`.
    Str(String),
    /// A struct, tuple, enum value or closure environment.
    Record { layout: u32, tag: u32, fields: Vec<Portable> },
    /// A `Vec` or array.
    List { layout: u32, items: Vec<Portable> },
    /// A `HashMap`: its table (canonical keys, hashes, order) with the
    /// entries' handles left in place, and the entries in table order.
    Map { layout: u32, map: Box<KeyMap<(Value, Value)>>, entries: Vec<(Portable, Portable)> },
    /// A `HashSet`, likewise.
    Set { layout: u32, set: Box<KeyMap<Value>>, entries: Vec<Portable> },
    /// A runtime object.
    Host(HostRef),
    /// A tensor: its buffer is shared (`Arc`), so no element is copied.
    Tensor(Box<stark_tensor::Tensor>),
    /// A function value and its closure environment's layout and fields
    /// (held here, not boxed: a spawned task's body is one of these).
    Fn { func: u32, env: Option<(u32, Vec<Portable>)> },
}

// Every message and queued task body is one: it stays five words.
const _: () = assert!(std::mem::size_of::<Portable>() == 40);

/// Moves `v` (of kind `slot`) out of `heap`. Function values are `Copy`
/// and their environments may be shared, so a function value's
/// environment is copied, not moved. A scalar (most messages) is wrapped
/// inline, without the call.
#[inline]
pub fn export(heap: &mut Heap, prog: &Program, v: Value, slot: Slot) -> Result<Portable, Fault> {
    match slot {
        Slot::Scalar(_) => Ok(Portable::Scalar(v)),
        _ => export_part(heap, prog, v, slot),
    }
}

/// Moves out the body of a task being spawned: a closure or future made
/// for it, whose environment nothing else holds.
pub fn export_body(heap: &mut Heap, prog: &Program, v: Value) -> Result<Portable, Fault> {
    export_fn(heap, prog, v, true)
}

fn export_fn(heap: &mut Heap, prog: &Program, v: Value, take: bool) -> Result<Portable, Fault> {
    if v.ext == NONE {
        return Ok(Portable::Fn { func: v.bits as u32, env: None });
    }
    let mut env = Value::handle(v.ext as u32);
    if !take {
        let layout = match heap.get(env.as_handle()) {
            Obj::Record { layout, .. } => *layout,
            _ => return Err(Fault::new("internal error: a closure environment that is not a record")),
        };
        env = crate::deep::clone(heap, prog, env, Slot::Owned(layout));
    }
    match export_object(heap, prog, env)? {
        Portable::Record { layout, fields, .. } => {
            Ok(Portable::Fn { func: v.bits as u32, env: Some((layout, fields)) })
        }
        _ => Err(Fault::new("internal error: a closure environment that is not a record")),
    }
}

fn export_part(heap: &mut Heap, prog: &Program, v: Value, slot: Slot) -> Result<Portable, Fault> {
    match slot {
        Slot::Scalar(_) => Ok(Portable::Scalar(v)),
        Slot::Owned(_) if v.bits == NONE => Ok(Portable::Scalar(v)),
        Slot::Owned(_) => export_object(heap, prog, v),
        Slot::Fn => export_fn(heap, prog, v, false),
        // A string literal belongs to the program, which every task shares;
        // a borrowed runtime object (a channel, an actor reference) is shared
        // by design: the other task gets another handle.
        Slot::Shared(_) if v.bits != NONE && v.as_handle() & CONST_HANDLE != 0 => Ok(Portable::Scalar(v)),
        Slot::Shared(_) if v.bits != NONE => match heap.get(v.as_handle()) {
            Obj::Host(h) => Ok(Portable::Host(h.clone())),
            _ => Err(Fault::new("a reference cannot cross to another task")),
        },
        Slot::Shared(_) | Slot::ScalarRef(_) => Err(Fault::new("a reference cannot cross to another task")),
    }
}

fn export_object(heap: &mut Heap, prog: &Program, v: Value) -> Result<Portable, Fault> {
    let h = v.as_handle();
    if h & CONST_HANDLE != 0 {
        return Ok(Portable::Str(heap.string(prog, h).to_string()));
    }
    if matches!(heap.get(h), Obj::Record { layout, .. } if crate::gc::is_cell(prog, *layout)) {
        return Err(Fault::new(GC_CROSSING));
    }
    Ok(match heap.take(h) {
        Obj::Record { layout, tag, fields } => {
            let slots = record_slots(prog, layout, tag);
            let fields = export_all(heap, prog, fields.len(), fields.iter().copied().zip(slots.iter().copied()))?;
            Portable::Record { layout, tag, fields }
        }
        Obj::List { layout, items } => {
            let elem = elem_slot(prog, layout);
            let items = export_all(heap, prog, items.len(), items.iter().map(|i| (*i, elem)))?;
            Portable::List { layout, items }
        }
        Obj::Str(s) => Portable::Str(s),
        Obj::Map { layout, map } => {
            let LayoutKind::Map { key, value } = prog.layout(layout).kind else {
                return Err(Fault::new("internal error: a map without a map layout"));
            };
            let mut entries = Vec::with_capacity(map.len());
            for &(k, v) in map.values() {
                entries.push((export_part(heap, prog, k, key)?, export_part(heap, prog, v, value)?));
            }
            Portable::Map { layout, map, entries }
        }
        Obj::Set { layout, set } => {
            let elem = elem_slot(prog, layout);
            let entries = export_all(heap, prog, set.len(), set.values().map(|v| (*v, elem)))?;
            Portable::Set { layout, set, entries }
        }
        Obj::Host(h) => Portable::Host(h),
        Obj::Tensor(t) => Portable::Tensor(t),
        Obj::Iter { .. } => {
            return Err(Fault::new("an iterator borrows its collection and cannot cross to another task"))
        }
        Obj::Free(_) => return Err(Fault::new("internal error: moving a freed object")),
    })
}

/// Moves out the `n` values, each of the kind beside it, into a vector
/// of exactly that length (`collect` through `Result` would reserve four:
/// a million queued tasks' one-argument bodies would each hold 160 bytes
/// for 40).
fn export_all(
    heap: &mut Heap,
    prog: &Program,
    n: usize,
    values: impl Iterator<Item = (Value, Slot)>,
) -> Result<Vec<Portable>, Fault> {
    let mut out = Vec::with_capacity(n);
    for (v, s) in values {
        out.push(export_part(heap, prog, v, s)?);
    }
    Ok(out)
}

/// Builds `p` in `heap`, giving its value.
pub fn import(heap: &mut Heap, p: Portable) -> Value {
    match p {
        Portable::Scalar(v) => v,
        Portable::Str(s) => heap.new_str(s),
        Portable::Record { layout, tag, fields } if fields.len() <= POOLED_FIELDS => {
            // A message, an `Option`, a `Result`: the heap's pooled storage,
            // no allocation once the task has freed records of this size.
            let mut values = [Value::NONE; POOLED_FIELDS];
            let n = fields.len();
            for (slot, f) in values.iter_mut().zip(fields) {
                *slot = import(heap, f);
            }
            Value::handle(heap.new_record(layout, tag, &values[..n]))
        }
        Portable::Record { layout, tag, fields } => {
            // Built apart (not collected in place over the `Portable`s,
            // which would shrink that buffer with a `realloc`).
            let mut values = Vec::with_capacity(fields.len());
            values.extend(fields.into_iter().map(|f| import(heap, f)));
            let fields = values.into_boxed_slice();
            Value::handle(heap.alloc(Obj::Record { layout, tag, fields }))
        }
        Portable::List { layout, items } => {
            let items = items.into_iter().map(|i| import(heap, i)).collect();
            Value::handle(heap.alloc(Obj::List { layout, items }))
        }
        Portable::Map { layout, mut map, entries } => {
            for (slot, (k, v)) in map.values_mut().zip(entries) {
                *slot = (import(heap, k), import(heap, v));
            }
            Value::handle(heap.alloc(Obj::Map { layout, map }))
        }
        Portable::Set { layout, mut set, entries } => {
            for (slot, e) in set.values_mut().zip(entries) {
                *slot = import(heap, e);
            }
            Value::handle(heap.alloc(Obj::Set { layout, set }))
        }
        Portable::Host(h) => Value::handle(heap.alloc(Obj::Host(h))),
        Portable::Tensor(t) => Value::handle(heap.alloc(Obj::Tensor(t))),
        Portable::Fn { func, env } => {
            let ext = env.map_or(NONE, |(layout, fields)| {
                import(heap, Portable::Record { layout, tag: 0, fields }).as_handle() as u64
            });
            Value { bits: func as u64, ext }
        }
    }
}

/// Moves `Some(value)` or `None`, an `Option` of enum layout `option`,
/// into `heap` (as `import` of [`option`] would, in a recycled shell).
pub fn import_option(heap: &mut Heap, option: u32, value: Option<Portable>) -> Value {
    let h = match value {
        Some(p) => {
            let v = import(heap, p);
            heap.new_record(option, 0, &[v])
        }
        None => heap.new_record(option, 1, &[]),
    };
    Value::handle(h)
}

/// `Some(value)` or `None` of an `Option` whose enum layout is `option`.
pub fn option(option: u32, value: Option<Portable>) -> Portable {
    match value {
        Some(v) => Portable::Record { layout: option, tag: 0, fields: vec![v] },
        None => Portable::Record { layout: option, tag: 1, fields: Vec::new() },
    }
}
