// rlce's crate root for the PROGRAM process of a split Rust assertion test
// (docs/SPLIT_TESTS.md): the candidate's program inside a module (its private
// functions and its own `fn main` are fine there) with the dispatcher that
// rlce-rsplit wrote from it, serving calls on fd 3 through rlce_wire until
// end of file. No test code is ever compiled here.
#![allow(warnings)]

mod program {
    include!("program.rs");
    include!("dispatch.rs");
}

fn main() {
    ::rlce_wire::serve(program::__rlce_dispatch)
}
