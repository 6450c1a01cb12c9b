//! The HTTP API: `GET /api/runs`, `POST /api/predict[?run=NAME]`, `GET /healthz`. Every failure
//! is a 4xx with `{"error": "<one sentence>"}`.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use lstm_mnist_model::inference::Detail;
use lstm_mnist_model::{INPUT_LEN, ModelInput, NUM_CLASSES};

use super::models::{Models, NumberRunInfo, RunInfo, ServedRun};
use crate::preprocess::{PictureError, PictureInput, found_input, read_picture};
use crate::training::ink_finder::LoadedFinder;
use lstm_mnist_model::ink::InkFinder;
use lstm_mnist_model::number::{PictureReading, read_number_picture};

/// Request bodies larger than this are refused (a drawing is a few kilobytes).
pub(crate) const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// How much more of a refused body is read (and dropped) before answering, so that a client
/// that sends its whole body before reading the answer gets the 413 rather than a connection
/// reset; a body larger still has its connection closed.
const DRAINED_BYTES: usize = 64 * 1024 * 1024;

/// Pictures decoded at once: each may take up to a few hundred MiB while it is decoded.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// A refused request: its status and one sentence saying why.
pub struct ApiError(StatusCode, String);

impl ApiError {
    fn bad_request(message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

pub async fn healthz(State(models): State<Arc<Models>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "runs": models.runs.len() }))
}

/// Where the page asks for the learned ink finder's weights, where pictures are read with one.
pub(crate) const INK_FINDER_URL: &str = "ink-finder.bpk";

/// What the runs listing (`/api/runs`, a static site's `runs.json`) says of the learned ink
/// finder pictures are read with: the page in the browser builds it from these.
#[derive(Debug, Serialize)]
pub(crate) struct FinderListing {
    /// Its config's `ink_finder.width`.
    width: usize,
    /// Where its weights are, relative to the page.
    weights: &'static str,
}

impl FinderListing {
    pub(crate) fn of(loaded: &LoadedFinder) -> Self {
        Self {
            width: loaded.width,
            weights: INK_FINDER_URL,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct RunsResponse<'a> {
    /// The run `/api/predict` uses when the request names none.
    default: &'a str,
    runs: &'a [RunInfo],
    /// The learned ink finder pictures are read with, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    ink_finder: Option<FinderListing>,
    /// The number readers, which read pictures of written numbers, where there are some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    number_runs: Vec<&'a NumberRunInfo>,
}

pub async fn runs(State(models): State<Arc<Models>>) -> Response {
    Json(RunsResponse {
        default: &models.runs[models.default_run].name,
        runs: &models.runs,
        ink_finder: models.ink_finder.as_ref().map(FinderListing::of),
        number_runs: models.number_runs.iter().map(|run| &run.info).collect(),
    })
    .into_response()
}

#[derive(Deserialize)]
pub struct PredictQuery {
    run: Option<String>,
    /// `steps=true`: the answer also holds the probabilities after each row.
    #[serde(default)]
    steps: bool,
}

/// `{"pixels": [784 values]}`: a 28x28 model input, row by row, white (1) digit on black (0),
/// used as it is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PixelsBody {
    pixels: Vec<f32>,
}

#[derive(Serialize)]
pub struct PredictResponse {
    run: String,
    /// The most likely class.
    digit: usize,
    /// Its name, for datasets whose classes are not digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'static str>,
    /// All ten class probabilities, class 0 first.
    probabilities: [f32; NUM_CLASSES],
    /// The 28x28 input the model received, row by row, in [0, 1].
    input: Vec<f32>,
    /// With `?steps=true`: the ten probabilities after each of the 28 rows (the head applied
    /// to the hidden state after that row; the last is `probabilities`).
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<Vec<[f32; NUM_CLASSES]>>,
    /// Whether the picture holds several digits in a row, which a digit model reads one of
    /// (only said when it does).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    several_digits: bool,
    /// With `several_digits`: the served number reader, which reads them all.
    #[serde(skip_serializing_if = "Option::is_none")]
    number_run: Option<String>,
}

/// The request body, at most [`MAX_BODY_BYTES`]; a larger one is read on (up to
/// [`DRAINED_BYTES`] more) and dropped before the 413, which the client then receives whatever
/// order it sends and reads in.
async fn read_body(mut body: Body) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt;
    let mut kept = Vec::new();
    let mut received = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad_request(format!("the body broke off: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        received += data.len();
        if received <= MAX_BODY_BYTES {
            kept.extend_from_slice(&data);
        } else if received > MAX_BODY_BYTES + DRAINED_BYTES {
            break;
        }
    }
    if received > MAX_BODY_BYTES {
        return Err(ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than the limit of {} MiB",
                MAX_BODY_BYTES >> 20
            ),
        ));
    }
    Ok(kept.into())
}

pub async fn predict(
    State(models): State<Arc<Models>>,
    query: Result<Query<PredictQuery>, QueryRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let run = match &query.run {
        Some(name) => models.served(name).ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                format!("no run named `{name}` is served; GET /api/runs lists them"),
            )
        })?,
        None => ServedRun::Digits(models.default_run),
    };
    let body = read_body(body).await?;
    Ok(match run {
        ServedRun::Digits(run) => {
            Json(classify(models, run, query.steps, body).await?).into_response()
        }
        ServedRun::Number(run) => Json(read_number(models, run, body).await?).into_response(),
    })
}

