//! How data crosses from the server to the browser: server functions answer, and resources
//! hand their server-side values to hydration, in postcard (compact binary, base64 inside the
//! page) rather than JSON. Decoding postcard takes a fraction of the wasm that serde_json's
//! decoding of the same types does (postcard reads structs as sequences: no field names to
//! match), which keeps the release wasm within its size budget. The view models carry no
//! serde attributes that postcard cannot honour (no `skip_serializing_if`, `flatten`,
//! `untagged`, no untyped JSON values).

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The encoding of resources between the server and hydration.
pub type Codec = codee::string::Base64<codee::binary::PostcardCodec>;

/// A resource (see [`Resource::new`]) whose value reaches hydration in postcard.
#[track_caller]
pub fn resource<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, Codec>
where
    S: Send + Sync + Clone + PartialEq + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
