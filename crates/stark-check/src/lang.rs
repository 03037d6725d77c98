//! Language items: the standard library definitions the checker knows by
//! identity (STD-HOOK-001), found once in the library's root module.

use crate::defs::{DefId, DefTable, Ns, Res};
use stark_syntax::Symbol;

macro_rules! lang_items {
    ($($field:ident => $name:literal,)*) => {
        /// Standard library definitions with a meaning to the checker.
        #[derive(Clone, Copy, Debug)]
        pub struct Lang { $(#[doc = concat!("`", $name, "`")] pub $field: Option<DefId>,)* }

        impl Lang {
            /// Looks the items up in the standard library's root module.
            pub fn find(defs: &DefTable) -> Lang {
                let root = *defs.package_roots.last().expect("the standard library is loaded");
                let scope = defs.scope(root);
                let get = |name: &str| {
                    let name = Symbol::intern(name);
                    scope.and_then(|s| s.ns(Ns::Type).get(&name).or_else(|| s.ns(Ns::Value).get(&name))).and_then(|b| match b.res {
                        Res::Def(def) => Some(def),
                        _ => None,
                    })
                };
                Lang { $($field: get($name),)* }
            }
        }
    };
}

lang_items! {
    option => "Option",
    result => "Result",
    string => "String",
    vec => "Vec",
    boxed => "Box",
    gc => "Gc",
    gc_ref => "Ref",
    gc_ref_mut => "RefMut",
    range => "Range",
    range_inclusive => "RangeInclusive",
    iterator => "Iterator",
    display => "Display",
    eq => "Eq",
    ord => "Ord",
    hash => "Hash",
    clone => "Clone",
    copy => "Copy",
    drop => "Drop",
    default => "Default",
    num => "Num",
    future => "Future",
    task => "Task",
    channel => "Channel",
    actor_ref => "ActorRef",
    actor => "Actor",
    hashmap => "HashMap",
    tensor => "Tensor",
    shape => "Shape",
    broadcast_channel => "BroadcastChannel",
    drop_fn => "drop",
    vec_iter => "VecIter",
    keys_iter => "KeysIter",
    values_iter => "ValuesIter",
    map_iter => "MapIter",
    set_iter => "SetIter",
    chars_iter => "CharsIter",
    split_iter => "SplitIter",
}

impl Lang {
    /// Whether `def` is the lang item `item`.
    pub fn is(item: Option<DefId>, def: DefId) -> bool {
        item == Some(def)
    }

    /// Whether `def` is one of the library's borrowed views (its iterators),
    /// which carry a borrow of what they iterate (OWN-CARRY-001).
    pub fn is_view(&self, def: DefId) -> bool {
        [
            self.vec_iter,
            self.keys_iter,
            self.values_iter,
            self.map_iter,
            self.set_iter,
            self.chars_iter,
            self.split_iter,
            self.gc_ref,
            self.gc_ref_mut,
        ]
        .contains(&Some(def))
    }

    /// Whether `def` is `Box`, `Ref` or `RefMut`: a handle that `*`, field
    /// access and method calls see through to the value it holds.
    pub fn is_deref(&self, def: DefId) -> bool {
        [self.boxed, self.gc_ref, self.gc_ref_mut].contains(&Some(def))
    }

    /// Whether `def` is `Ref` or `RefMut`, a borrow of a `Gc` cell.
    pub fn is_gc_guard(&self, def: DefId) -> bool {
        [self.gc_ref, self.gc_ref_mut].contains(&Some(def))
    }
}
