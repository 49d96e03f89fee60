//! The addon's Rust allocator on Linux: the system malloc, except that large allocations are
//! mapped from the kernel while a read or write runs (by default; always with
//! `ZOOPIPE_LOW_MEMORY=1`; never with `=0`), and freed mappings are kept for reuse
//! (`mapping_pool.rs`) or unmapped:
//! - while a streaming read or write runs (`BoundMemory`, held by `getBatches`/pipe streams,
//!   DeltaOutputAdapter and DeltaWriter), blocks from 1 MiB (streaming reads) or 128 KiB (writes)
//!   are mapped, and up to 64 MiB of freed ones kept; the rest leaves the process;
//! - while a read into one table runs (`ReuseMemory`), blocks from 128 KiB are mapped, and freed
//!   ones are kept for the next reads (up to `keep_bytes()`) until `KEEP_FOR` after the last ended.
//!
//! Why: a scan allocates multi-MiB buffers all the time (a row group's column chunks, decompressed
//! pages, decoded columns) on several threads. glibc raises its mmap threshold after the first such
//! buffer is freed (up to 32 MiB), so from then on they come from per-thread arenas, and what is
//! freed stays resident as holes between the batches JS still holds. Measured on the 10M-row
//! streaming read (BENCHMARKS.md): peak RSS ~305 MB with malloc, ~260 MB mapped. Fresh mappings
//! fault and zero every page, so a few freed mappings (up to 64 MiB) are kept for reuse until the
//! last stream ends, which makes the bounded stream as fast as malloc's.
//!
//! A read into one table is the other case: its buffers are freed when JS collects the table, often
//! while the next read runs. glibc gives a reading thread's memory back to its arena, in 64 MiB
//! heaps that are trimmed and unmapped as they empty, and a later read's blocks of other sizes on
//! other threads do not fit the holes left: a process faulted in 240k, 237k, 116k, 115k, 47k pages
//! (4 KiB) in its first five 10 M-row full reads, ~1 GB each at first, most of their system time.
//! Kept mappings of the same classes serve the next read's blocks of the same sizes whole.
//! Measured (release, 10 M rows, alternating): faults in reads 2-4 of a process 116-122k, 40-68k,
//! 22-37k -> 36-64k, 27-46k, 8-16k; a first read, three, a 15 s pause, two more (medians of the
//! five): projected 0.082-0.086 -> 0.064-0.067 s, time travel 0.176-0.188 -> 0.146-0.161 s, full
//! 0.305-0.324 -> 0.315-0.318 s. Many reads later glibc's arenas fit too, and then it is ahead on
//! a growing buffer (a string column's values): glibc extends it in place at its arena's top, a
//! mapping grows by a copy into a kept one of the next class (or by faulting fresh pages in):
//! steady-state full read 0.283-0.294 -> 0.298-0.299 s, time travel 0.150 -> 0.155-0.158 s,
//! projected 0.065-0.069 -> 0.062-0.063 s. Peak RSS of repeated full reads unchanged (2371 -> 2272
//! MB back to back, 1213 -> 1227 MB read, drop, wait), and of the streaming read (213-234 ->
//! 219-237 MB).
//!
//! Which blocks are mappings is recorded, not derived from the current mode (which changes while
//! blocks are alive): mappings start on a 1 MiB boundary, and a bitmap with one bit per 1 MiB of
//! address space marks the boundaries where a live mapping starts. No other live block can start
//! there (that address is inside the mapping), and the bit is cleared before the range is returned.
//!
//! Hand-written because the alternatives are process-wide or measured worse: `mallopt` /
//! `MALLOC_MMAP_THRESHOLD_` change the host's malloc too, mimalloc and jemalloc (as this addon's
//! allocator) left more RSS, `malloc_trim` every few batches cut less and cost more. This is
//! glibc's own large-chunk path with a fixed threshold, for this addon's allocations only.
//!
//! Mappings are not given huge pages (`MADV_HUGEPAGE`): on a read's mappings from 2 MiB (aligned to
//! 2 MiB) later projected and time-travel reads were ~10% faster (0.058-0.065 -> 0.051-0.056 s,
//! 0.145-0.159 -> 0.136-0.140 s), later full reads slower (0.277-0.292 -> 0.305-0.315 s), and a
//! process's first full read took 1.16-1.43 s instead of 0.44-0.58 s: 2 s of system time zeroing
//! huge pages, which come from the large free blocks this VM (Firecracker, as AWS Lambda uses)
//! reports back to its host, so the host backs each again. A freed mapping's first page, written
//! as the pool's list link, then costs a whole huge page too.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};

