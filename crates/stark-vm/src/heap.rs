//! A task's heap: objects reached through handles (indices), never raw
//! pointers, so nothing dangles across a suspension and the task's
//! registers are its exact root set.
//!
//! Owned objects are freed where ownership ends (the compiler emits the
//! drops); freeing follows the object's layout to what it owns.

pub use crate::keymap::KeyMap;
use crate::native::KEY_PLACE;
use crate::program::{LayoutKind, Program, Slot};
use crate::value::{Handle, Value, CONST_HANDLE, NONE};

/// One object.
#[derive(Debug)]
pub enum Obj {
    /// A free slot; the next free one.
    Free(u32),
    /// A struct, tuple, enum value, `Box`, range or closure environment.
    Record { layout: u32, tag: u32, fields: Box<[Value]> },
    /// A `Vec` or array.
    List { layout: u32, items: Vec<Value> },
    /// A `String`.
    Str(String),
    /// A `HashMap`: its (key, value) entries.
    Map { layout: u32, map: Box<KeyMap<(Value, Value)>> },
    /// A `HashSet`: its elements.
    Set { layout: u32, set: Box<KeyMap<Value>> },
    /// A library iterator: the object it walks and the position.
    Iter { source: Value, pos: usize, end: usize },
    /// A runtime object shared between tasks (a channel, a task handle):
    /// the runtime's, opaque to the VM.
    Host(HostRef),
    /// A `Tensor`: a layout over an `Arc`-shared buffer (moving it between
    /// tasks shares the buffer; `clone()` copies it).
    Tensor(Box<stark_tensor::Tensor>),
}

/// A runtime object as the VM holds it.
pub type HostRef = std::sync::Arc<dyn std::any::Any + Send + Sync>;

/// The canonical form of a map key (a built-in `Hash + Eq` type).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// Integers, `Bool`, `Char`, `Unit` (their bits).
    Bits(u64),
    /// `String` and `str`.
    Str(Box<str>),
    /// Tuples, arrays and enums of keys.
    Seq(u32, Box<[Key]>),
}

/// A task's objects.
#[derive(Debug, Default)]
pub struct Heap {
    objects: Vec<Obj>,
    free: u32,
    live: usize,
    /// Freed strings, kept (empty, with their capacity) for reuse.
    strings: Vec<String>,
    /// Freed field arrays of small records, by length, for reuse.
    records: [Vec<Box<[Value]>>; POOLED_FIELDS + 1],
    /// Freed small records left in their slots, by field count: the next
    /// record of that size reuses one in place (no object is moved).
    /// These slots are in no free list, so nothing else is put there.
    dead: [Vec<Handle>; POOLED_FIELDS + 1],
    /// The `Gc` cells and their collector (`gc.rs`).
    pub gc: crate::gc::GcState,
}

/// Records with up to this many fields recycle their field arrays.
pub(crate) const POOLED_FIELDS: usize = 4;
/// How many freed strings or field arrays of one size are kept.
const POOL_SIZE: usize = 64;
/// Strings with more capacity than this are not kept.
const POOLED_STRING_CAP: usize = 256;

const NO_FREE: u32 = u32::MAX;

impl Heap {
    /// An empty heap.
    pub fn new() -> Heap {
        Heap {
            objects: Vec::new(),
            free: NO_FREE,
            live: 0,
            strings: Vec::new(),
            records: Default::default(),
            dead: Default::default(),
            gc: Default::default(),
        }
    }

    /// How many objects are alive.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Stores `obj`, returning its handle. (Inlined, so the object is built
    /// in its slot rather than copied there.)
    #[inline(always)]
    pub fn alloc(&mut self, obj: Obj) -> Handle {
        self.live += 1;
        if self.free != NO_FREE {
            let h = self.free;
            let slot = &mut self.objects[h as usize];
            if let Obj::Free(next) = *slot {
                self.free = next;
            }
            // The slot held `Free`: nothing to drop.
            let old = std::mem::replace(slot, obj);
            debug_assert!(matches!(old, Obj::Free(_)));
            std::mem::forget(old);
            return h;
        }
        self.objects.push(obj);
        (self.objects.len() - 1) as Handle
    }

