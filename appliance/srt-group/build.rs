//! Links libsrt with socket groups statically: Debian's shared libsrt is built without them
//! (see scripts/build-libsrt-bonding.sh, which setup runs).

fn main() {
    let prefix = std::env::var("FEEDLINE_SRT_PREFIX")
        .unwrap_or_else(|_| "/opt/feedline/libsrt-bonding".to_string());
    println!("cargo:rerun-if-env-changed=FEEDLINE_SRT_PREFIX");
    println!("cargo:rerun-if-changed={prefix}/lib/libsrt.a");
    if !std::path::Path::new(&format!("{prefix}/lib/libsrt.a")).exists() {
        panic!("{prefix}/lib/libsrt.a is missing: run scripts/setup.sh (it builds libsrt with ENABLE_BONDING)");
    }
    println!("cargo:rustc-link-search=native={prefix}/lib");
    println!("cargo:rustc-link-lib=static=srt");
    for lib in ["gnutls", "nettle", "hogweed", "gmp", "stdc++"] {
        println!("cargo:rustc-link-lib={lib}");
    }
}
