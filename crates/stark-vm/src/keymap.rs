//! The table behind `HashMap` and `HashSet`: entries in insertion order,
//! found through a hash index (like CPython's compact dict).
//!
//! An entry is what the map stores, its key value included (`(key,
//! value)` for a map, the element for a set): 32 bytes for a map, so a
//! 50,000-key table is half the cache footprint it would be with a
//! canonical copy of the key beside it. Keys are compared where they live,
//! on the task's heap (`Probe::matches`); the index keeps, beside each
//! position, 32 bits of the key's hash, so a probe reads an entry only
//! when those agree.
//!
//! Removing an entry leaves a hole (a dead entry) and its index item in
//! place, so removal is O(1) and the remaining entries keep their
//! insertion order and their positions; the holes and their index items
//! are squeezed out when they outnumber the live entries (only ever during
//! a mutation of the table, when no reference into it can be alive, so a
//! place reference's entry position stays valid while it exists).
//!
//! The internal hash is FxHash over the key's canonical form; it is not
//! observable (iteration follows insertion order, and the STARK-level
//! `hash()` is `deep::hash`).

use crate::heap::{Heap, Key};
use crate::program::{Program, Slot};
use crate::value::{Value, NONE};
use hashbrown::HashTable;
use std::hash::Hasher;

/// A lookup key: a borrowed form where one exists, so finding an entry
/// builds no `Key`.
pub enum Probe<'a> {
    /// Integers, `Bool`, `Char`, `Unit`, `fn` values (their bits).
    Bits(u64),
    /// A string's text.
    Str(&'a str),
    /// Anything else, in canonical form.
    Key(Key),
}

/// `ext` of a dead entry's key: no live key has it (a key's `ext` is 0, a
/// closure environment's handle or `NONE`, or a place's index).
const DEAD: u64 = 1 << 62;

/// What a table stores per entry; the key is part of it.
pub trait Stored: Copy {
    /// The key value.
    fn key(&self) -> Value;
    /// A removed entry.
    fn dead() -> Self;
    /// Whether this is a removed entry.
    #[inline]
    fn is_dead(&self) -> bool {
        self.key().ext == DEAD
    }
}

impl Stored for Value {
    #[inline]
    fn key(&self) -> Value {
        *self
    }
    fn dead() -> Value {
        Value { bits: NONE, ext: DEAD }
    }
}

impl Stored for (Value, Value) {
    #[inline]
    fn key(&self) -> Value {
        self.0
    }
    fn dead() -> (Value, Value) {
        (Value::dead(), Value::NONE)
    }
}

/// An insertion-ordered hash table of entries `V`, each holding its key.
#[derive(Clone, Debug)]
pub struct KeyMap<V> {
    /// Entries in insertion order, removed ones dead.
    entries: Vec<V>,
    /// (position in `entries`, the hash's 32 check bits) of every live
    /// entry, and of removed ones until the next compaction.
    index: HashTable<(u32, u32)>,
    len: usize,
    /// The position `find` last returned (a hint, checked before use:
    /// `find_again`), so an insert right after a lookup of the same key
    /// neither hashes nor probes again.
    last: std::cell::Cell<u32>,
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap { entries: Vec::new(), index: HashTable::new(), len: 0, last: std::cell::Cell::new(u32::MAX) }
    }
}

/// The 32 bits of a table hash the index keeps.
#[inline]
fn check_bits(hash: u64) -> u32 {
    (hash ^ (hash >> 32)) as u32
}

/// The index's hash of an entry, from its check bits alone (so growing the
/// index needs no key): an odd multiplier spreads them over all 64 bits.
#[inline]
fn spread(check: u32) -> u64 {
    (check as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn hash_key_into(h: &mut rustc_hash::FxHasher, k: &Key) {
    match k {
        Key::Bits(b) => {
            h.write_u8(0);
            h.write_u64(*b);
        }
        Key::Str(s) => hash_str_into(h, s),
        Key::Seq(t, items) => {
            h.write_u8(2);
            h.write_u32(*t);
            h.write_usize(items.len());
            for k in items.iter() {
                hash_key_into(h, k);
            }
        }
    }
}

fn hash_str_into(h: &mut rustc_hash::FxHasher, s: &str) {
    h.write_u8(1);
    h.write(s.as_bytes());
    h.write_u8(0xff);
}

/// The table hash of a key hashed by its own `Hash` impl (mixed: a
/// user's hash may be small consecutive numbers, and the index reads
/// the top bits).
pub fn user_hash(hash: u64) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write_u8(3);
    h.write_u64(hash);
    h.finish()
}

/// Byte-string equality, without a call for short keys.
#[inline]
fn str_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    // Two overlapping words cover a short key.
    let w2 = |s: &[u8], i: usize| u16::from_le_bytes([s[i], s[i + 1]]);
    let w4 = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes"));
    let w8 = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    match n {
        0 => true,
        1 => a[0] == b[0],
        2..=3 => w2(a, 0) == w2(b, 0) && w2(a, n - 2) == w2(b, n - 2),
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        _ => a == b,
    }
}

