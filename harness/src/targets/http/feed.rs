//! Data feeders (`[[data]]`, issue 19): the runtime that hands a validated plan's rows to the
//! HTTP workers, one row per request that uses a feeder.
//!
//! Validation has already read and checked every file ([`scenario::DataSource::rows`]); this
//! module only decides which row comes next, by Gatling's strategies:
//!
//! - `queue`: each row once, in file order, across all workers; `shuffle`: the same over a
//!   permutation of the rows fixed at the start (seeded by the run's seed). Running out is an
//!   [`Exhausted`], which the worker turns into the run's abort
//!   (`load::worker::WorkerCore::abort`): the run ends marked aborted with its text,
//!   and still writes what it measured.
//! - `random`: a uniform row, with replacement, drawn with the calling worker's own rng.
//! - `circular`: file order, wrapping around.
//!
//! With `--segment i/n`, `queue` and `shuffle` use only segment i's contiguous share of the
//! rows (of the file order, or of the permutation, which every segment computes alike because
//! it is seeded without the segment), so the segments of one run never send a row twice;
//! `random` and `circular` use every row, since repeats are what they are for.
//!
//! Hot path: no lock and no allocation per row; one relaxed `fetch_add` on the feeder's cursor
//! (also for `random`, to count the rows used): tens of ns even when contended, against the tens
//! of µs of the HTTP request the row goes into.

use scenario::{DataSource, FeedStrategy};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Every feeder of a run, shared by all worker threads (`Arc<Feeds>`). Feeder `f` is the
/// plan's `data[f]`.
#[derive(Debug)]
pub struct Feeds {
    feeders: Vec<Feeder>,
}

/// One `[[data]]` source at run time.
#[derive(Debug)]
struct Feeder {
    /// The file's name, for [`Exhausted`].
    file: String,
    rows: Arc<Vec<Vec<String>>>,
    order: Order,
    /// Rows claimed so far (every strategy), including claims that found a `once` share empty.
    /// Relaxed is enough: `fetch_add` on one atomic hands every caller a distinct value under
    /// any ordering (its modification order is total), and nothing else is published through
    /// it: the rows are immutable and were written before the worker threads were spawned.
    cursor: AtomicU64,
}

/// Which row the n-th claim gets.
#[derive(Debug)]
enum Order {
    /// `queue` and `shuffle`: the n-th claim gets row `picks[n]`, each at most once. `picks` is
    /// this segment's share of the file order or of the permutation. Indices cost 8 bytes a
    /// row beside the row itself (at least 24 bytes plus 24 a column), and keep one code path
    /// for both strategies.
    Once { picks: Vec<usize> },
    /// A uniform row from the caller's rng.
    Random,
    /// Row `n % rows`.
    Circular,
}

/// A `queue` or `shuffle` feeder ran out of rows (or a file has none): the run cannot go on
/// as planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exhausted {
    /// The file's name, e.g. `users.csv` (without its directory).
    pub feeder: String,
    /// How many rows it handed out: its share, all of them.
    pub rows: u64,
}

impl fmt::Display for Exhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "feeder {} exhausted after {} rows",
            self.feeder, self.rows
        )
    }
}

impl std::error::Error for Exhausted {}

impl Feeds {
    /// The feeders of `data`, in its order. `segment`: `Some((i, n))` for `harness run
    /// --segment i/n` (0-based `i`), `None` for a whole run. `seed`: the run's seed, which
    /// fixes every `shuffle` permutation.
    pub fn new(data: &[DataSource], segment: Option<(u32, u32)>, seed: u64) -> Feeds {
        let feeders = data
            .iter()
            .enumerate()
            .map(|(f, d)| Feeder::new(d, segment, feeder_seed(seed, f)))
            .collect();
        Feeds { feeders }
    }

    pub fn len(&self) -> usize {
        self.feeders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.feeders.is_empty()
    }

    /// The next row of feeder `f` for a worker, whose own rng is passed for `random`.
    /// Panics if `f` is not a feeder of this run (the plan's references are checked at
    /// validation).
    pub fn next_row(&self, f: usize, rng: &mut fastrand::Rng) -> Result<&[String], Exhausted> {
        self.feeders[f].next_row(rng)
    }

    /// Rows feeder `f` has handed out so far (for the results' notes).
    pub fn used(&self, f: usize) -> u64 {
        let fd = &self.feeders[f];
        let claimed = fd.cursor.load(Ordering::Relaxed);
        match &fd.order {
            Order::Once { picks } => claimed.min(picks.len() as u64),
            Order::Random | Order::Circular => claimed,
        }
    }
}

