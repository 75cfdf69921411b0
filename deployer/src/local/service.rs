//! The daemon's shared state: the current deployment, the process pools of each function version, invocation
//! counters and the map from durable executions to the process running them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;

use super::deployment::{Deployment, Target};
use super::faults::{Faults, Kill};
use super::http::Client;
use super::instance::{Outcome, Pool, RunSpec};
use super::state::StateDir;

/// Everything the endpoint's handlers share.
#[derive(Debug)]
pub struct Service {
    deployment: RwLock<Arc<Deployment>>,
    pools: Mutex<HashMap<String, Arc<Pool>>>,
    running: Mutex<HashMap<String, (String, String)>>,
    counts: Mutex<BTreeMap<String, u64>>,
    /// The engine's base URL.
    pub engine_url: RwLock<String>,
    /// Client for the engine.
    pub client: Client,
    /// Armed faults.
    pub faults: Faults,
    /// Our own base URL, `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The state folder.
    pub state: StateDir,
    /// Told when the daemon should stop.
    pub shutdown: tokio::sync::Notify,
    /// Told when a new deployment may need the engine restarted with other function configurations.
    pub engine_restart: tokio::sync::Notify,
    /// Instances allowed per function version.
    pub max_instances: usize,
    /// Bounds the execution starts in flight to the engine, a single Python process that also serves every
    /// checkpoint: a burst of starts queues here instead of timing out there.
    pub engine_starts: tokio::sync::Semaphore,
    /// Named executions started so far: `(function, name)` to `(execution ARN, payload hash)`.
    pub names: Mutex<HashMap<(String, String), (String, String)>>,
    /// Synchronous invokes waiting for their execution to end, by execution ARN: told when the handler returns a
    /// final envelope, so the waiter asks the engine at once instead of at its next poll.
    ending: Mutex<HashMap<String, Arc<tokio::sync::Notify>>>,
}

impl Service {
    /// A service for `deployment`, reachable at `endpoint`.
    pub fn new(deployment: Deployment, endpoint: String, state: StateDir, max_instances: usize) -> Self {
        Self {
            deployment: RwLock::new(Arc::new(deployment)),
            pools: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
            counts: Mutex::new(BTreeMap::new()),
            engine_url: RwLock::new(String::new()),
            client: Client::new(),
            faults: Faults::default(),
            endpoint,
            state,
            shutdown: tokio::sync::Notify::new(),
            engine_restart: tokio::sync::Notify::new(),
            max_instances,
            names: Mutex::new(HashMap::new()),
            engine_starts: tokio::sync::Semaphore::new(8),
            ending: Mutex::new(HashMap::new()),
        }
    }

    /// Registers a waiter for the end of execution `arn`; [`Service::stop_watching`] removes it.
    pub fn watch_ending(&self, arn: &str) -> Arc<tokio::sync::Notify> {
        let notify = Arc::new(tokio::sync::Notify::new());
        if let Ok(mut ending) = self.ending.lock() {
            ending.insert(arn.to_owned(), notify.clone());
        }
        notify
    }

    /// Removes the waiter of execution `arn`.
    pub fn stop_watching(&self, arn: &str) {
        if let Ok(mut ending) = self.ending.lock() {
            ending.remove(arn);
        }
    }

    /// The handler of execution `arn` returned a final envelope (`SUCCEEDED` or `FAILED`): wakes its waiter.
    pub fn handler_ended(&self, arn: &str) {
        if let Some(notify) = self.ending.lock().ok().and_then(|ending| ending.get(arn).cloned()) {
            // A stored permit if the waiter is between two polls: it then polls at once.
            notify.notify_one();
        }
    }

    /// The current deployment.
    pub fn deployment(&self) -> Arc<Deployment> {
        self.deployment.read().map_or_else(|e| e.into_inner().clone(), |d| d.clone())
    }

    /// The engine's base URL.
    pub fn engine(&self) -> String {
        self.engine_url.read().map(|u| u.clone()).unwrap_or_default()
    }

    /// Switches to a new deployment. Pools whose function version changed are dropped: their idle processes stop
    /// now, busy ones when their invocation ends.
    pub fn set_deployment(&self, deployment: Deployment) {
        let deployment = Arc::new(deployment);
        if let Ok(mut pools) = self.pools.lock() {
            pools.retain(|_, pool| {
                let (name, version) = (&pool.spec.function, &pool.spec.version);
                deployment
                    .resolve(name, Some(version))
                    .is_some_and(|target| self.spec(&deployment, &target) == pool.spec)
            });
        }
        if let Ok(mut current) = self.deployment.write() {
            *current = deployment;
        }
    }

    /// Stops every function process.
    pub fn stop_all(&self) {
        if let Ok(mut pools) = self.pools.lock() {
            pools.clear();
        }
    }

