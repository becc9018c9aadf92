//! The binary: runs the command line and ends the process with its exit code. The only place
//! that calls `std::process::exit` (src/error.rs maps outcomes and errors to codes).

fn exit_now(code: i32) -> ! {
    std::process::exit(code)
}

fn main() {
    // A second Ctrl-C during `load` ends the process at once (src/load/interrupt.rs).
    ba_harness::load::interrupt::on_second_interrupt(exit_now);
    exit_now(ba_harness::cli::main(std::env::args_os()));
}
