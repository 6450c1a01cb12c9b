//! The sweep file: a base config, axes of overrides expanded as a grid, and explicit points;
//! each point becomes a checked experiment config with a name made from its values.
//!
//! ```toml
//! name = "lr"                          # optional: the file's stem
//! base = "../lstm-adam.toml"           # optional: the seed experiment
//! [grid]
//! seed = [1, 2, 3]
//! optimizer.learning_rate = [0.01, 0.001]
//! [[points]]                           # optional, after the grid's points
//! name = "gru"
//! model.cell = "gru"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::{Table, Value};

use crate::config::{ConfigError, ExperimentConfig, MAX_CONFIG_BYTES, dotted_leaves, toml_message};
use crate::error::{Error, Result};
use crate::fsutil::read_text_bounded;
use crate::run_dir::{InvalidName, NAME_RULE, check_name};

/// More points than this is a typo (or a study for a cluster bigger than this tool's users
/// have); the sweep is refused before anything runs.
pub(crate) const MAX_POINTS: usize = 1000;
/// The axis whose values are base config files (relative to the sweep file).
pub(crate) const CONFIG_AXIS: &str = "config";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    name: Option<String>,
    base: Option<PathBuf>,
    #[serde(default)]
    grid: Table,
    #[serde(default)]
    points: Vec<Table>,
}

/// What is wrong with a sweep file; the caller names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SweepError {
    /// Not TOML of a sweep file's shape.
    Toml(String),
    /// The sweep's `name` (or the file's stem) cannot be a directory's.
    Name(InvalidName),
    EmptyAxis {
        key: String,
    },
    /// A grid axis given one value (`found`) where a list is needed.
    AxisNotList {
        key: String,
        found: String,
    },
    NoPoints,
    TooManyPoints {
        total: usize,
    },
    /// Explicit point `index`'s `name` is not a string.
    PointNameNotText {
        index: usize,
    },
    /// Explicit point `index`'s `name` cannot be a directory's.
    PointName {
        index: usize,
        problem: InvalidName,
    },
    /// A grid point's values make no valid run name.
    GridPointName {
        name: String,
    },
    DuplicatePoint {
        name: String,
    },
    /// Point `name`'s config cannot be made.
    Point {
        name: String,
        problem: PointError,
    },
}

/// Why a point's config cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PointError {
    /// The `config` axis's value is not a path (`found`).
    ConfigAxisNotPath { found: String },
    /// The base config file is unreadable or invalid (the message names the file).
    BaseConfig(String),
    /// A dotted key goes through `part`, which is a value, not a section.
    NotASection { key: String, part: String },
    /// The overrides make an invalid config.
    Config(ConfigError),
}

impl std::fmt::Display for SweepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SweepError::Toml(message) => f.write_str(message),
            SweepError::Name(problem) => write!(f, "the sweep's `name`: {problem}"),
            SweepError::EmptyAxis { key } => {
                write!(f, "grid axis `{key}` is empty: give it at least one value")
            }
            SweepError::AxisNotList { key, found } => {
                write!(f, "grid axis `{key}` must be a list of values, not {found}")
            }
            SweepError::NoPoints => {
                f.write_str("the sweep has no points: give [grid] axes or [[points]]")
            }
            SweepError::TooManyPoints { total } => write!(
                f,
                "the sweep has {total} points; at most {MAX_POINTS} are allowed"
            ),
            SweepError::PointNameNotText { index } => {
                write!(f, "point {index}: `name` must be a string")
            }
            SweepError::PointName { index, problem } => write!(f, "[[points]] {index}: {problem}"),
            SweepError::GridPointName { name } => write!(
                f,
                "the grid point `{name}` makes no run name ({NAME_RULE}); list such values as \
                 [[points]] with a `name`"
            ),
            SweepError::DuplicatePoint { name } => write!(
                f,
                "two points are named `{name}`; name the explicit points apart"
            ),
            SweepError::Point { name, problem } => write!(f, "point `{name}`: {problem}"),
        }
    }
}

impl std::fmt::Display for PointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PointError::ConfigAxisNotPath { found } => {
                write!(
                    f,
                    "`{CONFIG_AXIS}` must be a config file's path, not {found}"
                )
            }
            PointError::BaseConfig(message) => f.write_str(message),
            PointError::NotASection { key, part } => {
                write!(f, "`{key}`: `{part}` is a value, not a section")
            }
            PointError::Config(problem) => problem.fmt(f),
        }
    }
}

impl std::error::Error for SweepError {}

/// One run of a sweep: its name (a run name under the sweep's directory) and experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub name: String,
    pub config: ExperimentConfig,
}

/// A setting of one point: a dotted key (`optimizer.learning_rate`) and its value.
type Override = (String, Value);