use crate::mapping_pool::{Cap, Detached, MAX_MAPPED, PAGE, Pool, class_len};

/// Mappings start aligned to this (the bitmap's window), so a block is known to be a mapping by
/// its address: no other block can start where a mapping does, whatever the mapping's length.
const MAPPED: usize = 1 << 20;
/// Sizes from which an allocation may be its own mapping while only streaming reads run: a scan's
/// blocks of 128 KiB-1 MiB (pages) come and go so fast that mapping them made the streaming read
/// ~50% slower (release, 10 M rows: 1.2-1.3 s -> 1.9-2.0 s for 236 -> 210 MB).
const MAP_FROM_READING: usize = MAPPED;
/// ... and while a write is bounded: glibc's own initial mmap threshold. glibc raises its threshold
/// to the size of each mapped chunk freed (up to 32 MiB), after which such blocks stay in its
/// arenas; a streamed write frees 128 KiB-1 MiB blocks (pages, compression buffers, dictionaries)
/// all the time. Measured (dev build, 5 M rows in 100k-row batches, peak RSS, unpartitioned / 8
/// partitions): never mapped 413 / 478 MB, mapped from 128 KiB 313 / 364 MB, for 5-8% more time.
const MAP_FROM: usize = 128 << 10;
/// User address space covered by the bitmap (48 bits: x86-64 and aarch64 with 4-level tables).
/// A mapping the kernel places above it is given back and the block comes from malloc.
const ADDRESS_BITS: u32 = 48;
const WINDOWS: usize = 1 << (ADDRESS_BITS - MAPPED.trailing_zeros());
/// One bit per 1 MiB window: a live mapping starts there. 32 MiB of zero pages in .bss; only the
/// words of windows that held a mapping are ever touched (one page per 32 GiB of address space).
static STARTS: [AtomicU64; WINDOWS / 64] = [const { AtomicU64::new(0) }; WINDOWS / 64];

/// `ZOOPIPE_LOW_MEMORY`: not read yet / unset (map while bounded) / `1` (always map) / `0` (never).
const UNDECIDED: u8 = 0;
const WHILE_BOUNDED: u8 = 1;
const ALWAYS: u8 = 2;
const NEVER: u8 = 3;
static POLICY: AtomicU8 = AtomicU8::new(UNDECIDED);
/// Streaming reads and writes running now (`BoundMemory` guards alive).
static BOUNDED: AtomicUsize = AtomicUsize::new(0);
/// Of them, writes (`BoundMemory::writing`): blocks from `MAP_FROM` are mapped while any runs.
static WRITING: AtomicUsize = AtomicUsize::new(0);
/// Mappings made so far (for tests: shows which reads map their buffers).
static MAPPINGS: AtomicUsize = AtomicUsize::new(0);
/// Reads into one table running now (`ReuseMemory` guards alive): blocks from `MAP_FROM` are
/// mapped while any runs.
static COLLECTING: AtomicUsize = AtomicUsize::new(0);
/// Freed mappings are kept for later reads into a table: set as one starts, cleared `KEEP_FOR` after
/// the last one ended.
static KEEPING: AtomicBool = AtomicBool::new(false);
/// Bumped as each read into a table starts and ends: the release waits for a quiet `KEEP_FOR`.
static WINDOW: AtomicU64 = AtomicU64::new(0);
/// A thread is waiting to release the kept mappings.
static RELEASER: AtomicBool = AtomicBool::new(false);
/// How long freed mappings are kept after the last read into a table ended: a minute, as the
/// reading threads are (`reader_threads.rs`), so that reads a pipeline repeats within one find their
/// pages.
#[cfg(not(test))]
const KEEP_FOR: std::time::Duration = std::time::Duration::from_secs(60);
#[cfg(test)]
const KEEP_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// Reads `ZOOPIPE_LOW_MEMORY` once, at the addon's first allocation (`lib.rs` also asks at module
/// init). Changing the mode later is safe: blocks are freed by what the bitmap says, not the mode.
#[inline]
pub fn policy() -> u8 {
    match POLICY.load(Ordering::Relaxed) {
        UNDECIDED => {
            // SAFETY: getenv with a NUL-terminated name; the value is only read here.
            let value = unsafe { libc::getenv(c"ZOOPIPE_LOW_MEMORY".as_ptr()) };
            let decided = match (!value.is_null())
                .then(|| unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes())
            {
                Some(b"1") => ALWAYS,
                Some(b"0") => NEVER,
                _ => WHILE_BOUNDED,
            };
            POLICY.store(decided, Ordering::Relaxed);
            decided
        }
        decided => decided,
    }
}

