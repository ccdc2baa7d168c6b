//! The step's log: stdout and stderr split into lines, each written as it comes to `main.log` (one
//! JSON object a line, so the order of both streams is kept in one file) and to exec's own
//! stdout/stderr; plus the tail of stdout kept for `outputs.result`.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

/// The longest log line kept whole; longer ones are split into several records.
pub const MAX_LINE: usize = 64 * 1024;

/// The most of stdout kept as `outputs.result` (Argo's 256 kB annotation cap; the end is kept).
pub const RESULT_CAP: usize = 256 * 1024;

/// Which of the command's streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line of `main.log`: `{"t": "<RFC 3339>", "s": "stdout", "l": "<line>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// When the line was read (RFC 3339, nanoseconds).
    pub t: String,
    /// The stream it came from.
    pub s: LogStream,
    /// The line, without its newline (invalid UTF-8 replaced).
    pub l: String,
}

/// Splits a byte stream into lines, cutting lines longer than [`MAX_LINE`].
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// Feeds bytes; returns the lines completed by them, without their newlines.
    pub(crate) fn push(&mut self, data: &[u8]) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        for piece in data.split_inclusive(|b| *b == b'\n') {
            let (body, complete) = match piece.strip_suffix(b"\n") {
                Some(body) => (body, true),
                None => (piece, false),
            };
            self.partial.extend_from_slice(body);
            while self.partial.len() > MAX_LINE {
                let rest = self.partial.split_off(MAX_LINE);
                lines.push(std::mem::replace(&mut self.partial, rest));
            }
            if complete {
                lines.push(std::mem::take(&mut self.partial));
            }
        }
        lines
    }

    /// The last line when the stream ended without a newline.
    pub(crate) fn finish(self) -> Option<Vec<u8>> {
        (!self.partial.is_empty()).then_some(self.partial)
    }
}

/// Keeps the last bytes of a stream: enough for `outputs.result`.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    buf: Vec<u8>,
}

impl Tail {
    /// The bytes kept: one more than the cap, for the newline Argo trims before cutting.
    const KEEP: usize = RESULT_CAP + 1;

    /// Appends bytes, forgetting old ones beyond what the result can use.
    pub(crate) fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        if self.buf.len() > 2 * Self::KEEP {
            let cut = self.buf.len() - Self::KEEP;
            self.buf.drain(..cut);
        }
    }

    /// `outputs.result`, as Argo computes it.
    pub(crate) fn into_result(self) -> String {
        result_from(&self.buf)
    }
}

/// Argo's `outputs.result`: one trailing newline trimmed, then only the last [`RESULT_CAP`] bytes.
pub(crate) fn result_from(stdout: &[u8]) -> String {
    let trimmed = stdout.strip_suffix(b"\n").unwrap_or(stdout);
    let start = trimmed.len().saturating_sub(RESULT_CAP);
    String::from_utf8_lossy(&trimmed[start..]).into_owned()
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

fn record(stream: LogStream, line: &[u8]) -> LogLine {
    LogLine {
        t: now(),
        s: stream,
        l: String::from_utf8_lossy(line).into_owned(),
    }
}

/// Reads `reader` to its end, sending each line to the log writer; keeps stdout's tail when `tail`.
pub(crate) async fn read_stream(
    mut reader: impl AsyncRead + Unpin,
    stream: LogStream,
    tx: mpsc::Sender<LogLine>,
    mut tail: Option<Tail>,
) -> Option<Tail> {
    let mut splitter = LineSplitter::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        if let Some(tail) = tail.as_mut() {
            tail.push(chunk);
        }
        for line in splitter.push(chunk) {
            // A closed writer only means nobody records the log any more; keep draining the pipe.
            let _ = tx.send(record(stream, &line)).await;
        }
    }
    if let Some(line) = splitter.finish() {
        let _ = tx.send(record(stream, &line)).await;
    }
    tail
}

/// Writes every line received to `main.log` (and with `echo` to exec's own stdout/stderr) until all
/// senders are gone. Meant for a blocking thread. Returns the first error writing the log file.
pub(crate) fn write_log(mut rx: mpsc::Receiver<LogLine>, log: &Path, echo: bool) -> Option<String> {
    let mut first_error = None;
    let mut file = match File::options().create(true).append(true).open(log) {
        Ok(file) => Some(file),
        Err(e) => {
            first_error = Some(format!("open {}: {e}", log.display()));
            None
        }
    };
    while let Some(line) = rx.blocking_recv() {
        if let Some(f) = file.as_mut() {
            let mut json = serde_json::to_vec(&line).unwrap_or_default();
            json.push(b'\n');
            if let Err(e) = f.write_all(&json) {
                first_error = Some(format!("write {}: {e}", log.display()));
                file = None;
            }
        }
        if echo {
            echo_line(&line);
        }
    }
    first_error
}

/// Copies a line to exec's own stdout or stderr; a closed terminal is not the step's problem.
fn echo_line(line: &LogLine) {
    let mut bytes = line.l.as_bytes().to_vec();
    bytes.push(b'\n');
    let _ = match line.s {
        LogStream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes).and_then(|()| out.flush())
        }
        LogStream::Stderr => std::io::stderr().lock().write_all(&bytes),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_across_chunks() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"ab"), Vec::<Vec<u8>>::new());
        assert_eq!(
            s.push(b"c\nd\n\ne"),
            vec![b"abc".to_vec(), b"d".to_vec(), Vec::new()]
        );
        assert_eq!(s.finish(), Some(b"e".to_vec()));
    }

    #[test]
    fn long_lines_are_cut() {
        let mut s = LineSplitter::default();
        let long = vec![b'x'; MAX_LINE * 2 + 5];
        let lines = s.push(&long);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.len() == MAX_LINE));
        assert_eq!(s.finish().map(|l| l.len()), Some(5));
    }

    #[test]
    fn result_trims_one_newline_and_keeps_the_end() {
        let cases: [(&[u8], &str); 4] = [
            (b"hello\n", "hello"),
            (b"hello\n\n", "hello\n"),
            (b"hello", "hello"),
            (b"", ""),
        ];
        for (stdout, expected) in cases {
            assert_eq!(result_from(stdout), expected);
        }
        let mut big = vec![b'a'; 10];
        big.extend(vec![b'b'; RESULT_CAP]);
        big.push(b'\n');
        assert_eq!(result_from(&big), "b".repeat(RESULT_CAP));
    }

    #[test]
    fn tail_keeps_what_the_result_needs() {
        let mut tail = Tail::default();
        for _ in 0..10 {
            tail.push(&vec![b'a'; RESULT_CAP / 2]);
        }
        tail.push(b"end\n");
        let result = tail.into_result();
        assert_eq!(result.len(), RESULT_CAP);
        assert!(result.ends_with("aend"));
    }
}
