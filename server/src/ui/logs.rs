//! Windows of a step's log for the log viewer: a few thousand lines at a time from a file of any
//! size. Each log file gets an index of the byte offset of every [`STRIDE`]th line, extended as the
//! file grows, so a window costs one seek and a short read, not a scan of the whole file.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use controller::exec::parse_log_line;

/// Lines between two checkpoints of an index.
pub const STRIDE: u64 = 1_000;
/// Indexes kept; the least recently used goes first.
const MAX_INDEXES: usize = 256;

/// Where the lines of one file start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineIndex {
    /// Bytes scanned so far (always just after a newline).
    pub scanned: u64,
    /// Complete lines in the scanned bytes.
    pub lines: u64,
    /// `checkpoints[k]` is the byte offset where line `k * STRIDE` (from 0) starts.
    pub checkpoints: Vec<u64>,
}

impl LineIndex {
    /// Extends the index over the bytes `data`, which start at `self.scanned`; a trailing partial
    /// line is left for later.
    pub fn extend(&mut self, data: &[u8]) {
        if self.checkpoints.is_empty() {
            self.checkpoints.push(0);
        }
        let mut consumed = 0;
        for (i, b) in data.iter().enumerate() {
            if *b == b'\n' {
                self.lines += 1;
                consumed = i + 1;
                if self.lines.is_multiple_of(STRIDE) {
                    self.checkpoints.push(self.scanned + consumed as u64);
                }
            }
        }
        self.scanned += consumed as u64;
    }

    /// The checkpoint at or before line `line` (from 0): (its line, its byte offset).
    pub fn seek_point(&self, line: u64) -> (u64, u64) {
        let k = (line / STRIDE).min(self.checkpoints.len().saturating_sub(1) as u64);
        (
            k * STRIDE,
            self.checkpoints.get(k as usize).copied().unwrap_or(0),
        )
    }
}

/// The first line (from 1) and count of a window: `from` as asked, or the last `count` lines.
pub fn window_bounds(total: u64, from: Option<u64>, count: u32) -> (u64, u64) {
    let count = u64::from(count);
    let first = match from {
        Some(f) => f.clamp(1, total.max(1)),
        None => total.saturating_sub(count) + 1,
    };
    let n = count.min((total + 1).saturating_sub(first));
    (first, n)
}

/// The indexes of the log files read so far.
#[derive(Debug, Default)]
pub struct LogIndexes {
    indexes: Mutex<HashMap<PathBuf, (u64, LineIndex)>>,
    tick: std::sync::atomic::AtomicU64,
}

impl LogIndexes {
    /// Lines `[first, first + count)` (from 1) of the log at `path`, or its last `count` lines
    /// when `from` is `None`, with the log's line count. A missing file is an empty log.
    pub fn window(
        &self,
        path: &Path,
        from: Option<u64>,
        count: u32,
    ) -> std::io::Result<(Vec<String>, u64, u64)> {
        let mut file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 1, 0)),
            Err(e) => return Err(e),
        };
        let index = self.updated(path, &mut file)?;
        let (first, n) = window_bounds(index.lines, from, count);
        let (line, offset) = index.seek_point(first - 1);
        file.seek(SeekFrom::Start(offset))?;
        let reader = BufReader::new(file.take(index.scanned - offset));
        let lines = reader
            .split(b'\n')
            .skip((first - 1 - line) as usize)
            .take(n as usize)
            .map(|l| l.map(|bytes| text_of(&bytes)))
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok((lines, first, index.lines))
    }

    /// The index of `path`, extended over what was appended since it was last read.
    fn updated(&self, path: &Path, file: &mut std::fs::File) -> std::io::Result<LineIndex> {
        let tick = self.tick.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut index = {
            let map = self.indexes.lock().unwrap_or_else(|e| e.into_inner());
            map.get(path).map(|(_, i)| i.clone()).unwrap_or_default()
        };
        let len = file.metadata()?.len();
        if len < index.scanned {
            index = LineIndex::default();
        }
        if len > index.scanned || index.checkpoints.is_empty() {
            file.seek(SeekFrom::Start(index.scanned))?;
            let mut buf = vec![0; 1 << 20];
            let mut rest = Vec::new();
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                rest.extend_from_slice(&buf[..n]);
                let before = index.scanned;
                index.extend(&rest);
                rest.drain(..(index.scanned - before) as usize);
            }
        }
        let mut map = self.indexes.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_INDEXES && !map.contains_key(path) {
            let oldest = map
                .iter()
                .min_by_key(|(_, (t, _))| *t)
                .map(|(p, _)| p.clone());
            if let Some(p) = oldest {
                map.remove(&p);
            }
        }
        map.insert(path.to_path_buf(), (tick, index.clone()));
        Ok(index)
    }
}

/// The text of one stored log line (`{"t": …, "l": …}`), or the raw line if it is not one.
fn text_of(bytes: &[u8]) -> String {
    let raw = String::from_utf8_lossy(bytes);
    match parse_log_line(&raw) {
        Ok(l) => l.l,
        Err(_) => raw.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_log(path: &Path, from: u64, to: u64) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        for i in from..to {
            writeln!(f, "{}", serde_json::json!({"t": "2026-01-01T00:00:00Z", "s": "stdout", "l": format!("line {i}")})).unwrap();
        }
    }

    #[test]
    fn bounds_clamp_to_the_log() {
        assert_eq!(window_bounds(10, None, 3), (8, 3));
        assert_eq!(window_bounds(2, None, 5), (1, 2));
        assert_eq!(window_bounds(10, Some(9), 5), (9, 2));
        assert_eq!(window_bounds(10, Some(0), 2), (1, 2));
        assert_eq!(window_bounds(0, None, 5), (1, 0));
        assert_eq!(window_bounds(10, Some(50), 5), (10, 1));
    }

    #[test]
    fn windows_are_read_through_the_index_as_the_log_grows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("main.log");
        write_log(&path, 1, 2_501);
        let logs = LogIndexes::default();
        let (lines, first, total) = logs.window(&path, Some(1_999), 3).unwrap();
        assert_eq!((first, total), (1_999, 2_500));
        assert_eq!(lines, ["line 1999", "line 2000", "line 2001"]);
        let (tail, first, _) = logs.window(&path, None, 2).unwrap();
        assert_eq!(
            (tail.as_slice(), first),
            (
                &["line 2499".to_string(), "line 2500".to_string()][..],
                2_499
            )
        );
        write_log(&path, 2_501, 3_001);
        let (tail, first, total) = logs.window(&path, None, 1).unwrap();
        assert_eq!(
            (tail, first, total),
            (vec!["line 3000".to_string()], 3_000, 3_000)
        );
        let index = logs.indexes.lock().unwrap()[&path].1.clone();
        assert_eq!(
            index.checkpoints.len(),
            4,
            "lines 0, 1000, 2000 and 3000 start at checkpoints"
        );
        let (none, _, total) = logs
            .window(&dir.path().join("missing.log"), None, 10)
            .unwrap();
        assert!(none.is_empty() && total == 0);
    }

    #[test]
    fn a_partial_last_line_waits_for_its_newline() {
        let mut index = LineIndex::default();
        index.extend(b"a\nb\nc");
        assert_eq!((index.lines, index.scanned), (2, 4));
    }
}
