//! End-to-end tests: raw log lines in the real formats, through the real
//! host and the real shipped WebAssembly components, findings out, asserted
//! on their content. One test binary; one module per area.

#![allow(clippy::unwrap_used)]

mod an0676;
mod an0677;
mod an0678;
mod an0679;
mod an0680;
mod reload;
mod sandbox;