    fn spec(&self, deployment: &Deployment, target: &Target<'_>) -> RunSpec {
        let name = &target.function.name;
        let arns = deployment.arns();
        let mut env = target.config.env.clone();
        let lambda_env = [
            ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION", target.version.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", target.config.memory_mb.to_string()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
            ("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/[{}]", target.version)),
            ("AWS_LAMBDA_LOG_FORMAT", target.config.log_format.clone()),
            ("AWS_REGION", deployment.region.clone()),
            ("AWS_DEFAULT_REGION", deployment.region.clone()),
            ("AWS_ACCESS_KEY_ID", "AKIALOCALTARGET00000".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "local-target-not-a-secret".to_owned()),
            ("AWS_SESSION_TOKEN", "local-target".to_owned()),
            ("AWS_ENDPOINT_URL_LAMBDA", self.endpoint.clone()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("LAMBDA_TASK_ROOT", target.config.code.parent().map(|p| p.display().to_string()).unwrap_or_default()),
            ("_HANDLER", "bootstrap".to_owned()),
            ("TZ", ":UTC".to_owned()),
            ("LANG", "en_US.UTF-8".to_owned()),
            ("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned()),
        ];
        for (key, value) in lambda_env {
            env.insert(key.to_owned(), value);
        }
        let function_arn = if target.version == "$LATEST" {
            arns.function_arn(name)
        } else {
            arns.qualified_arn(name, &target.version)
        };
        RunSpec {
            function: name.clone(),
            version: target.version.clone(),
            function_arn,
            code: target.config.code.clone(),
            env,
            timeout: Duration::from_secs(target.config.timeout_s.max(1)),
            memory_mb: target.config.memory_mb,
            log: self.state.function_log(name),
        }
    }

    fn pool(&self, target: &Target<'_>) -> Arc<Pool> {
        let key = format!("{}:{}", target.function.name, target.version);
        let spec = self.spec(&self.deployment(), target);
        let Ok(mut pools) = self.pools.lock() else { return Arc::new(Pool::new(spec, self.max_instances)) };
        match pools.get(&key) {
            Some(pool) if pool.spec == spec => pool.clone(),
            _ => {
                let pool = Arc::new(Pool::new(spec, self.max_instances));
                pools.insert(key, pool.clone());
                pool
            }
        }
    }

    /// Runs one invocation of `target`. `execution_arn` names the durable execution the envelope belongs to.
    pub async fn run(&self, target: &Target<'_>, payload: Bytes, execution_arn: Option<&str>) -> Outcome {
        let request_id = uuid::Uuid::new_v4().to_string();
        let name = target.function.name.clone();
        let fired = match execution_arn {
            Some(_) => serde_json::from_slice(&payload).ok().and_then(|v| self.faults.take_delivery(&name, &v)),
            None => None,
        };
        if fired == Some(Kill::Daemon) {
            super::control::kill_pid(std::process::id());
        }
        let kill_after_delivery = fired == Some(Kill::Process);
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(name.clone()).or_default() += 1;
        }
        if let (Some(arn), Ok(mut running)) = (execution_arn, self.running.lock()) {
            running.insert(arn.to_owned(), (name.clone(), request_id.clone()));
        }
        let pool = self.pool(target);
        let outcome = pool.invoke(&request_id, payload, kill_after_delivery).await;
        if let (Some(arn), Ok(mut running)) = (execution_arn, self.running.lock())
            && running.get(arn).is_some_and(|(_, id)| *id == request_id)
        {
            running.remove(arn);
        }
        outcome
    }

    /// Kills (SIGKILL) the process currently running an invocation of the durable execution `arn`.
    pub fn kill_execution(&self, arn: &str) -> bool {
        let Some((function, request_id)) = self.running.lock().ok().and_then(|r| r.get(arn).cloned()) else {
            return false;
        };
        let pools: Vec<Arc<Pool>> = self.pools.lock().map(|p| p.values().cloned().collect()).unwrap_or_default();
        for pool in pools.iter().filter(|p| p.spec.function == function) {
            if let Some(pid) = pool.pid_of(&request_id) {
                return super::control::kill_pid(pid);
            }
        }
        false
    }

    /// The function running the durable execution `arn` right now, if any.
    pub fn running_function(&self, arn: &str) -> Option<String> {
        self.running.lock().ok()?.get(arn).map(|(f, _)| f.clone())
    }

    /// Invocation counts and process ids per function, for `status --local` and the tests.
    pub fn status(&self) -> serde_json::Value {
        let deployment = self.deployment();
        let counts = self.counts.lock().map(|c| c.clone()).unwrap_or_default();
        let pools: Vec<Arc<Pool>> = self.pools.lock().map(|p| p.values().cloned().collect()).unwrap_or_default();
        let mut functions = serde_json::Map::new();
        for (name, function) in &deployment.functions {
            let pids: Vec<u32> = pools.iter().filter(|p| &p.spec.function == name).flat_map(|p| p.pids()).collect();
            functions.insert(
                name.clone(),
                json!({
                    "durable": function.durable.is_some(),
                    "invocations": counts.get(name).copied().unwrap_or(0),
                    "versions": function.versions.keys().collect::<Vec<_>>(),
                    "aliases": function.aliases,
                    "pids": pids,
                }),
            );
        }
        json!({
            "stack": deployment.stack,
            "endpoint": self.endpoint,
            "engine": self.engine(),
            "functions": functions,
            "faults_fired": self.faults.fired(),
        })
    }
}
