//! Small reusable pieces of the UI.

pub mod actions;
pub mod approval;
pub mod charts;
pub mod empty_state;
pub mod folder_tree;
pub mod graph;
pub mod grid;
pub mod header;
pub mod icons;
pub mod kind_badge;
pub mod logs;
pub mod markdown;
pub mod run_table;
pub mod search_box;
pub mod shortcuts;
pub mod status;
pub mod template_row;
