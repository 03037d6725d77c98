//! Operations that follow an object's layout: copying, comparing,
//! hashing and showing values of built-in types (the standard
//! implementations of `Clone`, `Eq`, `Ord`, `Hash` and `Display` for
//! strings, tuples, arrays, `Vec`, `Option` and the like). The compiler
//! uses them only where no user implementation is involved.

use crate::bytecode::NumTy;
use crate::format;
use crate::heap::{record_slots, Heap, Key, Obj};
use crate::program::{LayoutKind, Program, Slot};
use crate::value::{Value, CONST_HANDLE, NONE};
use std::cmp::Ordering;

/// A deep copy of the value in `slot` (an owned object is copied, all
/// else is copied bitwise).
pub fn clone(heap: &mut Heap, prog: &Program, v: Value, slot: Slot) -> Value {
    match slot {
        Slot::Owned(_) if v.bits != NONE => Value::handle(clone_object(heap, prog, v)),
        _ => v,
    }
}

fn clone_object(heap: &mut Heap, prog: &Program, v: Value) -> u32 {
    let h = v.as_handle();
    if h & CONST_HANDLE != 0 {
        let s = heap.string(prog, h).to_string();
        return heap.new_str(s).as_handle();
    }
    let obj = match heap.get(h) {
        // Cloning a `Gc` copies the reference: one more owner of the cell.
        Obj::Record { layout, .. } if crate::gc::is_cell(prog, *layout) => {
            heap.gc_retain(h);
            return h;
        }
        Obj::Record { layout, tag, fields } => {
            let (layout, tag, fields) = (*layout, *tag, fields.clone());
            let slots = record_slots(prog, layout, tag);
            let fields = fields.iter().zip(slots).map(|(f, s)| clone(heap, prog, *f, *s)).collect();
            Obj::Record { layout, tag, fields }
        }
        Obj::List { layout, items } => {
            let (layout, items) = (*layout, items.clone());
            let elem = elem_slot(prog, layout);
            let items = items.iter().map(|f| clone(heap, prog, *f, elem)).collect();
            Obj::List { layout, items }
        }
        Obj::Str(s) => Obj::Str(s.clone()),
        Obj::Map { layout, map } => {
            let (layout, mut map) = (*layout, map.clone());
            if let LayoutKind::Map { key, value } = prog.layout(layout).kind {
                for (k, v) in map.values_mut() {
                    *k = clone(heap, prog, *k, key);
                    *v = clone(heap, prog, *v, value);
                }
            }
            Obj::Map { layout, map }
        }
        Obj::Set { layout, set } => {
            let (layout, mut set) = (*layout, set.clone());
            let elem = elem_slot(prog, layout);
            for v in set.values_mut() {
                *v = clone(heap, prog, *v, elem);
            }
            Obj::Set { layout, set }
        }
        Obj::Iter { source, pos, end } => Obj::Iter { source: *source, pos: *pos, end: *end },
        // Channels and task handles are shared: a clone is another handle.
        Obj::Host(h) => Obj::Host(h.clone()),
        // A tensor's `clone()` copies its elements (a contiguous copy).
        Obj::Tensor(t) => Obj::Tensor(Box::new(t.deep_clone())),
        Obj::Free(_) => unreachable!("internal error: cloning a freed object"),
    };
    heap.alloc(obj)
}

/// The element slot of a list or set layout.
pub fn elem_slot(prog: &Program, layout: u32) -> Slot {
    match prog.layout(layout).kind {
        LayoutKind::List { elem, .. } | LayoutKind::Set { elem } => elem,
        _ => Slot::Scalar(NumTy::Unit),
    }
}

/// Compares two values of one slot kind (the standard `Ord`).
pub fn cmp(heap: &Heap, prog: &Program, a: Value, b: Value, slot: Slot) -> Ordering {
    match slot {
        Slot::Scalar(ty) => cmp_scalar(a, b, ty),
        Slot::ScalarRef(ty) => cmp_scalar(a, b, ty),
        Slot::Fn => a.bits.cmp(&b.bits),
        Slot::Owned(l) | Slot::Shared(l) => cmp_objects(heap, prog, a, b, l),
    }
}

/// Compares two scalars of type `ty` (NaN compares as equal here; the
/// float operators never come this way).
pub fn cmp_scalar(a: Value, b: Value, ty: NumTy) -> Ordering {
    match ty {
        NumTy::I8 | NumTy::I16 | NumTy::I32 | NumTy::I64 => a.as_int().cmp(&b.as_int()),
        NumTy::F32 => a.as_f32().partial_cmp(&b.as_f32()).unwrap_or(Ordering::Equal),
        NumTy::F64 => a.as_f64().partial_cmp(&b.as_f64()).unwrap_or(Ordering::Equal),
        _ => a.bits.cmp(&b.bits),
    }
}

