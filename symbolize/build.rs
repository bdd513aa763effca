//! napi-rs's build setup, and the versions of the libraries this addon is built with, read from
//! Cargo.lock (the versions actually compiled in, not a copy of the pins) for `symbolizer_info()`.

use std::fs;

/// The libraries `symbolizer_info()` names, in its order.
const LIBRARIES: [&str; 3] = ["blazesym", "inferno", "fxprof-processed-profile"];

/// The version of package `name` in a Cargo.lock (`[[package]]` entries of `name = ` and `version = ` lines).
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let quoted = format!("\"{name}\"");
    lock.split("[[package]]").find_map(|entry| {
        let mut lines = entry.lines().map(str::trim);
        let this = lines.clone().any(|l| l.strip_prefix("name = ") == Some(quoted.as_str()));
        let version = lines.find_map(|l| l.strip_prefix("version = "))?;
        this.then(|| version.trim_matches('"').to_owned())
    })
}

fn main() {
    napi_build::setup();
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = fs::read_to_string("Cargo.lock").expect("symbolize/Cargo.lock (commit it: the versions come from it)");
    let info = LIBRARIES
        .iter()
        .map(|name| {
            let version = locked_version(&lock, name).unwrap_or_else(|| panic!("{name} is not in symbolize/Cargo.lock"));
            format!("{name} {version}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    println!("cargo:rustc-env=SYMBOLIZE_LIBRARIES={info}");
}
