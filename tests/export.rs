//! Models that leave: `export-onnx` run in tract (a pure-Rust ONNX runtime), `export-torch`
//! read back as a PyTorch state_dict, and `import-torch` of state_dicts that PyTorch itself
//! trained and saved (tests/fixtures/torch, made once by tools/torch_fixtures.py; these tests
//! need no Python).

mod common;

use std::path::{Path, PathBuf};

use common::{
    PROBE_IMAGES, assert_one_line_error, largest_difference, our_probabilities, run, succeeded,
};
use lstm_mnist::data::idx;
use lstm_mnist::onnx;
use prost::Message;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use tract_onnx::pb::ModelProto;

const CELLS: [&str; 3] = ["lstm", "gru", "rnn"];
/// Every probability within this of the model's own: the aim.
const PARITY: f64 = 1e-5;

/// Small runs trained here with Burn's two biases (16 units), one per cell.
fn small_run(cell: &str) -> PathBuf {
    Path::new("tests/fixtures/keras").join(format!("burn-{cell}"))
}

fn export(command: &str, run_dir: &Path, output: &Path) -> String {
    let done = succeeded(run(&[
        command,
        run_dir.to_str().unwrap(),
        output.to_str().unwrap(),
    ]));
    String::from_utf8(done.stdout).unwrap()
}

/// The 20 probe images as model inputs in [0, 1].
fn probe_pixels() -> Vec<f32> {
    let bytes = std::fs::read(PROBE_IMAGES).unwrap();
    idx::parse_images(Path::new(PROBE_IMAGES), &bytes)
        .unwrap()
        .pixels
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect()
}

/// tract's probabilities for the 20 probe images, by class.
fn tract_probabilities(onnx_file: &Path) -> Vec<Vec<f64>> {
    let bytes = std::fs::read(onnx_file).unwrap();
    let flat = onnx::run(&bytes, &probe_pixels()).unwrap();
    flat.chunks(10)
        .map(|row| row.iter().map(|&p| f64::from(p)).collect())
        .collect()
}

/// A run with Keras's single bias (the recurrent transform has none): Keras's LSTM imported.
fn keras_bias_run(artifacts: &Path) -> PathBuf {
    succeeded(run(&[
        "import-keras",
        "tests/fixtures/keras/lstm.keras",
        "--name",
        "keras-lstm",
        "--artifacts",
        artifacts.to_str().unwrap(),
    ]));
    artifacts.join("keras-lstm")
}

#[test]
fn onnx_exports_of_every_cell_run_in_tract_as_the_model_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs: Vec<PathBuf> = CELLS.iter().map(|cell| small_run(cell)).collect();
    runs.push(PathBuf::from("artifacts/lstm-adam"));
    runs.push(keras_bias_run(dir.path()));
    for (k, run_dir) in runs.iter().enumerate() {
        let file = dir.path().join(format!("{k}.onnx"));
        let said = export("export-onnx", run_dir, &file);
        assert!(said.contains("ONNX opset 17"), "{said}");
        let difference =
            largest_difference(&tract_probabilities(&file), &our_probabilities(run_dir));
        println!(
            "{}: ONNX in tract, largest difference {difference:.1e}",
            run_dir.display()
        );
        assert!(difference <= PARITY, "{}: {difference}", run_dir.display());
    }
}

#[test]
fn the_onnx_graph_is_onnx_s_own_operators_with_a_dynamic_batch() {
    let dir = tempfile::tempdir().unwrap();
    for (cell, operator) in CELLS.iter().zip(["LSTM", "GRU", "RNN"]) {
        let file = dir.path().join(format!("{cell}.onnx"));
        export("export-onnx", &small_run(cell), &file);
        let model = ModelProto::decode(&std::fs::read(&file).unwrap()[..]).unwrap();
        assert_eq!(model.opset_import[0].version, 17);
        let graph = model.graph.unwrap();
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Transpose", operator, "Reshape", "Gemm", "Softmax"]);
        let reset_after = graph.node[1]
            .attribute
            .iter()
            .any(|a| a.name == "linear_before_reset" && a.i == 1);
        assert_eq!(reset_after, *cell == "gru", "{cell}");
        assert_eq!(graph.input[0].name, "images");
        assert_eq!(graph.output[0].name, "probabilities");
        let input = format!("{:?}", graph.input[0]);
        assert!(input.contains("DimParam(\"N\")"), "{input}");
    }
}

