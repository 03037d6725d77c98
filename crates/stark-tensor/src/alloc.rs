//! Output buffers. A large zeroed `Vec` comes straight from `mmap` with no
//! page touched yet; on Linux we then ask for transparent huge pages
//! (`madvise(MADV_HUGEPAGE)`, as numpy does), so filling it takes one page
//! fault per 2 MiB instead of per 4 KiB, which otherwise dominates simple
//! kernels over tens of megabytes.

/// Buffers at least this large (in bytes) ask for huge pages.
const HUGE_PAGE_THRESHOLD: usize = 4 << 20;

/// A vector of `n` default (zero) elements, backed by huge pages when large.
pub(crate) fn zeroed<T: Default + Copy>(n: usize) -> Vec<T> {
    let values = vec![T::default(); n];
    let bytes = n * std::mem::size_of::<T>();
    if bytes >= HUGE_PAGE_THRESHOLD {
        advise_huge_pages(values.as_ptr() as usize, bytes);
    }
    values
}

/// Asks the kernel to back the whole 2 MiB pages inside `[start, start + bytes)` with huge pages.
#[cfg(target_os = "linux")]
fn advise_huge_pages(start: usize, bytes: usize) {
    const HUGE: usize = 2 << 20;
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
