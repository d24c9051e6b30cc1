//! Which calibration a run's latency limits are held against, if any: the file
//! `--calibration` names, or, with `use_calibration = true` in the scenario, the newest one of
//! this host and CPU model under the run's output root (`reports/calibration/` by default), at
//! most [`MAX_AGE`] old.
//!
//! Why a scenario's opt-in finds none without failing: a fresh clone or a new CI machine has
//! no calibration yet, and refusing to run would make the opt-in a trap; the run is judged as
//! without it and says so (a note in the verdict's reasons and on stderr). A `--calibration`
//! file that cannot be read is a usage error: it was asked for by name.

use crate::analysis::calibration::{self, Held};
use crate::calibrate::machine::identity;
use crate::calibrate::record::{newest_for, Calibration};
use crate::exit::UsageError;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A week: older calibrations describe a machine that may have changed (kernel, neighbours,
/// host migration).
pub const MAX_AGE: Duration = Duration::from_secs(7 * 86_400);

/// The calibration a run uses.
#[derive(Clone, Debug)]
pub enum CalibrationUse {
    /// Boxed: a calibration is some 500 bytes, the note a String.
    Applied {
        file: PathBuf,
        calibration: Box<Calibration>,
    },
    /// Asked for (`use_calibration`) but none found: why, in words.
    Missing(String),
}

impl CalibrationUse {
    /// From `--calibration FILE`, else from the scenario's `use_calibration` (looking under
    /// `root/calibration`); `None` when neither asks for one.
    pub fn resolve(
        flag: Option<&Path>,
        criteria: &scenario::Criteria,
        root: &Path,
    ) -> Result<Option<CalibrationUse>> {
        if let Some(file) = flag {
            let calibration = Calibration::read(file)
                .map_err(|e| UsageError::new(format!("--calibration: {e:#}")))?;
            return Ok(Some(CalibrationUse::Applied {
                file: file.to_path_buf(),
                calibration: Box::new(calibration),
            }));
        }
        if !criteria.use_calibration {
            return Ok(None);
        }
        let dir = root.join("calibration");
        let (host, cpu) = identity();
        Ok(Some(
            match newest_for(&dir, &host, &cpu, MAX_AGE, SystemTime::now()) {
                Some((file, calibration)) => CalibrationUse::Applied {
                    file,
                    calibration: Box::new(calibration),
                },
                None => CalibrationUse::Missing(format!(
                    "use_calibration: no calibration of {host} ({cpu}) from the last 7 days under \
                     {}: latency limits judged without one (run `harness calibrate --out {}`)",
                    dir.display(),
                    dir.display()
                )),
            },
        ))
    }

    /// Holds `criteria` against it for a run against `target_kind`.
    pub fn hold(&self, criteria: &scenario::Criteria, target_kind: &str) -> Held {
        match self {
            CalibrationUse::Applied { file, calibration } => {
                calibration::hold(criteria, target_kind, calibration, file)
            }
            CalibrationUse::Missing(why) => Held {
                invalid: vec![],
                note: Some(why.clone()),
            },
        }
    }
}