/// The state_dict's arrays: name, shape.
fn state_dict_shapes(file: &Path) -> Vec<(String, Vec<usize>)> {
    let bytes = std::fs::read(file).unwrap();
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let mut shapes: Vec<(String, Vec<usize>)> = tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            assert_eq!(view.dtype(), Dtype::F32, "{name}");
            (name, view.shape().to_vec())
        })
        .collect();
    shapes.sort();
    shapes
}

#[test]
fn torch_exports_are_the_module_s_state_dict_and_import_back_to_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    for (cell, gates) in CELLS.iter().zip([4, 3, 1]) {
        let file = dir.path().join(format!("{cell}.safetensors"));
        export("export-torch", &small_run(cell), &file);
        let rows = gates * 16;
        let expected: Vec<(String, Vec<usize>)> = vec![
            ("head.bias".into(), vec![10]),
            ("head.weight".into(), vec![10, 16]),
            ("recurrent.bias_hh_l0".into(), vec![rows]),
            ("recurrent.bias_ih_l0".into(), vec![rows]),
            ("recurrent.weight_hh_l0".into(), vec![rows, 16]),
            ("recurrent.weight_ih_l0".into(), vec![rows, 28]),
        ];
        assert_eq!(state_dict_shapes(&file), expected, "{cell}");

        let name = format!("{cell}-back");
        succeeded(import_torch(&file, cell, dir.path(), &name));
        let back = our_probabilities(&dir.path().join(&name));
        let difference = largest_difference(&back, &our_probabilities(&small_run(cell)));
        assert!(difference <= 1e-7, "{cell}: {difference}");
    }
}

#[test]
fn a_keras_bias_run_exports_zeros_for_the_missing_bias() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = keras_bias_run(dir.path());
    let file = dir.path().join("keras.safetensors");
    export("export-torch", &run_dir, &file);
    let bytes = std::fs::read(&file).unwrap();
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let bias_hh = tensors.tensor("recurrent.bias_hh_l0").unwrap();
    assert!(
        bias_hh.data().iter().all(|&b| b == 0),
        "bias_hh is not zero"
    );
    let bias_ih = tensors.tensor("recurrent.bias_ih_l0").unwrap();
    assert!(
        bias_ih.data().iter().any(|&b| b != 0),
        "bias_ih lost Keras's bias"
    );

    succeeded(import_torch(&file, "lstm", dir.path(), "keras-back"));
    let back = our_probabilities(&dir.path().join("keras-back"));
    assert!(largest_difference(&back, &our_probabilities(&run_dir)) <= 1e-7);
}

fn import_torch(file: &Path, cell: &str, artifacts: &Path, name: &str) -> std::process::Output {
    run(&[
        "import-torch",
        file.to_str().unwrap(),
        "--cell",
        cell,
        "--name",
        name,
        "--artifacts",
        artifacts.to_str().unwrap(),
    ])
}

