//! Run-time choice of the compute backend.

use std::fmt;
use std::path::PathBuf;

use burn::tensor::{Device, DeviceKind, Tensor};

use crate::error::{Error, Result};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Burn's fast pure-Rust CPU backend.
    #[default]
    Flex,
    /// The ndarray CPU backend (deprecated upstream, kept for comparison).
    Ndarray,
    /// GPU through wgpu (Vulkan, Metal, DX12, or GL where nothing else is found).
    Wgpu,
}

/// Where a command computes and where it reads its dataset: `--backend` and `--data-dir`,
/// shared by every command that does both.
#[derive(Debug, Clone, PartialEq)]
pub struct Compute {
    pub backend: Backend,
    /// The dataset's directory; without it, `$MNIST_DIR` or the user's cache (see
    /// `data::download::resolve_data_dir`).
    pub data_dir: Option<PathBuf>,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
        })
    }
}

impl Backend {
    /// The device for inference; call `.autodiff()` on it to train. For wgpu this checks that
    /// an adapter exists, so a machine without one gets a clear error instead of a panic.
    pub fn device(self) -> Result<Device> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[allow(deprecated)] // ndarray stays selectable for comparisons while Burn ships it
            Backend::Ndarray => Ok(Device::ndarray()),
            Backend::Wgpu => {
                let device = Device::wgpu(DeviceKind::DefaultDevice);
                if !initialises(&device) {
                    return Err(Error::msg(
                        "backend wgpu: no usable GPU adapter found (no Vulkan, GL or DX12 device); \
                         install a driver (e.g. mesa-vulkan-drivers) or use --backend flex",
                    ));
                }
                Ok(device)
            }
        }
    }
}

/// Runs one tiny computation. wgpu panics while initialising when it finds no adapter (on its
/// own thread, so the message that reaches us says nothing useful): only success matters.
fn initialises(device: &Device) -> bool {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome =
        std::panic::catch_unwind(|| Tensor::<1>::ones([1], device).sum().into_scalar::<f32>());
    std::panic::set_hook(previous_hook);
    outcome.is_ok()
}