/// While alive (a streaming read or write), large allocations are mappings unless `ZOOPIPE_LOW_MEMORY=0`.
pub struct BoundMemory {
    write: bool,
}

impl BoundMemory {
    /// A streaming read: blocks from `MAP_FROM_READING`.
    pub fn start() -> Self {
        BOUNDED.fetch_add(1, Ordering::Relaxed);
        BoundMemory { write: false }
    }

    /// A write: blocks from `MAP_FROM`.
    pub fn writing() -> Self {
        WRITING.fetch_add(1, Ordering::Relaxed);
        BOUNDED.fetch_add(1, Ordering::Relaxed);
        BoundMemory { write: true }
    }
}

impl Drop for BoundMemory {
    fn drop(&mut self) {
        if self.write {
            WRITING.fetch_sub(1, Ordering::Relaxed);
        }
        if BOUNDED.fetch_sub(1, Ordering::Relaxed) == 1 && !KEEPING.load(Ordering::Relaxed) {
            release_pool();
        }
    }
}

/// While alive (a read into one table), large allocations are mappings unless
/// `ZOOPIPE_LOW_MEMORY=0`, and freed ones are kept for the next reads until `KEEP_FOR` after the
/// last one ends.
pub struct ReuseMemory(());

impl ReuseMemory {
    pub fn start() -> Self {
        COLLECTING.fetch_add(1, Ordering::Relaxed);
        WINDOW.fetch_add(1, Ordering::Relaxed);
        KEEPING.store(true, Ordering::Relaxed);
        ReuseMemory(())
    }
}

impl Drop for ReuseMemory {
    fn drop(&mut self) {
        WINDOW.fetch_add(1, Ordering::Relaxed);
        if COLLECTING.fetch_sub(1, Ordering::Relaxed) == 1 && !RELEASER.swap(true, Ordering::AcqRel)
        {
            let started = std::thread::Builder::new()
                .name("zoopipe-release".into())
                .spawn(release_later);
            if started.is_err() {
                RELEASER.store(false, Ordering::Release);
                KEEPING.store(false, Ordering::Relaxed);
                release_pool();
            }
        }
    }
}

/// The releasing thread: once no read into a table has started or ended for `KEEP_FOR`, stop
/// keeping freed mappings and unmap the kept ones.
fn release_later() {
    loop {
        let window = WINDOW.load(Ordering::Relaxed);
        std::thread::sleep(KEEP_FOR);
        if COLLECTING.load(Ordering::Relaxed) > 0 || WINDOW.load(Ordering::Relaxed) != window {
            continue;
        }
        KEEPING.store(false, Ordering::Relaxed);
        release_pool();
        RELEASER.store(false, Ordering::Release);
        // A read that started and ended just now found this thread still here: stay for it.
        let again = KEEPING.load(Ordering::Relaxed) && COLLECTING.load(Ordering::Relaxed) == 0;
        if !again || RELEASER.swap(true, Ordering::AcqRel) {
            return;
        }
    }
}

/// The most freed mappings kept for reads into a table: a quarter of the machine's memory, at most
/// 2 GiB (a 10 M-row, 10-column table is ~1 GB).
fn keep_bytes() -> usize {
    static BYTES: AtomicUsize = AtomicUsize::new(0);
    match BYTES.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: sysconf reads a system value; it does not allocate.
            let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) };
            let bytes =
                (usize::try_from(pages).unwrap_or(0) * PAGE / 4).clamp(CACHE_BYTES, 2 << 30);
            BYTES.store(bytes, Ordering::Relaxed);
            bytes
        }
        bytes => bytes,
    }
}

/// How many mappings the allocator has made since the addon loaded.
pub fn mappings() -> usize {
    MAPPINGS.load(Ordering::Relaxed)
}

