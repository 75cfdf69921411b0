//! Processes of the local target, found and signalled portably: a process is ours when its command line names our
//! state folder (the service runs with `--state-dir <folder>`, function binaries live in `<folder>/code/`), so a
//! stale pid in a file can never make us signal somebody else's program.

use std::path::Path;

use rustix::process::{Pid, Signal};

fn pid(process: u32) -> Option<Pid> {
    Pid::from_raw(i32::try_from(process).ok()?)
}

/// Whether a process with this id exists (a zombie counts as gone).
pub fn is_alive(process: u32) -> bool {
    pid(process).is_some_and(|p| rustix::process::test_kill_process(p).is_ok())
        && command_line(process).is_some_and(|c| !c.is_empty())
}

/// A process's command line, arguments joined by spaces.
pub fn command_line(process: u32) -> Option<String> {
    let proc_file = format!("/proc/{process}/cmdline");
    if Path::new("/proc/self/cmdline").exists() {
        let bytes = std::fs::read(proc_file).ok()?;
        return Some(
            bytes.split(|b| *b == 0).map(String::from_utf8_lossy).collect::<Vec<_>>().join(" ").trim().to_owned(),
        );
    }
    // No /proc (macOS, the BSDs): ask ps, which every Unix has.
    let output = std::process::Command::new("ps").args(["-o", "command=", "-p", &process.to_string()]).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Whether `process` belongs to the local target kept in `state_root`.
pub fn is_ours(process: u32, state_root: &Path) -> bool {
    process != 0 && command_line(process).is_some_and(|c| c.contains(&*state_root.to_string_lossy()))
}

/// Sends `signal` to one process; whether it was delivered.
pub fn signal(process: u32, signal: Signal) -> bool {
    pid(process).is_some_and(|p| rustix::process::kill_process(p, signal).is_ok())
}

/// SIGKILL.
pub fn kill(process: u32) -> bool {
    signal(process, Signal::KILL)
}

/// Kills every process listed in `pid_file` that is still ours, then empties the file. Returns how many.
pub fn kill_listed(pid_file: &Path, state_root: &Path) -> usize {
    let listed = std::fs::read_to_string(pid_file).unwrap_or_default();
    let me = std::process::id();
    let killed = listed
        .lines()
        .filter_map(|line| line.trim().parse::<u32>().ok())
        .filter(|p| *p != me && is_ours(*p, state_root))
        .filter(|p| kill(*p))
        .count();
    let _ = std::fs::write(pid_file, "");
    killed
}
