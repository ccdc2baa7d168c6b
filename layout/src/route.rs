//! Edge polylines. A DAG edge leaves its source's bottom centre, runs straight down to the bottom
//! of the source's layer if the source is shorter than the layer, passes each dummy node as a
//! vertical piece through the dummy's layer, and enters its target's top centre (from the top of
//! the target's layer if the target is shorter). So every slanted piece spans exactly the gap
//! between two layers, and two edges cross there exactly when their order flips.

use crate::acyclic::{Acyclic, Fate};
use crate::position::Coords;
use crate::proper::Proper;
use crate::{Point, Size};

/// The polyline of each input edge, in input order.
pub(crate) fn polylines(
    dag: &Acyclic,
    graph: &Proper,
    coords: &Coords,
    sizes: &[Size],
) -> Vec<Vec<Point>> {
    dag.fates
        .iter()
        .map(|fate| match *fate {
            Fate::Skipped => Vec::new(),
            Fate::Loop(v) => self_loop(coords, sizes, v),
            Fate::Kept { dag: e, reversed } => {
                let mut line = downwards(dag.edges[e], &graph.chains[e], coords, sizes);
                if reversed {
                    line.reverse();
                }
                line
            }
        })
        .collect()
}

/// The polyline of the DAG edge `(u, v)` whose dummies are `chain`.
fn downwards(
    (u, v): (usize, usize),
    chain: &[usize],
    coords: &Coords,
    sizes: &[Size],
) -> Vec<Point> {
    let mut line = Vec::with_capacity(2 * chain.len() + 4);
    let (from, to) = (coords.centre(u), coords.centre(v));
    let (ru, rv) = (coords.rank(u), coords.rank(v));
    push(&mut line, from.x, from.y + sizes[u].height / 2.0);
    push(&mut line, from.x, coords.bottom[ru]);
    for &d in chain {
        let r = coords.rank(d);
        push(&mut line, coords.x[d], coords.top[r]);
        push(&mut line, coords.x[d], coords.bottom[r]);
    }
    push(&mut line, to.x, coords.top[rv]);
    push(&mut line, to.x, to.y - sizes[v].height / 2.0);
    line
}

/// Appends a point unless it repeats the last one.
fn push(line: &mut Vec<Point>, x: f64, y: f64) {
    let point = Point { x, y };
    if line.last() != Some(&point) {
        line.push(point);
    }
}

/// A loop round the right side of `v`: from its bottom centre out to the right, up, and back
/// into its top centre.
fn self_loop(coords: &Coords, sizes: &[Size], v: usize) -> Vec<Point> {
    let c = coords.centre(v);
    let (half_w, half_h) = (sizes[v].width / 2.0, sizes[v].height / 2.0);
    let out = c.x + half_w + coords.loop_offset;
    vec![
        Point {
            x: c.x,
            y: c.y + half_h,
        },
        Point {
            x: out,
            y: c.y + half_h,
        },
        Point {
            x: out,
            y: c.y - half_h,
        },
        Point {
            x: c.x,
            y: c.y - half_h,
        },
    ]
}
