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

/// A fixed-size, zero-initialised-then-filled table of accounts.
pub struct Accounts {
    ptr: NonNull<Account>,
    len: usize,
    layout: Layout,
}

// SAFETY: the table only hands out shared references to `Account`, whose fields are atomics.
unsafe impl Send for Accounts {}
// SAFETY: as above; all mutation goes through atomics.
unsafe impl Sync for Accounts {}

impl Accounts {
    /// Allocates `len` accounts, each with `initial_balance` and nonce 0.
    ///
    /// # Panics
    /// If `len` is 0 or the allocation fails (the process cannot continue without its table).
    pub fn new(len: usize, initial_balance: u64) -> Accounts {
        assert!(len > 0, "an engine needs at least one account");
        let bytes = len
            .checked_mul(std::mem::size_of::<Account>())
            .expect("account table size overflows usize");
        let align = if bytes >= HUGE_PAGE { HUGE_PAGE } else { 64 };
        let size = bytes.div_ceil(align) * align;
        let layout = Layout::from_size_align(size, align).expect("valid table layout");
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc::alloc_zeroed(layout) } as *mut Account;
        let Some(ptr) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout)
        };
        #[cfg(target_os = "linux")]
        if align == HUGE_PAGE {
            // SAFETY: the range is exactly our allocation; madvise only changes paging policy and
            // failing is harmless (we just keep 4 KiB pages).
            unsafe {
                libc::madvise(raw as *mut libc::c_void, size, libc::MADV_HUGEPAGE);
            }
        }
        let table = Accounts { ptr, len, layout };
        if initial_balance != 0 {
            for a in table.as_slice() {
                a.balance.store(initial_balance, Ordering::Relaxed);
            }
        }
        table
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
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                _mm_prefetch(self.ptr.as_ptr().add(i as usize) as *const i8, _MM_HINT_T0);
            }
        }
    }
}

impl Drop for Accounts {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with exactly this layout.
        unsafe { alloc::dealloc(self.ptr.as_ptr() as *mut u8, self.layout) }
    }
}