    /// The object `h`.
    #[inline]
    pub fn get(&self, h: Handle) -> &Obj {
        &self.objects[h as usize]
    }

    /// The object `h`, mutably.
    #[inline]
    pub fn get_mut(&mut self, h: Handle) -> &mut Obj {
        &mut self.objects[h as usize]
    }

    /// Removes object `h` and returns it (its slot becomes free).
    pub fn take(&mut self, h: Handle) -> Obj {
        self.live -= 1;
        let old = std::mem::replace(&mut self.objects[h as usize], Obj::Free(self.free));
        self.free = h;
        old
    }

    /// A new `String` object.
    pub fn new_str(&mut self, s: String) -> Value {
        Value::handle(self.alloc(Obj::Str(s)))
    }

    /// An empty string, recycled from a freed one where possible (for
    /// building a new string object).
    #[inline]
    pub fn pooled_string(&mut self) -> String {
        self.strings.pop().unwrap_or_default()
    }

    /// A new record (struct, tuple or enum value) with these fields, its
    /// field array recycled from a freed one where possible.
    #[inline]
    pub fn new_record(&mut self, layout: u32, tag: u32, values: &[Value]) -> Handle {
        if let Some(h) = self.dead.get_mut(values.len()).and_then(Vec::pop) {
            if let Obj::Record { layout: l, tag: t, fields } = &mut self.objects[h as usize] {
                *l = layout;
                *t = tag;
                for (f, v) in fields.iter_mut().zip(values) {
                    // Read as two words: `values` is often built just before.
                    let (bits, ext) = (v.bits, v.ext);
                    // SAFETY: `f` is a valid, exclusive place.
                    unsafe { crate::value::store_value(f, Value { bits, ext }) }
                }
            }
            self.live += 1;
            return h;
        }
        let fields = match self.records.get_mut(values.len()).and_then(Vec::pop) {
            Some(mut f) => {
                f.copy_from_slice(values);
                f
            }
            None => values.into(),
        };
        self.alloc(Obj::Record { layout, tag, fields })
    }

    /// Keeps what a freed object's storage for reuse.
    #[inline]
    fn recycle(&mut self, obj: Obj) {
        match obj {
            Obj::Record { fields, .. }
                if !fields.is_empty()
                    && fields.len() <= POOLED_FIELDS
                    && self.records[fields.len()].len() < POOL_SIZE =>
            {
                self.records[fields.len()].push(fields);
            }
            Obj::Str(mut s)
                if s.capacity() > 0 && s.capacity() <= POOLED_STRING_CAP && self.strings.len() < POOL_SIZE =>
            {
                s.clear();
                self.strings.push(s);
            }
            _ => {}
        }
    }

    /// The fields of record `h`.
    #[inline]
    pub fn fields(&self, h: Handle) -> &[Value] {
        match &self.objects[h as usize] {
            Obj::Record { fields, .. } => fields,
            other => unreachable_obj("a record", other),
        }
    }

    /// The fields of record `h`, mutably.
    #[inline]
    pub fn fields_mut(&mut self, h: Handle) -> &mut [Value] {
        match &mut self.objects[h as usize] {
            Obj::Record { fields, .. } => fields,
            other => unreachable_obj("a record", other),
        }
    }

    /// The items of list `h`.
    #[inline]
    pub fn items(&self, h: Handle) -> &Vec<Value> {
        match &self.objects[h as usize] {
            Obj::List { items, .. } => items,
            other => unreachable_obj("a list", other),
        }
    }

    /// The items of list `h`, mutably.
    #[inline]
    pub fn items_mut(&mut self, h: Handle) -> &mut Vec<Value> {
        match &mut self.objects[h as usize] {
            Obj::List { items, .. } => items,
            other => unreachable_obj("a list", other),
        }
    }

    /// The string object `h`, mutably.
    pub fn string_mut(&mut self, h: Handle) -> &mut String {
        match &mut self.objects[h as usize] {
            Obj::Str(s) => s,
            other => unreachable_obj("a string", other),
        }
    }

