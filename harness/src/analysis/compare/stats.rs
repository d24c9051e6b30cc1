//! The exact one-sided Mann-Whitney U (Wilcoxon rank-sum) test the comparison rule uses to tell a
//! shift of a metric from the noise of its repeats.
//!
//! Why a rank test: the old rule's second condition (every new repeat outside the baseline's
//! `[min, max]` widened by the tolerance) needed few repeats but used only the extremes, so one
//! lucky or unlucky repeat on either side decided it, and more repeats made it *harder* to pass
//! a real change (a wider baseline range). A rank test uses every repeat, gains power with
//! each one, and assumes nothing about the shape of the noise (a neighbour stealing the CPU makes
//! a long tail, not a bell curve). Why exact: CI has 3 to 10 repeats a side, far too few for the
//! normal approximation. Why no bootstrap: it needs an RNG (a gate verdict must not change
//! between two reads of the same files) and is unreliable at these sample sizes.
//!
//! The p-value is the share of the `C(m+n, n)` ways to split the pooled samples into a
//! baseline of `m` and a new side of `n` whose rank sum of the new side is at least as extreme
//! as the one observed: the permutation distribution, counted by dynamic programming over the
//! pooled ranks. Ties take their mid-ranks and the counting uses the same mid-ranks, so the
//! distribution is exact conditional on the ties (no correction term needed). Deterministic,
//! no RNG, `O((m+n)² · n)` at worst, microseconds for any sensible repeat count.

/// The significance level of the rule: a change counts only if a shift this unlikely under "no
/// change" is what the ranks show.
pub const ALPHA: f64 = 0.05;

/// The smallest one-sided p-value `m` against `n` samples can reach (all of one side beyond
/// all of the other, no ties): `1 / C(m+n, n)`. `1.0` when a side is empty.
pub fn min_p(m: usize, n: usize) -> f64 {
    if m == 0 || n == 0 {
        return 1.0;
    }
    1.0 / binomial(m + n, n.min(m))
}

/// Whether `m` against `n` samples can reach `p <= ALPHA` at all (3 vs 3: 1/20 = 0.05, yes; 2
/// vs 3: 1/10, no; 1 vs 19: 1/20, yes).
pub fn can_reach(m: usize, n: usize) -> bool {
    passes(min_p(m, n))
}

/// `p <= ALPHA`, allowing for the rounding of a ratio of counts (1/20 is ALPHA exactly).
pub fn passes(p: f64) -> bool {
    p <= ALPHA * (1.0 + 1e-9)
}

/// One-sided p-values of an exact rank-sum test of `new` against `base`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankTest {
    /// P(the new side's rank sum >= observed | no difference): small when the new samples are
    /// larger than the baseline's.
    pub p_greater: f64,
    /// P(the new side's rank sum <= observed | no difference): small when they are smaller.
    pub p_less: f64,
}

