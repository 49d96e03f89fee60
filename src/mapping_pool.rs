//! Freed mappings of the addon's allocator (`alloc.rs`), kept for reuse by length.
//!
//! Why: a fresh mapping faults in and zeroes every page it touches; a kept one has its pages
//! already. A mapping's length is its block's size rounded up to one of eight classes per doubling
//! (at most 1/8 more address space; pages never touched cost no memory), so the allocator knows a
//! mapping's length from the size its block is freed or resized with, and a freed mapping serves
//! any later block of the same class whole (or of a shorter class, cut to its length).
//! The free lists are intrusive (each kept mapping holds the address of the next in its first
//! word): the allocator must not allocate.

pub const PAGE: usize = 4096;
/// Kept lengths are classes above 2^16 bytes (the allocator maps blocks from 128 KiB) ...
const MIN_EXP: u32 = 16;
/// ... up to 2^46 (blocks larger than that are never mappings).
const MAX_EXP: u32 = 46;
pub const MAX_MAPPED: usize = 1 << MAX_EXP;
const STEPS: usize = 8;
const CLASSES: usize = (MAX_EXP - MIN_EXP) as usize * STEPS;

/// The length of the mapping for a block of `size` bytes (0 < size <= MAX_MAPPED): pages, rounded
/// up to an eighth of the power of two below.
pub fn class_len(size: usize) -> usize {
    let len = size.max(1).next_multiple_of(PAGE);
    let step = ((1usize << floor_log2(len - 1)) / STEPS).max(PAGE);
    len.next_multiple_of(step)
}

/// The largest e with 2^e <= n (n > 0), or 0 for n = 0.
fn floor_log2(n: usize) -> u32 {
    (usize::BITS - 1).saturating_sub(n.leading_zeros())
}

/// The free list of a class length, or None for lengths that are not kept.
fn index(len: usize) -> Option<usize> {
    if len <= 1 << MIN_EXP || len > MAX_MAPPED || len != class_len(len) {
        return None;
    }
    let e = floor_log2(len - 1);
    let step = (1usize << e) / STEPS;
    Some((e - MIN_EXP) as usize * STEPS + (len - (1usize << e)) / step - 1)
}

/// The class length of free list `i`.
fn length_of(i: usize) -> usize {
    let e = MIN_EXP + (i / STEPS) as u32;
    (1usize << e) + (i % STEPS + 1) * ((1usize << e) / STEPS)
}

/// Kept mappings, one LIFO list per class (the most recently freed first: its pages are the
/// likeliest to be in the CPU's caches).
pub struct Pool {
    heads: [usize; CLASSES],
    bytes: usize,
    count: usize,
}

/// How much a pool may keep: bytes and mappings.
#[derive(Clone, Copy)]
pub struct Cap {
    pub bytes: usize,
    pub count: usize,
}

impl Pool {
    pub const fn new() -> Self {
        Pool {
            heads: [0; CLASSES],
            bytes: 0,
            count: 0,
        }
    }

    /// Bytes of mappings kept.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// A kept mapping for a block of class length `len`, taken out of the pool: one of exactly
    /// `len` bytes, else the shortest longer one (whose tail past `len` the caller unmaps: a stream's
    /// buffers vary in size, and the kept mapping's head is still faulted in). As `(address, its
    /// length)`.
    ///
    /// # Safety
    /// Every mapping in the pool is still mapped and only the pool refers to it.
    pub unsafe fn take(&mut self, len: usize) -> Option<(usize, usize)> {
        let i = (index(len)?..CLASSES).find(|&i| self.heads[i] != 0)?;
        let addr = self.heads[i];
        // SAFETY: a kept mapping's first word is the link `put` wrote.
        self.heads[i] = unsafe { *(addr as *const usize) };
        let have = length_of(i);
        self.bytes -= have;
        self.count -= 1;
        Some((addr, have))
    }

    /// Keeps the mapping `addr..addr+len` unless it is not of a kept class or would take the pool
    /// past `cap`; false: the caller unmaps it.
    ///
    /// # Safety
    /// `addr..addr+len` is a writable mapping no one else refers to any more.
    pub unsafe fn put(&mut self, addr: usize, len: usize, cap: Cap) -> bool {
        let Some(i) = index(len) else { return false };
        if self.bytes + len > cap.bytes || self.count >= cap.count {
            return false;
        }
        // SAFETY: the mapping is ours and at least a page long.
        unsafe { *(addr as *mut usize) = self.heads[i] };
        self.heads[i] = addr;
        self.bytes += len;
        self.count += 1;
        true
    }

