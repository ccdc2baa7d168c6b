//! Snapshots of what `trellis lint` prints for broken manifests of our own making
//! (`tests/broken/*.yaml`): the messages are the product, so any change to them is reviewed.

use std::path::Path;

use engine::diag::render;
use engine::lint::{Source, check};

fn rendered(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/broken")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let checked = check(&[Source {
        name: file,
        text: &text,
    }]);
    assert!(checked[0].has_errors(), "{file} must have errors");
    checked[0]
        .diagnostics
        .iter()
        .map(|d| render(d, file, &text, false))
        .collect::<Vec<_>>()
        .join("\n")
}

macro_rules! snapshot {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                insta::assert_snapshot!(rendered($file));
            }
        )*
    };
}

snapshot! {
    typos => "typos.yaml",
    dag_cycle => "dag-cycle.yaml",
    references => "references.yaml",
    cron => "cron.yaml",
    syntax => "syntax.yaml",
    wrong_types => "wrong-types.yaml",
    memoize => "memoize.yaml",
}