impl Probe<'_> {
    /// The table hash of the key this probe stands for (a scalar's
    /// inline: it is most lookups).
    #[inline(always)]
    pub fn hash(&self) -> u64 {
        match self {
            Probe::Bits(b) => {
                let mut h = rustc_hash::FxHasher::default();
                h.write_u8(0);
                h.write_u64(*b);
                h.finish()
            }
            _ => self.hash_object(),
        }
    }

    /// `hash` of a string or composite key.
    fn hash_object(&self) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        match self {
            Probe::Bits(b) => hash_key_into(&mut h, &Key::Bits(*b)),
            Probe::Str(s) => hash_str_into(&mut h, s),
            Probe::Key(k) => hash_key_into(&mut h, k),
        }
        h.finish()
    }

    /// Whether `stored`, a live key of a table whose keys are `slot`s, is
    /// the key this probe stands for (a scalar compared inline).
    #[inline(always)]
    pub fn matches(&self, heap: &Heap, prog: &Program, stored: Value, slot: Slot) -> bool {
        match self {
            Probe::Bits(b) => stored.bits == *b,
            _ => self.matches_object(heap, prog, stored, slot),
        }
    }

    /// `matches` for a string or composite key.
    fn matches_object(&self, heap: &Heap, prog: &Program, stored: Value, slot: Slot) -> bool {
        match self {
            Probe::Bits(b) => stored.bits == *b,
            Probe::Str(s) => str_eq(s.as_bytes(), heap.string(prog, stored.as_handle()).as_bytes()),
            Probe::Key(k) => crate::deep::key_eq(heap, prog, stored, slot, k),
        }
    }
}

/// The position of `probe`'s entry in `map`, whose keys are `slot`s on
/// `heap`.
#[inline]
pub fn find<V: Stored>(map: &KeyMap<V>, heap: &Heap, prog: &Program, probe: &Probe<'_>, slot: Slot) -> Option<usize> {
    map.find(probe.hash(), |k| probe.matches(heap, prog, k, slot))
}

impl<V: Stored> KeyMap<V> {
    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first live position at or after `from` whose entry has table
    /// hash `hash` (a candidate for a key compared by user code).
    pub fn candidate(&self, hash: u64, from: usize) -> Option<usize> {
        let check = check_bits(hash);
        let hit = |&&(i, c): &&(u32, u32)| c == check && i as usize >= from && self.is_live(i as usize);
        self.index.iter_hash(spread(check)).filter(hit).map(|&(i, _)| i as usize).min()
    }

    /// Whether position `i` holds a live entry.
    pub fn is_live(&self, i: usize) -> bool {
        self.entries.get(i).is_some_and(|e| !e.is_dead())
    }

    /// The position of the live entry whose key `same` accepts, among
    /// those with table hash `hash`.
    #[inline]
    pub fn find(&self, hash: u64, same: impl Fn(Value) -> bool) -> Option<usize> {
        let check = check_bits(hash);
        let entries = &self.entries;
        let found = self
            .index
            .find(spread(check), |&(i, c)| {
                c == check && {
                    let e = &entries[i as usize];
                    !e.is_dead() && same(e.key())
                }
            })
            .map(|&(i, _)| i as usize);
        if let Some(i) = found {
            self.last.set(i as u32);
        }
        found
    }

    /// The position `find` found last if `same` accepts its key (so a
    /// stale hint is only a miss).
    #[inline]
    pub fn find_again(&self, same: impl Fn(Value) -> bool) -> Option<usize> {
        let i = self.last.get() as usize;
        match self.entries.get(i) {
            Some(e) if !e.is_dead() && same(e.key()) => Some(i),
            _ => None,
        }
    }

    /// Adds an entry whose key is not present (`hash` is its probe's
    /// hash); returns its position.
    pub fn push(&mut self, hash: u64, entry: V) -> usize {
        let i = self.entries.len();
        let check = check_bits(hash);
        self.index.insert_unique(spread(check), (i as u32, check), |&(_, c)| spread(c));
        self.entries.push(entry);
        self.len += 1;
        i
    }

