//! The addon's Rust allocator on Linux. By default every allocation goes to the system malloc. With
//! `ZOOPIPE_LOW_MEMORY=1` in the environment when the addon loads, allocations of 1 MiB and more are
//! mapped from the kernel and unmapped when freed, so freed buffers leave the process at once.
//!
//! Why: a scan allocates multi-MiB buffers all the time (a row group's column chunks, decompressed
//! pages, decoded columns) on several threads. glibc raises its mmap threshold after the first such
//! buffer is freed (up to 32 MiB), so from then on they come from per-thread arenas, and what is
//! freed stays resident as holes between the batches JS still holds. Measured on the 10M-row
//! streaming read (BENCHMARKS.md): peak RSS ~300 MB by default, ~260 MB mapped. The price is reuse:
//! glibc hands a freed table's memory to the next read without page faults, mappings fault afresh,
//! so repeated full reads in one process are ~40% slower mapped (a first read costs the same). That
//! is why it is opt-in, for memory-capped processes (serverless) that stream.
//!
//! Hand-written because the alternatives are process-wide or measured worse: `mallopt` /
//! `MALLOC_MMAP_THRESHOLD_` change the host's malloc too, mimalloc and jemalloc (as this addon's
//! allocator) left more RSS, `malloc_trim` every few batches cut less and cost more. This is
//! glibc's own large-chunk path with a fixed threshold, for this addon's allocations only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

/// Sizes from which an allocation is its own mapping.
const MAPPED: usize = 1 << 20;
/// Mappings are page aligned; stricter alignments stay with the system allocator.
const PAGE: usize = 4096;

/// Not decided yet / system malloc only / large allocations mapped.
const UNDECIDED: u8 = 0;
const SYSTEM: u8 = 1;
const MAP_LARGE: u8 = 2;
static POLICY: AtomicU8 = AtomicU8::new(UNDECIDED);

/// Reads `ZOOPIPE_LOW_MEMORY` once: at the addon's first allocation, which happens while it loads
/// on the JS thread, before it starts any thread (`lib.rs` asks again at module init). Never
/// changes afterwards, so a block is always freed by the allocator that allocated it.
#[inline]
pub fn policy() -> u8 {
    match POLICY.load(Ordering::Relaxed) {
        UNDECIDED => {
            // SAFETY: getenv with a NUL-terminated name; the value is only read here.
            let value = unsafe { libc::getenv(c"ZOOPIPE_LOW_MEMORY".as_ptr()) };
            let on = !value.is_null() && unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes() == b"1";
            let decided = if on { MAP_LARGE } else { SYSTEM };
            match POLICY.compare_exchange(UNDECIDED, decided, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => decided,
                Err(earlier) => earlier,
            }
        }
        decided => decided,
    }
}

/// Whether a block of this size and alignment is its own mapping. Rust frees and reallocates with the
/// layout it allocated with, so the same answer comes back for the same block.
fn large(size: usize, align: usize) -> bool {
    size >= MAPPED && align <= PAGE
}

