//! Lines for the operator on stdout and stderr. A stream nobody reads any more (the
//! reader of a pipe gone, as with `gateway demo | head -20`) loses the line, not the
//! process: `println!` would panic there and take a serving gateway down with it.

use std::fmt;
use std::io::Write;

/// A line on stdout; nothing happens when stdout is closed.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::line(&mut ::std::io::stdout(), format_args!($($arg)*))
    };
}

/// A line on stderr; nothing happens when stderr is closed.
#[macro_export]
macro_rules! say_err {
    ($($arg:tt)*) => {
        $crate::console::line(&mut ::std::io::stderr(), format_args!($($arg)*))
    };
}

/// Writes `args` and a newline to `out`, dropping the line if `out` refuses it.
pub fn line(out: &mut impl Write, args: fmt::Arguments<'_>) {
    let _ = writeln!(out, "{args}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream whose reader is gone.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn a_closed_stream_loses_the_line_and_nothing_else() {
        line(
            &mut Closed,
            format_args!("GraphQL: http://{}/graphql", "[::1]:1"),
        );
        let mut open = Vec::new();
        line(&mut open, format_args!("{} departments", 96));
        assert_eq!(open, b"96 departments\n");
    }
}