fn cmp_objects(heap: &Heap, prog: &Program, a: Value, b: Value, layout: u32) -> Ordering {
    match &prog.layout(layout).kind {
        LayoutKind::Str => {
            heap.str_slice(prog, as_slice(heap, prog, a)).cmp(heap.str_slice(prog, as_slice(heap, prog, b)))
        }
        LayoutKind::List { elem, .. } => {
            let (x, y) = (list_view(heap, a), list_view(heap, b));
            for (p, q) in x.iter().zip(y) {
                match cmp(heap, prog, *p, *q, *elem) {
                    Ordering::Equal => {}
                    other => return other,
                }
            }
            x.len().cmp(&y.len())
        }
        LayoutKind::Record { fields, .. } => {
            let (x, y) = (heap.fields(a.as_handle()), heap.fields(b.as_handle()));
            for ((p, q), s) in x.iter().zip(y).zip(fields) {
                match cmp(heap, prog, *p, *q, *s) {
                    Ordering::Equal => {}
                    other => return other,
                }
            }
            Ordering::Equal
        }
        LayoutKind::Enum { variants } => {
            let (ta, tb) = (tag(heap, a), tag(heap, b));
            if ta != tb {
                return ta.cmp(&tb);
            }
            let (x, y) = (heap.fields(a.as_handle()), heap.fields(b.as_handle()));
            for ((p, q), s) in x.iter().zip(y).zip(&variants[ta as usize].1) {
                match cmp(heap, prog, *p, *q, *s) {
                    Ordering::Equal => {}
                    other => return other,
                }
            }
            Ordering::Equal
        }
        LayoutKind::Host => host_cmp(heap.get(a.as_handle()), heap.get(b.as_handle())),
        // `Gc` values compare by identity (the same cell or not).
        LayoutKind::Gc { .. } => a.bits.cmp(&b.bits),
        _ => Ordering::Equal,
    }
}

/// Runtime objects compare equal, except `Json` values, which compare
/// by value (unequal ones by their text).
fn host_cmp(a: &Obj, b: &Obj) -> Ordering {
    let (Obj::Host(x), Obj::Host(y)) = (a, b) else { return Ordering::Equal };
    match crate::json::equal(x, y) {
        Some(false) => crate::json::display(x).cmp(&crate::json::display(y)),
        _ => Ordering::Equal,
    }
}

/// The variant index of an enum object.
pub fn tag(heap: &Heap, v: Value) -> u32 {
    match heap.get(v.as_handle()) {
        Obj::Record { tag, .. } => *tag,
        _ => 0,
    }
}

/// A string value as a slice: an owned `String` (ext 0) is taken whole.
fn as_slice(heap: &Heap, prog: &Program, v: Value) -> Value {
    if v.is_slice() {
        return v;
    }
    let len = heap.string(prog, v.as_handle()).len();
    Value::slice(v.as_handle(), 0, len as u32)
}

/// The items a list value shows: a slice's range, or a whole list.
fn list_view(heap: &Heap, v: Value) -> &[Value] {
    if v.is_slice() {
        heap.list_slice(v)
    } else {
        heap.items(v.as_handle())
    }
}

/// The scalar a place reference in an object designates (a reference to
/// a register cannot be inside an object: the registers belong to the task).
fn deref(heap: &Heap, v: Value) -> Value {
    if v.bits & crate::value::REG_PLACE != 0 {
        return v;
    }
    heap.place_get(v)
}

/// Whether two values are equal (the standard `Eq`).
pub fn eq(heap: &Heap, prog: &Program, a: Value, b: Value, slot: Slot) -> bool {
    match slot {
        Slot::Scalar(NumTy::F32) | Slot::ScalarRef(NumTy::F32) => a.as_f32() == b.as_f32(),
        Slot::Scalar(NumTy::F64) | Slot::ScalarRef(NumTy::F64) => a.as_f64() == b.as_f64(),
        Slot::Scalar(_) | Slot::ScalarRef(_) | Slot::Fn => a.bits == b.bits,
        _ => cmp(heap, prog, a, b, slot) == Ordering::Equal,
    }
}

/// The `Display` text of a value of a built-in type.
pub fn display(heap: &Heap, prog: &Program, v: Value, slot: Slot) -> String {
    let mut out = String::new();
    display_into(heap, prog, v, slot, &mut out);
    out
}

