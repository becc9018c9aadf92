//! Rebuilds when a file is added to a folder embedded by src/assets.rs: rust-embed's
//! include_bytes! tracks the files it embedded, but a new one is seen only through these.
//! Only folders that installs and builds never write to are listed (cargo scans a folder
//! recursively: targets/<app> itself holds node_modules); a new top-level file in a target
//! folder is caught by the assets unit test that compares the embedded set with git ls-files.

fn main() {
    for path in [
        "features",
        "scenarios",
        "targets/better-auth-rs/src",
        "targets/nestjs/src",
        "targets/nextjs/app",
        "targets/nextjs/lib",
        "targets/tanstack-start/src",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
}