fn map_now() -> bool {
    match policy() {
        ALWAYS => true,
        NEVER => false,
        _ => BOUNDED.load(Ordering::Relaxed) > 0 || COLLECTING.load(Ordering::Relaxed) > 0,
    }
}

/// How much of the freed mappings may be kept now: a stream's small cache while streams run and no
/// read into a table does (in the minute after such a read too: a stream bounds its memory).
fn keep_now() -> Cap {
    let reads = KEEPING.load(Ordering::Relaxed)
        && (COLLECTING.load(Ordering::Relaxed) > 0 || BOUNDED.load(Ordering::Relaxed) == 0);
    if policy() == WHILE_BOUNDED && reads {
        Cap {
            bytes: keep_bytes(),
            count: usize::MAX,
        }
    } else if map_now() {
        Cap {
            bytes: CACHE_BYTES,
            count: CACHE_COUNT,
        }
    } else {
        Cap { bytes: 0, count: 0 }
    }
}

/// Whether a block of this size and alignment may be a mapping (one made now or earlier).
fn large(size: usize, align: usize) -> bool {
    (MAP_FROM..=MAX_MAPPED).contains(&size) && align <= PAGE
}

/// Whether a new block of this size and alignment is to be a mapping now.
fn map_new(size: usize, align: usize) -> bool {
    let from = if WRITING.load(Ordering::Relaxed) > 0 || COLLECTING.load(Ordering::Relaxed) > 0 {
        MAP_FROM
    } else {
        MAP_FROM_READING
    };
    (from..=MAX_MAPPED).contains(&size) && align <= PAGE && map_now()
}

/// The bitmap word and bit of a 1 MiB boundary, or None for any other address.
fn start_bit(addr: usize) -> Option<(&'static AtomicU64, u64)> {
    let window = addr >> MAPPED.trailing_zeros();
    (addr.is_multiple_of(MAPPED) && window < WINDOWS)
        .then(|| (&STARTS[window / 64], 1u64 << (window % 64)))
}

/// Records (or forgets) that a live mapping starts at `addr`, a 1 MiB boundary `start_bit` covers.
fn mark(addr: usize, live: bool) {
    if let Some((word, bit)) = start_bit(addr) {
        if live {
            word.fetch_or(bit, Ordering::AcqRel)
        } else {
            word.fetch_and(!bit, Ordering::AcqRel)
        };
    }
}

/// Whether `ptr` is the start of a live mapping made by `map`.
fn is_mapping(ptr: *mut u8) -> bool {
    start_bit(ptr as usize).is_some_and(|(word, bit)| word.load(Ordering::Acquire) & bit != 0)
}

/// Bytes of freed mappings kept while streams run, still faulted in, for the next large
/// allocations. A scan frees and allocates buffers of the same few sizes all the time; every fresh
/// mapping faults and zeroes each page again, which made the bounded stream ~15% slower than
/// malloc. Measured on the 10M-row streaming read (BENCHMARKS.md), side by side: none kept 0.83 s,
/// 32 MiB 0.72 s, 64 MiB 0.68 s (malloc 0.72 s), peak RSS ~265 MB in each (malloc ~310 MB).
const CACHE_BYTES: usize = 64 << 20;
/// ... and at most this many: a write maps blocks from 128 KiB, and up to 64 MiB of those kept
/// raised a streamed write's peak RSS by 50-60 MB (5 M rows, BENCHMARKS.md: 174 -> 234 MB).
const CACHE_COUNT: usize = 16;

/// std's Mutex: a futex, it never allocates (no re-entry into the allocator).
static POOL: Mutex<Pool> = Mutex::new(Pool::new());