/// Reads the sweep file and expands it: the sweep's name and its points, every config checked.
pub fn load(path: &Path) -> Result<(String, Vec<Point>)> {
    let text = read_text_bounded(path, MAX_CONFIG_BYTES, "a sweep file")?;
    let refuse = |problem: SweepError| Error::file(path, problem);
    let file: SweepFile =
        toml::from_str(&text).map_err(|e| refuse(SweepError::Toml(toml_message(&e))))?;
    let name = match &file.name {
        Some(name) => name.clone(),
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default(),
    };
    check_name(&name).map_err(|e| refuse(SweepError::Name(e)))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let settings = expand(&file).map_err(refuse)?;
    let mut points: Vec<Point> = Vec::with_capacity(settings.len());
    for (point_name, overrides) in settings {
        let config = point_config(dir, file.base.as_deref(), &point_name, &overrides).map_err(
            |problem| {
                refuse(SweepError::Point {
                    name: point_name.clone(),
                    problem,
                })
            },
        )?;
        if points.iter().any(|p| p.name == point_name) {
            return Err(refuse(SweepError::DuplicatePoint { name: point_name }));
        }
        points.push(Point {
            name: point_name,
            config,
        });
    }
    Ok((name, points))
}

/// Every point's name and overrides: the grid's (its axes in the file's order, the last
/// varying fastest), then the explicit points.
fn expand(file: &SweepFile) -> std::result::Result<Vec<(String, Vec<Override>)>, SweepError> {
    let mut axes: Vec<(String, Vec<Value>)> = Vec::new();
    for (key, value) in dotted_leaves(&file.grid) {
        match value {
            Value::Array(values) if values.is_empty() => {
                return Err(SweepError::EmptyAxis { key });
            }
            Value::Array(values) => axes.push((key, values.clone())),
            other => {
                return Err(SweepError::AxisNotList {
                    key,
                    found: format!("{} {other}", other.type_str()),
                });
            }
        }
    }
    let grid_size = if axes.is_empty() {
        0
    } else {
        axes.iter()
            .try_fold(1usize, |n, (_, values)| n.checked_mul(values.len()))
            .unwrap_or(usize::MAX)
    };
    let total = grid_size.saturating_add(file.points.len());
    if total == 0 {
        return Err(SweepError::NoPoints);
    }
    if total > MAX_POINTS {
        return Err(SweepError::TooManyPoints { total });
    }
    let mut settings = Vec::with_capacity(total);
    for index in 0..grid_size {
        let mut rest = index;
        let mut overrides = Vec::with_capacity(axes.len());
        for (key, values) in axes.iter().rev() {
            overrides.push((key.clone(), values[rest % values.len()].clone()));
            rest /= values.len();
        }
        overrides.reverse();
        settings.push((grid_point_name(&axes, &overrides)?, overrides));
    }
    for (index, point) in file.points.iter().enumerate() {
        let mut overrides = Vec::new();
        let mut name = None;
        for (key, value) in dotted_leaves(point) {
            match (key.as_str(), value) {
                ("name", Value::String(text)) => name = Some(text.clone()),
                ("name", _) => return Err(SweepError::PointNameNotText { index }),
                _ => overrides.push((key, value.clone())),
            }
        }
        let name = name.unwrap_or_else(|| format!("point-{index}"));
        check_name(&name).map_err(|problem| SweepError::PointName { index, problem })?;
        settings.push((name, overrides));
    }
    Ok(settings)
}

/// `lstm-adam_seed-1_learning_rate-0.001`: the config axis by its file's stem, other axes as
/// `<last key part>-<value>`; axes of one value, the same for every point, are left out.
fn grid_point_name(
    axes: &[(String, Vec<Value>)],
    overrides: &[Override],
) -> std::result::Result<String, SweepError> {
    let parts: Vec<String> = overrides
        .iter()
        .zip(axes)
        .filter(|(_, (_, values))| values.len() > 1)
        .map(|((key, value), _)| {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            if key == CONFIG_AXIS {
                Path::new(&text)
                    .file_stem()
                    .map_or(text.clone(), |s| s.to_string_lossy().to_string())
            } else {
                let last = key.rsplit('.').next().unwrap_or(key);
                format!("{last}-{text}")
            }
        })
        .collect();
    let name = if parts.is_empty() {
        "point-0".to_string()
    } else {
        parts.join("_")
    };
    match check_name(&name) {
        Ok(()) => Ok(name),
        Err(_) => Err(SweepError::GridPointName { name }),
    }
}

