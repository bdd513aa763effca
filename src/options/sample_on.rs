//! `sampleOn`: a sampling period or frequency.

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use perf_event_open::config::SampleOn;

use crate::error::Result;
use crate::event::u64_of;

/// Sample on every `count` events (a period) or `freq` times a second (the kernel adjusts the period).
#[napi(object, object_to_js = false)]
pub struct NativeSampleOn {
    /// Samples per second.
    pub freq: Option<BigInt>,
    /// Events per sample (the period).
    pub count: Option<BigInt>,
}

/// The facade passes exactly one of `freq`/`count` (it rejects both).
pub(super) fn sample_on(v: &Option<NativeSampleOn>) -> Result<SampleOn> {
    Ok(match v {
        Some(NativeSampleOn { freq: Some(f), .. }) => SampleOn::Freq(u64_of("sampleOn.freq", f)?),
        Some(NativeSampleOn { count: Some(c), .. }) => SampleOn::Count(u64_of("sampleOn.count", c)?),
        _ => SampleOn::default(),
    })
}
