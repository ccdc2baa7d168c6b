//! The JSON body of an API request. Like grpc-gateway, any content type is read as JSON (clients
//! such as `curl -d` send none), an empty body is `{}`, and a body that does not parse is a 400
//! in Argo's error shape that says where it went wrong.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A request body read as JSON into `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad(format!("cannot read the request body: {e}")))?;
        parse(&bytes).map(JsonBody)
    }
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| {
        ApiError::bad(format!(
            "the request body is not valid JSON for this call: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq, Default)]
    struct Req {
        #[serde(default)]
        name: String,
    }

    #[test]
    fn empty_bodies_are_empty_objects_and_bad_ones_say_where() {
        assert_eq!(parse::<Req>(b"").unwrap(), Req::default());
        assert_eq!(parse::<Req>(b" \n").unwrap(), Req::default());
        assert_eq!(parse::<Req>(br#"{"name": "x"}"#).unwrap().name, "x");
        let err = parse::<Req>(b"{\"name\": }").unwrap_err().to_string();
        assert!(err.contains("line 1 column 10"), "{err}");
    }
}
