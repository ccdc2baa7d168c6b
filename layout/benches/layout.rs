//! Layout benchmark: lays each graph out several times and prints the median time and the
//! layout's edge crossings (counted by `layout::crossings`).
//!
//! `cargo bench -p layout` lays out generated workflow graphs (the same ones
//! `benches/layout/graphs.mjs` writes). `cargo bench -p layout -- GRAPHS_DIR [OUT_DIR]` (or the
//! environment variables `LAYOUT_BENCH_GRAPHS` and `LAYOUT_BENCH_OUT`) lays out every `*.json`
//! graph of `GRAPHS_DIR` instead, and writes each layout to `OUT_DIR/NAME.json` and the timings
//! to `OUT_DIR/timings.tsv` (name, nodes, edges, median milliseconds). `LAYOUT_BENCH_RUNS` sets
//! the number of timed runs (9 by default).

mod workflows;

use std::path::{Path, PathBuf};
use std::time::Instant;
use std::{env, fs};

use layout::{Graph, Layout, Options, crossings, layout};

fn main() {
    let positional: Vec<String> = env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let graphs_dir = positional
        .first()
        .cloned()
        .or_else(|| env::var("LAYOUT_BENCH_GRAPHS").ok());
    let out_dir = positional
        .get(1)
        .cloned()
        .or_else(|| env::var("LAYOUT_BENCH_OUT").ok())
        .map(PathBuf::from);
    let runs: usize = env::var("LAYOUT_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(9)
        .max(1);
    let graphs = match graphs_dir {
        Some(dir) => read_graphs(Path::new(&dir)),
        None => workflows::all(&[500, 1000, 2000, 5000]),
    };
    if let Some(out) = &out_dir {
        fs::create_dir_all(out).expect("create the output directory");
    }
    let mut timings = String::new();
    println!(
        "{:<14} {:>6} {:>6} {:>10} {:>10}",
        "graph", "nodes", "edges", "median ms", "crossings"
    );
    for (name, graph) in &graphs {
        let (ms, drawn) = time(graph, runs);
        let (nodes, edges) = (graph.nodes.len(), graph.edges.len());
        let crossed = crossings(graph, &drawn);
        println!("{name:<14} {nodes:>6} {edges:>6} {ms:>10.2} {crossed:>10}");
        timings.push_str(&format!("{name}\t{nodes}\t{edges}\t{ms:.3}\n"));
        if let Some(out) = &out_dir {
            let json = serde_json::to_string(&drawn).expect("serialise the layout");
            fs::write(out.join(format!("{name}.json")), json).expect("write the layout");
        }
    }
    if let Some(out) = &out_dir {
        fs::write(out.join("timings.tsv"), timings).expect("write the timings");
    }
}

/// Every `*.json` graph in `dir`, by file name without the extension, sorted by name.
fn read_graphs(dir: &Path) -> Vec<(String, Graph)> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read the graphs directory")
        .map(|entry| entry.expect("read a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).expect("read a graph");
            let graph: Graph = serde_json::from_str(&text).expect("parse a graph");
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, graph)
        })
        .collect()
}

/// The median wall time of `runs` layouts of `graph` after one warm-up, in milliseconds, and
/// the layout.
fn time(graph: &Graph, runs: usize) -> (f64, Layout) {
    let options = Options::default();
    let drawn = layout(graph, &options);
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let again = layout(graph, &options);
            let elapsed = start.elapsed().as_secs_f64() * 1000.0;
            assert_eq!(again, drawn, "layout is deterministic");
            elapsed
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], drawn)
}
