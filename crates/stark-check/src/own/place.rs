//! Places: what a borrow or a move names (a local, a temporary, or what a
//! reference parameter points to, followed by projections), and when two
//! of them overlap (OWN-BORROW-001).

use crate::resolve::Local;
use stark_syntax::Symbol;

/// Where a place starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Root {
    /// A local variable.
    Local(u32),
    /// A temporary value, which lives until the end of its statement.
    Temp(u32),
    /// The caller's value a reference parameter points to.
    Caller(u32),
}

/// One step from a place into a part of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proj {
    /// A named or positional field.
    Field(Symbol),
    /// An element; the index when it is a constant.
    Index(Option<u64>),
    /// What a reference points to.
    Deref,
    /// What a `Gc`'s `Ref`/`RefMut` guard gives access to: not the guard's
    /// to move (like `Deref`), but a borrow of it dies with the guard.
    Guard,
}

/// A local, temporary or caller value and a path into it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Place {
    /// Where the path starts.
    pub root: Root,
    /// The path.
    pub proj: Vec<Proj>,
}

impl Place {
    /// A whole local.
    pub fn local(id: u32) -> Place {
        Place { root: Root::Local(id), proj: Vec::new() }
    }

    /// This place followed by one more projection.
    pub fn with(&self, p: Proj) -> Place {
        let mut proj = self.proj.clone();
        proj.push(p);
        Place { root: self.root, proj }
    }

    /// The local it starts at, if any.
    pub fn local_root(&self) -> Option<u32> {
        match self.root {
            Root::Local(id) => Some(id),
            _ => None,
        }
    }

    /// Whether it goes through a reference (and so does not own what it names).
    pub fn through_deref(&self) -> bool {
        self.proj.iter().any(|p| matches!(p, Proj::Deref | Proj::Guard))
    }

    /// Whether it names an element of a collection or array.
    pub fn through_index(&self) -> bool {
        self.proj.iter().any(|p| matches!(p, Proj::Index(_)))
    }

    /// Whether a borrow of it lives in its root's own storage, so that the
    /// borrow dies with the root (not the case behind a reference).
    pub fn owned_by_root(&self) -> bool {
        self.proj.first() != Some(&Proj::Deref)
    }

    /// Whether accesses to the two may touch the same value: same root and
    /// paths that agree until one ends. Distinct fields and distinct
    /// constant indices are disjoint.
    pub fn overlaps(&self, other: &Place) -> bool {
        self.root == other.root && self.proj.iter().zip(&other.proj).all(|(a, b)| compatible(*a, *b))
    }

    /// Whether `self` is `other` or contains it.
    pub fn contains(&self, other: &Place) -> bool {
        self.root == other.root && self.proj.len() <= other.proj.len() && other.proj.starts_with(&self.proj)
    }

    /// How a user would write it: `x`, `x.f`, `v[..]`, `*r`.
    pub fn describe(&self, locals: &[Local]) -> String {
        let mut text = match self.root {
            Root::Local(id) => locals.get(id as usize).map_or("?".to_string(), |l| l.name.as_str().to_string()),
            Root::Temp(_) if self.proj.len() > 1 => "(a temporary)".to_string(),
            Root::Temp(_) => "a temporary value".to_string(),
            Root::Caller(id) => {
                format!("*{}", locals.get(id as usize).map_or("?", |l| l.name.as_str()))
            }
        };
        for (i, p) in self.proj.iter().enumerate() {
            match p {
                Proj::Field(name) => text = format!("{text}.{}", name.as_str()),
                Proj::Index(Some(i)) => text = format!("{text}[{i}]"),
                Proj::Index(None) => text = format!("{text}[..]"),
                // `r.f` reads better than `(*r).f`; a deref shows only last.
                Proj::Deref | Proj::Guard if i + 1 == self.proj.len() => text = format!("*{text}"),
                Proj::Deref | Proj::Guard => {}
            }
        }
        text
    }
}

fn compatible(a: Proj, b: Proj) -> bool {
    match (a, b) {
        (Proj::Field(x), Proj::Field(y)) => x == y,
        (Proj::Index(Some(i)), Proj::Index(Some(j))) => i == j,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(p: &Place, name: &str) -> Place {
        p.with(Proj::Field(Symbol::intern(name)))
    }

    #[test]
    fn fields_and_constant_indices_are_disjoint() {
        let x = Place::local(0);
        assert!(x.overlaps(&field(&x, "a")));
        assert!(!field(&x, "a").overlaps(&field(&x, "b")));
        assert!(!x.with(Proj::Index(Some(0))).overlaps(&x.with(Proj::Index(Some(1)))));
        assert!(x.with(Proj::Index(None)).overlaps(&x.with(Proj::Index(Some(1)))));
        assert!(!x.overlaps(&Place::local(1)));
    }

    #[test]
    fn containment_is_by_prefix() {
        let x = Place::local(0);
        assert!(x.contains(&field(&x, "a")));
        assert!(!field(&x, "a").contains(&x));
        assert!(!x.with(Proj::Deref).owned_by_root());
    }
}
