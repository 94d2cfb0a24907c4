//! The `krill` binary: parses the command line and hands over to
//! [`krill_drivers::cli`]. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or
//! bad config.

fn main() {
    std::process::exit(krill_drivers::cli::run());
}