fn with_pool<T>(f: impl FnOnce(&mut Pool) -> T) -> T {
    f(&mut POOL.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Unmaps every kept mapping (the last stream ended, or reads into a table stopped).
fn release_pool() {
    let kept: Detached = with_pool(Pool::detach);
    // SAFETY: mappings of ours that neither a block nor the pool refers to any more.
    unsafe {
        kept.each(|addr, len| {
            libc::munmap(addr as *mut libc::c_void, len);
        })
    };
}

/// A mapping of `size` bytes (its class length) starting on a 1 MiB boundary, recorded in the
/// bitmap: a kept one (zeroed if asked) or a fresh one; None when the kernel refuses or places it
/// where the bitmap does not reach.
unsafe fn map(size: usize, zeroed: bool) -> Option<*mut u8> {
    let len = class_len(size);
    // SAFETY: the pool's mappings are ours and mapped.
    let Some(addr) = (unsafe { take_kept(len) }) else {
        return unsafe { map_fresh(size) };
    };
    if zeroed {
        // SAFETY: `addr..addr+len` is a mapping of ours that only we hold now.
        unsafe { std::ptr::write_bytes(addr as *mut u8, 0, size) };
    }
    mark(addr, true);
    Some(addr as *mut u8)
}

/// A kept mapping of `len` bytes (a class length), cut to that length if it was longer.
unsafe fn take_kept(len: usize) -> Option<usize> {
    // SAFETY: the pool's mappings are ours and mapped; the cut tail is ours alone.
    let (addr, have) = with_pool(|p| unsafe { p.take(len) })?;
    if have > len {
        unsafe { libc::munmap((addr + len) as *mut libc::c_void, have - len) };
    }
    Some(addr)
}

/// A fresh zero-filled mapping of `size` bytes starting on a 1 MiB boundary, recorded in the bitmap.
unsafe fn map_fresh(size: usize) -> Option<*mut u8> {
    let length = class_len(size);
    let len = length + MAPPED;
    // SAFETY: an anonymous private mapping touches no existing memory; the trimmed head and tail
    // are parts of it no one else has seen.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return None;
        }
        let start = p as usize;
        let aligned = start.next_multiple_of(MAPPED);
        let end = aligned + length;
        if aligned > start {
            libc::munmap(p, aligned - start);
        }
        if start + len > end {
            libc::munmap(end as *mut libc::c_void, start + len - end);
        }
        if start_bit(aligned).is_none() {
            libc::munmap(aligned as *mut libc::c_void, length);
            return None;
        }
        mark(aligned, true);
        MAPPINGS.fetch_add(1, Ordering::Relaxed);
        Some(aligned as *mut u8)
    }
}

/// Gives a mapping back, to the pool or the kernel. The bit goes first: until then the range is
/// still ours, so no other block can appear at this address while the bit still claims it.
unsafe fn unmap(ptr: *mut u8, size: usize) {
    mark(ptr as usize, false);
    let (addr, len) = (ptr as usize, class_len(size));
    // Kept only while mappings are being made or reads into a table keep them: a block freed after
    // that (JS collecting a stream's batches late) leaves. Decided under the lock, so it cannot slip
    // in after `release_pool` emptied the pool.
    // SAFETY: the range is ours, and no block refers to it any more.
    if !with_pool(|p| unsafe { p.put(addr, len, keep_now()) }) {
        unsafe { libc::munmap(addr as *mut libc::c_void, len) };
    }
}

/// Resizes a mapping: in place within its class length; when growing, into a kept mapping of the
/// new length if there is one (a copy of the bytes into pages already faulted in: mremap would move
/// the old pages but fault in every new one); else the kernel moves its pages to a bigger mapping
/// (in place if it can extend it). None (the block untouched) if no new mapping could be made.
unsafe fn remap(ptr: *mut u8, size: usize, new_size: usize) -> Option<*mut u8> {
    let (len, new_len) = (class_len(size), class_len(new_size));
    if new_len == len {
        return Some(ptr);
    }
    // SAFETY: `ptr..ptr+len` is a live mapping of ours; the kept mapping is ours alone; the target
    // is a fresh mapping of ours, which MREMAP_FIXED replaces.
    unsafe {
        if new_len > len
            && let Some(kept) = take_kept(new_len)
        {
            mark(kept, true);
            std::ptr::copy_nonoverlapping(ptr, kept as *mut u8, size);
            unmap(ptr, size);
            return Some(kept as *mut u8);
        }
        if libc::mremap(ptr.cast(), len, new_len, 0) != libc::MAP_FAILED {
            return Some(ptr); // shrunk, or grown in place: same start, same bit
        }
        // Fresh, not kept: MREMAP_FIXED discards the target's pages.
        let target = map_fresh(new_size)?;
        mark(ptr as usize, false);
        let moved = libc::mremap(
            ptr.cast(),
            len,
            new_len,
            libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
            target,
        );
        if moved == libc::MAP_FAILED {
            mark(ptr as usize, true);
            unmap(target, new_size);
            return None;
        }
        Some(target)
    }
}