pub fn display_into(heap: &Heap, prog: &Program, v: Value, slot: Slot, out: &mut String) {
    let layout = match slot {
        Slot::Scalar(ty) => return format::scalar_into(v, ty, out),
        Slot::ScalarRef(ty) => return format::scalar_into(deref(heap, v), ty, out),
        Slot::Fn => return out.push_str("<fn>"),
        Slot::Owned(l) | Slot::Shared(l) => l,
    };
    let seq = |items: &[Value], elem: Slot, open: char, close: char, out: &mut String| {
        out.push(open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            display_into(heap, prog, *item, elem, out);
        }
        if open == '(' && items.len() == 1 {
            out.push(',');
        }
        out.push(close);
    };
    match &prog.layout(layout).kind {
        LayoutKind::Str => out.push_str(heap.str_slice(prog, as_slice(heap, prog, v))),
        LayoutKind::List { elem, .. } => seq(list_view(heap, v), *elem, '[', ']', out),
        LayoutKind::Record { fields, tuple: true } => {
            let items = heap.fields(v.as_handle()).to_vec();
            out.push('(');
            for (i, (item, s)) in items.iter().zip(fields).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                display_into(heap, prog, *item, *s, out);
            }
            if items.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        LayoutKind::Enum { variants } => {
            let (name, slots) = &variants[tag(heap, v) as usize];
            out.push_str(name);
            if !slots.is_empty() {
                let items = heap.fields(v.as_handle()).to_vec();
                out.push('(');
                for (i, (item, s)) in items.iter().zip(slots).enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    display_into(heap, prog, *item, *s, out);
                }
                out.push(')');
            }
        }
        LayoutKind::Host => match heap.get(v.as_handle()) {
            Obj::Host(r) => match crate::json::display(r) {
                Some(text) => out.push_str(&text),
                None => out.push_str(&prog.layout(layout).name),
            },
            _ => out.push_str(&prog.layout(layout).name),
        },
        LayoutKind::Tensor => match heap.get(v.as_handle()) {
            Obj::Tensor(t) => {
                use std::fmt::Write;
                let _ = write!(out, "{t}");
            }
            _ => out.push_str(&prog.layout(layout).name),
        },
        _ => out.push_str(&prog.layout(layout).name),
    }
}

/// The lookup form of a key value of a built-in `Hash + Eq` type: a
/// scalar's bits (made inline: most keys are scalars) or a string's text
/// are borrowed, not copied.
#[inline(always)]
pub fn probe<'a>(heap: &'a Heap, prog: &'a Program, v: Value, slot: Slot) -> crate::keymap::Probe<'a> {
    match slot {
        Slot::Scalar(_) | Slot::ScalarRef(_) | Slot::Fn => crate::keymap::Probe::Bits(v.bits),
        _ => probe_object(heap, prog, v, slot),
    }
}

fn probe_object<'a>(heap: &'a Heap, prog: &'a Program, v: Value, slot: Slot) -> crate::keymap::Probe<'a> {
    use crate::keymap::Probe;
    match slot {
        Slot::Owned(l) | Slot::Shared(l) if matches!(prog.layout(l).kind, LayoutKind::Str) => {
            Probe::Str(if v.is_slice() { heap.str_slice(prog, v) } else { heap.string(prog, v.as_handle()) })
        }
        _ => Probe::Key(key(heap, prog, v, slot)),
    }
}

/// The canonical key of a value of a built-in `Hash + Eq` type.
pub fn key(heap: &Heap, prog: &Program, v: Value, slot: Slot) -> Key {
    let layout = match slot {
        Slot::Scalar(_) | Slot::ScalarRef(_) | Slot::Fn => return Key::Bits(v.bits),
        Slot::Owned(l) | Slot::Shared(l) => l,
    };
    match &prog.layout(layout).kind {
        LayoutKind::Str => Key::Str(heap.str_slice(prog, as_slice(heap, prog, v)).into()),
        LayoutKind::List { elem, .. } => {
            Key::Seq(u32::MAX, list_view(heap, v).iter().map(|x| key(heap, prog, *x, *elem)).collect())
        }
        LayoutKind::Record { fields, .. } => {
            let items = heap.fields(v.as_handle());
            Key::Seq(u32::MAX, items.iter().zip(fields).map(|(x, s)| key(heap, prog, *x, *s)).collect())
        }
        LayoutKind::Enum { variants } => {
            let t = tag(heap, v);
            let items = heap.fields(v.as_handle());
            Key::Seq(t, items.iter().zip(&variants[t as usize].1).map(|(x, s)| key(heap, prog, *x, *s)).collect())
        }
        _ => Key::Bits(v.bits),
    }
}

