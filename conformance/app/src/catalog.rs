//! The conformance suite's requirements as this project deploys them: which suite each belongs to, the logical
//! id of its function, the handler that function runs, the invoke targets it calls, and the requirements the
//! Rust SDK cannot express.
//!
//! Requirement `<s>-<n>` of suite number `s` runs in function `<Suite><s>x<n>` (`1-1` → `Step1x1`, `6-13` →
//! `WaitForCondition6x13`): CloudFormation logical ids are alphanumeric, so the `-` becomes `x`, and the suite's
//! name in front keeps templates readable. The function's `CONFORMANCE_HANDLER` is the requirement id itself.

use serde::Serialize;

/// One suite of the conformance package (a folder of `test_requirements/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Suite {
    /// `step/`, requirements 1-x.
    Step,
    /// `wait/`, requirements 2-x.
    Wait,
    /// `child/`, requirements 3-x.
    Child,
    /// `callback/`, requirements 4-x.
    Callback,
    /// `invoke/`, requirements 5-x.
    Invoke,
    /// `wait_for_condition/`, requirements 6-x.
    WaitForCondition,
    /// `wait_for_callback/`, requirements 7-x.
    WaitForCallback,
    /// `parallel/`, requirements 8-x.
    Parallel,
    /// `map/`, requirements 9-x.
    Map,
    /// `plugin/`, requirements 10-x.
    Plugin,
}

impl Suite {
    /// Every suite, in requirement-number order.
    pub const ALL: [Self; 10] = [
        Self::Step,
        Self::Wait,
        Self::Child,
        Self::Callback,
        Self::Invoke,
        Self::WaitForCondition,
        Self::WaitForCallback,
        Self::Parallel,
        Self::Map,
        Self::Plugin,
    ];

    /// The suite's folder in the package (`wait_for_condition`).
    pub fn folder(self) -> &'static str {
        match self {
            Self::Step => "step",
            Self::Wait => "wait",
            Self::Child => "child",
            Self::Callback => "callback",
            Self::Invoke => "invoke",
            Self::WaitForCondition => "wait_for_condition",
            Self::WaitForCallback => "wait_for_callback",
            Self::Parallel => "parallel",
            Self::Map => "map",
            Self::Plugin => "plugin",
        }
    }

    /// The number in front of its requirement ids (`6` for `6-13`).
    pub fn number(self) -> u32 {
        match self {
            Self::Step => 1,
            Self::Wait => 2,
            Self::Child => 3,
            Self::Callback => 4,
            Self::Invoke => 5,
            Self::WaitForCondition => 6,
            Self::WaitForCallback => 7,
            Self::Parallel => 8,
            Self::Map => 9,
            Self::Plugin => 10,
        }
    }

    /// How many requirements the suite has in package version 1.0.0.
    pub fn size(self) -> u32 {
        match self {
            Self::Step | Self::Map => 20,
            Self::Wait => 5,
            Self::Child => 18,
            Self::Callback => 19,
            Self::Invoke => 16,
            Self::WaitForCondition => 13,
            Self::WaitForCallback => 15,
            Self::Parallel => 22,
            Self::Plugin => 7,
        }
    }

    /// The start of its functions' logical ids (`WaitForCondition`).
    pub fn logical_prefix(self) -> &'static str {
        match self {
            Self::Step => "Step",
            Self::Wait => "Wait",
            Self::Child => "Child",
            Self::Callback => "Callback",
            Self::Invoke => "Invoke",
            Self::WaitForCondition => "WaitForCondition",
            Self::WaitForCallback => "WaitForCallback",
            Self::Parallel => "Parallel",
            Self::Map => "Map",
            Self::Plugin => "Plugin",
        }
    }

    /// The name of the suite's stack: `durable-conformance-<folder with dashes>`.
    pub fn stack_name(self) -> String {
        format!("{}-{}", super::STACK_PREFIX, self.folder().replace('_', "-"))
    }

    /// The suite's requirements, in order.
    pub fn requirements(self) -> Vec<Requirement> {
        (1..=self.size()).map(|n| Requirement { suite: self, number: n }).collect()
    }
}

/// One requirement of the package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Requirement {
    /// Its suite.
    pub suite: Suite,
    /// Its number within the suite (`13` for `6-13`).
    pub number: u32,
}

impl Requirement {
    /// The requirement with id `id` (`6-13`), if the package has it.
    pub fn find(id: &str) -> Option<Self> {
        let (suite, number) = id.split_once('-')?;
        let (suite, number) = (suite.parse::<u32>().ok()?, number.parse::<u32>().ok()?);
        let suite = Suite::ALL.into_iter().find(|s| s.number() == suite)?;
        (1..=suite.size()).contains(&number).then_some(Self { suite, number })
    }

    /// Its id, as the package names its file (`6-13`).
    pub fn id(self) -> String {
        format!("{}-{}", self.suite.number(), self.number)
    }

    /// The logical id of its function (`WaitForCondition6x13`).
    pub fn logical_id(self) -> String {
        format!("{}{}x{}", self.suite.logical_prefix(), self.suite.number(), self.number)
    }

    /// The `CONFORMANCE_HANDLER` of its function: the requirement id.
    pub fn handler(self) -> String {
        self.id()
    }

    /// Why the Rust SDK cannot express it, if it cannot.
    pub fn not_applicable(self) -> Option<&'static str> {
        let id = self.id();
        NOT_APPLICABLE.iter().find(|(candidate, _)| *candidate == id).map(|(_, reason)| *reason)
    }

    /// The invoke targets its handler calls.
    pub fn targets(self) -> Vec<&'static InvokedFunction> {
        let id = self.id();
        let names = INVOKE_TARGETS.iter().find(|(candidate, _)| *candidate == id).map_or(&[][..], |(_, t)| *t);
        TARGETS.iter().filter(|t| names.contains(&t.logical_id)).collect()
    }
}

