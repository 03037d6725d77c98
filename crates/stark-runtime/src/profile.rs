//! `stark run --profile`: counts kept while the program runs, reported when
//! it ends: tasks spawned, the most alive at once, messages sent, and the
//! time tasks spent running (in `poll`) versus alive but waiting.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The counters (cheap atomics; time is measured only when asked for).
#[derive(Default)]
pub struct Counters {
    /// Whether `--profile` asked for them (time is measured only then).
    pub enabled: bool,
    spawned: AtomicU64,
    live: AtomicI64,
    peak: AtomicI64,
    messages: AtomicU64,
    running_ns: AtomicU64,
    alive_ns: AtomicU64,
}

impl Counters {
    /// Counters, timing tasks when `enabled`.
    pub fn new(enabled: bool) -> Counters {
        Counters { enabled, ..Counters::default() }
    }

    /// A task started.
    pub fn started(&self) {
        self.spawned.fetch_add(1, Relaxed);
        let live = self.live.fetch_add(1, Relaxed) + 1;
        self.peak.fetch_max(live, Relaxed);
    }

    /// A task ended after being alive for `alive`, `running` of it in `poll`.
    pub fn ended(&self, alive: Duration, running: Duration) {
        self.live.fetch_sub(1, Relaxed);
        self.alive_ns.fetch_add(alive.as_nanos() as u64, Relaxed);
        self.running_ns.fetch_add(running.as_nanos() as u64, Relaxed);
    }

    /// A value was sent on a channel.
    pub fn message(&self) {
        self.messages.fetch_add(1, Relaxed);
    }

    /// The report, one fact per line.
    pub fn report(&self) -> String {
        let ms = |ns: u64| ns as f64 / 1e6;
        let (running, alive) = (self.running_ns.load(Relaxed), self.alive_ns.load(Relaxed));
        format!(
            "profile: tasks spawned: {}\nprofile: peak live tasks: {}\nprofile: messages sent: {}\nprofile: time running: {:.1} ms, waiting: {:.1} ms (summed over tasks)\n",
            self.spawned.load(Relaxed),
            self.peak.load(Relaxed),
            self.messages.load(Relaxed),
            ms(running),
            ms(alive.saturating_sub(running)),
        )
    }
}
