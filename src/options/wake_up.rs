//! `wakeUp`: when a waiting sampler is woken.

use napi_derive::napi;
use perf_event_open::config::{WakeUp, WakeUpOn};

/// Every `samples` samples, or every `bytes` bytes (watermark): one of them.
#[napi(object, object_to_js = false)]
pub struct NativeWakeUpOn {
    /// Bytes of records (watermark).
    pub bytes: Option<u32>,
    /// Samples.
    pub samples: Option<u32>,
}

/// When a waiting sampler is woken.
#[napi(object, object_to_js = false)]
pub struct NativeWakeUp {
    /// Every `samples` samples, or every `bytes` bytes (watermark).
    pub on: Option<NativeWakeUpOn>,
    /// Every N bytes of AUX data. Since Linux 4.1.
    pub on_aux_bytes: Option<u32>,
}

/// The facade passes at most one of `bytes`/`samples` (it rejects both).
pub(super) fn wake_up(v: &Option<NativeWakeUp>) -> WakeUp {
    let Some(w) = v else { return WakeUp::default() };
    let on = match &w.on {
        Some(NativeWakeUpOn { bytes: Some(n), .. }) => WakeUpOn::Bytes(*n),
        Some(NativeWakeUpOn { samples: Some(n), .. }) => WakeUpOn::Samples(*n),
        _ => WakeUpOn::default(),
    };
    WakeUp { on, on_aux_bytes: w.on_aux_bytes.unwrap_or(0) }
}