/// Whether `v`, a value of a built-in `Hash + Eq` type, has canonical key
/// `k` (what `key` would build, compared without building it).
pub fn key_eq(heap: &Heap, prog: &Program, v: Value, slot: Slot, k: &Key) -> bool {
    let layout = match slot {
        Slot::Scalar(_) | Slot::ScalarRef(_) | Slot::Fn => return matches!(k, Key::Bits(b) if *b == v.bits),
        Slot::Owned(l) | Slot::Shared(l) => l,
    };
    let all = |items: &[Value], slots: &mut dyn Iterator<Item = Slot>, keys: &[Key]| {
        items.len() == keys.len()
            && items.iter().zip(keys).all(|(x, k)| slots.next().is_some_and(|s| key_eq(heap, prog, *x, s, k)))
    };
    match (&prog.layout(layout).kind, k) {
        (LayoutKind::Str, Key::Str(s)) => heap.str_slice(prog, as_slice(heap, prog, v)) == &**s,
        (LayoutKind::List { elem, .. }, Key::Seq(u32::MAX, keys)) => {
            all(list_view(heap, v), &mut std::iter::repeat(*elem), keys)
        }
        (LayoutKind::Record { fields, .. }, Key::Seq(u32::MAX, keys)) => {
            all(heap.fields(v.as_handle()), &mut fields.iter().copied(), keys)
        }
        (LayoutKind::Enum { variants }, Key::Seq(t, keys)) => {
            tag(heap, v) == *t && all(heap.fields(v.as_handle()), &mut variants[*t as usize].1.iter().copied(), keys)
        }
        (LayoutKind::Str | LayoutKind::List { .. } | LayoutKind::Record { .. } | LayoutKind::Enum { .. }, _) => false,
        (_, Key::Bits(b)) => v.bits == *b,
        _ => false,
    }
}

/// The standard `Hash::hash` of a value: 64-bit FNV-1a over the canonical
/// encoding of STD-HASH-001.
pub fn hash(heap: &Heap, prog: &Program, v: Value, slot: Slot) -> u64 {
    let mut bytes = Vec::new();
    encode(heap, prog, v, slot, &mut bytes);
    let mut h: u64 = 14695981039346656037;
    for b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(1099511628211);
    }
    h
}

fn encode(heap: &Heap, prog: &Program, v: Value, slot: Slot, out: &mut Vec<u8>) {
    let layout = match slot {
        Slot::Scalar(ty) | Slot::ScalarRef(ty) => {
            let width = match ty {
                NumTy::Unit => 0,
                NumTy::Bool => 1,
                _ => ty.bits() as usize / 8,
            };
            out.extend_from_slice(&v.bits.to_le_bytes()[..width]);
            return;
        }
        Slot::Fn => return,
        Slot::Owned(l) | Slot::Shared(l) => l,
    };
    let framed = |heap: &Heap, x: Value, s: Slot, out: &mut Vec<u8>| {
        let mut inner = Vec::new();
        encode(heap, prog, x, s, &mut inner);
        out.extend_from_slice(&(inner.len() as u64).to_le_bytes());
        out.extend_from_slice(&inner);
    };
    let layout_def = prog.layout(layout);
    match &layout_def.kind {
        LayoutKind::Str => out.extend_from_slice(heap.str_slice(prog, as_slice(heap, prog, v)).as_bytes()),
        LayoutKind::List { elem, array } => {
            out.push(if *array { 1 } else { 3 });
            let items = list_view(heap, v);
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for x in items {
                framed(heap, *x, *elem, out);
            }
        }
        LayoutKind::Record { fields, .. } => {
            out.push(2);
            let items = heap.fields(v.as_handle());
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for (x, s) in items.iter().zip(fields) {
                framed(heap, *x, *s, out);
            }
        }
        LayoutKind::Enum { variants } => {
            let t = tag(heap, v);
            out.push(if layout_def.name.starts_with("Result") { 5 } else { 4 });
            // Option lists `Some` first; its canonical byte is 1 for `Some`.
            let byte = if layout_def.name.starts_with("Option") { (t == 0) as u8 } else { t as u8 };
            out.push(byte);
            for (x, s) in heap.fields(v.as_handle()).iter().zip(&variants[t as usize].1) {
                framed(heap, *x, *s, out);
            }
        }
        _ => {}
    }
}
