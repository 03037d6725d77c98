//! The table behind `HashMap` and `HashSet`: entries in insertion order,
//! found through a hash index (like CPython's compact dict).
//!
//! Removing an entry leaves a hole, so removal is O(1) and the remaining
//! entries keep their insertion order and their positions; the holes are
//! squeezed out when they outnumber the live entries (only ever during a
//! mutation of the table, when no reference into it can be alive, so a
//! place reference's entry position stays valid while it exists).
//!
//! The internal hash is FxHash over the key's canonical form; it is not
//! observable (iteration follows insertion order, and the STARK-level
//! `hash()` is `deep::hash`).

use crate::heap::Key;
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

/// Aligned to a cache line: a `(Value, Value)` entry is 64 bytes, so a
/// lookup touches one line rather than two (hash and key at the start,
/// value at the end).
#[derive(Clone, Debug)]
#[repr(align(64))]
struct Entry<V> {
    hash: u64,
    key: Key,
    value: V,
}

/// An insertion-ordered hash table from canonical keys to `V`.
#[derive(Clone, Debug)]
pub struct KeyMap<V> {
    /// Entries in insertion order; `None` is a removed entry.
    entries: Vec<Option<Entry<V>>>,
    /// Positions in `entries` of the live entries, by hash.
    index: HashTable<u32>,
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
    /// The table hash of the key this probe stands for.
    #[inline]
    pub fn hash(&self) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        match self {
            Probe::Bits(b) => {
                h.write_u8(0);
                h.write_u64(*b);
            }
            Probe::Str(s) => hash_str_into(&mut h, s),
            Probe::Key(k) => hash_key_into(&mut h, k),
        }
        h.finish()
    }

    #[inline]
    fn matches(&self, k: &Key) -> bool {
        match (self, k) {
            (Probe::Bits(a), Key::Bits(b)) => a == b,
            (Probe::Str(a), Key::Str(b)) => str_eq(a.as_bytes(), b.as_bytes()),
            (Probe::Key(a), b) => a == b,
            _ => false,
        }
    }

    /// The owned canonical key.
    pub fn into_key(self) -> Key {
        match self {
            Probe::Bits(b) => Key::Bits(b),
            Probe::Str(s) => Key::Str(s.into()),
            Probe::Key(k) => k,
        }
    }
}

impl<V> KeyMap<V> {
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
        let entries = &self.entries;
        let matches = |i: usize| i >= from && entries[i].as_ref().is_some_and(|e| e.hash == hash);
        self.index.iter_hash(hash).map(|&i| i as usize).filter(|&i| matches(i)).min()
    }

    /// Whether position `i` holds a live entry.
    pub fn is_live(&self, i: usize) -> bool {
        matches!(self.entries.get(i), Some(Some(_)))
    }

    /// The position of the entry for `probe` (whose hash is `hash`).
    #[inline]
    pub fn find(&self, hash: u64, probe: &Probe<'_>) -> Option<usize> {
        let entries = &self.entries;
        let found = self
            .index
            .find(hash, |&i| match &entries[i as usize] {
                Some(e) => e.hash == hash && probe.matches(&e.key),
                None => false,
            })
            .map(|&i| i as usize);
        if let Some(i) = found {
            self.last.set(i as u32);
        }
        found
    }

    /// The position of the entry for `probe` if it is the one `find`
    /// found last (its key is compared, so a stale hint is only a miss).
    #[inline]
    pub fn find_again(&self, probe: &Probe<'_>) -> Option<usize> {
        let i = self.last.get() as usize;
        match self.entries.get(i) {
            Some(Some(e)) if probe.matches(&e.key) => Some(i),
            _ => None,
        }
    }

    /// Adds an entry for a key not present (`hash` is its probe's hash);
    /// returns its position.
    pub fn push(&mut self, hash: u64, key: Key, value: V) -> usize {
        let i = self.entries.len();
        let entries = &self.entries;
        self.index.insert_unique(hash, i as u32, |&j| entries[j as usize].as_ref().map_or(0, |e| e.hash));
        self.entries.push(Some(Entry { hash, key, value }));
        self.len += 1;
        i
    }

    /// Removes the entry at position `i` (which must be live), returning
    /// its value. The other entries keep their order.
    pub fn remove_at(&mut self, i: usize) -> V {
        let e = self.entries[i].take().expect("a live entry");
        if let Ok(found) = self.index.find_entry(e.hash, |&j| j as usize == i) {
            found.remove();
        }
        self.len -= 1;
        if self.len == 0 {
            self.entries.clear();
            self.index.clear();
        } else if self.entries.len() > 32 && self.entries.len() > 2 * self.len {
            self.compact();
        }
        e.value
    }

    /// Removes the last entry in insertion order, returning its value.
    pub fn pop_last(&mut self) -> Option<V> {
        let i = self.entries.iter().rposition(Option::is_some)?;
        Some(self.remove_at(i))
    }

    /// Squeezes out removed entries (positions change).
    fn compact(&mut self) {
        self.entries.retain(Option::is_some);
        self.index.clear();
        for (i, e) in self.entries.iter().enumerate() {
            let hash = e.as_ref().map_or(0, |e| e.hash);
            let entries = &self.entries;
            self.index.insert_unique(hash, i as u32, |&j| entries[j as usize].as_ref().map_or(0, |e| e.hash));
        }
    }

    /// The value at position `i` (a live entry).
    #[inline]
    pub fn at(&self, i: usize) -> &V {
        &self.entries[i].as_ref().expect("a live entry").value
    }

    /// The value at position `i` (a live entry), mutably.
    #[inline]
    pub fn at_mut(&mut self, i: usize) -> &mut V {
        &mut self.entries[i].as_mut().expect("a live entry").value
    }

    /// The first live entry at position `pos` or later: its position and value.
    pub fn next_from(&self, pos: usize) -> Option<(usize, &V)> {
        self.entries.get(pos..)?.iter().enumerate().find_map(|(d, e)| e.as_ref().map(|e| (pos + d, &e.value)))
    }

    /// The values in insertion order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.entries.iter().filter_map(|e| e.as_ref().map(|e| &e.value))
    }

    /// The values in insertion order, mutably.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> {
        self.entries.iter_mut().filter_map(|e| e.as_mut().map(|e| &mut e.value))
    }

    /// The values in insertion order, taking the table apart.
    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> {
        self.entries.into_iter().flatten().map(|e| e.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_come_in_insertion_order_and_skip_removed_entries() {
        let mut m: KeyMap<u32> = KeyMap::default();
        let (same, other) = (user_hash(7), user_hash(8));
        for (i, h) in [same, other, same, same].into_iter().enumerate() {
            m.push(h, Key::Bits(0), i as u32);
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
}
