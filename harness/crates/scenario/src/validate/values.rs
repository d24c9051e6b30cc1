//! Where validation errors point, and the scalar values every section shares.
//!
//! [`Ctx`] carries the file name (for messages) and its text (for line and column), so each
//! section builds its errors the same way. Its parsers turn one spanned TOML value into a
//! duration, rate, size, fraction or bounded integer, with one wording per kind of value
//! ("expected a duration such as ..., found ...") wherever that kind appears in the file.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Value;

use super::Result;
use crate::error::{ErrorKind, ScenarioError};
use crate::raw::S;
use crate::units::{self, UnitError};

const EXPECT_DURATION: &str = "a duration such as \"5m\" or \"500ms\"";
const EXPECT_RATE: &str = "a rate such as \"10k/s\" or \"8.51M/s\", or a number";
const EXPECT_SIZE: &str = "a size such as \"256MiB\" or \"100MB\", or a whole number of bytes";
const EXPECT_SIZE_PER_HOUR: &str = "a size per hour such as \"1MiB/h\"";
const EXPECT_FRACTION: &str = "a percentage such as \"0.01%\" or a fraction from 0 to 1";

/// Where errors point: the file name for messages and its text for line/column.
pub(super) struct Ctx<'a> {
    pub(super) file: &'a Path,
    pub(super) src: &'a str,
}

