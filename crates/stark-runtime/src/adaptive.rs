//! Adaptive batching (`BatchPolicy.adaptive`): an AIMD controller that
//! tunes the effective batch size and delay online, within the policy's
//! `max_batch` and `max_delay`, from what each batch shows.
//!
//! - **Size** starts at 1. A batch that was full while requests were still
//!   queued after it was taken means demand exceeds the size: the size grows
//!   by one (additive increase), as long as bigger batches keep paying off;
//!   until the first decrease it doubles instead (a slow start, as in TCP),
//!   so that a steady load reaches a good size within a few batches.
//!   When the compute time per request at the current size is over 50% worse
//!   than at about half the size, over two batches or more of this size
//!   (the least of them counts), larger batches only cost
//!   throughput: the size is cut by a quarter (multiplicative decrease).
//! - **Delay** starts at 0, so at low load a request runs as soon as it
//!   arrives and its latency is the compute time. After a batch that did not
//!   fill up, the delay grows by `max_delay / 8` if requests kept arriving
//!   into the second half of its wait (a longer wait would gather more); with
//!   no delay, a batch that coalesced several requests anyway (concurrent
//!   arrivals) sets it to `max_delay / 64`, a probe; otherwise the second
//!   half of the wait gathered nothing, and the delay halves, to 0 below
//!   `max_delay / 64`.
//!
//! The compute time per request of a size is the least seen at that size:
//! the noise of a busy machine (preemption, other work) only ever adds
//! time, so the minimum is the size's own cost, and one slow batch decides
//! nothing.

use crate::mailbox::Batching;
use std::collections::BTreeMap;
use std::time::Duration;

/// How much worse than at about half the size a size's cost per request may be.
const TOLERANCE: f64 = 1.5;

/// The controller of one batching actor.
#[derive(Debug)]
pub(crate) struct Adaptive {
    /// The policy's bounds (`max_batch`, `max_delay`, `preferred_sizes`).
    bounds: Batching,
    size: usize,
    /// Whether the size still doubles on growth (until the first decrease).
    slow_start: bool,
    delay: Duration,
    /// By batch size: the least compute time per request seen (µs), and
    /// how many batches of that size ran.
    cost: BTreeMap<usize, (f64, u32)>,
}

impl Adaptive {
    /// A controller within `bounds`, starting at batches of 1 and no delay.
    pub fn new(bounds: Batching) -> Adaptive {
        Adaptive { bounds, size: 1, slow_start: true, delay: Duration::ZERO, cost: BTreeMap::new() }
    }

    /// The batching to gather the next batch with.
    pub fn current(&self) -> Batching {
        Batching {
            max_batch: self.size,
            max_delay: self.delay,
            preferred: self.bounds.preferred.clone(),
            adaptive: true,
        }
    }

    /// The effective batch size and delay now.
    pub fn effective(&self) -> (usize, Duration) {
        (self.size, self.delay)
    }

    /// A batch of `n` requests took `compute`; `backlog` requests were still
    /// queued when it was taken; its last request arrived `late` after it
    /// began gathering.
    pub fn observe(&mut self, n: usize, compute: Duration, backlog: usize, late: Duration) {
        if n == 0 {
            return;
        }
        let per_request = compute.as_secs_f64() * 1e6 / n as f64;
        let seen = self.cost.entry(n).or_insert((f64::INFINITY, 0));
        *seen = (seen.0.min(per_request), seen.1 + 1);
        let (least, batches) = *seen;
        if n >= self.size && backlog > 0 {
            if self.pays_off(n, least) {
                self.size = self.grown();
            } else if batches >= 2 {
                self.size = self.shrunk();
            }
        } else if n < self.size {
            self.tune_delay(n, late);
        }
    }

    /// After a batch that did not fill up: a longer delay if requests kept
    /// arriving into the second half of the wait (or, with no delay, if
    /// requests coalesced anyway), else a shorter one.
    fn tune_delay(&mut self, n: usize, late: Duration) {
        let arriving = !late.is_zero() && late * 2 > self.delay;
        if arriving {
            self.delay = (self.delay + self.bounds.max_delay / 8).min(self.bounds.max_delay);
        } else if self.delay.is_zero() && n >= 2 {
            self.delay = self.bounds.max_delay / 64;
        } else {
            self.delay /= 2;
            if self.delay < self.bounds.max_delay / 64 {
                self.delay = Duration::ZERO;
            }
        }
    }

    /// Whether batches of `n` cost per request (`least` µs) no more than
    /// batches of about half the size (the largest size seen up to half),
    /// within the tolerance.
    fn pays_off(&self, n: usize, least: f64) -> bool {
        match self.cost.range(..=n / 2).next_back() {
            Some((_, (reference, _))) => least <= reference * TOLERANCE,
            None => true,
        }
    }

    /// The size grown: doubled during the slow start, else by one (at most `max_batch`).
    fn grown(&self) -> usize {
        let step = if self.slow_start { self.size } else { 1 };
        (self.size + step).min(self.bounds.max_batch)
    }

