//! Output buffers.
//!
//! Kernels write every output element exactly once, so outputs are allocated
//! uninitialised ([`filled`]): zeroing first would be a second pass over
//! memory. A new large vector comes straight from `mmap` with no page touched
//! yet; on Linux we then ask for transparent huge pages
//! (`madvise(MADV_HUGEPAGE)`, as numpy does), so filling it takes one page
//! fault per 2 MiB instead of per 4 KiB.
//!
//! Even so, every fresh page is zeroed by the kernel on first touch, which
//! costs about as much as a simple kernel's own work. So, like the arena
//! allocators of ONNX Runtime and TensorFlow, freed buffers of at least
//! `POOL_MIN_BYTES` are kept in a small pool (at most `POOL_MAX_BUFFERS`,
//! `POOL_MAX_BYTES` in all, oldest freed first) and handed to the next output
//! of about the same size: a loop that makes tensors of the same shapes again
//! and again (every training or inference step) stops faulting pages in.

use std::any::Any;
use std::mem::MaybeUninit;
use std::sync::{Mutex, PoisonError};

/// Buffers at least this large (in bytes) ask for huge pages.
const HUGE_PAGE_THRESHOLD: usize = 4 << 20;

/// Freed buffers below this size (in bytes) go back to the allocator: `malloc` reuses those well.
const POOL_MIN_BYTES: usize = 1 << 20;

/// The most bytes the pool holds.
const POOL_MAX_BYTES: usize = 256 << 20;

/// The most buffers the pool holds.
const POOL_MAX_BUFFERS: usize = 8;

/// A freed vector kept for reuse: its capacity in bytes and the `Vec<T>` itself (empty).
struct Spare {
    bytes: usize,
    values: Box<dyn Any + Send>,
}

/// The pool of freed buffers, oldest first.
static POOL: Mutex<Vec<Spare>> = Mutex::new(Vec::new());

/// A vector of `n` elements written by `fill`, which gets them uninitialised.
///
/// # Safety
///
/// `fill` must initialise every element of the slice it is given.
pub(crate) unsafe fn filled<T: Copy + Send + 'static>(n: usize, fill: impl FnOnce(&mut [MaybeUninit<T>])) -> Vec<T> {
    let mut values = reuse::<T>(n).unwrap_or_else(|| {
        let values = Vec::with_capacity(n);
        advise_huge_pages(values.as_ptr() as usize, n * std::mem::size_of::<T>());
        values
    });
    fill(&mut values.spare_capacity_mut()[..n]);
    // SAFETY: the caller guarantees that `fill` initialised all `n` elements.
    unsafe { values.set_len(n) };
    values
}

/// Keeps the storage of a freed vector for a later output, if it is large enough to be worth it.
pub(crate) fn recycle<T: Copy + Send + 'static>(mut values: Vec<T>) {
    let bytes = values.capacity() * std::mem::size_of::<T>();
    if !(POOL_MIN_BYTES..=POOL_MAX_BYTES).contains(&bytes) {
        return;
    }
    values.clear();
    let evicted = {
        let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
        pool.push(Spare { bytes, values: Box::new(values) });
        let mut total: usize = pool.iter().map(|s| s.bytes).sum();
        let mut oldest = 0;
        while total > POOL_MAX_BYTES || pool.len() - oldest > POOL_MAX_BUFFERS {
            total -= pool[oldest].bytes;
            oldest += 1;
        }
        pool.drain(..oldest).collect::<Vec<_>>()
    };
    // Freed here, outside the lock: returning memory to the system is a syscall.
    drop(evicted);
}

/// A pooled empty vector with room for `n` elements and at most an eighth more, if there is one.
fn reuse<T: 'static>(n: usize) -> Option<Vec<T>> {
    let want = n.checked_mul(std::mem::size_of::<T>())?;
    if want < POOL_MIN_BYTES {
        return None;
    }
    let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    // The most recently freed fit first: it is the likeliest still in cache.
    let fits = |s: &Spare| (want..=want + want / 8).contains(&s.bytes) && s.values.is::<Vec<T>>();
    let index = pool.iter().rposition(fits)?;
    let spare = pool.remove(index);
    drop(pool);
    spare.values.downcast::<Vec<T>>().ok().map(|values| *values)
}

/// Asks the kernel to back the whole 2 MiB pages inside `[start, start + bytes)` with huge pages.
#[cfg(target_os = "linux")]
fn advise_huge_pages(start: usize, bytes: usize) {
    const HUGE: usize = 2 << 20;
    if bytes < HUGE_PAGE_THRESHOLD {
        return;
    }
    let first = start.next_multiple_of(HUGE);
    let end = (start + bytes) / HUGE * HUGE;
    if end > first {
        // SAFETY: the range lies inside the live allocation `values`, and
        // MADV_HUGEPAGE is only a hint: it never changes memory contents.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

/// Huge pages are only requested on Linux.
#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: usize, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_large_buffer_is_reused_for_the_next_output_of_its_size() {
        let n = POOL_MIN_BYTES / 4 + 12_345;
        // SAFETY: the closure writes every element.
        let first = unsafe { filled::<f32>(n, |out| out.iter_mut().for_each(|o| _ = o.write(1.0))) };
        let address = first.as_ptr() as usize;
        recycle(first);
        // SAFETY: as above.
        let second = unsafe { filled::<f32>(n, |out| out.iter_mut().for_each(|o| _ = o.write(2.0))) };
        // Another test thread may have taken it in between; when it did not, it is this one.
        if second.as_ptr() as usize == address {
            assert!(second.iter().all(|&x| x == 2.0));
        }
        assert_eq!(second.len(), n);
    }

    #[test]
    fn the_pool_keeps_small_buffers_out_and_stays_bounded() {
        recycle(vec![0u8; 16]);
        for _ in 0..3 * POOL_MAX_BUFFERS {
            recycle(vec![0u8; POOL_MIN_BYTES]);
        }
        let pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(pool.len() <= POOL_MAX_BUFFERS);
        assert!(pool.iter().all(|s| (POOL_MIN_BYTES..=POOL_MAX_BYTES).contains(&s.bytes)));
        assert!(pool.iter().map(|s| s.bytes).sum::<usize>() <= POOL_MAX_BYTES);
    }

    #[test]
    fn reuse_never_hands_out_another_element_type() {
        recycle(vec![0u16; POOL_MIN_BYTES]);
        let n = POOL_MIN_BYTES;
        let reused: Option<Vec<u16>> = reuse(n);
        if let Some(values) = reused {
            assert!(values.capacity() >= n && values.is_empty());
        }
        assert!(reuse::<[u8; 3]>(n).is_none());
    }
}
