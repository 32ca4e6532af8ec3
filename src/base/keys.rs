//! Single keys from the terminal on stdin, for `--step`: the terminal is put in raw mode
//! (no line editing, no echo) for as long as a [`KeyReader`] lives, and put back as it was when
//! it is dropped, or by [`restore_terminal`] when the process must exit at once. Signals stay
//! on, so Ctrl-C still interrupts the run as it always does.
//!
//! `console::Term::read_key` would block a thread in a read that nothing can end, and the
//! process would exit with the terminal still raw; here the reading thread polls, and stops.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A key that means something to `--step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Enter,
    /// A printable key, lowercased.
    Char(char),
}

/// Reads keys in a thread and hands each to `on_key`, until dropped.
pub struct KeyReader {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for KeyReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        restore_terminal();
    }
}

#[cfg(unix)]
mod imp {
    use std::os::fd::AsFd;
    use std::sync::Mutex;

    use rustix::termios::{self, LocalModes, OptionalActions, SpecialCodeIndex, Termios};

    /// The terminal's settings before raw mode, to put back.
    static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

    fn saved() -> std::sync::MutexGuard<'static, Option<Termios>> {
        SAVED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn raw() -> std::io::Result<()> {
        let stdin = std::io::stdin();
        let before = termios::tcgetattr(stdin.as_fd())?;
        let mut raw = before.clone();
        // Keys one at a time, not echoed; ISIG stays so that Ctrl-C is still SIGINT.
        raw.local_modes
            .remove(LocalModes::ICANON | LocalModes::ECHO);
        raw.special_codes[SpecialCodeIndex::VMIN] = 1;
        raw.special_codes[SpecialCodeIndex::VTIME] = 0;
        termios::tcsetattr(stdin.as_fd(), OptionalActions::Now, &raw)?;
        saved().get_or_insert(before);
        Ok(())
    }

    pub(super) fn restore() {
        if let Some(before) = saved().take() {
            let stdin = std::io::stdin();
            let _ = termios::tcsetattr(stdin.as_fd(), OptionalActions::Now, &before);
        }
    }

    /// The bytes typed within `wait`, if any (empty when none).
    pub(super) fn read(wait: std::time::Duration) -> std::io::Result<Vec<u8>> {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let stdin = std::io::stdin();
        let fd = stdin.as_fd();
        let timeout = Timespec {
            tv_sec: 0,
            tv_nsec: i64::from(wait.subsec_nanos()),
        };
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => return Ok(Vec::new()),
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok(Vec::new()),
            Err(error) => return Err(error.into()),
        }
        if fds[0].revents().intersects(PollFlags::HUP | PollFlags::ERR) {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let mut buf = [0u8; 64];
        match rustix::io::read(fd, &mut buf) {
            Ok(0) => Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => Ok(buf[..n].to_vec()),
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => Ok(Vec::new()),
            Err(error) => Err(error.into()),
        }
    }
}

#[cfg(not(unix))]
mod imp {
    pub(super) fn raw() -> std::io::Result<()> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
    pub(super) fn restore() {}
    pub(super) fn read(_: std::time::Duration) -> std::io::Result<Vec<u8>> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

/// Puts the terminal back as it was before [`read_keys`]; harmless when it was not changed.
pub fn restore_terminal() {
    imp::restore();
}

/// Raw mode on stdin, and a thread that hands every key to `on_key` until the reader is
/// dropped (or stdin ends). `Unsupported` where the system has no terminal modes of ours.
pub fn read_keys(on_key: impl Fn(Key) + Send + 'static) -> io::Result<KeyReader> {
    imp::raw()?;
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("keys".to_owned())
            .spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match imp::read(std::time::Duration::from_millis(100)) {
                        Ok(bytes) => keys(&bytes).into_iter().for_each(&on_key),
                        Err(_) => break,
                    }
                }
            })
    };
    match thread {
        Ok(thread) => Ok(KeyReader {
            stop,
            thread: Some(thread),
        }),
        Err(error) => {
            restore_terminal();
            Err(error)
        }
    }
}

/// The keys in what the terminal sent: Enter (CR or LF) and printable characters; escape
/// sequences (arrows, function keys) are skipped whole.
pub fn keys(bytes: &[u8]) -> Vec<Key> {
    let text = String::from_utf8_lossy(bytes);
    let mut keys = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' => keys.push(Key::Enter),
            '\x1b' => {
                // ESC [ … final byte, or ESC O x.
                match chars.peek() {
                    Some('[') => {
                        chars.next();
                        for c in chars.by_ref() {
                            if ('@'..='~').contains(&c) {
                                break;
                            }
                        }
                    }
                    Some('O') => {
                        chars.next();
                        chars.next();
                    }
                    _ => {}
                }
            }
            c if !c.is_control() => keys.extend(c.to_lowercase().map(Key::Char)),
            _ => {}
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enter_letters_and_no_escape_sequences() {
        assert_eq!(
            keys(b"\rp\nQ\x1b[A\x1bOPx"),
            [
                Key::Enter,
                Key::Char('p'),
                Key::Enter,
                Key::Char('q'),
                Key::Char('x')
            ]
        );
        assert!(keys(b"\x01\x7f").is_empty());
    }
}
