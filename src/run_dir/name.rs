//! What a run may be called: a name is a directory under the artifacts root, so it must be one
//! plain path component that no shell or file manager treats specially.

/// The rule, as every refusal states it.
pub(crate) const NAME_RULE: &str = "a run name is one path component of letters, digits, `-`, `_` and \
     `.`, not starting with a dot, at most 100 characters";

const MAX_LEN: usize = 100;

/// A name that breaks the rule; it says so with the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName {
    pub name: String,
}

impl std::fmt::Display for InvalidName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` is not a valid run name: {NAME_RULE}", self.name)
    }
}

impl std::error::Error for InvalidName {}

/// `Err` when `name` breaks the rule.
pub(crate) fn check_name(name: &str) -> Result<(), InvalidName> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let fits = !name.is_empty()
        && name.len() <= MAX_LEN
        && !name.starts_with('.')
        && name.chars().all(allowed);
    if fits {
        Ok(())
    } else {
        Err(InvalidName {
            name: name.to_string(),
        })
    }
}

/// A name that keeps the rule: made only through [`RunName::new`], so a run directory is
/// claimed under a checked name without checking it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunName(String);

impl RunName {
    /// `name`, where it keeps the rule.
    pub fn new(name: &str) -> Result<Self, InvalidName> {
        check_name(name)?;
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RunName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The names tried, in order, for a new run of `base`: `base`, `base-2`, `base-3`, … (as
/// Ultralytics numbers `runs/exp`, `runs/exp2`).
pub(crate) fn candidates(base: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(base.to_string()).chain((2..).map(move |n| format!("{base}-{n}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_and_paths_do_not() {
        for good in ["lstm-sgd", "run_2", "a.b", "X9"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        let long = "x".repeat(101);
        for bad in [
            "", ".", "..", ".hidden", "a/b", "a\\b", "/abs", "a b", "ü", &long,
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn candidates_number_from_two() {
        let names: Vec<String> = candidates("exp").take(3).collect();
        assert_eq!(names, ["exp", "exp-2", "exp-3"]);
    }
}
