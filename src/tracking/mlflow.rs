//! The few calls of MLflow's REST API (`/api/2.0/mlflow/...`) that tracking a run needs, over
//! `ureq` with bounded timeouts. Each call says in its error what it was doing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Context, Error, Result};

/// How long one call may take, connecting included: a server that hangs costs a run this
/// much once (tracking stops at the first failure), never more.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// MLflow's `log-batch` limits.
const MAX_PARAMS_PER_BATCH: usize = 100;

/// A run's state in MLflow (`RunStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunStatus {
    Running,
    Finished,
    Failed,
    /// Stopped to be resumed later.
    Killed,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }
}

/// One metric value at a step (epoch).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Metric {
    pub key: &'static str,
    pub value: f64,
    pub step: usize,
}

/// An MLflow server, by its tracking URI.
pub(crate) struct MlflowClient {
    base: String,
    agent: ureq::Agent,
}

/// What the server says of a run it created or holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteRun {
    pub run_id: String,
    pub experiment_id: String,
    /// Where its artifacts go (`mlflow-artifacts:/...` when the server takes uploads).
    pub(crate) artifact_uri: String,
    /// The last epoch whose training loss the server holds (a resumed run's; `None` for a new
    /// one).
    pub(crate) last_epoch: Option<usize>,
}

#[derive(Deserialize)]
struct RunInfo {
    run_id: String,
    experiment_id: String,
    #[serde(default)]
    artifact_uri: String,
}

#[derive(Deserialize)]
struct RunEnvelope {
    run: RunBody,
}

#[derive(Deserialize)]
struct RunBody {
    info: RunInfo,
    #[serde(default)]
    data: RunValues,
}

#[derive(Deserialize, Default)]
struct RunValues {
    /// Each metric's latest value, with its step.
    #[serde(default)]
    metrics: Vec<Value>,
}

impl From<RunBody> for RemoteRun {
    fn from(body: RunBody) -> Self {
        // int64 steps come as numbers or, in proto3's JSON, as strings.
        let step = |metric: &Value| match &metric["step"] {
            Value::String(text) => text.parse().ok(),
            number => number.as_u64().map(|n| n as usize),
        };
        let last_epoch = body
            .data
            .metrics
            .iter()
            .filter(|metric| metric["key"] == "train_loss")
            .find_map(step);
        Self {
            run_id: body.info.run_id,
            experiment_id: body.info.experiment_id,
            artifact_uri: body.info.artifact_uri,
            last_epoch,
        }
    }
}