/// A new block as a mapping, if it is large and memory is bounded now (and the kernel obliges).
unsafe fn new_mapping(layout: Layout, zeroed: bool) -> Option<*mut u8> {
    if map_new(layout.size(), layout.align()) {
        unsafe { map(layout.size(), zeroed) }
    } else {
        None
    }
}

/// The global allocator: malloc, or a mapping for large blocks while memory is bounded.
pub struct Allocator;

// SAFETY: a block is freed or resized as a mapping exactly when the bitmap says `map` made it
// (mappings start on a `MAPPED` boundary and are at least `MAP_FROM` long, zero filled when fresh
// or asked for; every other block is malloc's), and failures return null as GlobalAlloc requires.
// `inline(never)`: fat LTO inlined these bodies into every allocation site of every crate (the
// stripped addon measured 81.7 MB with them inlined, 76.9 MB out of line, 76.4 MB without this
// allocator); out of line, each site is one call, as with malloc.
unsafe impl GlobalAlloc for Allocator {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { new_mapping(layout, false) }.unwrap_or_else(|| unsafe { System.alloc(layout) })
    }

    #[inline(never)]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { new_mapping(layout, true) }
            .unwrap_or_else(|| unsafe { System.alloc_zeroed(layout) })
    }

    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if large(layout.size(), layout.align()) && is_mapping(ptr) {
            unsafe { unmap(ptr, layout.size()) }
        } else {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[inline(never)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let mapped = large(layout.size(), layout.align()) && is_mapping(ptr);
        let to_mapping = if mapped {
            large(new_size, layout.align())
        } else {
            map_new(new_size, layout.align())
        };
        if mapped
            && to_mapping
            && let Some(p) = unsafe { remap(ptr, layout.size(), new_size) }
        {
            return p;
        }
        if !mapped && !to_mapping {
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // Between malloc and a mapping (either way), or a failed remap: a new block, then a copy.
        // SAFETY: same alignment as the valid `layout`, and `new_size` is non-zero and does not
        // overflow when rounded to it (GlobalAlloc::realloc's contract).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = if to_mapping {
            unsafe { map(new_size, false) }
        } else {
            None
        }
        .unwrap_or_else(|| unsafe { System.alloc(new_layout) });
        if !new.is_null() {
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout, System};

    use super::{
        Allocator, BoundMemory, COLLECTING, KEEPING, MAPPED, NEVER, ReuseMemory, WHILE_BOUNDED,
        is_mapping, policy, with_pool,
    };

    fn fill(p: *mut u8, len: usize) {
        for i in 0..len {
            unsafe { *p.add(i) = (i % 251) as u8 };
        }
    }

    fn intact(p: *const u8, len: usize) -> bool {
        (0..len).all(|i| unsafe { *p.add(i) } == (i % 251) as u8)
    }

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 8).unwrap()
    }

    /// The tests that start and end streams run one at a time (the other tests of the crate never
    /// bound memory), so a test knows when no stream is running.
    fn serial() -> std::sync::MutexGuard<'static, ()> {
        static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    // Tests run in parallel in one process: those that bound memory hold `serial()`, and they assert
    // what must hold whatever `ZOOPIPE_LOW_MEMORY` says, and that mappings happen while bounded.
    #[test]
    fn bytes_survive_resizing_within_and_across_the_mapped_threshold() {
        let _serial = serial();
        let a = Allocator;
        let bounded = policy() != NEVER;
        let guard = BoundMemory::start();
        unsafe {
            let p = a.alloc(layout(1000));
            fill(p, 1000);
            // Up across the threshold (malloc block -> mapping).
            let p = a.realloc(p, layout(1000), 3 * MAPPED + 17);
            assert!(!p.is_null() && intact(p, 1000));
            assert_eq!(is_mapping(p), bounded);
            fill(p, 3 * MAPPED + 17);
            // Mapping -> larger mapping (mremap), then again after the bound ended: still a mapping.
            let p = a.realloc(p, layout(3 * MAPPED + 17), 5 * MAPPED);
            assert!(!p.is_null() && intact(p, 3 * MAPPED + 17));
            assert_eq!(is_mapping(p), bounded);
            drop(guard);
            let p = a.realloc(p, layout(5 * MAPPED), 9 * MAPPED);
            assert!(!p.is_null() && intact(p, 3 * MAPPED + 17));
            assert_eq!(is_mapping(p), bounded);
            // Shrinking stays in place.
            let q = a.realloc(p, layout(9 * MAPPED), 2 * MAPPED);
            assert!(!q.is_null() && intact(q, 2 * MAPPED));
            // Down across the threshold (mapping -> malloc block).
            let p = a.realloc(q, layout(2 * MAPPED), 4096);
            assert!(!p.is_null() && intact(p, 4096) && !is_mapping(p));
            a.dealloc(p, layout(4096));
        }
    }

    #[test]
    fn malloc_blocks_are_freed_by_malloc_even_while_memory_is_bounded() {
        let _serial = serial();
        let a = Allocator;
        unsafe {
            let p = System.alloc(layout(2 * MAPPED));
            assert!(!p.is_null() && !is_mapping(p));
            fill(p, 2 * MAPPED);
            let _guard = BoundMemory::start();
            let q = a.realloc(p, layout(2 * MAPPED), 3 * MAPPED);
            assert!(!q.is_null() && intact(q, 2 * MAPPED));
            let r = System.alloc(layout(2 * MAPPED));
            a.dealloc(r, layout(2 * MAPPED));
            a.dealloc(q, layout(3 * MAPPED));
        }
    }

    #[test]
    fn threads_resizing_and_freeing_each_others_blocks_while_the_mode_flips_keep_every_byte() {
        let _serial = serial();
        use std::sync::{Arc, Mutex};
        let same = |v: &Vec<u8>| v.iter().step_by(4093).chain(v.last()).all(|&b| b == v[0]);
        let shared: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let threads: Vec<_> = (1..=4u8)
            .map(|t| {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let mut guard = None;
                    for i in 0..150usize {
                        if i % 7 == t as usize {
                            guard = if guard.is_some() {
                                None
                            } else {
                                Some(BoundMemory::start())
                            };
                        }
                        let size = MAPPED + (i * 37 % 5) * MAPPED / 2 + t as usize;
                        let mut v = vec![t; size];
                        if i % 3 == 0 {
                            v.resize(size + 3 * MAPPED, t); // grow: mremap, in place or moved
                        }
                        if i % 5 == 0 {
                            v.truncate(1000); // down across the threshold
                            v.shrink_to_fit();
                        }
                        assert!(same(&v));
                        // Hand blocks over: another thread, in another mode, frees them.
                        let other = {
                            let mut pool = shared.lock().unwrap();
                            pool.push(v);
                            let n = pool.len();
                            (n > 8).then(|| pool.swap_remove(i % n))
                        };
                        if let Some(v) = other {
                            assert!(same(&v));
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(shared.lock().unwrap().iter().all(same));
    }

    #[test]
    fn mappings_are_zeroed_aligned_and_freed_as_mappings_after_the_bound_ends() {
        let _serial = serial();
        let a = Allocator;
        let bounded = policy() != NEVER;
        unsafe {
            let guard = BoundMemory::start();
            let p = a.alloc_zeroed(Layout::from_size_align(2 * MAPPED, 64).unwrap());
            assert!(!p.is_null() && (0..2 * MAPPED).all(|i| *p.add(i) == 0));
            assert_eq!(is_mapping(p), bounded);
            if bounded {
                assert_eq!(p as usize % MAPPED, 0);
            }
            // Stricter than a page: never a mapping, alignment kept.
            let wide = Layout::from_size_align(2 * MAPPED, 8192).unwrap();
            let w = a.alloc(wide);
            assert!(!w.is_null() && (w as usize).is_multiple_of(8192) && !is_mapping(w));
            fill(w, 2 * MAPPED);
            assert!(intact(w, 2 * MAPPED));
            a.dealloc(w, wide);
            // Freed after the bound ended: still unmapped (glibc would abort on free() of it).
            drop(guard);
            a.dealloc(p, Layout::from_size_align(2 * MAPPED, 64).unwrap());
        }
    }

    #[test]
    fn a_reused_mapping_is_zeroed_for_alloc_zeroed_and_the_pool_empties_when_the_last_stream_ends()
    {
        let _serial = serial();
        let a = Allocator;
        let kept = || with_pool(|p| p.bytes());
        let big = layout(3 * MAPPED);
        unsafe {
            let guard = BoundMemory::start();
            let p = a.alloc(big);
            std::ptr::write_bytes(p, 0xab, 3 * MAPPED);
            let other = a.alloc(big);
            a.dealloc(p, big);
            if policy() == WHILE_BOUNDED {
                assert!(
                    is_mapping(other) && kept() == 3 * MAPPED,
                    "a freed mapping is kept while a stream runs"
                );
            }
            // The same pages again (a size of the same class): they must come back zeroed.
            let q = a.alloc_zeroed(layout(3 * MAPPED - 5));
            assert!(!q.is_null() && (0..3 * MAPPED - 5).all(|i| *q.add(i) == 0));
            if policy() == WHILE_BOUNDED {
                assert_eq!((q, kept()), (p, 0), "reused whole");
            }
            a.dealloc(q, layout(3 * MAPPED - 5));
            drop(guard);
            let after_the_stream = kept();
            a.dealloc(other, big);
            if policy() == WHILE_BOUNDED {
                assert_eq!(after_the_stream, 0, "emptied when the last stream ended");
                assert_eq!(
                    kept(),
                    0,
                    "freed after the stream ended: unmapped, not kept"
                );
            }
        }
    }

    #[test]
    fn a_stream_in_the_minute_after_a_read_into_a_table_keeps_only_its_own_small_cache() {
        let _serial = serial();
        if policy() != WHILE_BOUNDED {
            return;
        }
        let a = Allocator;
        let kept = || with_pool(|p| p.bytes());
        let block = layout(2 * MAPPED);
        unsafe {
            drop(ReuseMemory::start());
            assert!(KEEPING.load(std::sync::atomic::Ordering::Relaxed));
            let stream = BoundMemory::start();
            let blocks: Vec<*mut u8> = (0..24).map(|_| a.alloc(block)).collect();
            assert!(blocks.iter().all(|&p| is_mapping(p)));
            for p in blocks {
                a.dealloc(p, block);
            }
            assert_eq!(kept(), super::CACHE_COUNT * 2 * MAPPED, "16 kept, not 24");
            drop(stream);
            std::thread::sleep(super::KEEP_FOR * 2 + std::time::Duration::from_millis(500));
            assert_eq!(kept(), 0, "unmapped after the quiet while");
        }
    }

    #[test]
    fn reads_into_a_table_map_and_keep_freed_mappings_for_the_next_read_until_a_quiet_while_after_the_last()
     {
        let _serial = serial();
        if policy() != WHILE_BOUNDED {
            return;
        }
        let a = Allocator;
        let kept = || with_pool(|p| p.bytes());
        let big = layout(5 * MAPPED + 3);
        unsafe {
            let read = ReuseMemory::start();
            let p = a.alloc(big);
            let q = a.alloc(layout(4 * MAPPED));
            assert!(is_mapping(p), "mapped while a read into a table runs");
            drop(read);
            // Freed after the read ended (JS collected its table): kept for the next read.
            a.dealloc(p, big);
            assert_eq!(kept(), super::class_len(5 * MAPPED + 3));
            let next = ReuseMemory::start();
            // Growing into a kept mapping of the new class: copied, bytes intact.
            fill(q, 4 * MAPPED);
            let r = a.realloc(q, layout(4 * MAPPED), 5 * MAPPED + 3);
            assert_eq!((r, kept()), (p, 4 * MAPPED));
            assert!(intact(r, 4 * MAPPED));
            // A shorter block takes the longer kept mapping, cut to its length.
            let s = a.alloc(layout(2 * MAPPED));
            assert_eq!((s, kept()), (q, 0));
            a.dealloc(s, layout(2 * MAPPED));
            // Within its class: in place.
            assert_eq!(a.realloc(r, big, 5 * MAPPED + 100), r);
            a.dealloc(r, layout(5 * MAPPED + 100));
            drop(next);
            assert!(kept() > 0 && KEEPING.load(std::sync::atomic::Ordering::Relaxed));
            // Released once no read has started or ended for KEEP_FOR.
            std::thread::sleep(super::KEEP_FOR * 2 + std::time::Duration::from_millis(500));
            assert_eq!(COLLECTING.load(std::sync::atomic::Ordering::Relaxed), 0);
            assert_eq!(kept(), 0, "unmapped after the quiet while");
            assert!(!KEEPING.load(std::sync::atomic::Ordering::Relaxed));
        }
    }
}
