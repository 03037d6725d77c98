//! Interned names: a `Symbol` is a small copyable handle to a string that
//! lives for the whole process, so names compare and hash as integers.

use rustc_hash::FxHashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

/// An interned string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(u32);

#[derive(Default)]
struct Interner {
    map: FxHashMap<&'static str, Symbol>,
    names: Vec<&'static str>,
}

fn interner() -> &'static Mutex<Interner> {
    static INTERNER: OnceLock<Mutex<Interner>> = OnceLock::new();
    INTERNER.get_or_init(Default::default)
}

impl Symbol {
    /// The symbol for `name`, interning it on first use.
    pub fn intern(name: &str) -> Symbol {
        let mut table = interner().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&sym) = table.map.get(name) {
            return sym;
        }
        // Names are leaked on purpose: a compiler's set of distinct names is
        // small and lives as long as the process.
        let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
        let sym = Symbol(table.names.len() as u32);
        table.names.push(leaked);
        table.map.insert(leaked, sym);
        sym
    }

    /// The interned text.
    pub fn as_str(self) -> &'static str {
        let table = interner().lock().unwrap_or_else(|e| e.into_inner());
        table.names[self.0 as usize]
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Symbol;

    #[test]
    fn interning_is_stable() {
        let a = Symbol::intern("alpha");
        assert_eq!(a, Symbol::intern("alpha"));
        assert_ne!(a, Symbol::intern("beta"));
        assert_eq!(a.as_str(), "alpha");
    }
}
