//! The commands, one small function each over the typed request that `cli` makes from the
//! flags.

mod arithmetic;
pub(crate) mod augment_preview;
pub mod bench;
pub mod evaluate;
pub mod export;
pub(crate) mod export_web;
pub mod import;
pub(crate) mod load_check;
pub mod plot;
pub mod predict;
pub mod results;
pub mod robustness;
mod statistics;
pub mod summary;
pub mod sweep;

use crate::error::Result;
use crate::serve::{self, ServeRequest};
use crate::training::ink_finder::InkFinderRequest;
use crate::training::number_reader::NumberRequest;
use crate::training::{self, TrainRequest};

/// What the user asked for, fully resolved and checked.
#[derive(Debug, Clone)]
pub enum Request {
    Train(TrainRequest),
    TrainInkFinder(InkFinderRequest),
    TrainNumberReader(NumberRequest),
    Evaluate(evaluate::EvaluateRequest),
    Import(import::ImportRequest),
    Export(export::ExportRequest),
    ExportWeb(export_web::ExportWebRequest),
    Predict(predict::PredictRequest),
    Summary(summary::SummaryRequest),
    Bench(bench::BenchRequest),
    LoadCheck(load_check::LoadRequest),
    Plot(plot::PlotRequest),
    Results(results::ResultsRequest),
    Robustness(robustness::RobustnessRequest),
    AugmentPreview(augment_preview::AugmentPreviewRequest),
    Serve(ServeRequest),
    Sweep(sweep::SweepRequest),
}

pub fn run(request: Request) -> Result<()> {
    match request {
        Request::Train(request) => training::train(&request).map(drop),
        Request::TrainInkFinder(request) => {
            training::ink_finder::run_ink_finder(&request).map(drop)
        }
        Request::TrainNumberReader(request) => {
            training::number_reader::run_number_reader(&request).map(drop)
        }
        Request::Evaluate(request) => evaluate::run(&request),
        Request::Import(request) => import::run(&request),
        Request::Export(request) => export::run(&request),
        Request::ExportWeb(request) => export_web::run(&request),
        Request::Predict(request) => predict::run(&request),
        Request::Summary(request) => summary::run(&request),
        Request::Bench(request) => bench::run(&request),
        Request::LoadCheck(request) => load_check::run(&request),
        Request::Plot(request) => plot::run(&request),
        Request::Results(request) => results::run(&request),
        Request::Robustness(request) => robustness::run(&request),
        Request::AugmentPreview(request) => augment_preview::run(&request),
        Request::Serve(request) => serve::serve(&request),
        Request::Sweep(request) => sweep::run(&request),
    }
}