#[test]
fn models_trained_in_pytorch_import_with_pytorch_s_answers() {
    let artifacts = tempfile::tempdir().unwrap();
    for cell in CELLS {
        let fixture = Path::new("tests/fixtures/torch").join(format!("{cell}.safetensors"));
        let imported = succeeded(import_torch(&fixture, cell, artifacts.path(), cell));
        let said = String::from_utf8_lossy(&imported.stdout);
        assert!(said.contains("PyTorch state_dict"), "{said}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture.with_extension("json")).unwrap())
                .unwrap();
        let pytorch: Vec<Vec<f64>> = serde_json::from_value(json["probabilities"].clone()).unwrap();
        let difference =
            largest_difference(&our_probabilities(&artifacts.path().join(cell)), &pytorch);
        println!("{cell}: import-torch, largest difference from PyTorch {difference:.1e}");
        assert!(difference <= PARITY, "{cell}: {difference}");
    }
}

/// The arrays of a safetensors file: name, shape, element type.
type Arrays = Vec<(&'static str, Vec<usize>, Dtype)>;

/// A safetensors file of zeros holding `arrays`.
fn safetensors_file(path: &Path, arrays: &Arrays) {
    let bytes: Vec<Vec<u8>> = arrays
        .iter()
        .map(|(_, shape, dtype)| vec![0u8; shape.iter().product::<usize>() * dtype.bitsize() / 8])
        .collect();
    let views = arrays
        .iter()
        .zip(&bytes)
        .map(|((name, shape, dtype), bytes)| {
            (
                *name,
                TensorView::new(*dtype, shape.clone(), bytes).unwrap(),
            )
        });
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

#[test]
fn foreign_damaged_and_misfitting_state_dicts_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let lstm = Path::new("tests/fixtures/torch/lstm.safetensors");
    let truncated = dir.path().join("truncated.safetensors");
    std::fs::write(&truncated, &std::fs::read(lstm).unwrap()[..500]).unwrap();
    let good = [
        ("recurrent.weight_ih_l0", vec![64, 28], Dtype::F32),
        ("recurrent.weight_hh_l0", vec![64, 16], Dtype::F32),
        ("recurrent.bias_ih_l0", vec![64], Dtype::F32),
        ("recurrent.bias_hh_l0", vec![64], Dtype::F32),
        ("head.weight", vec![10, 16], Dtype::F32),
        ("head.bias", vec![10], Dtype::F32),
    ];
    let with = |name: &str, change: &dyn Fn(&mut Arrays)| {
        let mut arrays = good.to_vec();
        change(&mut arrays);
        let path = dir.path().join(format!("{name}.safetensors"));
        safetensors_file(&path, &arrays);
        path
    };
    let unknown = with("unknown", &|a| {
        a.push(("recurrent.weight_ih_l1", vec![64, 16], Dtype::F32))
    });
    let missing = with("missing", &|a| {
        a.remove(5);
    });
    let wide_head = with("wide-head", &|a| a[4].1 = vec![12, 16]);
    let doubles = with("doubles", &|a| a[0].2 = Dtype::F64);
    let picture = PathBuf::from("docs/serve-page.png");
    let cases: [(&Path, &str, &[&str]); 7] = [
        (
            &truncated,
            "lstm",
            &["truncated.safetensors", "not a readable safetensors file"],
        ),
        (
            &picture,
            "lstm",
            &["serve-page.png", "not a readable safetensors file"],
        ),
        (
            lstm,
            "gru",
            &[
                "lstm.safetensors",
                "recurrent.weight_hh_l0",
                "[64, 16]",
                "--cell",
            ],
        ),
        (
            &unknown,
            "lstm",
            &[
                "unknown.safetensors",
                "`recurrent.weight_ih_l1`",
                "expected exactly",
            ],
        ),
        (
            &missing,
            "lstm",
            &["missing.safetensors", "has no `head.bias`"],
        ),
        (
            &wide_head,
            "lstm",
            &["wide-head.safetensors", "`head.weight` has shape [12, 16]"],
        ),
        (&doubles, "lstm", &["doubles.safetensors", "F64", "F32"]),
    ];
    for (file, cell, expected) in cases {
        let output = import_torch(file, cell, dir.path(), "refused");
        assert_one_line_error(&output, expected);
        assert!(!dir.path().join("refused").exists(), "{}", file.display());
    }
}

#[test]
fn exports_keep_what_is_there_and_name_a_missing_run() {
    let dir = tempfile::tempdir().unwrap();
    for (command, name) in [("export-onnx", "m.onnx"), ("export-torch", "m.safetensors")] {
        let output = dir.path().join(name);
        std::fs::write(&output, b"mine").unwrap();
        let refused = run(&[
            command,
            "tests/fixtures/keras/burn-rnn",
            output.to_str().unwrap(),
        ]);
        assert_one_line_error(&refused, &[name, "already exists", "--overwrite"]);
        assert_eq!(std::fs::read(&output).unwrap(), b"mine");

        let fresh = dir.path().join(format!("fresh-{name}"));
        let missing = run(&[command, "artifacts/no-such-run", fresh.to_str().unwrap()]);
        assert_one_line_error(&missing, &["no-such-run"]);
        assert!(!fresh.exists());
    }
}
