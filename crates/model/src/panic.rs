//! Panics inside third-party code on a malformed input (an image decoder), turned into that
//! input's error.

thread_local! {
    /// Set while [`contain_panic`] runs its closure on this thread.
    static CONTAINING_PANIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `work`, turning a panic inside it into its message: for third-party code that can
/// panic on a malformed input (an image decoder), so that the input's failure is reported as
/// that input's error. The binary's panic hook stays silent for a contained panic.
pub fn contain_panic<T>(work: impl FnOnce() -> T) -> std::result::Result<T, String> {
    let was = CONTAINING_PANIC.replace(true);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    CONTAINING_PANIC.set(was);
    outcome.map_err(|payload| {
        let message = panic_message(payload.as_ref());
        message.lines().next().unwrap_or_default().to_string()
    })
}

/// A panic's message, from its payload as the panic hook and `catch_unwind` hand it over.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("unknown failure")
}

/// Whether a panic on this thread now is one [`contain_panic`] catches.
pub fn panic_is_contained() -> bool {
    CONTAINING_PANIC.get()
}
