//! The run's time series (interval records, resource samples) kept in an unnamed temporary
//! file while the run goes, and read back once it is over.
//!
//! Why: held in memory they grow the harness by every interval, which is what a soak is there
//! to catch in the load generator (k6's most reported problem: grafana/k6#763, #1068, #4670).
//! One interval record is ~500 bytes in memory plus its Vec's doubling; spooled, the
//! collector's memory stays flat however long the run. One JSON line a second is one `write`
//! a second; serde_json with `float_roundtrip` (on for the workspace through `results`) reads
//! every figure back bit for bit.
//!
//! Nothing is lost on a full disk: from the first failed write on, records stay in memory (the
//! file is cut back to the last whole record), with a warning on stderr. Only a failure to
//! read the file back loses records; [`Spool::into_vec`] reports that, and the run exits 5.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _, Seek as _, SeekFrom, Write as _};
use std::marker::PhantomData;

pub struct Spool<T> {
    file: Option<File>,
    /// Bytes of whole records in `file`.
    len: u64,
    /// False once a write failed: later records go to `held`.
    writing: bool,
    /// Records kept in memory (all of them when no file could be made).
    held: Vec<T>,
    line: Vec<u8>,
    _t: PhantomData<T>,
}

impl<T: Serialize + DeserializeOwned> Spool<T> {
    /// A spool in a new unnamed temporary file (in memory when none can be made).
    pub fn new() -> Spool<T> {
        let file = tempfile::tempfile()
            .inspect_err(|e| warn(&format!("no temporary file for it ({e})")))
            .ok();
        Spool {
            writing: file.is_some(),
            file,
            len: 0,
            held: Vec::new(),
            line: Vec::with_capacity(1024),
            _t: PhantomData,
        }
    }

    pub fn push(&mut self, v: T) {
        if let (true, Some(f)) = (self.writing, &mut self.file) {
            self.line.clear();
            let written = serde_json::to_writer(&mut self.line, &v)
                .map_err(std::io::Error::from)
                .and_then(|()| {
                    self.line.push(b'\n');
                    f.write_all(&self.line)
                });
            match written {
                Ok(()) => {
                    self.len += self.line.len() as u64;
                    return;
                }
                Err(e) => {
                    // Cut a partly written record off; this and later records stay in memory.
                    let _ = f.set_len(self.len);
                    self.writing = false;
                    warn(&format!("writing it failed ({e})"));
                }
            }
        }
        self.held.push(v);
    }

    /// Every record pushed, in order; when reading the file back failed, the records up to the
    /// failure and those held in memory, with the reason.
    pub fn into_vec(mut self) -> (Vec<T>, Option<String>) {
        let mut out = Vec::new();
        let mut error = None;
        if let Some(f) = self.file.take() {
            if let Err(e) = read_back(f, self.len, &mut out) {
                error = Some(format!(
                    "reading the spooled time series back failed (records after {} lost): {e}",
                    out.len()
                ));
            }
        }
        out.append(&mut self.held);
        (out, error)
    }
}

fn warn(why: &str) {
    eprintln!("warning: the run's time series stays in memory: {why}");
}

fn read_back<T: DeserializeOwned>(mut f: File, len: u64, out: &mut Vec<T>) -> std::io::Result<()> {
    f.seek(SeekFrom::Start(0))?;
    for line in BufReader::new(f.take(len)).lines() {
        out.push(serde_json::from_str(&line?)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_in_order_and_bit_for_bit() {
        let mut s = Spool::<(f64, Option<u64>)>::new();
        let vals: Vec<(f64, Option<u64>)> = (0..1000)
            .map(|i| (i as f64 / 3.0 + 1e-17 * i as f64, (i % 3 == 0).then_some(i)))
            .collect();
        for v in &vals {
            s.push(*v);
        }
        assert!(s.held.is_empty(), "all on disk");
        let (back, error) = s.into_vec();
        assert_eq!(error, None);
        assert_eq!(back.len(), vals.len());
        for (a, b) in back.iter().zip(&vals) {
            assert_eq!(a.0.to_bits(), b.0.to_bits());
            assert_eq!(a.1, b.1);
        }
    }

    #[test]
    fn after_a_failed_write_records_stay_in_memory() {
        let mut s = Spool::<u32>::new();
        s.push(1);
        s.push(2);
        // A file that refuses writes, as a full disk would.
        let ro = File::open("/dev/null").unwrap();
        let mut kept = s.file.replace(ro).unwrap();
        kept.seek(SeekFrom::Start(0)).unwrap();
        let mut first = String::new();
        BufReader::new(&mut kept).read_line(&mut first).unwrap();
        assert_eq!(first, "1\n");
        s.push(3);
        assert!(!s.writing);
        s.push(4);
        assert_eq!(s.held, [3, 4]);
        s.file = Some(kept);
        let (back, error) = s.into_vec();
        assert_eq!(back, [1, 2, 3, 4]);
        assert_eq!(error, None, "nothing was lost");
    }
}
