//! Building the server's answers: JSON bodies, and refusals with the
//! headers senders act on (`Retry-After` on 429 and 503,
//! `WWW-Authenticate` on 401).

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};

use super::body::Refusal;

fn status(code: u16) -> hyper::StatusCode {
    hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR)
}

pub fn text(code: u16, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status(code);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

pub fn json(code: u16, v: &serde_json::Value) -> Response<Full<Bytes>> {
    text(code, "application/json", v.to_string())
}

/// The answer to a refused request: its code, a JSON body with the reason,
/// and the headers that tell the sender what to do.
pub fn refuse(r: &Refusal) -> Response<Full<Bytes>> {
    let mut resp = json(
        r.code,
        &serde_json::json!({ "error": r.reason, "detail": r.detail }),
    );
    let h = resp.headers_mut();
    match r.code {
        429 | 503 => {
            h.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        401 => {
            h.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"dumpwatch\""),
            );
        }
        _ => {}
    }
    resp
}
