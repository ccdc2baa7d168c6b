//! Server functions the UI calls. Each is a public endpoint under `/api/`; the bodies run on the
//! server only and read what the server provided through Leptos context.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::tree::CatalogTree;

/// Why a catalog request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum CatalogError {
    /// The server has no catalog in its context: a wiring bug on the server.
    #[error("the template catalog is not available")]
    Unavailable,
    /// The request failed between the browser and the server.
    #[error("the request failed: {0}")]
    Transport(String),
}

impl FromServerFnError for CatalogError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}

/// The loaded templates as a tree, keeping those that match `query` (all of them when it is
/// empty). Anyone may list templates: there is no authorization to check yet.
#[server]
pub async fn list_templates(
    /// Words that must all occur in a template's name, title, description or folder.
    query: String,
) -> Result<CatalogTree, CatalogError> {
    use std::sync::Arc;

    use crate::catalog::Catalog;

    let catalog = use_context::<Arc<Catalog>>().ok_or(CatalogError::Unavailable)?;
    Ok(CatalogTree::build(&catalog).filtered(&query))
}