unsafe fn map(size: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping touches no existing memory.
    let p = unsafe {
        libc::mmap(std::ptr::null_mut(), size, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
    };
    if p == libc::MAP_FAILED { std::ptr::null_mut() } else { p.cast() }
}

/// Large blocks as their own mappings, the rest from the system malloc.
pub struct MapLarge;

// SAFETY: every block is freed by the path that allocated it (`large` decides both ways), mappings
// are page aligned and zero filled, and failures return null as GlobalAlloc requires.
unsafe impl GlobalAlloc for MapLarge {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if large(layout.size(), layout.align()) { unsafe { map(layout.size()) } } else { unsafe { System.alloc(layout) } }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if large(layout.size(), layout.align()) { unsafe { map(layout.size()) } } else { unsafe { System.alloc_zeroed(layout) } }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if large(layout.size(), layout.align()) {
            unsafe { libc::munmap(ptr.cast(), layout.size()) };
        } else {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match (large(layout.size(), layout.align()), large(new_size, layout.align())) {
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            (true, true) => {
                // Resizing a mapping moves page tables, not bytes.
                let p = unsafe { libc::mremap(ptr.cast(), layout.size(), new_size, libc::MREMAP_MAYMOVE) };
                if p == libc::MAP_FAILED { std::ptr::null_mut() } else { p.cast() }
            }
            _ => {
                // Crossing the threshold: a block from the other path, then a copy.
                // SAFETY: same alignment as the valid `layout`, and `new_size` is non-zero and
                // does not overflow when rounded to it (GlobalAlloc::realloc's contract).
                let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
                let new = unsafe { self.alloc(new_layout) };
                if !new.is_null() {
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                new
            }
        }
    }
}

/// The global allocator: `MapLarge` under `ZOOPIPE_LOW_MEMORY=1`, else the system malloc.
pub struct Allocator;

// SAFETY: the policy is read once and never changes, so every block is freed and reallocated by
// the allocator that allocated it.
// `inline(never)`: the stripped addon measured ~5 MB larger with this allocator (81.7 vs 76.4 MB),
// likely fat LTO inlining these bodies into every allocation site of every crate; out of line, each
// site is one call, as with malloc (size not re-measured yet).
unsafe impl GlobalAlloc for Allocator {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if policy() == MAP_LARGE { unsafe { MapLarge.alloc(layout) } } else { unsafe { System.alloc(layout) } }
    }

    #[inline(never)]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if policy() == MAP_LARGE { unsafe { MapLarge.alloc_zeroed(layout) } } else { unsafe { System.alloc_zeroed(layout) } }
    }

    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if policy() == MAP_LARGE { unsafe { MapLarge.dealloc(ptr, layout) } } else { unsafe { System.dealloc(ptr, layout) } }
    }

    #[inline(never)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if policy() == MAP_LARGE {
            unsafe { MapLarge.realloc(ptr, layout, new_size) }
        } else {
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout};

    use super::{MAPPED, MapLarge};

    fn fill(p: *mut u8, len: usize) {
        for i in 0..len {
            unsafe { *p.add(i) = (i % 251) as u8 };
        }
    }

    fn intact(p: *const u8, len: usize) -> bool {
        (0..len).all(|i| unsafe { *p.add(i) } == (i % 251) as u8)
    }

    #[test]
    fn bytes_survive_resizing_within_and_across_the_mapped_threshold() {
        let a = MapLarge;
        unsafe {
            let small = Layout::from_size_align(1000, 8).unwrap();
            let p = a.alloc(small);
            fill(p, 1000);
            // Up across the threshold (system block -> mapping).
            let p = a.realloc(p, small, 3 * MAPPED + 17);
            assert!(!p.is_null() && intact(p, 1000));
            fill(p, 3 * MAPPED + 17);
            // Mapping -> larger mapping (mremap).
            let p = a.realloc(p, Layout::from_size_align(3 * MAPPED + 17, 8).unwrap(), 5 * MAPPED);
            assert!(!p.is_null() && intact(p, 3 * MAPPED + 17));
            // Down across the threshold (mapping -> system block).
            let p = a.realloc(p, Layout::from_size_align(5 * MAPPED, 8).unwrap(), 4096);
            assert!(!p.is_null() && intact(p, 4096));
            a.dealloc(p, Layout::from_size_align(4096, 8).unwrap());
        }
    }

    #[test]
    fn mapped_blocks_are_zeroed_and_over_aligned_blocks_keep_their_alignment() {
        let a = MapLarge;
        unsafe {
            let layout = Layout::from_size_align(2 * MAPPED, 64).unwrap();
            let p = a.alloc_zeroed(layout);
            assert!(!p.is_null() && (0..2 * MAPPED).all(|i| *p.add(i) == 0));
            a.dealloc(p, layout);
            let wide = Layout::from_size_align(2 * MAPPED, 8192).unwrap();
            let p = a.alloc(wide);
            assert!(!p.is_null() && p as usize % 8192 == 0);
            fill(p, 2 * MAPPED);
            assert!(intact(p, 2 * MAPPED));
            a.dealloc(p, wide);
        }
    }
}
