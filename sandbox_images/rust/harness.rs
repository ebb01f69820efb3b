// rlce's harness for Rust assertion tests, split form (docs/SPLIT_TESTS.md):
// the crate root of the TEST process. It never contains the program: the
// program's functions are stubs (stubs.rs, written by rlce-rsplit from the
// program build's report) that call the program's process over fd 5 through
// rlce_wire. `rustc --test` collects the test's #[test] functions and hands
// them to `rlce_harness::run` (a custom test runner) instead of libtest: it
// reads the runner's nonce (fd 3) first, runs every test in order, and writes
// nonce + test digest (fd 4) only if all of them ran to their end.
#![feature(custom_test_frameworks, test)]
#![test_runner(crate::rlce_harness::run)]
#![allow(warnings)]
extern crate test;

// stubs.rs (rlce-rsplit): the prelude HumanEval-X's declaration imports,
// the program's carried types and one stub per carried program function.
include!("stubs.rs");
include!("test.rs");

mod rlce_harness {
    use std::io::{Read, Write};
    use std::os::unix::io::FromRawFd;

    /// SHA-256 (hex) of the test this binary was built from.
    const DIGEST: &[u8] = include_bytes!("digest.txt");

    pub fn run(tests: &[&::test::TestDescAndFn]) {
        let mut nonce = Vec::new();
        let mut input = unsafe { ::std::fs::File::from_raw_fd(3) };
        let read = input.take(33).read_to_end(&mut nonce);
        if read.is_err() || nonce.len() != 32 {
            ::std::process::exit(::rlce_wire::EXIT_NONCE); // someone read it first
        }
        if tests.is_empty() {
            ::rlce_wire::fail(::rlce_wire::EXIT_NO_TEST, "the test defines no #[test] function");
        }
        for t in tests {
            match t.testfn {
                ::test::TestFn::StaticTestFn(f) => f(),
                _ => ::rlce_wire::fail(::rlce_wire::EXIT_NO_TEST, "a test that is not a plain #[test] function"),
            }
        }
        ::rlce_wire::finish_channel();
        let mut record = nonce;
        record.extend_from_slice(DIGEST);
        let mut out = unsafe { ::std::fs::File::from_raw_fd(4) };
        if out.write_all(&record).is_err() {
            ::std::process::exit(1);
        }
        drop(out);
        ::std::process::exit(0);
    }
}
