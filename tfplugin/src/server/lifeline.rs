//! Noticing that the Terraform that started this plugin is gone (SIGKILL, OOM, a closed terminal),
//! so a managed plugin does not live on with its waits running against the remote API.
//!
//! go-plugin gives no goodbye in those cases, so [`Lifeline`] watches what does change:
//! - the parent process id: an orphan is re-parented to init or a subreaper;
//! - stdout and stderr, which are pipes Terraform reads: once the reader is gone (also when
//!   Terraform is not the direct parent, e.g. behind a wrapper script) `poll` reports `POLLERR`.
//!
//! stdin is not watched: Terraform passes its own stdin through, and a pipe feeding Terraform's
//! stdin ends long before Terraform does. `PR_SET_PDEATHSIG` is not used: it fires when the
//! parent *thread* that forked us exits, which Go's runtime may do while Terraform lives on. A gRPC
//! connection closing is not proof either (grpc-go closes idle connections), so it only makes
//! the watcher look again at once (see [`Lifeline::watch`]).

use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::FileType;
use tokio::sync::Notify;

/// How often the watcher looks; well inside the 2 s a dead Terraform's plugin may linger.
const INTERVAL: Duration = Duration::from_millis(200);

/// Which of our standard streams a parent reads (the write ends of pipes or sockets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn fd(self) -> BorrowedFd<'static> {
        match self {
            Stream::Stdout => rustix::stdio::stdout(),
            Stream::Stderr => rustix::stdio::stderr(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// What tells this plugin its Terraform is still there; see the module docs.
#[derive(Debug)]
pub struct Lifeline {
    parent: Option<rustix::process::Pid>,
    streams: Vec<Stream>,
}

impl Lifeline {
    /// Records the parent and which standard streams are pipes or sockets, now.
    pub fn capture() -> Lifeline {
        let streams = [Stream::Stdout, Stream::Stderr]
            .into_iter()
            .filter(|s| {
                rustix::fs::fstat(s.fd()).is_ok_and(|st| {
                    matches!(
                        FileType::from_raw_mode(st.st_mode),
                        FileType::Fifo | FileType::Socket
                    )
                })
            })
            .collect();
        Lifeline {
            parent: rustix::process::getppid(),
            streams,
        }
    }

    /// Why the plugin's Terraform is gone, or `None` while it is there.
    pub fn gone(&self) -> Option<String> {
        let now = rustix::process::getppid();
        if now != self.parent {
            return Some(format!(
                "the parent process {} exited (now {})",
                pid_text(self.parent),
                pid_text(now)
            ));
        }
        self.streams.iter().find_map(|s| {
            let fd = s.fd();
            let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::empty())];
            let zero = Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            match rustix::event::poll(&mut fds, Some(&zero)) {
                Ok(n) if n > 0 => {
                    let ev = fds[0].revents();
                    ev.intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL)
                        .then(|| format!("nobody reads the plugin's {} any more", s.name()))
                }
                _ => None,
            }
        })
    }

    /// Resolves (with the reason) once [`Lifeline::gone`] says so, looking every 200 ms and
    /// whenever `wake` is notified (a client's connection ended).
    pub async fn watch(self, wake: Arc<Notify>) -> String {
        loop {
            if let Some(why) = self.gone() {
                return why;
            }
            let _ = tokio::time::timeout(INTERVAL, wake.notified()).await;
        }
    }
}

fn pid_text(p: Option<rustix::process::Pid>) -> String {
    p.map_or_else(|| "none".to_string(), |p| p.as_raw_nonzero().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_parent_is_not_gone() {
        // The test runner is alive and our streams (whatever they are) have readers or are files.
        let l = Lifeline::capture();
        assert_eq!(l.gone(), None, "{l:?}");
    }

    #[test]
    fn a_changed_parent_is_gone() {
        let mut l = Lifeline::capture();
        l.parent = rustix::process::Pid::from_raw(i32::MAX);
        let why = l.gone().expect("a different parent means ours exited");
        assert!(why.contains("parent process"), "{why}");
    }
}
