//! Links libsrt with socket groups statically: Debian's shared libsrt is built without them
//! (see scripts/build-libsrt-bonding.sh, which setup runs).

fn main() {
    let prefix = std::env::var("FEEDLINE_SRT_PREFIX")
        .unwrap_or_else(|_| "/opt/feedline/libsrt-bonding".to_string());
    // A cross build (the Yocto recipe) points at its sysroot's library directory instead.
    let libdir = std::env::var("FEEDLINE_SRT_LIBDIR").unwrap_or_else(|_| format!("{prefix}/lib"));
    println!("cargo:rerun-if-env-changed=FEEDLINE_SRT_PREFIX");
    println!("cargo:rerun-if-env-changed=FEEDLINE_SRT_LIBDIR");
    println!("cargo:rerun-if-changed={libdir}/libsrt.a");
    if !std::path::Path::new(&format!("{libdir}/libsrt.a")).exists() {
        panic!("{libdir}/libsrt.a is missing: run scripts/setup.sh (it builds libsrt with ENABLE_BONDING)");
    }
    println!("cargo:rustc-link-search=native={libdir}");
    println!("cargo:rustc-link-lib=static=srt");
    for lib in ["gnutls", "nettle", "hogweed", "gmp", "stdc++"] {
        println!("cargo:rustc-link-lib={lib}");
    }
}
