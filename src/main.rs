fn main() {
    std::process::exit(ba_harness::cli::main(std::env::args_os()));
}