    /// Reads a scalar through a place reference (`bits`, `ext`) whose
    /// object is in this heap; registers are the interpreter's business.
    pub fn place_get(&self, place: Value) -> Value {
        let idx = place.ext as usize;
        match &self.objects[place.bits as usize] {
            Obj::Record { fields, .. } => fields[idx],
            Obj::List { items, .. } => items[idx],
            Obj::Map { map, .. } if place.ext & KEY_PLACE != 0 => map.at(idx & !(KEY_PLACE as usize)).0,
            Obj::Map { map, .. } => map.at(idx).1,
            Obj::Set { set, .. } => *set.at(idx & !(KEY_PLACE as usize)),
            Obj::Str(s) => Value::from_bits(s.as_bytes()[idx] as u64),
            other => unreachable_obj("a place", other),
        }
    }

    /// Item `i` of a list, or byte `i` of a string (a `&[UInt8]` view).
    pub fn item(&self, prog: &Program, h: Handle, i: usize) -> Option<Value> {
        if h & CONST_HANDLE != 0 {
            return self.string(prog, h).as_bytes().get(i).map(|b| Value::from_bits(*b as u64));
        }
        match &self.objects[h as usize] {
            Obj::List { items, .. } => items.get(i).copied(),
            Obj::Str(s) => s.as_bytes().get(i).map(|b| Value::from_bits(*b as u64)),
            other => unreachable_obj("a list", other),
        }
    }

    /// Writes a scalar through a place reference into an object.
    pub fn place_set(&mut self, place: Value, v: Value) {
        let idx = place.ext as usize;
        match &mut self.objects[place.bits as usize] {
            Obj::Record { fields, .. } => fields[idx] = v,
            Obj::List { items, .. } => items[idx] = v,
            Obj::Map { map, .. } => map.at_mut(idx).1 = v,
            other => unreachable_obj("a place", other),
        }
    }

    /// The text of string object `h` (a constant when `CONST_HANDLE` is set).
    pub fn string<'a>(&'a self, prog: &'a Program, h: Handle) -> &'a str {
        if h & CONST_HANDLE != 0 {
            return &prog.strings[(h & !CONST_HANDLE) as usize];
        }
        match &self.objects[h as usize] {
            Obj::Str(s) => s,
            other => unreachable_obj("a string", other),
        }
    }

    /// The text of a `&str` value (a string object or constant, and a range).
    pub fn str_slice<'a>(&'a self, prog: &'a Program, v: Value) -> &'a str {
        let s = self.string(prog, v.as_handle());
        &s[v.slice_start()..v.slice_start() + v.slice_len()]
    }

    /// Appends the text of `piece`, a `&str` slice or a whole string
    /// object's handle, to string object `dst`.
    pub fn append_text(&mut self, prog: &Program, dst: Handle, piece: Value) {
        if piece.is_slice() {
            self.append_str(prog, dst, piece);
        } else {
            let len = self.string(prog, piece.as_handle()).len();
            self.append_str(prog, dst, Value::slice(piece.as_handle(), 0, len as u32));
        }
    }

    /// Appends the text of the `&str` value `piece` to string object `dst`.
    pub fn append_str(&mut self, prog: &Program, dst: Handle, piece: Value) {
        let (h, start, len) = (piece.as_handle(), piece.slice_start(), piece.slice_len());
        if h & CONST_HANDLE != 0 {
            let text = &prog.strings[(h & !CONST_HANDLE) as usize][start..start + len];
            push_small(self.string_mut(dst), text);
        } else if h == dst {
            let text = self.string(prog, h)[start..start + len].to_string();
            self.string_mut(dst).push_str(&text);
        } else {
            let (d, p) = (dst as usize, h as usize);
            let (dst_obj, src_obj) = if d < p {
                let (lo, hi) = self.objects.split_at_mut(p);
                (&mut lo[d], &hi[0])
            } else {
                let (lo, hi) = self.objects.split_at_mut(d);
                (&mut hi[0], &lo[p])
            };
            match (dst_obj, src_obj) {
                (Obj::Str(out), Obj::Str(text)) => push_small(out, &text[start..start + len]),
                (other, _) => unreachable_obj("a string", other),
            }
        }
    }

