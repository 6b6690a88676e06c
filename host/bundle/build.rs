//! Builds every guest crate under `guests/` as a `wasm32-wasip2` component
//! and generates the list of them that `src/lib.rs` embeds.
//!
//! The guests are built by a nested `cargo build` with its own target
//! directory inside `OUT_DIR`: sharing the outer build's target directory
//! would deadlock on cargo's build lock. Cargo reruns this script when
//! anything under `guests/` or `wit/` changes, and the nested build is
//! incremental, so the embedded components are never stale.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Shipped analytics: (crate name, analytic id).
const SHIPPED: &[(&str, &str)] = &[
    ("an0676-linux", "AN0676"),
    ("an0677-windows", "AN0677"),
    ("an0678-macos", "AN0678"),
    ("an0679-aws", "AN0679"),
    ("an0680-saas", "AN0680"),
];

/// Guests built only for tests (hostile or example analytics).
const TEST_GUESTS: &[&str] = &[
    "hostile-loop",
    "hostile-memory",
    "hostile-trap",
    "hostile-flood",
    "hostile-wasi",
    "hostile-state",
    "hostile-stray-part",
    "hostile-part-flood",
    "world-v2",
    "swap-v1",
    "swap-v2",
];

const TARGET: &str = "wasm32-wasip2";

/// Install the guest target with rustup when the toolchain lacks it, so a
/// fresh checkout builds with one command. Without rustup, the build fails
/// later with a message saying what to install.
fn ensure_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = sysroot
        .as_ref()
        .is_some_and(|s| s.join("lib/rustlib").join(TARGET).exists());
    if installed {
        return;
    }
    println!(
        "cargo:warning=installing the {TARGET} target with rustup (guest analytics are {TARGET} components)"
    );
    let ok = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!(
            "cargo:warning=could not run `rustup target add {TARGET}`; install the target yourself"
        );
    }
}
const PROFILE: &str = "guest";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("host/bundle sits two levels under the workspace root")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let target_dir = out_dir.join("guest-target");

    for p in ["guests", "wit", "Cargo.lock", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }

    ensure_target();
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .arg("build")
        .arg("--profile")
        .arg(PROFILE)
        .arg("--target")
        .arg(TARGET)
        .arg("--target-dir")
        .arg(&target_dir);
    for (krate, _) in SHIPPED {
        cmd.arg("-p").arg(krate);
    }
    for krate in TEST_GUESTS {
        cmd.arg("-p").arg(krate);
    }
    // Flags meant for the host build must not leak into the guest build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_PROFILE_RELEASE_LTO",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("dumpwatch-bundle: cannot run cargo to build the guests: {e}"));
    if !status.success() {
        panic!(
            "dumpwatch-bundle: building the guest components failed (see above). \
             Is the target installed? Run `rustup target add {TARGET}`."
        );
    }

    let wasm_dir = target_dir.join(TARGET).join(PROFILE);
    let path_of = |krate: &str| wasm_dir.join(format!("{}.wasm", krate.replace('-', "_")));
    let mut code = String::new();
    code.push_str("/// Shipped analytics, embedded.\npub static SHIPPED: &[Shipped] = &[\n");
    for (krate, id) in SHIPPED {
        let p = path_of(krate);
        assert!(p.exists(), "guest build produced no {}", p.display());
        writeln!(
            code,
            "    Shipped {{ id: {id:?}, crate_name: {krate:?}, wasm: include_bytes!({:?}) }},",
            p.display().to_string()
        )
        .expect("write to string");
    }
    code.push_str("];\n\n/// Test-only guests: (crate name, component path).\npub static TEST_GUESTS: &[(&str, &str)] = &[\n");
    for krate in TEST_GUESTS {
        let p = path_of(krate);
        assert!(p.exists(), "guest build produced no {}", p.display());
        writeln!(code, "    ({krate:?}, {:?}),", p.display().to_string()).expect("write to string");
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("guests.rs"), code).expect("write generated list");
}
