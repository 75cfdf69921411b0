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

/// Kills every function process a service of `state_root` started: those listed in `pid_file` that are still ours,
/// and those running a binary stored in `<state_root>/code/` (found in `/proc`, where there is one: a service killed
/// between starting a process and writing its id leaves it unlisted). Empties the file and waits, up to 2 s, for them
/// to be gone. Returns how many were killed.
pub fn kill_listed(pid_file: &Path, state_root: &Path) -> usize {
    let listed = std::fs::read_to_string(pid_file).unwrap_or_default();
    let me = std::process::id();
    let mut candidates: Vec<u32> = listed.lines().filter_map(|line| line.trim().parse::<u32>().ok()).collect();
    candidates.extend(running_code_of(&state_root.join("code")));
    candidates.sort_unstable();
    candidates.dedup();
    let killed: Vec<u32> =
        candidates.into_iter().filter(|p| *p != me && is_ours(*p, state_root)).filter(|p| kill(*p)).collect();
    let _ = std::fs::write(pid_file, "");
    for _ in 0..100 {
        if !killed.iter().any(|p| is_alive(*p)) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    killed.len()
}

/// The processes whose executable lies in `code_dir` (the stored function binaries), from `/proc`; none where the
/// system has no `/proc`. Only the executable counts: a user's `tail` of a log in the state folder is never one.
fn running_code_of(code_dir: &Path) -> Vec<u32> {
    let Ok(code_dir) = std::fs::canonicalize(code_dir) else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|process| {
            std::fs::read_link(format!("/proc/{process}/exe")).is_ok_and(|exe| exe.starts_with(&code_dir))
        })
        .collect()
}

/// Whether `process` itself holds the socket listening on loopback TCP `port`, so an answer on that port comes
/// from it and not from another program that took the port meanwhile. `None` where the system cannot tell (no
/// `/proc`).
pub fn listens_on(process: u32, port: u16) -> Option<bool> {
    let tables = ["/proc/net/tcp", "/proc/net/tcp6"].map(std::fs::read_to_string);
    if tables.iter().all(Result::is_err) {
        return None;
    }
    // Each row: `sl local_address rem_address st ... inode`, the address as hex `IP:PORT`, LISTEN as state 0A.
    let inodes: Vec<String> = tables
        .iter()
        .flatten()
        .flat_map(|table| table.lines().skip(1))
        .filter_map(|row| {
            let fields: Vec<&str> = row.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit(':').next()?;
            let listening = *fields.get(3)? == "0A";
            let inode = fields.get(9)?;
            (listening && u16::from_str_radix(local_port, 16).ok()? == port).then(|| (*inode).to_owned())
        })
        .collect();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{process}/fd")) else { return Some(false) };
    Some(fds.filter_map(Result::ok).filter_map(|fd| std::fs::read_link(fd.path()).ok()).any(|link| {
        let link = link.to_string_lossy();
        inodes.iter().any(|inode| link == format!("socket:[{inode}]"))
    }))
}

/// Sends `signal` to `process` only when it is ours (see [`is_ours`]); whether it was sent. What tests use to
/// kill a pid read from the state folder, as the product does.
pub fn signal_if_ours(process: u32, state_root: &Path, signal: Signal) -> bool {
    is_ours(process, state_root) && self::signal(process, signal)
}

/// Sends `signal` to the process group `leader` leads, only when the leader is ours; whether it was sent.
pub fn signal_group_if_ours(leader: u32, state_root: &Path, signal: Signal) -> bool {
    is_ours(leader, state_root) && pid(leader).is_some_and(|p| rustix::process::kill_process_group(p, signal).is_ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A child process killed and reaped when dropped, also when the test panics.
    struct Child(std::process::Child);

    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// One process (no grandchild to outlive it) sleeping 30 s with `args` on its command line, once it runs
    /// (its command line is no longer the test's).
    fn spawn(args: &[&str]) -> Child {
        let child = std::process::Command::new("python3")
            .args(["-c", "import time; time.sleep(30)"])
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        while !command_line(child.id()).is_some_and(|c| c.contains("time.sleep")) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Child(child)
    }

    #[test]
    fn a_listening_socket_is_found_on_its_owner_only() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(listens_on(std::process::id(), port), Some(true));
        let other = spawn(&[]);
        assert_eq!(listens_on(other.0.id(), port), Some(false));
        drop(listener);
        assert_eq!(listens_on(std::process::id(), port), Some(false));
    }

    #[test]
    fn only_processes_naming_the_state_folder_are_signalled() {
        let root = tempfile::tempdir().unwrap();
        // A stranger: its command line does not name the folder.
        let mut stranger = spawn(&[]);
        // Ours: the folder is one of its arguments.
        let mut ours = spawn(&[&*root.path().to_string_lossy()]);
        assert!(!signal_if_ours(stranger.0.id(), root.path(), Signal::KILL));
        assert!(signal_if_ours(ours.0.id(), root.path(), Signal::KILL));
        assert!(ours.0.wait().unwrap().code().is_none(), "ours was killed");
        assert!(stranger.0.try_wait().unwrap().is_none(), "the stranger was signalled");
    }

    /// A function process the killed service never listed (it died between starting it and writing its id) is
    /// still found, by its executable in `code/`; a process that merely names the folder, running another
    /// program (a user's `tail` of a log there), is not touched.
    #[test]
    fn unlisted_function_processes_are_found_by_their_stored_binary_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let code = root.path().join("code");
        std::fs::create_dir_all(&code).unwrap();
        let stored = code.join("sleeper");
        std::fs::copy("/bin/sleep", &stored).unwrap();
        let mut unlisted = Child(std::process::Command::new(&stored).arg("30").spawn().unwrap());
        let mut bystander = spawn(&[&*root.path().to_string_lossy()]);
        while !command_line(unlisted.0.id()).is_some_and(|c| c.contains("sleeper")) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let pid_file = root.path().join("processes");
        std::fs::write(&pid_file, "").unwrap();
        assert_eq!(kill_listed(&pid_file, root.path()), 1);
        assert!(unlisted.0.wait().unwrap().code().is_none(), "the unlisted function process was killed");
        assert!(bystander.0.try_wait().unwrap().is_none(), "a process only naming the folder was signalled");
    }
}
