//! Shared fixtures: the workspace's function binaries, a local target deployed from a stack written with the
//! construct library, tools, and HTTP calls to the endpoint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use constructs::{App, AppContext, AssetManifest, AssetSource, ResolvedAsset, Stack};
use hyper::Method;
use local::http::{Client, encode_segment};
use local::{DaemonCommand, DeployOutcome, DeployRequest, StackTemplate, Supervisor};
use serde_json::Value;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Cargo's target folder this test binary was built into (`<target>/debug/deps/it-*`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// Builds the workspace binaries `bins` (`(package, binary)`) for this machine, once per test process.
pub fn binaries() -> &'static BTreeMap<String, PathBuf> {
    static BUILT: OnceLock<BTreeMap<String, PathBuf>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let bins = [("processor", "processor"), ("orchestrator", "orchestrator"), ("conformance", "conformance")];
        let mut command = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command.arg("build").arg("-q").current_dir(workspace_root()).env("CARGO_TARGET_DIR", target_dir());
        // Without the variables `cargo test` set for this package: ring's build script reruns when
        // `CARGO_MANIFEST_DIR` changes, which would rebuild the workspace's TLS and SDK crates for this build and
        // again for the next plain one.
        for (name, _) in std::env::vars() {
            if name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_MANIFEST_") || name.starts_with("CARGO_CRATE_")
            {
                command.env_remove(name);
            }
        }
        for (package, binary) in bins {
            command.args(["-p", package, "--bin", binary]);
        }
        let status = command.status().unwrap();
        assert!(status.success(), "cannot build the function binaries");
        bins.iter().map(|(_, b)| ((*b).to_owned(), target_dir().join("debug").join(b))).collect()
    })
}

/// A third-party tool, from `DEPLOYER_TOOLS_BIN`, the workspace's `.venv-tools` or `PATH`. Missing fails the test.
pub fn tool(name: &str) -> PathBuf {
    let candidates = std::env::var_os("DEPLOYER_TOOLS_BIN")
        .map(PathBuf::from)
        .into_iter()
        .chain([workspace_root().join(".venv-tools/bin")])
        .chain(std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default());
    for dir in candidates {
        if dir.join(name).exists() {
            return dir.join(name);
        }
    }
    panic!("`{name}` is not installed: run the tests with `scripts/test`, which installs it");
}

/// A tokio runtime for a test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// A local target in a folder of its own, with the pattern's stack deployed; stopped when dropped.
pub struct Local {
    pub target: Supervisor,
    pub dir: tempfile::TempDir,
    pub endpoint: String,
    pub outputs: BTreeMap<String, String>,
    pub request: DeployRequest,
    pub rt: tokio::runtime::Runtime,
}

impl Local {
    /// The seed pattern's stack, named `stack`.
    pub fn seed(stack: &str) -> Self {
        Self::deploy(&seed_stack(stack), |_, _| Vec::new())
    }

    /// `stack` deployed; `env` gives the service's extra environment from the test's folder and the deployment.
    pub fn deploy(
        stack: &Stack,
        env: impl FnOnce(&Path, &local::deployment::Deployment) -> Vec<(String, String)>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let target = Supervisor::new(dir.path().join("state"));
        let name = stack.name().to_owned();
        let (template, code) = synth(&target, stack);
        let planned = local::deployment::plan(&template, &name, "us-east-1", &code, None).unwrap();
        let deployment = local::deployment::Deployment::new("us-east-1").with_stack(planned);
        let env = env(dir.path(), &deployment).into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        let request = DeployRequest {
            region: "us-east-1".into(),
            stacks: vec![StackTemplate { name: name.clone(), template }],
            code,
            daemon: DaemonCommand { program: env!("CARGO_BIN_EXE_local-service").into(), args: vec![], env },
            skip_time: false,
            credentials: None,
            clock: local::ClockMode::Wall,
            aws_endpoint_url: None,
        };
        let rt = runtime();
        let outcome = rt.block_on(target.deploy(request.clone())).unwrap();
        let outputs = outcome.outputs[&name].clone();
        Self { target, dir, endpoint: outcome.info.endpoint(), outputs, request, rt }
    }

    /// `stack` deployed with waits, retry delays and callback timeouts firing at once.
    pub fn deploy_skipping_time(stack: &Stack) -> Self {
        let mut local = Self::deploy(stack, |_, _| Vec::new());
        local.request.skip_time = true;
        local.redeploy();
        local
    }

