//! Function processes: each [`instance::Instance`] is one running `bootstrap` polling its own Runtime API
//! ([`api`]); a [`instance::Pool`] keeps warm instances of one function version and starts more under concurrent
//! load (bounded); [`Pools`] holds a pool per function version.

mod api;
pub(crate) mod instance;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use instance::{FunctionResponse, Pool, RunSpec, error_body};

/// Every function version's pool.
#[derive(Debug)]
pub struct Pools {
    pools: Mutex<HashMap<String, Arc<Pool>>>,
    max_instances: usize,
}

impl Pools {
    /// No pools yet; each function version may run `max_instances` processes at once.
    pub fn new(max_instances: usize) -> Self {
        Self { pools: Mutex::new(HashMap::new()), max_instances }
    }

    /// The pool running `spec`: the existing one when it runs the same configuration, else a new one (the old
    /// pool's idle processes stop when it is dropped, busy ones when their invocation ends).
    pub fn pool(&self, spec: RunSpec) -> Arc<Pool> {
        let key = format!("{}:{}", spec.function, spec.version);
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

    /// Drops pools that `keep` rejects (their function or version is gone or changed).
    pub fn retain(&self, keep: impl Fn(&RunSpec) -> bool) {
        if let Ok(mut pools) = self.pools.lock() {
            pools.retain(|_, pool| keep(&pool.spec));
        }
    }

    /// Every pool.
    pub fn all(&self) -> Vec<Arc<Pool>> {
        self.pools.lock().map(|p| p.values().cloned().collect()).unwrap_or_default()
    }

    /// Stops every process.
    pub fn clear(&self) {
        if let Ok(mut pools) = self.pools.lock() {
            pools.clear();
        }
    }
}