impl Ctx<'_> {
    pub(super) fn err(
        &self,
        span: Range<usize>,
        field: impl Into<String>,
        msg: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::at(
            ErrorKind::Invalid,
            self.file,
            self.src,
            Some(span),
            Some(field.into()),
            msg.into(),
        )
    }

    pub(super) fn err_nowhere(
        &self,
        field: impl Into<String>,
        msg: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::at(
            ErrorKind::Invalid,
            self.file,
            self.src,
            None,
            Some(field.into()),
            msg.into(),
        )
    }

    /// A problem with the data file `path` (at its 1-based `line` when known), pointed at the
    /// scenario key `field` that names the file: the message reads `path:line: msg`.
    pub(super) fn data_err(
        &self,
        span: Range<usize>,
        field: impl Into<String>,
        path: &Path,
        line: Option<u64>,
        msg: impl fmt::Display,
    ) -> ScenarioError {
        let at = match line {
            Some(line) => format!("{}:{line}", path.display()),
            None => path.display().to_string(),
        };
        let mut e = self.err(span, field, format!("{at}: {msg}"));
        e.kind = ErrorKind::Data;
        e
    }

    /// A path written in the file: relative to the scenario file's directory unless absolute
    /// (a scenario travels with its certificates and data files, wherever it is run from).
    pub(super) fn resolve(&self, written: &str) -> PathBuf {
        let p = Path::new(written);
        match self.file.parent() {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        }
    }

    /// "expected X, found Y" at `v`.
    pub(super) fn expected(&self, v: &S<Value>, field: &str, what: &str) -> ScenarioError {
        self.err(
            v.span(),
            field,
            format!("expected {what}, found {}", describe(v.get_ref())),
        )
    }

    fn unit_err(&self, v: &S<Value>, field: &str, what: &str, e: UnitError) -> ScenarioError {
        let suffix = match e {
            UnitError::Syntax => "",
            UnitError::Overflow => " (too large)",
        };
        self.err(
            v.span(),
            field,
            format!("expected {what}, found {}{suffix}", describe(v.get_ref())),
        )
    }

    pub(super) fn duration(&self, v: &S<Value>, field: &str) -> Result<Duration> {
        match v.get_ref() {
            Value::String(s) => {
                units::parse_duration(s).map_err(|e| self.unit_err(v, field, EXPECT_DURATION, e))
            }
            _ => Err(self.expected(v, field, EXPECT_DURATION)),
        }
    }

    pub(super) fn positive_duration(&self, v: &S<Value>, field: &str) -> Result<Duration> {
        let d = self.duration(v, field)?;
        if d.is_zero() {
            return Err(self.err(v.span(), field, "must be greater than zero"));
        }
        Ok(d)
    }

    /// A rate per second, finite and > 0.
    pub(super) fn rate(&self, v: &S<Value>, field: &str) -> Result<f64> {
        let r = match v.get_ref() {
            Value::String(s) => {
                units::parse_rate(s).map_err(|e| self.unit_err(v, field, EXPECT_RATE, e))?
            }
            Value::Integer(i) => *i as f64,
            Value::Float(f) if f.is_finite() => *f,
            _ => return Err(self.expected(v, field, EXPECT_RATE)),
        };
        if r <= 0.0 {
            return Err(self.err(
                v.span(),
                field,
                format!("must be greater than zero, found {}", describe(v.get_ref())),
            ));
        }
        Ok(r)
    }

    pub(super) fn size(&self, v: &S<Value>, field: &str) -> Result<u64> {
        match v.get_ref() {
            Value::String(s) => {
                units::parse_size(s).map_err(|e| self.unit_err(v, field, EXPECT_SIZE, e))
            }
            Value::Integer(i) => {
                u64::try_from(*i).map_err(|_| self.expected(v, field, EXPECT_SIZE))
            }
            _ => Err(self.expected(v, field, EXPECT_SIZE)),
        }
    }

    /// A memory slope such as "1MiB/h", in bytes per hour: hours are the only time unit, as a
    /// leak is judged over a soak, and the suffix is required so that "1MiB" is not read as a
    /// slope by mistake.
    pub(super) fn size_per_hour(&self, v: &S<Value>, field: &str) -> Result<u64> {
        let Value::String(s) = v.get_ref() else {
            return Err(self.expected(v, field, EXPECT_SIZE_PER_HOUR));
        };
        let Some(size) = s.trim().strip_suffix("/h") else {
            return Err(self.expected(v, field, EXPECT_SIZE_PER_HOUR));
        };
        units::parse_size(size.trim()).map_err(|e| self.unit_err(v, field, EXPECT_SIZE_PER_HOUR, e))
    }

    /// A fraction in 0..=1 given as "0.01%" or a number.
    pub(super) fn fraction(&self, v: &S<Value>, field: &str) -> Result<f64> {
        self.fraction_upto(v, field, 1.0)
    }

    /// A fraction (or percentage) from 0 to `max`: `max` above 1 for a change that may exceed
    /// 100 % (a tolerance on a latency, [`crate::max_tolerance`]).
    pub(super) fn fraction_upto(&self, v: &S<Value>, field: &str, max: f64) -> Result<f64> {
        let f = match v.get_ref() {
            Value::String(s) => {
                units::parse_percent(s).map_err(|e| self.unit_err(v, field, EXPECT_FRACTION, e))?
            }
            Value::Integer(i) => *i as f64,
            Value::Float(f) => *f,
            _ => return Err(self.expected(v, field, EXPECT_FRACTION)),
        };
        if !(0.0..=max).contains(&f) {
            return Err(self.err(
                v.span(),
                field,
                format!(
                    "must be between 0 and {max} (0% to {}%), found {}",
                    max * 100.0,
                    describe(v.get_ref())
                ),
            ));
        }
        Ok(f)
    }

    pub(super) fn u32_in(&self, v: &S<u64>, field: &str, min: u64, max: u64) -> Result<u32> {
        let n = *v.get_ref();
        if n < min || n > max {
            return Err(self.err(
                v.span(),
                field,
                format!("must be from {min} to {max}, found {n}"),
            ));
        }
        u32::try_from(n).map_err(|_| {
            self.err(
                v.span(),
                field,
                format!("must be at most {}, found {n}", u32::MAX),
            )
        })
    }
}

/// A short description of a TOML value for "found ..." messages.
pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Integer(i) => format!("integer {i}"),
        Value::Float(f) => format!("float {f}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Datetime(d) => format!("datetime {d}"),
        Value::Array(_) => "an array".into(),
        Value::Table(_) => "a table".into(),
    }
}
