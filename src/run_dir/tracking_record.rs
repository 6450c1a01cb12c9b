//! `tracking.json`: which tracking-server run a run directory is, written when training first
//! reaches the server and read when the run resumes.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::fsutil::{read_text_bounded, write_atomic};

pub(crate) const TRACKING_FILE: &str = "tracking.json";

/// An MLflow run: the server it is on and its ids there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TrackedRun {
    pub(crate) tracking_uri: String,
    pub experiment_id: String,
    pub run_id: String,
}

impl TrackedRun {
    pub(super) fn read(path: &Path) -> Option<Self> {
        let text = read_text_bounded(path, 64 * 1024, "a tracking record").ok()?;
        serde_json::from_str(&text).ok()
    }

    pub(super) fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("a record always serialises");
        write_atomic(path, json.as_bytes())
    }
}
