use std::process::ExitCode;

fn main() -> ExitCode {
    // A bug of ours or of a library must still end in one readable line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown failure");
        let first_line = message.lines().next().unwrap_or_default();
        eprintln!("error: internal failure: {first_line}");
    }));
    let outcome = lstm_mnist::faults::configure_from_env().and_then(|()| lstm_mnist::cli::run());
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(lstm_mnist::error::Error::AlreadyReported) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
