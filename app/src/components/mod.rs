//! Small reusable pieces of the UI.

pub mod empty_state;
pub mod folder_tree;
pub mod header;
pub mod icons;
pub mod kind_badge;
pub mod search_box;
pub mod template_row;
