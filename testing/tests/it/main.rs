//! The test library's own tests, one binary: the example order workflow tested step by step on the virtual clock,
//! each fault kind, the pattern, and two apps side by side.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unchecked_time_subtraction,
    missing_docs
)]

mod faults;
mod orders;
mod pattern;
mod readme;
mod support;
