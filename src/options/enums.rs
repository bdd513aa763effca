//! The string-enum options (`inherit`, `onExecve`, `sampleSkid`, `weight`, `timer`, `auxAction`)
//! and their conversions to and from the crate's enums.

use napi_derive::napi;
use perf_event_open::config::sibling::AuxTracer;
use perf_event_open::config::{Clock, Inherit, OnExecve, Repr, SampleSkid};

/// A JS string enum (camelCase values) mirroring one of the crate's enums,
/// with conversions both ways written as exhaustive `match`es: a variant
/// added to the crate's enum is a compile error here, not a silent gap.
/// Docs are written `#[doc = "…"]` in the invocations: napi-rs reads a `///`
/// passed through `macro_rules!` as a raw string (`r"…"`) into index.d.ts.
macro_rules! string_enum {
    ($(#[$($doc:tt)*])* $name:ident <=> $crate_enum:ident { $($(#[$($vdoc:tt)*])* $variant:ident),+ $(,)? }) => {
        $(#[$($doc)*])*
        #[napi(string_enum = "camelCase")]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$($vdoc)*])* $variant),+
        }
        impl From<$name> for $crate_enum {
            fn from(v: $name) -> Self {
                match v {
                    $($name::$variant => $crate_enum::$variant),+
                }
            }
        }
        impl From<$crate_enum> for $name {
            fn from(v: $crate_enum) -> Self {
                match v {
                    $($crate_enum::$variant => $name::$variant),+
                }
            }
        }
    };
}

string_enum! {
    #[doc = "Which children inherit the counter."]
    NativeInherit <=> Inherit {
        #[doc = "New threads and processes created after the counter (not existing ones)."]
        NewChild,
        #[doc = "New threads only. Since Linux 5.13."]
        NewThread,
    }
}

string_enum! {
    #[doc = "What happens to the counter on execve."]
    NativeOnExecve <=> OnExecve {
        #[doc = "Enable the counter (enable_on_exec)."]
        Enable,
        #[doc = "Remove the counter (remove_on_exec). Since Linux 5.13."]
        Remove,
    }
}

string_enum! {
    #[doc = "Skid constraint of sample addresses (precise_ip)."]
    NativeSampleSkid <=> SampleSkid {
        #[doc = "Any skid (precise_ip 0, the default)."]
        Arbitrary,
        #[doc = "Constant skid (precise_ip 1)."]
        Const,
        #[doc = "Zero skid requested (precise_ip 2)."]
        ReqZero,
        #[doc = "Zero skid required (precise_ip 3)."]
        Zero,
    }
}

string_enum! {
    #[doc = "How sample weights are represented."]
    NativeWeight <=> Repr {
        #[doc = "One u64 (PERF_SAMPLE_WEIGHT)."]
        Full,
        #[doc = "Separate variables (PERF_SAMPLE_WEIGHT_STRUCT). Since Linux 5.12."]
        Vars,
    }
}

string_enum! {
    #[doc = "Clock of record timestamps (use_clockid)."]
    NativeTimer <=> Clock {
        #[doc = "CLOCK_TAI: wall-clock time without leap seconds."]
        Tai,
        #[doc = "CLOCK_REALTIME: settable wall-clock time."]
        RealTime,
        #[doc = "CLOCK_BOOTTIME: monotonic, including suspend."]
        BootTime,
        #[doc = "CLOCK_MONOTONIC: monotonic, excluding suspend."]
        Monotonic,
        #[doc = "CLOCK_MONOTONIC_RAW: monotonic, without NTP adjustments."]
        MonotonicRaw,
    }
}

string_enum! {
    #[doc = "What a member's overflow does to the leader's AUX tracer. Since Linux 6.13."]
    NativeAuxAction <=> AuxTracer {
        #[doc = "Pause the AUX tracer."]
        Pause,
        #[doc = "Resume the AUX tracer."]
        Resume,
    }
}