/// The exact test on the finite samples of each side; `None` when a side has none.
pub fn rank_test(base: &[f64], new: &[f64]) -> Option<RankTest> {
    let base: Vec<f64> = base.iter().copied().filter(|x| x.is_finite()).collect();
    let new: Vec<f64> = new.iter().copied().filter(|x| x.is_finite()).collect();
    if base.is_empty() || new.is_empty() {
        return None;
    }
    // Pool, sort, and give each value twice its mid-rank, so ranks stay integers: a tie over
    // sorted positions i..j (1-based) has mid-rank (i+j)/2, doubled i+j.
    let mut pooled: Vec<(f64, bool)> = base
        .iter()
        .map(|&x| (x, false))
        .chain(new.iter().map(|&x| (x, true)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut ranks2 = vec![0usize; pooled.len()];
    let mut i = 0;
    while i < pooled.len() {
        let mut j = i;
        while j + 1 < pooled.len() && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        // Positions i..=j (0-based) are 1-based i+1..=j+1; twice the mid-rank is i+j+2.
        for r in &mut ranks2[i..=j] {
            *r = i + j + 2;
        }
        i = j + 1;
    }
    let observed: usize = pooled
        .iter()
        .zip(&ranks2)
        .filter(|((_, is_new), _)| *is_new)
        .map(|(_, r)| r)
        .sum();
    let counts = rank_sum_counts(&ranks2, new.len());
    let total: f64 = counts.iter().sum();
    let at_least: f64 = counts[observed..].iter().sum();
    let at_most: f64 = counts[..=observed].iter().sum();
    Some(RankTest {
        p_greater: at_least / total,
        p_less: at_most / total,
    })
}

/// `counts[s]`: how many subsets of `k` of the (doubled) `ranks` sum to `s`. Counts are `f64`:
/// exact up to 2^53 (C(56, 28) ≈ 7.6e15), and beyond that their ratios, the p-values, are
/// still right to about 1e-15.
fn rank_sum_counts(ranks: &[usize], k: usize) -> Vec<f64> {
    let max_sum: usize = ranks.iter().sum();
    // dp[j][s]: subsets of size j of the ranks seen so far with sum s.
    let mut dp = vec![vec![0.0f64; max_sum + 1]; k + 1];
    dp[0][0] = 1.0;
    for &r in ranks {
        for j in (1..=k).rev() {
            let (lower, upper) = dp.split_at_mut(j);
            let (from, to) = (&lower[j - 1], &mut upper[0]);
            for s in (r..=max_sum).rev() {
                to[s] += from[s - r];
            }
        }
    }
    dp.swap_remove(k)
}

/// `C(n, k)` as `f64` (exact for the sizes the gate uses).
fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn five_against_five_fully_separated_is_one_in_252() {
        let t = rank_test(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]).unwrap();
        assert!(close(t.p_greater, 1.0 / 252.0), "{t:?}");
        assert!(close(t.p_less, 1.0), "{t:?}");
        assert!(close(min_p(5, 5), 1.0 / 252.0));
    }

    /// 3 vs 3 with the new side's ranks {3, 5, 6} (rank sum 14): of the 20 three-subsets of
    /// 1..6, only {4, 5, 6} (15) and {3, 5, 6} (14) sum to 14 or more: P(>= 14) = 2/20.
    #[test]
    fn partial_overlap_by_hand() {
        let t = rank_test(&[1.0, 2.0, 4.0], &[3.0, 5.0, 6.0]).unwrap();
        assert!(close(t.p_greater, 2.0 / 20.0), "{t:?}");
        // P(<= 14) = 1 - P(15) = 19/20.
        assert!(close(t.p_less, 19.0 / 20.0), "{t:?}");
    }

    /// Ties take mid-ranks. Base {1, 2, 2}, new {2, 3, 3}: pooled ranks 1, 3, 3, 3 (the three
    /// 2s share positions 2-4) and 5.5, 5.5 (the 3s share 5-6). The new side's rank sum is
    /// 3 + 5.5 + 5.5 = 14. Of the 20 three-subsets of the multiset {1, 3, 3, 3, 5.5, 5.5},
    /// only {3, 5.5, 5.5} reaches 14 (3 ways, one per 3), and nothing exceeds it: p = 3/20.
    #[test]
    fn ties_use_mid_ranks() {
        let t = rank_test(&[1.0, 2.0, 2.0], &[2.0, 3.0, 3.0]).unwrap();
        assert!(close(t.p_greater, 3.0 / 20.0), "{t:?}");
        // All equal: no evidence either way.
        let t = rank_test(&[0.0, 0.0, 0.0], &[0.0, 0.0, 0.0]).unwrap();
        assert!(close(t.p_greater, 1.0) && close(t.p_less, 1.0), "{t:?}");
    }

    #[test]
    fn reachable_sample_counts() {
        assert!(close(min_p(3, 3), 0.05) && can_reach(3, 3));
        assert!(!can_reach(2, 2) && !can_reach(2, 3) && !can_reach(2, 4));
        assert!(can_reach(2, 5), "1/21");
        assert!(!can_reach(1, 7) && !can_reach(1, 18) && can_reach(1, 19));
        assert!(can_reach(7, 7) && close(min_p(7, 7), 1.0 / 3432.0));
        assert_eq!(min_p(0, 5), 1.0);
        assert!(rank_test(&[], &[1.0]).is_none());
    }

    /// The two tails add up to 1 plus the probability of the observed sum itself.
    #[test]
    fn tails_are_consistent() {
        let base = [10.0, 12.0, 11.5, 13.0, 9.0, 12.0, 10.5];
        let new = [11.0, 12.0, 14.0, 10.0, 13.5, 12.5, 11.0];
        let t = rank_test(&base, &new).unwrap();
        let swapped = rank_test(&new, &base).unwrap();
        // Swapping the sides swaps the tails (the rank sums of the two sides add to a constant).
        assert!(close(t.p_greater, swapped.p_less), "{t:?} {swapped:?}");
        assert!(t.p_greater + t.p_less >= 1.0);
    }
}