    /// The items a slice value (`&[T]`) views.
    pub fn list_slice(&self, v: Value) -> &[Value] {
        &self.items(v.as_handle())[v.slice_start()..v.slice_start() + v.slice_len()]
    }

    /// Frees `v` (an owner) and everything it owns.
    pub fn free(&mut self, prog: &Program, v: Value) {
        if v.bits == NONE {
            return;
        }
        // The common leaf cases first: a string, or a record that owns nothing.
        let h = v.as_handle();
        match &self.objects[h as usize] {
            Obj::Str(_) => {
                let old = std::mem::replace(&mut self.objects[h as usize], Obj::Free(self.free));
                self.free = h;
                self.live -= 1;
                if let Obj::Str(mut text) = old {
                    if text.capacity() > 0 && text.capacity() <= POOLED_STRING_CAP && self.strings.len() < POOL_SIZE {
                        text.clear();
                        self.strings.push(text);
                    }
                }
                return;
            }
            Obj::Record { layout, .. } if crate::gc::is_cell(prog, *layout) => {}
            Obj::Record { layout, tag, fields }
                if (1..=POOLED_FIELDS).contains(&fields.len())
                    && self.dead[fields.len()].len() < POOL_SIZE
                    && !record_slots(prog, *layout, *tag).iter().any(|s| matches!(s, Slot::Owned(_))) =>
            {
                self.dead[fields.len()].push(h);
                self.live -= 1;
                return;
            }
            _ => {}
        }
        // Most objects own nothing: `pending` allocates only for those that do.
        let mut pending: Vec<Handle> = Vec::new();
        let mut next = Some(v.as_handle());
        while let Some(h) = next.take().or_else(|| pending.pop()) {
            let mut owned = |v: &Value, slot: &Slot| {
                if matches!(slot, Slot::Owned(_)) && v.bits != NONE {
                    pending.push(v.as_handle());
                }
            };
            if let Obj::Record { layout, tag, fields } = &self.objects[h as usize] {
                if let LayoutKind::Gc { value } = prog.layout(*layout).kind {
                    // A `Gc` owner: the cell goes with its last owner.
                    if let Some(v) = self.gc_release(h) {
                        owned(&v, &value);
                    }
                    continue;
                }
                let n = fields.len();
                if (1..=POOLED_FIELDS).contains(&n) && self.dead[n].len() < POOL_SIZE {
                    for (v, s) in fields.iter().zip(record_slots(prog, *layout, *tag)) {
                        owned(v, s);
                    }
                    self.dead[n].push(h);
                    self.live -= 1;
                    continue;
                }
            }
            let obj = self.take(h);
            match &obj {
                Obj::Record { layout, tag, fields } => {
                    for (v, s) in fields.iter().zip(record_slots(prog, *layout, *tag)) {
                        owned(v, s);
                    }
                }
                Obj::List { layout, items } => {
                    if let LayoutKind::List { elem, .. } = prog.layout(*layout).kind {
                        items.iter().for_each(|v| owned(v, &elem));
                    }
                }
                Obj::Map { layout, map } => {
                    if let LayoutKind::Map { key, value } = prog.layout(*layout).kind {
                        for (kv, vv) in map.values() {
                            owned(kv, &key);
                            owned(vv, &value);
                        }
                    }
                }
                Obj::Set { layout, set } => {
                    if let LayoutKind::Set { elem } = prog.layout(*layout).kind {
                        set.values().for_each(|v| owned(v, &elem));
                    }
                }
                Obj::Str(_) | Obj::Iter { .. } | Obj::Host(_) | Obj::Tensor(_) | Obj::Free(_) => {}
            }
            self.recycle(obj);
        }
    }

    /// The bytes the live objects take: their slots and what they hold
    /// (strings' and lists' buffers, map entries, tensors' elements).
    pub fn live_bytes(&self, _prog: &Program) -> u64 {
        self.live as u64 * std::mem::size_of::<Obj>() as u64 + self.payload_bytes()
    }

