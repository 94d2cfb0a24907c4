//! What krill prints for the person running it, outside the log: command
//! output on stdout (`outln!`) and messages on stderr (`errln!`).
//!
//! `println!` and `eprintln!` panic when the reader of a pipe has gone
//! (`krill pairing list | head -1`, or a gateway whose `tee` or log shipper
//! exited); these macros drop the line instead, so the command or the
//! gateway goes on.

use std::io::Write;

/// `println!` that drops the line when stdout is closed.
macro_rules! outln {
    () => {
        $crate::console::print_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::console::print_line(format_args!($($arg)*))
    };
}

/// `eprintln!` that drops the line when stderr is closed.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::console::eprint_line(format_args!($($arg)*))
    };
}

/// Writes `line` and a newline to stdout; dropped when stdout is closed.
pub(crate) fn print_line(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Writes `line` and a newline to stderr; dropped when stderr is closed.
pub(crate) fn eprint_line(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
