//! The conformance suites' app binary: the deployer runs it with `--app conformance-app`.

fn main() -> std::process::ExitCode {
    constructs::App::run(conformance_app::app)
}