/// Milliseconds since the epoch, MLflow's timestamps.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl MlflowClient {
    pub fn new(tracking_uri: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(CALL_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            base: tracking_uri.trim_end_matches('/').to_string(),
            agent,
        }
    }

    /// The id of the experiment `name`, created when the server has none of that name.
    pub fn experiment_id(&self, name: &str) -> Result<String> {
        if let Some(id) = self.find_experiment(name)? {
            return Ok(id);
        }
        // MLflow's UI shows an experiment of this kind as model training, not GenAI.
        let created = json!({
            "name": name,
            "tags": [{ "key": "mlflow.experimentKind", "value": "custom_model_development" }],
        });
        match self.post("experiments/create", &created) {
            Ok(created) => string_at(&created, "/experiment_id", "experiments/create"),
            // Another run created it meanwhile (a sweep's points start together).
            Err(error) => self.find_experiment(name)?.ok_or(error),
        }
    }

    fn find_experiment(&self, name: &str) -> Result<Option<String>> {
        let call = "experiments/get-by-name";
        let (status, body) = self.get(call, ("experiment_name", name))?;
        if status == 404 {
            return Ok(None);
        }
        let value = answer(call, status, &body)?;
        string_at(&value, "/experiment/experiment_id", call).map(Some)
    }

    pub(crate) fn create_run(
        &self,
        experiment_id: &str,
        run_name: &str,
        tags: &[(&str, String)],
    ) -> Result<RemoteRun> {
        let body = json!({
            "experiment_id": experiment_id,
            "run_name": run_name,
            "start_time": now_ms(),
            "tags": key_values(tags),
        });
        let created = self.post("runs/create", &body)?;
        parse_run(created, "runs/create")
    }

    pub(crate) fn get_run(&self, run_id: &str) -> Result<RemoteRun> {
        let (status, body) = self.get("runs/get", ("run_id", run_id))?;
        parse_run(answer("runs/get", status, &body)?, "runs/get")
    }

    /// Logs metrics and params (in batches of MLflow's limit).
    pub(crate) fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[(String, String)],
    ) -> Result<()> {
        let timestamp = now_ms();
        let metrics: Vec<Value> = metrics
            .iter()
            .map(|m| json!({ "key": m.key, "value": m.value, "timestamp": timestamp, "step": m.step }))
            .collect();
        let mut params: Vec<Value> = params
            .iter()
            .map(|(key, value)| json!({ "key": key, "value": value }))
            .collect();
        let mut first = true;
        while first || !params.is_empty() {
            let rest = params.split_off(params.len().min(MAX_PARAMS_PER_BATCH));
            let batch = json!({
                "run_id": run_id,
                "metrics": if first { metrics.clone() } else { Vec::new() },
                "params": params,
            });
            self.post("runs/log-batch", &batch)?;
            (params, first) = (rest, false);
        }
        Ok(())
    }

    pub(crate) fn set_status(&self, run_id: &str, status: RunStatus) -> Result<()> {
        let mut body = json!({ "run_id": run_id, "status": status.as_str() });
        if status != RunStatus::Running {
            body["end_time"] = json!(now_ms());
        }
        self.post("runs/update", &body).map(drop)
    }

    /// Uploads `bytes` as the run's artifact `name` through the server's artifact proxy;
    /// `false` (nothing sent) when the run's artifacts go elsewhere (S3, a shared disk),
    /// which this client does not write.
    pub(crate) fn upload_artifact(
        &self,
        run: &RemoteRun,
        name: &str,
        bytes: &[u8],
    ) -> Result<bool> {
        let Some(path) = run.artifact_uri.strip_prefix("mlflow-artifacts:") else {
            return Ok(false);
        };
        let url = format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{}/{name}",
            self.base,
            path.trim_matches('/')
        );
        let response = self
            .agent
            .put(&url)
            .header("Content-Type", "application/octet-stream")
            .send(bytes);
        let (status, body) = read("artifact upload", response)?;
        // A successful upload answers with an empty body, not JSON.
        if (200..300).contains(&status) {
            return Ok(true);
        }
        answer("artifact upload", status, &body).map(|_| true)
    }

    /// A GET of `call` with one query parameter: the status and the body.
    fn get(&self, call: &str, (key, value): (&str, &str)) -> Result<(u16, String)> {
        let url = format!("{}/api/2.0/mlflow/{call}", self.base);
        let response = self.agent.get(&url).query(key, value).call();
        read(call, response)
    }

    fn post(&self, call: &str, body: &Value) -> Result<Value> {
        let url = format!("{}/api/2.0/mlflow/{call}", self.base);
        let response = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes());
        let (status, text) = read(call, response)?;
        answer(call, status, &text)
    }
}

fn key_values(pairs: &[(&str, String)]) -> Vec<Value> {
    pairs
        .iter()
        .map(|(key, value)| json!({ "key": key, "value": value }))
        .collect()
}

fn parse_run(value: Value, call: &str) -> Result<RemoteRun> {
    serde_json::from_value::<RunEnvelope>(value)
        .map(|envelope| envelope.run.into())
        .map_err(|e| Error::msg(format!("{call}: an answer without a run ({e})")))
}

fn string_at(value: &Value, pointer: &str, call: &str) -> Result<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::msg(format!("{call}: the answer has no {pointer}")))
}

/// The status and body of an answer; an error when there was none.
fn read(
    call: &str,
    response: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, String)> {
    let mut response = response.context(call)?;
    let status = response.status().as_u16();
    Ok((
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    ))
}

/// The JSON of a successful answer; an error with the server's own message otherwise.
fn answer(call: &str, status: u16, body: &str) -> Result<Value> {
    let value: Option<Value> = serde_json::from_str(body).ok();
    if (200..300).contains(&status) {
        return value.ok_or_else(|| Error::msg(format!("{call}: an answer that is not JSON")));
    }
    let message = value
        .as_ref()
        .and_then(|v| v.get("message"))
        .and_then(Value::as_str)
        .map_or_else(
            || body.chars().take(200).collect(),
            |m| m.chars().take(200).collect::<String>(),
        );
    Err(Error::msg(format!("{call}: HTTP {status}: {message}")))
}
