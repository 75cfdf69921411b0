//! Ctrl-C during a deployment. The first one asks the deployment to stop at its next safe point, where it can say
//! exactly what state it leaves behind (a change set not executed yet is deleted; one being executed is left to
//! CloudFormation); a second one exits at once.

use tokio::sync::watch;

/// Exit status of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// Whether the user asked to stop. Cheap to clone; every clone sees the same request.
#[derive(Debug, Clone)]
pub(crate) struct Interrupt {
    requested: watch::Receiver<bool>,
    /// For [`Interrupt::never`]: the sender, kept so the channel never closes.
    _never: Option<std::sync::Arc<watch::Sender<bool>>>,
}

impl Interrupt {
    /// Listens for Ctrl-C (SIGINT) from now on. `on_first` runs once, when the first one arrives, to tell the user
    /// what happens next. Must be called inside a tokio runtime.
    pub(crate) fn listen(on_first: impl FnOnce() + Send + 'static) -> Self {
        let (tell, requested) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                // No signal handling here: Ctrl-C keeps its default effect of ending the process.
                return;
            }
            let _ = tell.send(true);
            on_first();
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("second Ctrl-C: exiting now; run `deployer up` again to continue from the stack's state");
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
        });
        Self { requested, _never: None }
    }

    /// An interrupt that never fires, for tests.
    #[cfg(test)]
    pub(crate) fn never() -> Self {
        let (tell, requested) = watch::channel(false);
        Self { requested, _never: Some(std::sync::Arc::new(tell)) }
    }

    /// Whether Ctrl-C was pressed.
    pub(crate) fn is_requested(&self) -> bool {
        *self.requested.borrow()
    }

    /// Resolves once Ctrl-C is pressed (at once if it already was); never resolves otherwise.
    pub(crate) async fn requested(&self) {
        let mut requested = self.requested.clone();
        if requested.wait_for(|pressed| *pressed).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Interrupt;

    #[tokio::test]
    async fn never_stays_unrequested() {
        let interrupt = Interrupt::never();
        assert!(!interrupt.is_requested());
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), interrupt.requested()).await;
        assert!(waited.is_err(), "an interrupt that never fires resolved");
    }
}