    /// `stack` deployed on a manual clock that moves only when the test moves it.
    pub fn deploy_on_manual_clock(stack: &Stack) -> Self {
        let mut local = Self::deploy(stack, |_, _| Vec::new());
        local.request.clock = local::ClockMode::Manual;
        local.redeploy();
        local
    }

    /// Replaces the deployed stack with `stack` (same name: a code or configuration change) and deploys it.
    pub fn change(&mut self, stack: &Stack) -> DeployOutcome {
        let (template, code) = synth(&self.target, stack);
        self.request.stacks = vec![StackTemplate { name: stack.name().to_owned(), template }];
        self.request.code = code;
        self.redeploy()
    }

    /// Starts an execution of `function` (a name or ARN, qualified) with an `Event` invoke; returns its ARN.
    pub fn start(&self, function: &str, payload: &str) -> String {
        let path = format!("/2015-03-31/functions/{}/invocations", encode_segment(function));
        let answer = self.call(Method::POST, &path, &[("x-amz-invocation-type", "Event")], payload);
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
        answer.headers["x-amz-durable-execution-arn"].to_str().unwrap().to_owned()
    }

    /// `GetDurableExecutionHistory`'s event types, in order.
    pub fn event_types(&self, arn: &str) -> Vec<String> {
        let path = format!("/2025-12-01/durable-executions/{}/history", encode_segment(arn));
        let history: Value = self.call(Method::GET, &path, &[], "").json().unwrap();
        history["Events"].as_array().unwrap().iter().map(|e| e["EventType"].as_str().unwrap().to_owned()).collect()
    }

