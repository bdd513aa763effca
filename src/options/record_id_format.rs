//! `recordIdFormat`: the identity fields every record carries.

use napi_derive::napi;
use perf_event_open::config::RecordIdFormat;

use super::flag;

/// Which identity fields every record carries (PERF_SAMPLE_ID, STREAM_ID, CPU, TID, TIME).
#[napi(object, object_to_js = false)]
pub struct NativeRecordIdFormat {
    /// Event id (PERF_SAMPLE_ID).
    pub id: Option<bool>,
    /// Stream id (PERF_SAMPLE_STREAM_ID).
    pub stream_id: Option<bool>,
    /// CPU (PERF_SAMPLE_CPU).
    pub cpu: Option<bool>,
    /// pid and tid (PERF_SAMPLE_TID).
    pub task: Option<bool>,
    /// Timestamp (PERF_SAMPLE_TIME), on the `timer` clock.
    pub time: Option<bool>,
}

pub(super) fn record_id_format(v: &Option<NativeRecordIdFormat>) -> RecordIdFormat {
    v.as_ref().map_or_else(RecordIdFormat::default, |r| RecordIdFormat {
        id: flag(r.id),
        stream_id: flag(r.stream_id),
        cpu: flag(r.cpu),
        task: flag(r.task),
        time: flag(r.time),
    })
}
