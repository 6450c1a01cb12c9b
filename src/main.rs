use std::process::ExitCode;

fn main() -> ExitCode {
    // Burn makes a few tensors on its default device rather than the run's: an Adam state read
    // back from a checkpoint lives there until the next step moves it to the parameters'. With
    // wgpu compiled in, that default is the GPU, which a machine without one cannot give, so
    // `--resume` would fail there. Flex is always there; `BURN_DEVICE` set by the user stands.
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: the first statement of main, before any thread exists.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
    // A bug of ours or of a library must still end in one readable line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown failure");
        lstm_mnist::output::end_if_print_failure(message);
        let first_line = message.lines().next().unwrap_or_default();
        eprintln!("error: internal failure: {first_line}");
    }));
    let outcome = lstm_mnist::faults::configure_from_env().and_then(|()| lstm_mnist::cli::run());
    match outcome {
        Ok(()) | Err(lstm_mnist::error::Error::ReaderGone) => ExitCode::SUCCESS,
        Err(lstm_mnist::error::Error::AlreadyReported) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
