//! What can go wrong in a test, each saying what to do next.

/// The test library's errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestError {
    /// A function binary could not be built.
    #[error("cannot build the functions: {0}")]
    Build(String),
    /// A stack could not be synthesized.
    #[error("cannot synthesize the stack: {0}")]
    Synth(#[from] constructs::SynthError),
    /// The local service refused or failed.
    #[error("the test's service: {0}")]
    Service(#[from] local::LocalError),
    /// The engine refused a call.
    #[error("{0}")]
    Engine(String),
    /// No such function, execution or callback.
    #[error("{0}")]
    NotFound(String),
    /// The call does not fit the function or the execution's state.
    #[error("{0}")]
    Invalid(String),
    /// Work that did not end in time.
    #[error("{0}")]
    Timeout(String),
    /// A payload that is not the JSON the caller asked for.
    #[error("the payload is not the JSON expected: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<local::engine::EngineError> for TestError {
    fn from(error: local::engine::EngineError) -> Self {
        Self::Engine(error.to_string())
    }
}

/// A result of the test library.
pub type Result<T, E = TestError> = std::result::Result<T, E>;
