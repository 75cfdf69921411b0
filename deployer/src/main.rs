//! The `deployer` binary: everything is in the library's [`deployer::main`].

fn main() -> std::process::ExitCode {
    deployer::main()
}
