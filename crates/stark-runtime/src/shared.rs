//! `SharedMap`: the one mutable structure tasks share (LANGUAGE.md
//! section 6). Values are copied in and out, so no reference into the map
//! outlives an operation. `write` and `lock` guards are exclusive: one at a
//! time, each held until the guard is dropped, so a read-modify-write
//! through one is atomic; `read` guards wait for no one.

use stark_vm::heap::Key;
use stark_vm::task::Resume;
use stark_vm::transfer::Portable;
use stark_vm::trap::Fault;
use std::collections::HashMap;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

/// A shared map.
#[derive(Default)]
pub(crate) struct SharedMap {
    entries: Mutex<HashMap<Key, Portable>>,
    exclusive: Mutex<Exclusive>,
}

#[derive(Default)]
struct Exclusive {
    held: bool,
    waiters: Vec<Waker>,
}

/// Access to a map while it is held (exclusive or not).
pub(crate) struct Guard {
    map: Arc<SharedMap>,
    exclusive: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SharedMap {
    /// A guard: an exclusive one once no other exclusive guard is held.
    pub async fn guard(self: Arc<Self>, exclusive: bool) -> Resume {
        if exclusive {
            poll_fn(|cx| {
                let mut ex = lock(&self.exclusive);
                if ex.held {
                    ex.waiters.push(cx.waker().clone());
                    return Poll::Pending;
                }
                ex.held = true;
                Poll::Ready(())
            })
            .await;
        }
        Resume::Moved(Portable::Host(Arc::new(Guard { map: self, exclusive })))
    }
}

impl Guard {
    /// A copy of the value at `key`.
    pub fn get(&self, key: &Key) -> Option<Portable> {
        lock(&self.map.entries).get(key).cloned()
    }

    /// Stores `value` at `key`, giving the old value; a `read()` guard may
    /// not change the map (an exclusive holder counts on that).
    pub fn insert(&self, key: Key, value: Portable) -> Result<Option<Portable>, Fault> {
        self.writable()?;
        Ok(lock(&self.map.entries).insert(key, value))
    }

    /// Takes the value at `key` out (not through a `read()` guard).
    pub fn remove(&self, key: &Key) -> Result<Option<Portable>, Fault> {
        self.writable()?;
        Ok(lock(&self.map.entries).remove(key))
    }

    fn writable(&self) -> Result<(), Fault> {
        if self.exclusive {
            Ok(())
        } else {
            Err(Fault::new("a `read()` guard cannot change a shared map: use `write()` or `lock()`"))
        }
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        lock(&self.map.entries).len()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.exclusive {
            let mut ex = lock(&self.map.exclusive);
            ex.held = false;
            for w in ex.waiters.drain(..) {
                w.wake();
            }
        }
    }
}
