//! Broadcast channels: every subscriber receives a copy of every value
//! sent after it subscribed. The channel keeps the last `capacity` values;
//! a receiver that falls further behind loses the oldest and is told how
//! many it missed (`missed()`).

use stark_vm::task::Resume;
use stark_vm::transfer::Portable;
use stark_vm::trap::Fault;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

/// A broadcast channel.
pub(crate) struct Broadcast {
    state: Mutex<State>,
    capacity: usize,
}

#[derive(Default)]
struct State {
    /// The last values, the oldest first, with their sequence numbers.
    values: VecDeque<(u64, Portable)>,
    /// The sequence number of the next value sent.
    next: u64,
    closed: bool,
    /// Receivers waiting for a value.
    waiting: Vec<Waker>,
}

/// One subscriber.
pub(crate) struct Receiver {
    channel: Arc<Broadcast>,
    cursor: Mutex<Cursor>,
}

#[derive(Default)]
struct Cursor {
    /// The sequence number it reads next.
    next: u64,
    /// Values lost since `missed()` was last asked.
    missed: i64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Broadcast {
    /// A channel keeping the last `capacity` values.
    pub fn new(capacity: usize) -> Broadcast {
        Broadcast { state: Mutex::new(State::default()), capacity }
    }

    /// Sends `value` to every subscriber.
    pub fn send(&self, value: Portable) -> Result<(), Fault> {
        let mut state = lock(&self.state);
        if state.closed {
            return Err(Fault::new("send on a closed channel"));
        }
        let seq = state.next;
        state.next += 1;
        state.values.push_back((seq, value));
        if state.values.len() > self.capacity {
            state.values.pop_front();
        }
        for w in state.waiting.drain(..) {
            w.wake();
        }
        Ok(())
    }

    /// Closes the channel: receivers drain what is kept, then see `None`.
    pub fn close(&self) {
        let mut state = lock(&self.state);
        state.closed = true;
        for w in state.waiting.drain(..) {
            w.wake();
        }
    }

    /// A receiver of the values sent from now on.
    pub fn subscribe(self: &Arc<Self>) -> Receiver {
        let next = lock(&self.state).next;
        Receiver { channel: self.clone(), cursor: Mutex::new(Cursor { next, missed: 0 }) }
    }
}

/// What a receiver finds now.
enum Found {
    Value(Portable),
    Closed,
    Nothing,
}

impl Receiver {
    fn look(&self, waker: Option<&Waker>) -> Found {
        let mut state = lock(&self.channel.state);
        let mut cursor = lock(&self.cursor);
        let oldest = state.values.front().map_or(state.next, |(s, _)| *s);
        if cursor.next < oldest {
            cursor.missed += (oldest - cursor.next) as i64;
            cursor.next = oldest;
        }
        let offset = (cursor.next - oldest) as usize;
        if let Some((_, v)) = state.values.get(offset) {
            cursor.next += 1;
            return Found::Value(v.clone());
        }
        if state.closed {
            return Found::Closed;
        }
        if let Some(w) = waker {
            state.waiting.push(w.clone());
        }
        Found::Nothing
    }

    /// Waits for the next value: `Some(v)`, or `None` once closed and drained.
    pub async fn recv(self: Arc<Self>, option: u32) -> Resume {
        poll_fn(|cx| match self.look(Some(cx.waker())) {
            Found::Value(v) => Poll::Ready(Resume::Option(option, Some(v))),
            Found::Closed => Poll::Ready(Resume::Option(option, None)),
            Found::Nothing => Poll::Pending,
        })
        .await
    }

    /// The next value if there is one now.
    pub fn try_recv(&self) -> Option<Portable> {
        match self.look(None) {
            Found::Value(v) => Some(v),
            _ => None,
        }
    }

    /// How many values were lost since last asked.
    pub fn missed(&self) -> i64 {
        let mut cursor = lock(&self.cursor);
        // Catch up first, so values already overwritten count.
        let state = lock(&self.channel.state);
        let oldest = state.values.front().map_or(state.next, |(s, _)| *s);
        if cursor.next < oldest {
            cursor.missed += (oldest - cursor.next) as i64;
            cursor.next = oldest;
        }
        std::mem::take(&mut cursor.missed)
    }
}
