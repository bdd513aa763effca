#![deny(clippy::all)]
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
mod record;
mod sampler;

use napi::bindgen_prelude::{BigInt, Uint8ArraySlice};
use napi_derive::napi;

/// The newest Linux version whose perf ABI this build was compiled for
/// (the crate's cumulative `linux-*` feature).
#[napi]
pub fn build_linux() -> String {
    macro_rules! newest {
        ($($f:literal),*) => {{
            let mut v = "4.0";
            $( if cfg!(feature = $f) { v = &$f[6..]; } )*
            v
        }};
    }
    newest!(
        "linux-4.1", "linux-4.2", "linux-4.3", "linux-4.4", "linux-4.5", "linux-4.7", "linux-4.8", "linux-4.10",
        "linux-4.12", "linux-4.14", "linux-4.15", "linux-4.16", "linux-4.17", "linux-5.1", "linux-5.4", "linux-5.5",
        "linux-5.7", "linux-5.9", "linux-5.11", "linux-5.12", "linux-5.13", "linux-5.16", "linux-5.17", "linux-5.18",
        "linux-6.0", "linux-6.1", "linux-6.3", "linux-6.6", "linux-6.8", "linux-6.11", "linux-6.13", "linux-6.19",
        "linux-7.0"
    )
    .to_owned()
}

/// The address of the first byte of a typed array's memory, for breakpoints
/// on JS-owned memory. The memory must stay alive (keep a reference) while watched.
#[napi]
pub fn address_of(view: Uint8ArraySlice) -> BigInt {
    BigInt::from(view.as_ptr() as u64)
}

