//! `exclude`: the privilege levels not to count.

use napi_derive::napi;
use perf_event_open::config::Priv;

use super::flag;

/// Which privilege levels NOT to count. Event-string modifiers (`:u`, `:k`…)
/// fill these; explicit options win.
#[napi(object, object_to_js = false)]
pub struct NativePriv {
    /// Do not count user space.
    pub user: Option<bool>,
    /// Do not count the kernel. With `perf_event_paranoid >= 2`, unprivileged users must set this.
    pub kernel: Option<bool>,
    /// Do not count the hypervisor.
    pub hv: Option<bool>,
    /// Do not count in host mode (KVM).
    pub host: Option<bool>,
    /// Do not count in guest mode (KVM).
    pub guest: Option<bool>,
    /// Do not count while the CPU is idle (CPU-wide counters).
    pub idle: Option<bool>,
}

pub(super) fn privs(p: &Option<NativePriv>) -> Priv {
    p.as_ref().map_or_else(Priv::default, |p| Priv {
        user: flag(p.user),
        kernel: flag(p.kernel),
        hv: flag(p.hv),
        host: flag(p.host),
        guest: flag(p.guest),
        idle: flag(p.idle),
    })
}