    /// Removes the entry at position `i` (which must be live), returning
    /// it. The other entries keep their order.
    pub fn remove_at(&mut self, i: usize) -> V {
        let e = std::mem::replace(&mut self.entries[i], V::dead());
        assert!(!e.is_dead(), "a live entry");
        self.len -= 1;
        if self.len == 0 {
            self.entries.clear();
            self.index.clear();
        } else if self.entries.len() > 32 && self.entries.len() > 2 * self.len {
            self.compact();
        }
        e
    }

    /// Removes the last entry in insertion order, returning it.
    pub fn pop_last(&mut self) -> Option<V> {
        let i = self.entries.iter().rposition(|e| !e.is_dead())?;
        Some(self.remove_at(i))
    }

    /// Squeezes out removed entries and their index items (positions
    /// change; the index keeps its hashes, so no key is hashed again).
    fn compact(&mut self) {
        let mut moved = vec![u32::MAX; self.entries.len()];
        let mut next = 0;
        for (i, e) in self.entries.iter().enumerate() {
            if !e.is_dead() {
                moved[i] = next;
                next += 1;
            }
        }
        self.entries.retain(|e| !e.is_dead());
        self.index.retain(|item| {
            item.0 = moved[item.0 as usize];
            item.0 != u32::MAX
        });
        self.last.set(u32::MAX);
    }

    /// The entry at position `i` (a live one).
    #[inline]
    pub fn at(&self, i: usize) -> &V {
        let e = &self.entries[i];
        debug_assert!(!e.is_dead(), "a live entry");
        e
    }

    /// The entry at position `i` (a live one), mutably.
    #[inline]
    pub fn at_mut(&mut self, i: usize) -> &mut V {
        let e = &mut self.entries[i];
        debug_assert!(!e.is_dead(), "a live entry");
        e
    }

    /// The first live entry at position `pos` or later, with its position.
    pub fn next_from(&self, pos: usize) -> Option<(usize, &V)> {
        self.entries.get(pos..)?.iter().enumerate().find(|(_, e)| !e.is_dead()).map(|(d, e)| (pos + d, e))
    }

    /// The entries in insertion order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.entries.iter().filter(|e| !e.is_dead())
    }

    /// The entries in insertion order, mutably.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> {
        self.entries.iter_mut().filter(|e| !e.is_dead())
    }

    /// The entries in insertion order, taking the table apart.
    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> {
        self.entries.into_iter().filter(|e| !e.is_dead())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_come_in_insertion_order_and_skip_removed_entries() {
        let mut m: KeyMap<Value> = KeyMap::default();
        let (same, other) = (user_hash(7), user_hash(8));
        for (i, h) in [same, other, same, same].into_iter().enumerate() {
            m.push(h, Value::int(i as i64));
        }
        assert_eq!(m.candidate(same, 0), Some(0));
        assert_eq!(m.candidate(same, 1), Some(2));
        assert_eq!(m.candidate(same, 3), Some(3));
        assert_eq!(m.candidate(same, 4), None);
        m.remove_at(2);
        assert_eq!(m.candidate(same, 1), Some(3));
        assert_eq!(m.candidate(other, 0), Some(1));
        assert!(!m.is_live(2) && m.is_live(3));
    }

    #[test]
    fn compaction_keeps_order_positions_and_lookups() {
        let hash = |i: i64| Probe::Bits(i as u64).hash();
        let mut m: KeyMap<(Value, Value)> = KeyMap::default();
        for i in 0..100 {
            m.push(hash(i), (Value::int(i), Value::int(i * 10)));
        }
        // Every key but multiples of 3 goes: the table compacts on the way.
        for i in (0..100).filter(|i| i % 3 != 0) {
            let at = m.find(hash(i), |k| k.as_int() == i).expect("present");
            assert_eq!(m.remove_at(at).1.as_int(), i * 10);
        }
        let kept: Vec<i64> = m.values().map(|e| e.0.as_int()).collect();
        assert_eq!(kept, (0..100).filter(|i| i % 3 == 0).collect::<Vec<_>>());
        for i in 0..100 {
            let at = m.find(hash(i), |k| k.as_int() == i);
            assert_eq!(at.map(|at| m.at(at).1.as_int()), (i % 3 == 0).then_some(i * 10));
        }
        // -1's bits are a dead entry's: it is still a key like any other.
        m.push(hash(-1), (Value::int(-1), Value::int(7)));
        let at = m.find(hash(-1), |k| k.as_int() == -1).expect("present");
        assert_eq!(m.at(at).1.as_int(), 7);
        assert_eq!(m.len(), 35);
    }
}
