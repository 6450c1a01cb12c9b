//! `lstm-mnist robustness`: a run's accuracy on its test images under the robustness suite's
//! corruptions (`evaluation::robustness`), printed and written to `robustness.json` beside the
//! model.

use crate::backend::Compute;
use crate::error::Result;
use crate::evaluation::ModelUnderTest;
use crate::evaluation::pictures::picture_suite;
use crate::evaluation::robustness::robustness;
use crate::output;
use crate::run_dir::ModelRef;

#[derive(Debug, Clone)]
pub struct RobustnessRequest {
    /// The model scored: a run's, or one of its checkpoints.
    pub model: ModelRef,
    pub compute: Compute,
    /// Also the picture suite (`evaluation::pictures`).
    pub pictures: bool,
    pub json: bool,
}

pub fn run(request: &RobustnessRequest) -> Result<()> {
    let ModelUnderTest {
        model_ref,
        model,
        test,
        device,
        ..
    } = ModelUnderTest::load(request.model.clone(), &request.compute)?;
    let model_name = model_ref.model_path.display().to_string();
    let mut report = robustness(model.classifier(), &test, &device, &model_name);
    if request.pictures {
        report.pictures = picture_suite(&model, &test);
    }
    report.write(&model_ref.robustness_path())?;
    if request.json {
        let json = serde_json::to_string_pretty(&report).expect("a report always serialises");
        output::line(json);
    } else {
        output::print(&report.table());
    }
    Ok(())
}
