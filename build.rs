// The build's perf ABI: the highest `linux-X.Y` Cargo feature enabled (features are cumulative,
// see Cargo.toml), exported to src/lib.rs as BUILD_LINUX. Cargo sets CARGO_FEATURE_<NAME> for each
// enabled feature, upper-cased with `-` turned into `_` (linux-6.11 -> CARGO_FEATURE_LINUX_6.11; `.` is
// kept by current Cargo, so both separators are accepted).
fn main() {
    napi_build::setup();
    let newest = std::env::vars()
        .filter_map(|(key, _)| {
            let version = key.strip_prefix("CARGO_FEATURE_LINUX_")?;
            let (major, minor) = version.split_once(['.', '_'])?;
            Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?))
        })
        .max()
        // No linux-* feature: the crate's plain build, the perf ABI of Linux 4.0.
        .unwrap_or((4, 0));
    println!("cargo:rustc-env=BUILD_LINUX={}.{}", newest.0, newest.1);
}
