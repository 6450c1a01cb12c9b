//! `robustness`: its help lists the suites from the suites themselves.

use clap::Args;

use super::evaluate::EvaluateArgs;
use crate::commands::Request;
use crate::commands::robustness::RobustnessRequest;
use crate::data::page_generator::measured_generators;
use crate::data::pages::PageCondition;
use crate::error::Result;
use crate::evaluation::pictures::GENERATED_PICTURES;
use crate::evaluation::robustness::SUITE;

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist robustness --checkpoint artifacts/lstm-adam-robust
  lstm-mnist robustness --checkpoint artifacts/lstm-adam --json";

/// The command's long help: every corruption of the suite and every page of the picture suite,
/// with its severity.
pub(super) fn long_about() -> String {
    let corruptions: Vec<String> = SUITE
        .iter()
        .map(|c| format!("  {:<12} {}", c.name, c.severity))
        .collect();
    let pages: Vec<String> = PageCondition::ALL
        .iter()
        .map(|p| format!("  {:<14} {}", p.name(), p.severity()))
        .collect();
    let generated: Vec<String> = measured_generators()
        .iter()
        .map(|(name, ranges, _)| format!("  {:<22} {ranges}", format!("generated {name}")))
        .collect();
    format!(
        "Score a trained model on its test set under a fixed, seeded suite of {} corruptions \
         (and, with --pictures, {} pictures of paper and {} rows of generated pages); writes \
         robustness.json beside the model.\n\nThe corruptions:\n{}\n\nThe pictures of \
         paper (--pictures):\n{}\n\nThe generated pages (--pictures, the first {} test \
         images), each family of conditions alone, then all at once:\n{}",
        SUITE.len(),
        PageCondition::ALL.len(),
        generated.len(),
        corruptions.join("\n"),
        pages.join("\n"),
        GENERATED_PICTURES,
        generated.join("\n"),
    )
}

#[derive(Debug, Args)]
pub(super) struct RobustnessArgs {
    #[command(flatten)]
    scored: EvaluateArgs,
    /// Also the picture suite: each test digit photographed on paper (grey paper, side light,
    /// a shadow, ruled and squared lines, coloured ink, a slant, JPEG, blur), and pages from
    /// the page generator, read as `predict` reads a picture.
    #[arg(long)]
    pictures: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

impl RobustnessArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        let (model, compute) = self.scored.into_parts()?;
        Ok(Request::Robustness(RobustnessRequest {
            model,
            compute,
            pictures: self.pictures,
            json: self.json,
        }))
    }
}
