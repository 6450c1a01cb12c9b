//! Scratch buffers the kernels reuse from one call to the next. A training step allocates the
//! same tens of megabytes (tape, gate gradients) every time; fresh allocations cost zeroing and
//! page faults, about 5% of the step in profiles.

use std::sync::Mutex;

/// More buffers than this are dropped rather than kept (a step uses a handful per thread).
const MAX_KEPT: usize = 32;

static FREE: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());

/// A buffer of `len` values holding whatever an earlier use left in it (zeros where it had to
/// grow): only for buffers the caller overwrites entirely before reading.
pub fn take_scratch(len: usize) -> Vec<f32> {
    let reused = {
        let mut free = FREE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // The smallest free buffer that is large enough.
        let best = free
            .iter()
            .enumerate()
            .filter(|(_, buffer)| buffer.capacity() >= len)
            .min_by_key(|(_, buffer)| buffer.capacity())
            .map(|(index, _)| index);
        best.map(|index| free.swap_remove(index))
    };
    match reused {
        Some(mut buffer) => {
            // Only a grown tail is written (zeros); the rest keeps its old values.
            buffer.resize(len, 0.0);
            buffer
        }
        None => vec![0.0; len],
    }
}

/// Hands a buffer back for later calls.
pub fn give_back(buffer: Vec<f32>) {
    if buffer.capacity() == 0 {
        return;
    }
    let mut free = FREE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if free.len() < MAX_KEPT {
        free.push(buffer);
    }
}
