#![deny(clippy::all)]
// `cargo test` builds without napi's registration of the exported items: they look unused there.
#![cfg_attr(test, allow(dead_code))]
//! Native core of the `perf-event-open` npm package: a thin napi-rs layer over
//! the `perf-event-open` crate. JS values become the crate's types here, and
//! the crate's results become JS values; everything user-facing (names,
//! validation, hints) lives in the TypeScript facade under `lib/`.

mod batch;
mod counter;
mod error;
mod event;
mod group;
mod handles;
mod options;
mod output;
mod record;
mod sampler;
mod user_read;

use napi::bindgen_prelude::{BigInt, Uint8ArraySlice};
use napi_derive::napi;

/// The newest Linux version whose perf ABI this build was compiled for
/// (the crate's cumulative `linux-*` feature; derived in build.rs).
#[napi]
pub fn build_linux() -> String {
    env!("BUILD_LINUX").to_owned()
}

/// The address of the first byte of a typed array's memory, for breakpoints
/// on JS-owned memory. The memory must stay alive (keep a reference) while watched.
#[napi]
pub fn address_of(view: Uint8ArraySlice) -> BigInt {
    BigInt::from(view.as_ptr() as u64)
}
