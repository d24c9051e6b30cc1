//! The account table: one 16-byte slot per account (balance, nonce word), in one allocation.
//!
//! Transfers touch two random accounts, so the table's speed is the speed of random memory
//! access. Two things help: the table is aligned to 2 MiB and, on Linux, advised to use
//! transparent huge pages (this machine's THP mode is `madvise`), which removes most TLB misses
//! on a 16-160 MB table; and the engine prefetches accounts a few transfers ahead.
//!
//! The nonce word holds `nonce << 1 | busy`. The busy bit is only used by the CAS design, where
//! it marks a sender whose transfer is being applied by some thread.

use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// One account. `repr(C, align(16))` keeps both words in one cache line.
#[repr(C, align(16))]
pub struct Account {
    pub(crate) balance: AtomicU64,
    pub(crate) nonce_word: AtomicU64,
}

impl Account {
    /// Current balance.
    pub fn balance(&self) -> u64 {
        self.balance.load(Ordering::Relaxed)
    }
    /// Current nonce (the next valid transfer from this account carries this nonce).
    pub fn nonce(&self) -> u64 {
        self.nonce_word.load(Ordering::Relaxed) >> 1
    }
}

const HUGE_PAGE: usize = 2 << 20;

/// Where the table's memory came from, so it is released the same way.
enum Backing {
    /// `mmap`ed on Linux: `base`/`len` are the whole mapping (the table starts at the first
    /// 2 MiB boundary inside it).
    #[cfg(target_os = "linux")]
    Mapped {
        base: *mut libc::c_void,
        len: usize,
    },
    Heap(Layout),
}

/// A fixed-size table of accounts.
pub struct Accounts {
    ptr: NonNull<Account>,
    len: usize,
    backing: Backing,
}

// SAFETY: the table only hands out shared references to `Account`, whose fields are atomics.
unsafe impl Send for Accounts {}
// SAFETY: as above; all mutation goes through atomics.
unsafe impl Sync for Accounts {}

impl Accounts {
    /// Allocates `len` accounts, each with `initial_balance` and nonce 0.
    ///
    /// On Linux the table is mapped anonymously (zero pages arrive lazily), advised to use
    /// transparent huge pages *before* any page is touched, and only then filled; a zeroing
    /// allocator would fault every page in as 4 KiB first and huge pages would never apply.
    ///
    /// # Panics
    /// If `len` is 0 or the memory cannot be had (the process cannot continue without its table).
    pub fn new(len: usize, initial_balance: u64) -> Accounts {
        assert!(len > 0, "an engine needs at least one account");
        let bytes = len
            .checked_mul(std::mem::size_of::<Account>())
            .expect("account table size overflows usize");
        let (ptr, backing) = Self::allocate(bytes);
        let table = Accounts { ptr, len, backing };
        if initial_balance != 0 {
            for a in table.as_slice() {
                a.balance.store(initial_balance, Ordering::Relaxed);
            }
        }
        table
    }

    #[cfg(target_os = "linux")]
    fn allocate(bytes: usize) -> (NonNull<Account>, Backing) {
        if bytes >= HUGE_PAGE {
            let map_len = bytes.div_ceil(HUGE_PAGE) * HUGE_PAGE + HUGE_PAGE;
            // SAFETY: an anonymous private mapping with no address hint; checked for failure.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    map_len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if base != libc::MAP_FAILED {
                let aligned = (base as usize).div_ceil(HUGE_PAGE) * HUGE_PAGE;
                // SAFETY: `aligned .. aligned + bytes` lies inside the mapping (we mapped an extra
                // huge page for alignment). Failing madvise only means 4 KiB pages.
                unsafe {
                    libc::madvise(
                        aligned as *mut libc::c_void,
                        bytes.div_ceil(HUGE_PAGE) * HUGE_PAGE,
                        libc::MADV_HUGEPAGE,
                    );
                }
                let ptr = NonNull::new(aligned as *mut Account).expect("mmap never returns null");
                return (ptr, Backing::Mapped { base, len: map_len });
            }
        }
        Self::heap(bytes)
    }

    #[cfg(not(target_os = "linux"))]
    fn allocate(bytes: usize) -> (NonNull<Account>, Backing) {
        Self::heap(bytes)
    }

    fn heap(bytes: usize) -> (NonNull<Account>, Backing) {
        let layout =
            Layout::from_size_align(bytes.div_ceil(64) * 64, 64).expect("valid table layout");
        // SAFETY: the layout has a non-zero size. Zeroed atomics are valid accounts.
        let raw = unsafe { alloc::alloc_zeroed(layout) } as *mut Account;
        match NonNull::new(raw) {
            Some(ptr) => (ptr, Backing::Heap(layout)),
            None => alloc::handle_alloc_error(layout),
        }
    }

    /// All accounts.
    #[inline]
    pub fn as_slice(&self) -> &[Account] {
        // SAFETY: `ptr` points to `len` initialised (zeroed atomics are valid) accounts that live
        // as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// Hints the CPU to start loading account `i` into cache. Out-of-range indexes are ignored.
    #[inline(always)]
    pub fn prefetch(&self, i: u64) {
        if (i as usize) < self.len {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the pointer is inside our allocation; prefetch never faults anyway.
            // Write intent (PREFETCHW): both accounts of a transfer are written, so fetching the
            // line exclusive saves the shared-to-modified upgrade when another core had it.
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_ET0};
                _mm_prefetch(self.ptr.as_ptr().add(i as usize) as *const i8, _MM_HINT_ET0);
            }
        }
    }
}

impl Drop for Accounts {
    fn drop(&mut self) {
        match self.backing {
            #[cfg(target_os = "linux")]
            // SAFETY: exactly the mapping made in `allocate`.
            Backing::Mapped { base, len } => unsafe {
                libc::munmap(base, len);
            },
            // SAFETY: allocated in `heap` with exactly this layout.
            Backing::Heap(layout) => unsafe {
                alloc::dealloc(self.ptr.as_ptr() as *mut u8, layout)
            },
        }
    }
}
