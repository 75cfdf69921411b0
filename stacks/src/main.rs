//! The app binary the deployer runs (`deployer.toml` names this package): writes the stacks as a cloud assembly.

fn main() -> std::process::ExitCode {
    constructs::App::run(stacks::app)
}