    /// Waits until the execution's history holds `count` events of type `kind`.
    pub fn until_events(&self, arn: &str, kind: &str, count: usize, timeout: Duration) {
        let started = Instant::now();
        loop {
            let types = self.event_types(arn);
            if types.iter().filter(|t| *t == kind).count() >= count {
                return;
            }
            assert!(started.elapsed() < timeout, "{arn} has not {count} {kind} after {timeout:?}: {types:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Deploys the same request again (starts the service if it is not running).
    pub fn redeploy(&mut self) -> DeployOutcome {
        let outcome = self.rt.block_on(self.target.deploy(self.request.clone())).unwrap();
        self.endpoint = outcome.info.endpoint();
        outcome
    }

    /// The alias ARN of the orchestrator.
    pub fn alias(&self) -> String {
        self.outputs["DurableLambdaFunctionAliasArn"].clone()
    }

    /// The service's pid from `daemon.json`.
    pub fn daemon_pid(&self) -> u32 {
        self.target.state().read_daemon().unwrap().unwrap().pid
    }

    /// An HTTP call to the endpoint.
    pub fn call(&self, method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> local::http::Received {
        let url = format!("{}{path}", self.endpoint);
        self.rt
            .block_on(Client::new().call(method, &url, headers, Bytes::from(body.to_owned()), Duration::from_mins(1)))
            .unwrap()
    }

    /// `GetDurableExecution`.
    pub fn execution(&self, arn: &str) -> Value {
        self.call(Method::GET, &format!("/2025-12-01/durable-executions/{}", encode_segment(arn)), &[], "")
            .json()
            .unwrap()
    }

    /// Waits until every execution in `arns` has ended; returns them.
    pub fn wait_all(&self, arns: &[String], timeout: Duration) -> Vec<Value> {
        let started = Instant::now();
        arns.iter()
            .map(|arn| {
                loop {
                    let execution = self.execution(arn);
                    if execution["Status"] != "RUNNING" {
                        break execution;
                    }
                    assert!(started.elapsed() < timeout, "{arn} still RUNNING after {timeout:?}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
            .collect()
    }

    /// Lines of one function's log file.
    pub fn log(&self, function: &str) -> String {
        std::fs::read_to_string(self.target.state().function_log(function)).unwrap_or_default()
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        let _ = self.rt.block_on(self.target.down());
    }
}

/// The seed pattern's stack, named `name`.
pub fn seed_stack(name: &str) -> Stack {
    let mut context = AppContext::default();
    context.stack_names.insert(stacks::pattern::STACK_ID.to_owned(), name.to_owned());
    stacks::pattern::stack(&App::with_context(context)).unwrap()
}

/// A stack of conformance handlers: each `(logical id, handler, ExecutionTimeout)` a durable function, plus the
/// plain targets `Echo` and `Failing`, whose names reach every function as `ECHO_FUNCTION_NAME` and
/// `FAILING_FUNCTION_NAME`.
pub fn conformance_stack(name: &str, durable: &[(&str, &str, u32)]) -> Stack {
    use constructs::reference::Reference;
    use constructs::resources::iam::Role;
    use constructs::resources::lambda::{DurableConfig, Function};
    let mut stack = Stack::new(&App::new(), name).unwrap();
    let role = stack.add("Role", Role::for_service("lambda.amazonaws.com")).unwrap();
    let code = || AssetSource::CargoBinary { package: "conformance".into(), binary: "conformance".into() };
    let plain = |handler: &str| Function::new(code(), &role).timeout_seconds(30).env("CONFORMANCE_HANDLER", handler);
    let echo = stack.add("Echo", plain("target-echo")).unwrap();
    let failing = stack.add("Failing", plain("target-failing")).unwrap();
    for (id, handler, timeout) in durable {
        let function = Function::new(code(), &role)
            .timeout_seconds(60)
            .durable(DurableConfig::new(*timeout, 1))
            .env("CONFORMANCE_HANDLER", *handler)
            .env("ECHO_FUNCTION_NAME", echo.ref_())
            .env("FAILING_FUNCTION_NAME", failing.ref_());
        stack.add(id, function).unwrap();
    }
    stack
}

/// Stores the stack's binaries in the target and synthesizes the template against their hashes.
pub fn synth(target: &Supervisor, stack: &Stack) -> (Value, BTreeMap<String, (PathBuf, String)>) {
    let mut manifest = AssetManifest::new();
    let mut code = BTreeMap::new();
    for asset in stack.assets() {
        let AssetSource::CargoBinary { binary, .. } = &asset.source else { panic!("only cargo binaries run locally") };
        let (sha, stored) = target.store_binary(&binaries()[binary]).unwrap();
        let resolved = ResolvedAsset { sha256: sha.clone(), code_sha256: None };
        code.insert(resolved.object_key(), (stored, sha));
        manifest.0.insert(asset.id, resolved);
    }
    (stack.synth(&manifest).unwrap().template, code)
}

/// The processes whose command line names `root`. A `/proc` that cannot be read, or that does not show this very
/// process, fails the test: an empty answer would pass every orphan check.
pub fn processes_of(root: &Path) -> Vec<u32> {
    let entries = std::fs::read_dir("/proc").unwrap_or_else(|e| panic!("cannot list /proc ({e}): no orphan check"));
    let pids: Vec<u32> =
        entries.filter_map(Result::ok).filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok()).collect();
    let me = std::process::id();
    assert!(
        pids.contains(&me) && local::supervisor::process::command_line(me).is_some_and(|c| !c.is_empty()),
        "/proc does not show this test's own process {me} and its command line: no orphan check"
    );
    pids.into_iter().filter(|pid| local::supervisor::process::is_ours(*pid, root)).collect()
}

/// The real AWS CLI pointed at a local target.
pub struct Aws<'a> {
    pub local: &'a Local,
}

/// What the CLI printed.
pub struct Answer {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Answer {
    /// Its stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", self.stdout, self.stderr))
    }
}

impl Aws<'_> {
    /// `aws <args>` against the endpoint.
    pub fn run(&self, args: &[&str]) -> Answer {
        let output = std::process::Command::new(tool("aws"))
            .args(args)
            .args(["--endpoint-url", &self.local.endpoint, "--output", "json"])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        Answer {
            ok: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// `aws lambda invoke`; returns the CLI's answer and the response payload.
    pub fn invoke(&self, function: &str, payload: &str, extra: &[&str]) -> (Answer, String) {
        let out = self.local.dir.path().join("out.json");
        let _ = std::fs::remove_file(&out);
        let mut args = vec!["lambda", "invoke", "--function-name", function, "--payload", payload];
        args.extend_from_slice(extra);
        args.push(out.to_str().unwrap());
        let answer = self.run(&args);
        (answer, std::fs::read_to_string(&out).unwrap_or_default())
    }
}
