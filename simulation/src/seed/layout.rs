//! How many of each entity each grid gets, and the id ranges that follow from it.
//!
//! Entities are generated grid by grid, so the ids of one grid's places (or persons, ...)
//! are one contiguous range, and so are a county's: "a person of this grid" or "of this
//! county" is a draw from a range, with no index to build.

use std::ops::Range;

use super::Scale;

/// Row counts of the entity tables at a scale.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub places: u64,
    pub persons: u64,
    pub things: u64,
    pub organizations: u64,
    pub events: u64,
}

impl Sizes {
    pub fn of(scale: Scale) -> Self {
        match scale {
            Scale::Small => Self {
                places: 2_000,
                persons: 5_000,
                things: 600,
                organizations: 600,
                events: 1_500,
            },
            Scale::City => Self {
                places: 300_000,
                persons: 1_000_000,
                things: 100_000,
                organizations: 100_000,
                events: 200_000,
            },
        }
    }
}

/// Splits `total` over slots in proportion to `weights` (largest remainder), giving every
/// slot at least `minimum` when the total allows it. Exact integer arithmetic, so the
/// split is the same on every machine. Equal remainders are common (many grids of equal
/// weight); they are broken in a scrambled order of the slots, not by index, lest the
/// leftovers all go to the first county.
pub fn allocate(total: u64, weights: &[u64], minimum: u64) -> Vec<u64> {
    let slots = weights.len() as u64;
    if slots == 0 {
        return Vec::new();
    }
    let minimum = if minimum.saturating_mul(slots) <= total {
        minimum
    } else {
        0
    };
    let mut counts = vec![minimum; weights.len()];
    let rest = total - minimum * slots;
    let weight_sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if weight_sum == 0 {
        // No preference: spread evenly.
        for (i, count) in counts.iter_mut().enumerate() {
            *count += rest / slots + u64::from((i as u64) < rest % slots);
        }
        return counts;
    }
    let mut remainders = Vec::with_capacity(weights.len());
    let mut given = 0;
    for (i, (&weight, count)) in weights.iter().zip(counts.iter_mut()).enumerate() {
        let share = u128::from(rest) * u128::from(weight);
        let whole = (share / weight_sum) as u64;
        *count += whole;
        given += whole;
        remainders.push((share % weight_sum, scramble(i as u64), i));
    }
    remainders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, _, i) in remainders.iter().take((rest - given) as usize) {
        counts[i] += 1;
    }
    counts
}

/// A fixed bijection of u64 (the SplitMix64 finaliser), used as an arbitrary but stable
/// order.
fn scramble(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Contiguous id ranges, one per grid, starting at `first`.
#[derive(Debug, Clone)]
pub struct Ranges {
    /// `starts[g]..starts[g + 1]` are grid `g`'s ids.
    starts: Vec<i64>,
}

impl Ranges {
    pub fn new(first: i64, counts: &[u64]) -> Self {
        let mut starts = Vec::with_capacity(counts.len() + 1);
        let mut next = first;
        starts.push(next);
        for &count in counts {
            next += count as i64;
            starts.push(next);
        }
        Self { starts }
    }

    pub fn grid(&self, grid: usize) -> Range<i64> {
        self.starts[grid]..self.starts[grid + 1]
    }

    /// The ids of consecutive grids `grids`.
    pub fn span(&self, grids: Range<usize>) -> Range<i64> {
        self.starts[grids.start]..self.starts[grids.end]
    }

    pub fn all(&self) -> Range<i64> {
        self.span(0..self.starts.len() - 1)
    }

    pub fn count(&self, grid: usize) -> u64 {
        (self.starts[grid + 1] - self.starts[grid]) as u64
    }

    /// The grid an id of this range belongs to.
    pub fn grid_of(&self, id: i64) -> usize {
        self.starts
            .partition_point(|&start| start <= id)
            .saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact_and_proportional() {
        let counts = allocate(10, &[1, 1, 2], 0);
        assert_eq!(counts.iter().sum::<u64>(), 10);
        assert!(counts == vec![3, 2, 5] || counts == vec![2, 3, 5]);
        // Leftovers of equal remainders are spread, not heaped on the first slots.
        let counts = allocate(300, &[1; 1000], 0);
        assert!(counts[..500].iter().sum::<u64>() > 100);
        assert!(counts[500..].iter().sum::<u64>() > 100);
        let counts = allocate(1246, &[5, 1, 1, 30, 0], 1);
        assert_eq!(counts.iter().sum::<u64>(), 1246);
        assert!(counts.iter().all(|&c| c >= 1));
        assert_eq!(counts[4], 1);
        // Too few to give everyone the minimum: proportional only.
        assert_eq!(allocate(2, &[1, 1, 1, 1], 1).iter().sum::<u64>(), 2);
        assert_eq!(allocate(5, &[0, 0], 0), vec![3, 2]);
        assert_eq!(allocate(7, &[3, 0, 1], 0).iter().sum::<u64>(), 7);
    }

    #[test]
    fn ranges_find_their_grid() {
        let ranges = Ranges::new(11, &[2, 0, 3]);
        assert_eq!(ranges.grid(0), 11..13);
        assert_eq!(ranges.grid(1), 13..13);
        assert_eq!(ranges.grid(2), 13..16);
        assert_eq!(ranges.all(), 11..16);
        assert_eq!(ranges.grid_of(12), 0);
        assert_eq!(ranges.grid_of(13), 2);
        assert_eq!(ranges.grid_of(15), 2);
    }
}