    /// The size cut by a quarter (at least 1); the slow start ends.
    fn shrunk(&mut self) -> usize {
        self.slow_start = false;
        (self.size * 3 / 4).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> Batching {
        Batching { max_batch: 16, max_delay: Duration::from_millis(8), preferred: Vec::new(), adaptive: true }
    }

    /// Compute time of a batch of `n` whose cost is `fixed` plus `each` per request (µs).
    fn cost(n: usize, fixed: u64, each: u64) -> Duration {
        Duration::from_micros(fixed + each * n as u64)
    }

    #[test]
    fn starts_at_one_request_and_no_delay() {
        let a = Adaptive::new(bounds());
        assert_eq!(a.effective(), (1, Duration::ZERO));
        assert_eq!(a.current().max_batch, 1);
    }

    #[test]
    fn a_backlog_grows_the_size_to_the_bound_when_batching_pays() {
        let mut a = Adaptive::new(bounds());
        for _ in 0..100 {
            let n = a.effective().0;
            a.observe(n, cost(n, 1000, 10), 50, Duration::ZERO);
        }
        assert_eq!(a.effective().0, 16, "never past max_batch");
    }

    #[test]
    fn the_size_shrinks_when_bigger_batches_stop_paying() {
        let mut a = Adaptive::new(bounds());
        // Up to 4 requests a batch costs the same; past 4 each costs 10 times more.
        let compute =
            |n: usize| if n <= 4 { Duration::from_micros(400) } else { Duration::from_micros(1000 * n as u64) };
        let mut sizes = Vec::new();
        for _ in 0..200 {
            let n = a.effective().0;
            a.observe(n, compute(n), 50, Duration::ZERO);
            sizes.push(a.effective().0);
        }
        assert_eq!(sizes[..5], [2, 4, 8, 8, 6], "a slow start, a second look at 8, then a decrease");
        assert!(sizes[5..].iter().all(|&s| (3..=6).contains(&s)), "sizes {sizes:?}");
        assert!(sizes[100..].iter().any(|&s| s >= 4), "sizes {sizes:?}");
    }

    #[test]
    fn the_size_doubles_until_the_first_decrease_then_grows_by_one() {
        let mut a = Adaptive::new(Batching { max_batch: 64, ..bounds() });
        // Per-request cost falls until 16, then rises steeply.
        let compute = |n: usize| Duration::from_micros(if n <= 16 { 1000 } else { 1000 * n as u64 });
        let mut sizes = Vec::new();
        for _ in 0..8 {
            let n = a.effective().0;
            a.observe(n, compute(n), 100, Duration::ZERO);
            sizes.push(a.effective().0);
        }
        assert_eq!(sizes, [2, 4, 8, 16, 32, 32, 24, 24], "a second look before each decrease");
        for _ in 0..6 {
            let n = a.effective().0;
            a.observe(n, compute(n), 100, Duration::ZERO);
        }
        assert_eq!(a.effective().0, 16, "additive increase after the slow start");
    }

    #[test]
    fn low_load_keeps_no_delay_and_single_batches() {
        let mut a = Adaptive::new(bounds());
        for _ in 0..50 {
            a.observe(1, cost(1, 500, 0), 0, Duration::ZERO);
        }
        assert_eq!(a.effective(), (1, Duration::ZERO));
    }

    #[test]
    fn arrivals_late_in_the_wait_grow_the_delay_and_none_cut_it() {
        let mut a = Adaptive::new(bounds());
        for _ in 0..20 {
            let n = a.effective().0;
            a.observe(n, cost(n, 1000, 10), 50, Duration::ZERO);
        }
        let ms = Duration::from_millis;
        let us = Duration::from_micros;
        a.observe(3, cost(3, 1000, 10), 0, Duration::ZERO);
        assert_eq!(a.effective().1, us(125), "coalescing with no delay probes max_delay / 64");
        a.observe(3, cost(3, 1000, 10), 0, us(100));
        a.observe(3, cost(3, 1000, 10), 0, us(1000));
        assert_eq!(a.effective().1, us(2125), "arrivals in the second half of the wait");
        for _ in 0..20 {
            let d = a.effective().1;
            a.observe(5, cost(5, 1000, 10), 0, d);
        }
        assert_eq!(a.effective().1, ms(8), "never past max_delay");
        a.observe(3, cost(3, 1000, 10), 0, Duration::from_micros(100));
        assert_eq!(a.effective().1, ms(4), "the second half of the wait gathered nothing");
        for _ in 0..6 {
            a.observe(1, cost(1, 1000, 10), 0, Duration::ZERO);
        }
        assert_eq!(a.effective().1, Duration::ZERO);
        a.observe(1, cost(1, 1000, 10), 0, Duration::ZERO);
        assert_eq!(a.effective().1, Duration::ZERO, "a lone request never probes");
    }
}