/// Every requirement of the package, suite by suite.
pub fn requirements() -> Vec<Requirement> {
    Suite::ALL.into_iter().flat_map(Suite::requirements).collect()
}

/// What the plugin suite asks of an SDK that `aws-durable-execution-sdk` 0.1.0 lacks. The SDK has no plugin API
/// (`Options` holds an SDK config, a Lambda client and checkpoint tuning only, `src/options.rs:63-76`); its
/// instrumentation is a `tracing` contract (`src/observability.rs`) whose only invocation-end event is
/// `execution_suspended` (`src/observability.rs:82,224`). 10-2 and 10-3 are covered through that contract.
const NO_INVOCATION_END: &str = "aws-durable-execution-sdk 0.1.0 has no plugin API and no invocation-end hook \
    carrying the execution's terminal status: its tracing contract ends an invocation only with \
    `execution_suspended` (src/observability.rs:82,224; Options has no plugin field, src/options.rs:63-76)";

/// Requirements the Rust SDK cannot express, with the reason the runner reports.
pub const NOT_APPLICABLE: &[(&str, &str)] = &[
    ("10-1", NO_INVOCATION_END),
    (
        "10-4",
        "aws-durable-execution-sdk 0.1.0 has no plugin API whose hook failures it could catch: its \
         instrumentation is a tracing contract the SDK never calls into (src/observability.rs; Options has no \
         plugin field, src/options.rs:63-76)",
    ),
    ("10-5", NO_INVOCATION_END),
    ("10-6", NO_INVOCATION_END),
    ("10-7", NO_INVOCATION_END),
];

/// A plain function the invoke suite calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct InvokedFunction {
    /// Its logical id.
    pub logical_id: &'static str,
    /// Its `CONFORMANCE_HANDLER`.
    pub handler: &'static str,
    /// The environment variable through which callers learn its name.
    pub env: &'static str,
    /// Whether it runs tenant-isolated (`TenancyConfig` `PER_TENANT`).
    pub tenant_isolated: bool,
    /// What it does.
    pub description: &'static str,
}

/// The invoke suite's targets.
pub const TARGETS: &[InvokedFunction] = &[
    InvokedFunction {
        logical_id: "InvokeEchoTarget",
        handler: "target-echo",
        env: "ECHO_FUNCTION_NAME",
        tenant_isolated: false,
        description: "Conformance invoke target: returns its input",
    },
    InvokedFunction {
        logical_id: "InvokeFailingTarget",
        handler: "target-failing",
        env: "FAILING_FUNCTION_NAME",
        tenant_isolated: false,
        description: "Conformance invoke target: always fails",
    },
    InvokedFunction {
        logical_id: "InvokeMeasureTarget",
        handler: "target-measure",
        env: "MEASURE_FUNCTION_NAME",
        tenant_isolated: false,
        description: "Conformance invoke target: returns the size of its input",
    },
    InvokedFunction {
        logical_id: "InvokeTenantEchoTarget",
        handler: "target-echo",
        env: "TENANT_ECHO_FUNCTION_NAME",
        tenant_isolated: true,
        description: "Conformance invoke target: returns its input, one environment per tenant",
    },
];

/// The targets each invoke requirement calls, by logical id.
pub const INVOKE_TARGETS: &[(&str, &[&str])] = &[
    ("5-1", &["InvokeEchoTarget"]),
    ("5-2", &["InvokeEchoTarget"]),
    ("5-3", &["InvokeEchoTarget"]),
    ("5-4", &["InvokeEchoTarget"]),
    ("5-5", &["InvokeFailingTarget"]),
    ("5-6", &["InvokeFailingTarget"]),
    ("5-7", &["InvokeMeasureTarget"]),
    ("5-8", &["InvokeTenantEchoTarget"]),
    ("5-9", &["InvokeEchoTarget"]),
    ("5-10", &["InvokeFailingTarget"]),
    ("5-11", &["InvokeEchoTarget"]),
    ("5-12", &["InvokeEchoTarget"]),
    ("5-13", &["InvokeEchoTarget"]),
    ("5-14", &["InvokeEchoTarget", "InvokeMeasureTarget"]),
    ("5-15", &["InvokeEchoTarget"]),
    ("5-16", &["InvokeEchoTarget"]),
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_map_to_alphanumeric_logical_ids_and_back() {
        let all = requirements();
        assert_eq!(all.len(), 155);
        for r in &all {
            assert_eq!(Requirement::find(&r.id()), Some(*r));
            assert!(r.logical_id().chars().all(|c| c.is_ascii_alphanumeric()), "{}", r.logical_id());
        }
        assert_eq!(Requirement::find("1-1").unwrap().logical_id(), "Step1x1");
        assert_eq!(Requirement::find("6-13").unwrap().logical_id(), "WaitForCondition6x13");
        assert_eq!(Requirement::find("10-7").unwrap().logical_id(), "Plugin10x7");
        for missing in ["1-21", "0-1", "11-1", "1-0", "x-1", "1"] {
            assert_eq!(Requirement::find(missing), None, "{missing}");
        }
    }

    #[test]
    fn tables_name_real_requirements_and_targets() {
        for (id, _) in NOT_APPLICABLE {
            assert_eq!(Requirement::find(id).unwrap().suite, Suite::Plugin, "{id}");
        }
        for (id, targets) in INVOKE_TARGETS {
            let r = Requirement::find(id).unwrap();
            assert_eq!(r.suite, Suite::Invoke, "{id}");
            assert_eq!(r.targets().len(), targets.len(), "{id}");
        }
        assert!(Suite::Invoke.requirements().iter().all(|r| !r.targets().is_empty()));
    }
}
