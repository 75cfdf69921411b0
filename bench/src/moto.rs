//! moto server as the AWS stand-in, with its request log captured: werkzeug writes one line per request to stderr
//! (`"POST / HTTP/1.1" 200 -`), which is how the harness counts the API calls a command makes.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::env::{Guard, free_port, tool, wait_port, workspace_root};
use crate::error::{Context, Error, Result};
use crate::http;

/// A running moto server, killed when dropped.
#[derive(Debug)]
pub struct Moto {
    _guard: Guard,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    log: PathBuf,
}

/// One request moto logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
}

impl Logged {
    /// An S3 object upload (`PUT /<bucket>/<key>`, path-style).
    pub fn is_upload(&self) -> bool {
        self.method == "PUT" && self.path.trim_start_matches('/').split('?').next().is_some_and(|p| p.contains('/'))
    }
}

impl Moto {
    /// Starts `moto_server` on a free loopback port, its log in `target/bench/tmp/`, and turns off Docker-backed
    /// Lambda invokes (as the end-to-end tests do).
    pub fn start() -> Result<Self> {
        let moto =
            tool("moto_server", "install it with `scripts/install-tools` (moto[server]) or set DEPLOYER_TOOLS_BIN")?;
        let port = free_port()?;
        let dir = workspace_root().join("target/bench/tmp");
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let log = dir.join(format!("moto-{port}.log"));
        let file = std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
        let err = file.try_clone().context("cannot share the moto log")?;
        let child = Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {}", moto.display()))?;
        let guard = Guard(child);
        wait_port(port, Duration::from_mins(1), "moto server")?;
        let url = format!("http://127.0.0.1:{port}");
        let body = br#"{"lambda": {"use_docker": false}}"#;
        let reply = http::request(
            http::authority(&url),
            "POST",
            "/moto-api/config",
            &[("content-type", "application/json")],
            body,
            Duration::from_secs(10),
        )?;
        if !(200..300).contains(&reply.status()) {
            return Err(Error::msg(format!("moto refused its config ({}): {}", reply.status(), reply.text())));
        }
        Ok(Self { _guard: guard, url, log })
    }

    /// Every request logged so far, in order (the harness's own `/moto-api/` calls left out).
    pub fn requests(&self) -> Result<Vec<Logged>> {
        let text = std::fs::read_to_string(&self.log).with_context(|| format!("cannot read {}", self.log.display()))?;
        Ok(text.lines().filter_map(parse_line).filter(|r| !r.path.starts_with("/moto-api")).collect())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if std::env::var_os("BENCH_KEEP_LOGS").is_none() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// `127.0.0.1 - - [date] "GET /path HTTP/1.1" 200 -` to method and path.
fn parse_line(line: &str) -> Option<Logged> {
    let quoted = line.split('"').nth(1)?;
    let mut parts = quoted.split(' ');
    let method = parts.next()?;
    let path = parts.next()?;
    let version = parts.next()?;
    version.starts_with("HTTP/").then(|| Logged { method: method.to_owned(), path: path.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_werkzeug_request_lines() {
        let put = parse_line(r#"127.0.0.1 - - [26/Nov/2026 21:54:00] "PUT /bucket/abc.zip HTTP/1.1" 200 -"#).unwrap();
        assert!(put.is_upload());
        let list =
            parse_line(r#"127.0.0.1 - - [26/Nov/2026 21:54:00] "GET /bucket?list-type=2&prefix=a HTTP/1.1" 200 -"#)
                .unwrap();
        assert!(!list.is_upload());
        let create = parse_line(r#"127.0.0.1 - - [x] "PUT /bucket HTTP/1.1" 200 -"#).unwrap();
        assert!(!create.is_upload());
        assert_eq!(parse_line(" * Running on http://127.0.0.1:5000"), None);
    }
}