/// The base config (the point's own `config`, else the sweep's `base`, else the seed
/// experiment) with the overrides set and the point's name, checked as a config file is.
fn point_config(
    dir: &Path,
    base: Option<&Path>,
    name: &str,
    overrides: &[Override],
) -> std::result::Result<ExperimentConfig, PointError> {
    let base_file = overrides
        .iter()
        .find(|(key, _)| key == CONFIG_AXIS)
        .map(|(_, value)| match value {
            Value::String(path) => Ok(PathBuf::from(path)),
            other => Err(PointError::ConfigAxisNotPath {
                found: other.to_string(),
            }),
        })
        .transpose()?
        .or_else(|| base.map(Path::to_path_buf));
    let base_config = match base_file {
        Some(file) => ExperimentConfig::load(&dir.join(file))
            .map_err(|e| PointError::BaseConfig(e.to_string()))?,
        None => ExperimentConfig::default(),
    };
    let mut table = Table::try_from(&base_config).expect("a config always makes a TOML table");
    for (key, value) in overrides.iter().filter(|(key, _)| key != CONFIG_AXIS) {
        set(&mut table, key, value.clone())?;
    }
    table.insert("name".into(), Value::String(name.to_string()));
    let config: ExperimentConfig = Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| PointError::Config(ConfigError::Toml(toml_message(&e))))?;
    config.validate().map_err(PointError::Config)?;
    Ok(config)
}

/// Sets `value` at the dotted `key`, creating the tables on the way (`data.augment.rotation`
/// on a config without augmentation).
fn set(table: &mut Table, key: &str, value: Value) -> std::result::Result<(), PointError> {
    let (head, last) = match key.rsplit_once('.') {
        Some((head, last)) => (Some(head), last),
        None => (None, key),
    };
    let mut current = table;
    for part in head.into_iter().flat_map(|h| h.split('.')) {
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| PointError::NotASection {
                key: key.to_string(),
                part: part.to_string(),
            })?;
    }
    current.insert(last.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(text: &str) -> std::result::Result<Vec<Point>, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        load(&path)
            .map(|(_, points)| points)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_grid_expands_in_key_order_with_names_from_its_values() {
        let points = sweep(
            "[grid]\nseed = [1, 2]\noptimizer.learning_rate = [0.01, 0.001]\n\
             [[points]]\nname = \"gru\"\nmodel.cell = \"gru\"\n",
        )
        .unwrap();
        let names: Vec<&str> = points.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "seed-1_learning_rate-0.01",
                "seed-1_learning_rate-0.001",
                "seed-2_learning_rate-0.01",
                "seed-2_learning_rate-0.001",
                "gru"
            ]
        );
        assert_eq!(points[1].config.optimizer.learning_rate, 0.001);
        assert_eq!(points[1].config.seed, 1);
        assert_eq!(points[1].config.name, "seed-1_learning_rate-0.001");
        assert_eq!(points[4].config.model.cell, crate::config::Cell::Gru);
    }

    #[test]
    fn the_refusals_say_what_failed() {
        let expanded = |text: &str| expand(&toml::from_str::<SweepFile>(text).unwrap());
        assert_eq!(
            expanded("[grid]\nseed = []\n").unwrap_err(),
            SweepError::EmptyAxis { key: "seed".into() }
        );
        assert_eq!(
            expanded("name = \"x\"\n").unwrap_err(),
            SweepError::NoPoints
        );
        assert!(matches!(
            expanded("[[points]]\nname = \"a/b\"\n").unwrap_err(),
            SweepError::PointName { index: 0, problem } if problem.name == "a/b"
        ));
        assert_eq!(
            expanded("[grid]\nseed = [\"a b\", \"c\"]\n").unwrap_err(),
            SweepError::GridPointName {
                name: "seed-a b".into()
            }
        );
    }

    #[test]
    fn bad_axes_are_refused_naming_them() {
        for (text, expected) in [
            ("[grid]\nmodel.celll = [\"gru\"]\n", "unknown field `celll`"),
            ("[grid]\nseed = [1, \"two\"]\n", "point `seed-two`"),
            ("[grid]\nseed = []\n", "grid axis `seed` is empty"),
            ("[grid]\nseed = 3\n", "must be a list"),
            (
                "[grid]\noptimizer.learning_rate = [-1.0]\n",
                "optimizer.learning_rate",
            ),
            ("name = \"x\"\n", "no points"),
            ("grids = 1\n", "unknown field `grids`"),
        ] {
            let error = sweep(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
        let thousands = "[grid]\nseed = [1,2,3,4,5,6,7,8,9,10]\ntraining.epochs = [1,2,3,4,5,6,7,8,9,10]\n\
             training.batch_size = [1,2,3,4,5,6,7,8,9,10,11]\n";
        let error = sweep(thousands).unwrap_err();
        assert!(error.contains("1100 points; at most 1000"), "{error}");
    }
}
