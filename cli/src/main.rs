//! The `reflector` command.

fn main() {}
