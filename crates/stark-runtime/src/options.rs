//! `ActorOptions` and `BatchPolicy` as the runtime reads them from the
//! records a program passes (fields in declaration order).

use crate::actor::Policy;
use crate::mailbox::{Batching, USER_FACING};
use stark_vm::transfer::Portable;
use stark_vm::trap::Fault;
use std::time::Duration;

/// How an actor is run.
pub(crate) struct Options {
    pub capacity: usize,
    /// The `Restart` tag: 0 `Permanent`, 1 `Transient`, 2 `Never`.
    pub restart: u32,
    pub max_restarts: i64,
    pub window: Duration,
    /// The `QoS` tag: 0 `Realtime` to 3 `Background`.
    pub class: usize,
    pub batching: Option<Batching>,
    /// Where `try_ask` stops: the batch policy's `max_queue`.
    pub shed: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            capacity: 1024,
            restart: 2,
            max_restarts: 0,
            window: Duration::ZERO,
            class: USER_FACING,
            batching: None,
            shed: usize::MAX,
        }
    }
}

/// An integer, `Bool` or the tag of an enum value.
fn int(p: Option<&Portable>) -> i64 {
    match p {
        Some(Portable::Scalar(v)) => v.as_int(),
        Some(Portable::Record { tag, .. }) => *tag as i64,
        _ => 0,
    }
}

fn micros(p: Option<&Portable>) -> Duration {
    Duration::from_micros(int(p).max(0) as u64)
}

impl Options {
    /// Reads an `ActorOptions` record.
    pub fn parse(p: &Portable) -> Result<Options, Fault> {
        let Portable::Record { fields, .. } = p else { return Ok(Options::default()) };
        let capacity = int(fields.first());
        if capacity < 1 {
            return Err(Fault::new(format!("ActorOptions.mailbox_capacity must be at least 1, not {capacity}")));
        }
        let batch = match fields.get(5) {
            Some(Portable::Record { tag: 0, fields, .. }) => fields.first(),
            _ => None,
        };
        let (batching, shed) = match batch {
            Some(policy) => batching(policy)?,
            None => (None, usize::MAX),
        };
        Ok(Options {
            capacity: capacity as usize,
            restart: int(fields.get(1)).clamp(0, 2) as u32,
            max_restarts: int(fields.get(2)).max(0),
            window: micros(fields.get(3)),
            class: int(fields.get(4)).clamp(0, 3) as usize,
            batching,
            shed,
        })
    }

    /// The restart policy of an actor whose instances run `body`.
    pub fn policy(&self, body: Portable) -> Policy {
        Policy {
            body,
            restart: self.restart,
            max_restarts: self.max_restarts,
            window: self.window,
            history: Default::default(),
        }
    }
}

/// Reads a `BatchPolicy` (`serve`'s): how to gather batches, and `max_queue`.
pub(crate) fn batch_policy(p: &Portable) -> Result<(Option<Batching>, usize), Fault> {
    batching(p)
}

/// Reads a `BatchPolicy`: how to gather batches, and `max_queue`.
fn batching(p: &Portable) -> Result<(Option<Batching>, usize), Fault> {
    let Portable::Record { fields, .. } = p else { return Ok((None, usize::MAX)) };
    let max_batch = int(fields.first());
    if max_batch < 1 {
        return Err(Fault::new(format!("BatchPolicy.max_batch must be at least 1, not {max_batch}")));
    }
    let preferred = match fields.get(2) {
        Some(Portable::List { items, .. }) => items.iter().map(|i| int(Some(i)).max(0) as usize).collect(),
        _ => Vec::new(),
    };
    let max_queue = int(fields.get(3));
    let shed = if max_queue > 0 { max_queue as usize } else { usize::MAX };
    let adaptive = int(fields.get(4)) != 0;
    let batching = Batching { max_batch: max_batch as usize, max_delay: micros(fields.get(1)), preferred, adaptive };
    Ok((Some(batching), shed))
}
