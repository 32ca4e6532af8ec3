//! The dashboard's map: longitude and latitude projected onto a small SVG frame, north up.
//!
//! No tiles and no map service (the page works offline): an equirectangular projection,
//! east-west distances shrunk by the cosine of the latitude so that a block looks as wide as
//! it is tall, scaled to fit the points with a margin and centred.

use serde::Serialize;

use crate::emulator::orders::Point;

/// The SVG's size, in its own units.
pub(crate) const WIDTH: f64 = 400.0;
pub(crate) const HEIGHT: f64 = 260.0;
/// Room around the points, so markers and their labels stay inside.
const MARGIN: f64 = 40.0;
/// The smallest span shown, in degrees (about 200 m): points on one spot do not zoom to
/// nothing.
const MIN_SPAN: f64 = 0.002;

/// A point on the frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Xy {
    pub x: f64,
    pub y: f64,
}

/// Fitted to a set of points; then projects any point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Projection {
    centre: Point,
    /// East-west degrees are this much shorter than north-south ones here.
    shrink: f64,
    /// Frame units per (north-south) degree.
    scale: f64,
}

impl Projection {
    /// The projection that shows every point of `points` inside the frame's margin.
    pub fn fit(points: &[Point]) -> Projection {
        let fold = |f: fn(f64, f64) -> f64, pick: fn(&Point) -> f64, start: f64| {
            points.iter().map(pick).fold(start, f)
        };
        let (min_lng, max_lng) = (
            fold(f64::min, |p| p.lng, f64::INFINITY),
            fold(f64::max, |p| p.lng, f64::NEG_INFINITY),
        );
        let (min_lat, max_lat) = (
            fold(f64::min, |p| p.lat, f64::INFINITY),
            fold(f64::max, |p| p.lat, f64::NEG_INFINITY),
        );
        if !(min_lng.is_finite()
            && max_lng.is_finite()
            && min_lat.is_finite()
            && max_lat.is_finite())
        {
            return Projection {
                centre: Point { lng: 0.0, lat: 0.0 },
                shrink: 1.0,
                scale: 1.0,
            };
        }
        let centre = Point {
            lng: (min_lng + max_lng) / 2.0,
            lat: (min_lat + max_lat) / 2.0,
        };
        let shrink = centre.lat.to_radians().cos().abs().max(0.01);
        let span_x = ((max_lng - min_lng) * shrink).max(MIN_SPAN);
        let span_y = (max_lat - min_lat).max(MIN_SPAN);
        let scale = ((WIDTH - 2.0 * MARGIN) / span_x).min((HEIGHT - 2.0 * MARGIN) / span_y);
        Projection {
            centre,
            shrink,
            scale,
        }
    }

    /// Where `point` is on the frame (x to the east, y to the south), to a tenth of a unit.
    pub fn project(&self, point: Point) -> Xy {
        let round = |v: f64| (v * 10.0).round() / 10.0;
        Xy {
            x: round(WIDTH / 2.0 + (point.lng - self.centre.lng) * self.shrink * self.scale),
            y: round(HEIGHT / 2.0 - (point.lat - self.centre.lat) * self.scale),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORE: Point = Point {
        lng: 121.481_462,
        lat: 31.236_873,
    };
    const RECEIVER: Point = Point {
        lng: 121.453_821,
        lat: 31.228_137,
    };

    fn inside(p: Xy) -> bool {
        (MARGIN - 0.1..=WIDTH - MARGIN + 0.1).contains(&p.x)
            && (MARGIN - 0.1..=HEIGHT - MARGIN + 0.1).contains(&p.y)
    }

    #[test]
    fn the_fitted_points_lie_inside_the_margin_and_touch_it() {
        let projection = Projection::fit(&[STORE, RECEIVER]);
        let (a, b) = (projection.project(STORE), projection.project(RECEIVER));
        assert!(inside(a) && inside(b), "{a:?} {b:?}");
        // The wider side fills the frame to its margin.
        let width = (a.x - b.x).abs();
        let height = (a.y - b.y).abs();
        assert!(
            (width - (WIDTH - 2.0 * MARGIN)).abs() < 0.5
                || (height - (HEIGHT - 2.0 * MARGIN)).abs() < 0.5,
            "{width} × {height}"
        );
    }

    #[test]
    fn north_is_up_and_east_is_right() {
        let projection = Projection::fit(&[STORE, RECEIVER]);
        let (store, receiver) = (projection.project(STORE), projection.project(RECEIVER));
        // The store is east and north of the receiver.
        assert!(store.x > receiver.x);
        assert!(store.y < receiver.y);
    }

    #[test]
    fn distances_keep_their_proportions_at_the_latitude() {
        // A square of 0.01° of latitude by 0.01°/cos(lat) of longitude is a square on the ground.
        let lat: f64 = 31.2;
        let a = Point { lng: 121.0, lat };
        let b = Point {
            lng: 121.0 + 0.01 / lat.to_radians().cos(),
            lat: lat + 0.01,
        };
        let projection = Projection::fit(&[a, b]);
        let (pa, pb) = (projection.project(a), projection.project(b));
        let (dx, dy) = ((pb.x - pa.x).abs(), (pb.y - pa.y).abs());
        assert!((dx - dy).abs() < 0.5, "{dx} vs {dy}");
    }

    #[test]
    fn one_spot_or_none_lands_in_the_middle() {
        let projection = Projection::fit(&[STORE, STORE]);
        assert_eq!(
            projection.project(STORE),
            Xy {
                x: WIDTH / 2.0,
                y: HEIGHT / 2.0
            }
        );
        let nothing = Projection::fit(&[]);
        let p = nothing.project(Point { lng: 0.0, lat: 0.0 });
        assert_eq!(
            p,
            Xy {
                x: WIDTH / 2.0,
                y: HEIGHT / 2.0
            }
        );
    }

    #[test]
    fn a_point_between_two_projects_between_them() {
        let projection = Projection::fit(&[STORE, RECEIVER]);
        let middle = Point {
            lng: (STORE.lng + RECEIVER.lng) / 2.0,
            lat: (STORE.lat + RECEIVER.lat) / 2.0,
        };
        let (a, m, b) = (
            projection.project(STORE),
            projection.project(middle),
            projection.project(RECEIVER),
        );
        assert!((m.x - (a.x + b.x) / 2.0).abs() < 0.2);
        assert!((m.y - (a.y + b.y) / 2.0).abs() < 0.2);
    }
}
