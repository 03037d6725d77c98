//! `stark run --profile`: counts kept while the program runs, reported when
//! it ends: tasks spawned, the most alive at once, messages sent, the
//! time tasks spent running (in `poll`) versus alive but waiting, and per
//! task (grouped by name) and actor its heap and collector figures.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

/// The counters, kept only when asked for: each is an atomic every
/// worker touches, so counting costs a contended cache line per message.
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
    heaps: Mutex<BTreeMap<String, HeapRow>>,
}

/// The heap figures of the tasks of one name, at their ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapRow {
    /// How many tasks of this name ended.
    pub tasks: u64,
    /// The largest heap among them, in bytes.
    pub heap_bytes: u64,
    /// The most live bytes among them.
    pub live_bytes: u64,
    /// Young collections, summed.
    pub young_collections: u64,
    /// Full collections, summed.
    pub collections: u64,
    /// The longest pause of any of them, in microseconds.
    pub max_pause_us: u64,
}

impl Counters {
    /// Counters, timing tasks when `enabled`.
    pub fn new(enabled: bool) -> Counters {
        Counters { enabled, ..Counters::default() }
    }

    /// A task started.
    pub fn started(&self) {
        if !self.enabled {
            return;
        }
        self.spawned.fetch_add(1, Relaxed);
        let live = self.live.fetch_add(1, Relaxed) + 1;
        self.peak.fetch_max(live, Relaxed);
    }

    /// A task ended after being alive for `alive`, `running` of it in `poll`.
    pub fn ended(&self, alive: Duration, running: Duration) {
        if !self.enabled {
            return;
        }
        self.live.fetch_sub(1, Relaxed);
        self.alive_ns.fetch_add(alive.as_nanos() as u64, Relaxed);
        self.running_ns.fetch_add(running.as_nanos() as u64, Relaxed);
    }

    /// A task (or actor) named `name` ended with these heap figures:
    /// heap bytes, live bytes, young and full collections, longest pause.
    pub fn heap(&self, name: &str, figures: (u64, u64, u64, u64, u64)) {
        let (heap, live, young, full, pause) = figures;
        let Ok(mut rows) = self.heaps.lock() else { return };
        let row = rows.entry(name.to_string()).or_default();
        row.tasks += 1;
        row.heap_bytes = row.heap_bytes.max(heap);
        row.live_bytes = row.live_bytes.max(live);
        row.young_collections += young;
        row.collections += full;
        row.max_pause_us = row.max_pause_us.max(pause);
    }

    /// A value was sent on a channel.
    pub fn message(&self) {
        if self.enabled {
            self.messages.fetch_add(1, Relaxed);
        }
    }

    /// The report, one fact per line.
    pub fn report(&self) -> String {
        let mut out = self.totals();
        let rows = self.heaps.lock().map(|r| r.clone()).unwrap_or_default();
        for (name, r) in rows {
            let kib = |b: u64| b as f64 / 1024.0;
            out.push_str(&format!(
                "profile: heap of `{name}` ({} task{}): heap {:.1} KiB, live {:.1} KiB, collections {} young + {} full, longest pause {:.3} ms\n",
                r.tasks,
                if r.tasks == 1 { "" } else { "s" },
                kib(r.heap_bytes),
                kib(r.live_bytes),
                r.young_collections,
                r.collections,
                r.max_pause_us as f64 / 1000.0,
            ));
        }
        out
    }

    fn totals(&self) -> String {
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