/// Feeder `f`'s shuffle seed: the run's, mixed with the feeder's place so that two shuffled
/// files of one length are not permuted alike (their rows would pair up as in file order).
/// The segment is left out on purpose: every segment must compute the same permutation.
fn feeder_seed(seed: u64, f: usize) -> u64 {
    // The golden-ratio increment of splitmix64: spreads consecutive indices over all bits.
    seed ^ (f as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl Feeder {
    fn new(d: &DataSource, segment: Option<(u32, u32)>, seed: u64) -> Feeder {
        let len = d.rows.len();
        let share = |mut all: Vec<usize>| {
            let (lo, hi) = segment.map_or((0, len), |(i, n)| share_bounds(len, i, n));
            all.truncate(hi);
            all.drain(..lo);
            all
        };
        let order = match d.strategy {
            FeedStrategy::Queue => Order::Once {
                picks: share((0..len).collect()),
            },
            FeedStrategy::Shuffle => {
                let mut all: Vec<usize> = (0..len).collect();
                // fastrand's shuffle is Fisher-Yates; the permutation is fixed by the seed and
                // fastrand's version (pinned in Cargo.lock).
                fastrand::Rng::with_seed(seed).shuffle(&mut all);
                Order::Once { picks: share(all) }
            }
            FeedStrategy::Random => Order::Random,
            FeedStrategy::Circular => Order::Circular,
        };
        Feeder {
            file: d.file.file_name().map_or_else(
                || d.file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            rows: Arc::clone(&d.rows),
            order,
            cursor: AtomicU64::new(0),
        }
    }

    fn next_row(&self, rng: &mut fastrand::Rng) -> Result<&[String], Exhausted> {
        let n = self.cursor.fetch_add(1, Ordering::Relaxed);
        let len = self.rows.len();
        let row = match &self.order {
            Order::Once { picks } => usize::try_from(n).ok().and_then(|n| picks.get(n)).copied(),
            // An empty file (validation should refuse one) has no row to give.
            _ if len == 0 => None,
            Order::Random => Some(rng.usize(..len)),
            Order::Circular => Some((n % len as u64) as usize),
        };
        match row {
            Some(i) => Ok(&self.rows[i]),
            None => Err(self.exhausted()),
        }
    }

    fn exhausted(&self) -> Exhausted {
        Exhausted {
            feeder: self.file.clone(),
            rows: match &self.order {
                Order::Once { picks } => picks.len() as u64,
                Order::Random | Order::Circular => 0,
            },
        }
    }
}

/// Segment `i` of `n`'s rows of `len`: `i*len/n .. (i+1)*len/n`. The shares are disjoint and
/// cover every row, and differ in size by at most one. In u128: `i * len` can pass u64.
fn share_bounds(len: usize, i: u32, n: u32) -> (usize, usize) {
    let at = |k: u32| (k as u128 * len as u128 / n.max(1) as u128) as usize;
    (at(i.min(n)), at((i + 1).min(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    /// A feeder of `n` one-column rows "0", "1", ..., as if read from `data/users.csv`.
    fn source(strategy: FeedStrategy, n: usize) -> DataSource {
        DataSource {
            name: "user".into(),
            file: PathBuf::from("/scenarios/data/users.csv"),
            format: scenario::DataFormat::Csv,
            strategy,
            columns: vec!["id".into()],
            rows: Arc::new((0..n).map(|i| vec![i.to_string()]).collect()),
        }
    }

    /// Every row feeder 0 hands out until it is exhausted, as numbers, and the exhaustion.
    fn drain(feeds: &Feeds) -> (Vec<usize>, Exhausted) {
        let mut rng = fastrand::Rng::with_seed(1);
        let mut got = Vec::new();
        loop {
            match feeds.next_row(0, &mut rng) {
                Ok(row) => got.push(row[0].parse().unwrap()),
                Err(e) => return (got, e),
            }
        }
    }

    #[test]
    fn queue_hands_every_row_once_across_threads_then_is_exhausted() {
        let feeds = Feeds::new(&[source(FeedStrategy::Queue, 1000)], None, 7);
        let per_thread: Vec<(Vec<usize>, Exhausted)> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4).map(|_| s.spawn(|| drain(&feeds))).collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all: Vec<usize> = per_thread.iter().flat_map(|(g, _)| g.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        for (got, e) in &per_thread {
            // Each thread's rows come in file order: the cursor only moves forward.
            assert!(got.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(e.rows, 1000);
            assert_eq!(e.to_string(), "feeder users.csv exhausted after 1000 rows");
        }
        assert_eq!(feeds.used(0), 1000);
    }

    #[test]
    fn shuffle_hands_every_row_once_in_an_order_fixed_by_the_seed() {
        let data = [source(FeedStrategy::Shuffle, 100)];
        let (a, e) = drain(&Feeds::new(&data, None, 42));
        let (b, _) = drain(&Feeds::new(&data, None, 42));
        let (c, _) = drain(&Feeds::new(&data, None, 43));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(a, sorted, "not file order");
        assert_eq!(a, b, "same seed, same order");
        assert_ne!(a, c, "another seed, another order");
        assert_eq!(e.rows, 100);
    }

    #[test]
    fn two_shuffled_files_are_not_permuted_alike() {
        let data = [
            source(FeedStrategy::Shuffle, 50),
            source(FeedStrategy::Shuffle, 50),
        ];
        let feeds = Feeds::new(&data, None, 42);
        let mut rng = fastrand::Rng::with_seed(1);
        let mut take = |f| -> Vec<String> {
            (0..50)
                .map(|_| feeds.next_row(f, &mut rng).unwrap()[0].clone())
                .collect()
        };
        assert_ne!(take(0), take(1));
    }

    #[test]
    fn segments_of_queue_and_shuffle_are_disjoint_and_cover_every_row() {
        for strategy in [FeedStrategy::Queue, FeedStrategy::Shuffle] {
            let data = [source(strategy, 101)];
            let (a, ea) = drain(&Feeds::new(&data, Some((0, 2)), 9));
            let (b, eb) = drain(&Feeds::new(&data, Some((1, 2)), 9));
            assert_eq!((a.len(), b.len()), (50, 51), "{strategy:?}");
            assert_eq!((ea.rows, eb.rows), (50, 51));
            let (sa, sb): (BTreeSet<_>, BTreeSet<_>) = (a.iter().collect(), b.iter().collect());
            assert!(sa.is_disjoint(&sb), "{strategy:?}");
            assert_eq!(sa.union(&sb).count(), 101, "{strategy:?}");
        }
        // A queue segment is its contiguous slice of the file.
        let (b, _) = drain(&Feeds::new(
            &[source(FeedStrategy::Queue, 10)],
            Some((1, 2)),
            9,
        ));
        assert_eq!(b, (5..10).collect::<Vec<_>>());
    }

    #[test]
    fn an_empty_segment_share_is_exhausted_at_once() {
        let feeds = Feeds::new(&[source(FeedStrategy::Queue, 2)], Some((0, 3)), 1);
        let mut rng = fastrand::Rng::with_seed(1);
        let e = feeds.next_row(0, &mut rng).unwrap_err();
        assert_eq!(e.rows, 0);
        assert_eq!(e.to_string(), "feeder users.csv exhausted after 0 rows");
        assert_eq!(feeds.used(0), 0);
    }

    #[test]
    fn circular_wraps_around_in_file_order() {
        // Segments do not split a circular feeder.
        let feeds = Feeds::new(&[source(FeedStrategy::Circular, 3)], Some((1, 2)), 1);
        let mut rng = fastrand::Rng::with_seed(1);
        let got: Vec<String> = (0..7)
            .map(|_| feeds.next_row(0, &mut rng).unwrap()[0].clone())
            .collect();
        assert_eq!(got, ["0", "1", "2", "0", "1", "2", "0"]);
        assert_eq!(feeds.used(0), 7);
    }

    #[test]
    fn random_stays_in_range_and_draws_with_the_callers_rng() {
        let feeds = Feeds::new(&[source(FeedStrategy::Random, 10)], Some((0, 4)), 1);
        let mut rng = fastrand::Rng::with_seed(5);
        let mut twin = fastrand::Rng::with_seed(5);
        let mut seen = BTreeSet::new();
        for _ in 0..200 {
            let row: usize = feeds.next_row(0, &mut rng).unwrap()[0].parse().unwrap();
            assert_eq!(row, twin.usize(..10), "the caller's rng decides");
            seen.insert(row);
        }
        // All rows, not segment 0's share: 200 draws miss one of 10 with p < 1e-8.
        assert_eq!(seen.len(), 10);
        assert_eq!(feeds.used(0), 200);
    }
}
