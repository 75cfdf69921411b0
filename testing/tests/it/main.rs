//! The test library's own tests, one binary: the example order workflow tested step by step on the virtual clock,
//! each fault kind, the pattern, and two apps side by side.

mod faults;
mod orders;
mod pattern;
mod support;
