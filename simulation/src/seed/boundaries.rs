//! Boundaries of the synthetic map: every county a fixed rectangle of the city, cut into
//! its townships, each township into its communities and each community into its grids,
//! so that the pieces of each level tile their parent exactly — no gaps, no overlaps —
//! and every position drawn inside a grid lies in its community, township and county.

use std::fmt::Write;

/// A rectangle in degrees (WGS 84), west to east and south to north.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

/// Metres per degree of latitude, near enough for choosing which way to cut.
const METRES_PER_DEGREE: f64 = 111_320.0;

impl Rect {
    /// The point at fractions `(x, y)` of the width and height from the south-west corner.
    pub fn at(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.west + x * (self.east - self.west),
            self.south + y * (self.north - self.south),
        )
    }

    fn width_m(&self) -> f64 {
        let latitude = ((self.south + self.north) / 2.0).to_radians();
        (self.east - self.west) * METRES_PER_DEGREE * latitude.cos()
    }

    fn height_m(&self) -> f64 {
        (self.north - self.south) * METRES_PER_DEGREE
    }

    /// The rectangle as PostGIS extended WKT, one polygon of a multipolygon, with the
    /// precision of the seeded positions (a shared edge prints the same on both sides).
    pub fn ewkt(&self) -> String {
        let mut text = String::from("SRID=4326;MULTIPOLYGON(((");
        let corners = [
            (self.west, self.south),
            (self.east, self.south),
            (self.east, self.north),
            (self.west, self.north),
            (self.west, self.south),
        ];
        for (i, (x, y)) in corners.iter().enumerate() {
            let separator = if i == 0 { "" } else { "," };
            let _ = write!(text, "{separator}{x:.6} {y:.6}");
        }
        text.push_str(")))");
        text
    }
}

/// Cuts `rect` into one piece per weight, each piece's area in proportion to its weight,
/// in order: the weights are halved by sum and the rectangle cut across its longer side,
/// recursively. The two sides of a cut share the same coordinate.
pub fn tile(rect: Rect, weights: &[f64]) -> Vec<Rect> {
    let mut pieces = Vec::with_capacity(weights.len());
    cut(rect, weights, &mut pieces);
    pieces
}

fn cut(rect: Rect, weights: &[f64], pieces: &mut Vec<Rect>) {
    if weights.len() <= 1 {
        pieces.extend(weights.iter().map(|_| rect));
        return;
    }
    let total: f64 = weights.iter().sum();
    // Where the prefix sum comes closest to half the total.
    let (mut split, mut share, mut best) = (1, 0.0, f64::MAX);
    let mut prefix = 0.0;
    for (k, weight) in weights.iter().enumerate().take(weights.len() - 1) {
        prefix += weight;
        let distance = (prefix - total / 2.0).abs();
        if distance < best {
            (split, share, best) = (k + 1, prefix, distance);
        }
    }
    let fraction = share / total;
    let (first, second) = if rect.width_m() >= rect.height_m() {
        let x = rect.west + fraction * (rect.east - rect.west);
        (Rect { east: x, ..rect }, Rect { west: x, ..rect })
    } else {
        let y = rect.south + fraction * (rect.north - rect.south);
        (Rect { north: y, ..rect }, Rect { south: y, ..rect })
    };
    cut(first, &weights[..split], pieces);
    cut(second, &weights[split..], pieces);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(rect: &Rect) -> f64 {
        (rect.east - rect.west) * (rect.north - rect.south)
    }

    fn overlap(a: &Rect, b: &Rect) -> bool {
        a.west < b.east && b.west < a.east && a.south < b.north && b.south < a.north
    }

    #[test]
    fn pieces_tile_the_rectangle_in_proportion() {
        let rect = Rect {
            west: 125.0,
            south: 42.8,
            east: 125.3,
            north: 43.0,
        };
        for weights in [
            vec![1.0],
            vec![1.0, 1.0],
            vec![4.0, 1.0, 1.0, 4.0, 4.0],
            vec![1.0; 23],
        ] {
            let pieces = tile(rect, &weights);
            assert_eq!(pieces.len(), weights.len());
            let total: f64 = weights.iter().sum();
            let covered: f64 = pieces.iter().map(area).sum();
            assert!((covered - area(&rect)).abs() < 1e-9, "{covered}");
            for (piece, weight) in pieces.iter().zip(&weights) {
                assert!((area(piece) / area(&rect) - weight / total).abs() < 1e-9);
                assert!(piece.west >= rect.west && piece.east <= rect.east);
                assert!(piece.south >= rect.south && piece.north <= rect.north);
            }
            for (i, a) in pieces.iter().enumerate() {
                for b in &pieces[i + 1..] {
                    assert!(!overlap(a, b), "{a:?} overlaps {b:?}");
                }
            }
        }
    }

    #[test]
    fn polygons_print_as_closed_extended_wkt() {
        let rect = Rect {
            west: 125.0,
            south: 42.8,
            east: 125.25,
            north: 43.0,
        };
        assert_eq!(
            rect.ewkt(),
            "SRID=4326;MULTIPOLYGON(((125.000000 42.800000,125.250000 42.800000,\
             125.250000 43.000000,125.000000 43.000000,125.000000 42.800000)))"
        );
        let (x, y) = rect.at(0.5, 0.25);
        assert!((x - 125.125).abs() < 1e-12 && (y - 42.85).abs() < 1e-12);
    }
}