    /// The bytes the heap holds: every slot, live or free, and the
    /// buffers of the live objects and of the pools.
    pub fn heap_bytes(&self) -> u64 {
        let pooled: usize = self.strings.iter().map(String::capacity).sum();
        (self.objects.capacity() * std::mem::size_of::<Obj>() + pooled) as u64 + self.payload_bytes()
    }

    fn payload_bytes(&self) -> u64 {
        let word = std::mem::size_of::<Value>();
        let bytes: usize = self
            .objects
            .iter()
            .map(|o| match o {
                Obj::Record { fields, .. } => fields.len() * word,
                Obj::List { items, .. } => items.capacity() * word,
                Obj::Str(s) => s.capacity(),
                Obj::Map { map, .. } => map.len() * (3 * word),
                Obj::Set { set, .. } => set.len() * (2 * word),
                Obj::Tensor(t) => t.numel() * dtype_bytes(t.dtype().name()),
                Obj::Free(_) | Obj::Iter { .. } | Obj::Host(_) => 0,
            })
            .sum();
        bytes as u64
    }

    /// Exchanges the contents of objects `a` and `b`.
    pub fn swap(&mut self, a: Handle, b: Handle) {
        if a != b {
            let taken = std::mem::replace(&mut self.objects[a as usize], Obj::Free(0));
            let other = std::mem::replace(&mut self.objects[b as usize], taken);
            self.objects[a as usize] = other;
        }
    }

    /// Frees object `h` alone, not what it owns (drop glue destroyed that).
    pub fn free_shell(&mut self, h: Handle) {
        let obj = self.take(h);
        self.recycle(obj);
    }
}

/// `out.push_str(s)`, without a call to `memcpy` for a short `s`.
#[inline]
pub fn push_small(out: &mut String, s: &str) {
    if s.len() > 16 {
        return out.push_str(s);
    }
    out.reserve(s.len());
    let (src, n) = (s.as_ptr(), s.len());
    // SAFETY: `s` is UTF-8 and is appended whole, by two overlapping
    // loads and stores within its `n` bytes; the capacity is reserved.
    unsafe {
        let v = out.as_mut_vec();
        let at = v.len();
        let dst = v.as_mut_ptr().add(at);
        match n {
            0 => {}
            1 => *dst = *src,
            2..=3 => {
                let (x, y) = (src.cast::<u16>().read_unaligned(), src.add(n - 2).cast::<u16>().read_unaligned());
                dst.cast::<u16>().write_unaligned(x);
                dst.add(n - 2).cast::<u16>().write_unaligned(y);
            }
            4..=7 => {
                let (x, y) = (src.cast::<u32>().read_unaligned(), src.add(n - 4).cast::<u32>().read_unaligned());
                dst.cast::<u32>().write_unaligned(x);
                dst.add(n - 4).cast::<u32>().write_unaligned(y);
            }
            _ => {
                let (x, y) = (src.cast::<u64>().read_unaligned(), src.add(n - 8).cast::<u64>().read_unaligned());
                dst.cast::<u64>().write_unaligned(x);
                dst.add(n - 8).cast::<u64>().write_unaligned(y);
            }
        }
        v.set_len(at + n);
    }
}

/// The size of one element of the dtype named `name`.
fn dtype_bytes(name: &str) -> usize {
    match name {
        "Float64" | "Int64" => 8,
        "UInt8" | "Bool" => 1,
        _ => 4,
    }
}

/// The slots of a record (or of one enum variant).
pub fn record_slots(prog: &Program, layout: u32, tag: u32) -> &[Slot] {
    match &prog.layout(layout).kind {
        LayoutKind::Record { fields, .. } => fields,
        LayoutKind::Enum { variants } => &variants[tag as usize].1,
        _ => &[],
    }
}

#[cold]
fn unreachable_obj(what: &str, found: &Obj) -> ! {
    // The compiler's typing guarantees the kind; reaching this is a VM bug.
    panic!("internal error: expected {what}, found {found:?}")
}