/// `work` on a blocking thread, a few at a time: decoding and preprocessing are CPU work, and
/// the memory of many large pictures at once stays bounded.
async fn off_async_threads<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let _decoding = DECODING
        .acquire()
        .await
        .map_err(|_| ApiError::bad_request("the server is stopping"))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ApiError::bad_request("the image could not be processed"))?
}

/// Digit classifier `run`'s answer for the picture or pixels in `body`.
async fn classify(
    models: Arc<Models>,
    run: usize,
    steps: bool,
    body: Bytes,
) -> Result<PredictResponse, ApiError> {
    let finding = models.clone();
    let PictureInput {
        input,
        several_digits,
    } = off_async_threads(move || {
        model_input(&body, finding.ink_finder.as_ref().map(|f| &f.finder))
    })
    .await?;
    let detail = if steps { Detail::Rows } else { Detail::Answer };
    let reading = models
        .classify(run, input, detail)
        .await
        .map_err(|e| ApiError(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let digit = reading.digit();
    let info = &models.runs[run];
    Ok(PredictResponse {
        run: info.name.clone(),
        digit,
        name: info.classes.map(|names| names[digit]),
        probabilities: *reading.probabilities(),
        input: input.to_vec(),
        steps: reading.rows().map(<[_]>::to_vec),
        several_digits,
        number_run: several_digits
            .then(|| models.number_runs.first().map(|run| run.info.name.clone()))
            .flatten(),
    })
}

/// What a number reader answers for a picture of a written number.
#[derive(Serialize)]
pub struct NumberResponse {
    run: String,
    #[serde(flatten)]
    reading: PictureReading,
}

/// Number reader `run`'s reading of the picture in `body`.
async fn read_number(
    models: Arc<Models>,
    run: usize,
    body: Bytes,
) -> Result<NumberResponse, ApiError> {
    off_async_threads(move || {
        check_number_body(&body)?;
        let served = &models.number_runs[run];
        let reading =
            read_number_picture(&served.reader, &body, &models.device).map_err(picture_error)?;
        Ok(NumberResponse {
            run: served.info.name.clone(),
            reading,
        })
    })
    .await
}

/// Refuses a body that cannot be a picture of a written number: an empty one, or JSON.
fn check_number_body(body: &[u8]) -> Result<(), ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty: send a PNG or JPEG picture of a written number",
        ));
    }
    if body.trim_ascii_start().starts_with(b"{") {
        return Err(ApiError::bad_request(
            "a number reader reads pictures: send a PNG or JPEG picture of a written number, \
             not JSON pixels",
        ));
    }
    Ok(())
}

/// The model input a request body holds: JSON pixels, or an encoded picture (PNG, JPEG, ...)
/// preprocessed as `predict` does it (its ink found by `finder` where there is one); with it,
/// whether the picture holds several digits in a row (said by the rules only).
pub fn model_input(body: &[u8], finder: Option<&InkFinder>) -> Result<PictureInput, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty: send a PNG or JPEG image, or JSON {\"pixels\": [...]}",
        ));
    }
    if body.trim_ascii_start().starts_with(b"{") {
        let parsed: PixelsBody = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("not the JSON this API takes: {e}")))?;
        return check_pixels(parsed.pixels).map(|input| PictureInput {
            input,
            several_digits: false,
        });
    }
    let input = match finder {
        Some(finder) => found_input(body, finder).map(|found| PictureInput {
            input: found.input,
            several_digits: false,
        }),
        None => read_picture(body),
    };
    input.map_err(picture_error)
}

/// The status and words for a picture that cannot be read: those `predict` uses for it,
/// without a file name.
fn picture_error(error: PictureError) -> ApiError {
    match error {
        PictureError::Unreadable(message) => ApiError(StatusCode::BAD_REQUEST, message),
        too_large @ PictureError::TooLarge { .. } => {
            ApiError(StatusCode::PAYLOAD_TOO_LARGE, too_large.to_string())
        }
        PictureError::NoDigit(problem) => {
            ApiError(StatusCode::UNPROCESSABLE_ENTITY, problem.to_string())
        }
    }
}

fn check_pixels(pixels: Vec<f32>) -> Result<ModelInput, ApiError> {
    let length = pixels.len();
    let pixels: ModelInput = pixels.try_into().map_err(|_| {
        ApiError::bad_request(format!(
            "`pixels` must hold {INPUT_LEN} values (28x28), not {length}"
        ))
    })?;
    if !pixels.iter().all(|p| (0.0..=1.0).contains(p)) {
        return Err(ApiError::bad_request(
            "`pixels` values must lie in [0, 1] (white digit 1 on black 0)",
        ));
    }
    Ok(pixels)
}

/// Paths the API does not have.
pub(crate) async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        format!(
            "no such endpoint: {method} {}; the API is GET /api/runs, POST /api/predict, GET /healthz",
            uri.path()
        ),
    )
}

/// Known paths asked with another method.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let allowed = if uri.path() == "/api/predict" {
        "POST"
    } else {
        "GET"
    };
    let error = ApiError(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}: use {allowed}", uri.path()),
    );
    ([(header::ALLOW, allowed)], error).into_response()
}
