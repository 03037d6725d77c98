//! Latency percentiles over a bounded window: the most recent `WINDOW`
//! samples, so an actor or model server that runs for days keeps a fixed
//! amount of memory and reports its recent behaviour.

/// How many recent samples the percentiles are taken over.
pub(crate) const WINDOW: usize = 8192;

/// The most recent latencies, in microseconds.
#[derive(Default)]
pub(crate) struct Latencies {
    samples: Vec<u64>,
    /// Where the next sample goes once the window is full.
    next: usize,
}

impl Latencies {
    /// Records `n` samples of `us` microseconds.
    pub fn record(&mut self, us: u64, n: usize) {
        for _ in 0..n.min(WINDOW) {
            if self.samples.len() < WINDOW {
                self.samples.push(us);
            } else {
                self.samples[self.next] = us;
                self.next = (self.next + 1) % WINDOW;
            }
        }
    }

    /// The `p`-th percentiles (0.0 to 1.0) of the window, 0 when empty.
    pub fn percentiles(&self, ps: &[f64]) -> Vec<u64> {
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        ps.iter()
            .map(|p| match sorted.len() {
                0 => 0,
                n => sorted[((n - 1) as f64 * p).round() as usize],
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_full_window_cover_only_recent_samples() {
        let mut l = Latencies::default();
        assert_eq!(l.percentiles(&[0.5]), vec![0]);
        l.record(1_000_000, WINDOW);
        l.record(5, WINDOW / 2);
        l.record(7, WINDOW / 2);
        assert_eq!(l.samples.len(), WINDOW);
        assert_eq!(l.percentiles(&[0.0, 0.49, 1.0]), vec![5, 5, 7]);
    }

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let mut l = Latencies::default();
        for us in 1..=100 {
            l.record(us, 1);
        }
        assert_eq!(l.percentiles(&[0.5, 0.95, 0.99]), vec![51, 95, 99]);
    }
}