    /// Everything kept, taken out of the pool, to be walked (and unmapped) outside its lock.
    pub fn detach(&mut self) -> Detached {
        let all = Detached(self.heads);
        *self = Pool::new();
        all
    }
}

/// The lists of a detached pool.
pub struct Detached([usize; CLASSES]);

impl Detached {
    /// Calls `f(addr, len)` for each mapping; `f` may unmap it (its link is read first).
    ///
    /// # Safety
    /// The lists are those of a detached pool whose mappings are all still mapped.
    pub unsafe fn each(&self, mut f: impl FnMut(usize, usize)) {
        for (i, &head) in self.0.iter().enumerate() {
            let mut addr = head;
            while addr != 0 {
                // SAFETY: as in `Pool::take`.
                let next = unsafe { *(addr as *const usize) };
                f(addr, length_of(i));
                addr = next;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CLASSES, Cap, MAX_MAPPED, PAGE, Pool, class_len, index, length_of};

    #[test]
    fn class_lengths_are_pages_at_most_an_eighth_over_the_size_and_each_has_its_own_list() {
        for size in (64 << 10..40 << 20)
            .step_by(4093)
            .chain([128 << 10, 1 << 20, MAX_MAPPED])
        {
            let len = class_len(size);
            assert!(len >= size && len.is_multiple_of(PAGE), "{size} -> {len}");
            assert!(len <= size + (size + PAGE) / 8, "{size} -> {len}");
            assert_eq!(class_len(len), len, "a class length is its own class");
        }
        assert_eq!(class_len(1 << 20), 1 << 20);
        assert_eq!(class_len((1 << 20) + 1), (1 << 20) + (128 << 10));
        let kept: Vec<usize> = (0..CLASSES).map(length_of).collect();
        assert!(kept.windows(2).all(|w| w[0] < w[1]));
        assert_eq!((kept[0], *kept.last().unwrap()), ((72 << 10), MAX_MAPPED));
        for (i, &len) in kept.iter().enumerate() {
            assert_eq!(index(len), Some(i));
        }
        assert_eq!(index(64 << 10), None, "too small to be kept");
        assert_eq!(index((1 << 20) + PAGE), None, "not a class length");
    }

    #[test]
    fn the_pool_hands_back_the_last_mapping_kept_of_a_length_and_keeps_nothing_past_its_cap() {
        // Plain heap blocks stand in for mappings: the pool only writes and reads their first word.
        let len = class_len(3 << 20);
        let blocks: Vec<Vec<u64>> = (0..3).map(|_| vec![7u64; len / 8]).collect();
        let addr = |i: usize| blocks[i].as_ptr() as usize;
        let mut pool = Pool::new();
        let cap = |bytes, count| Cap { bytes, count };
        let roomy = cap(4 * len, 4);
        unsafe {
            assert!(pool.put(addr(0), len, roomy));
            assert!(pool.put(addr(1), len, roomy));
            assert!(!pool.put(addr(2), len, cap(2 * len, 4)), "past the bytes");
            assert!(!pool.put(addr(2), len, cap(4 * len, 2)), "past the count");
            let any = cap(usize::MAX, usize::MAX);
            assert!(!pool.put(addr(2), len + PAGE, any), "not a class length");
            assert_eq!(pool.bytes(), 2 * len);
            assert_eq!(pool.take(class_len(5 << 20)), None, "none as long");
            assert_eq!(pool.take(len), Some((addr(1), len)));
            assert_eq!(
                pool.take(class_len(1 << 20)),
                Some((addr(0), len)),
                "a longer one"
            );
            assert!(pool.put(addr(0), len, roomy));
            assert!(pool.put(addr(2), len, roomy));
            let mut left = vec![];
            pool.detach().each(|a, l| left.push((a, l)));
            assert_eq!(left, [(addr(2), len), (addr(0), len)]);
            assert_eq!((pool.bytes(), pool.take(len)), (0, None));
        }
    }
}
