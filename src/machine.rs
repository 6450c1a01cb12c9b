//! What the program runs on, for the figures it reports.

/// The CPU model and how many threads the process may use, e.g.
/// "Intel(R) Xeon(R) Processor (AVX-512), 2 threads".
pub fn describe() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split_once(':')?.1.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}{}, {threads} threads", simd_level())
}

/// The widest x86 vector extension the fused LSTM and gemm can use here.
#[cfg(target_arch = "x86_64")]
fn simd_level() -> &'static str {
    if std::arch::is_x86_feature_detected!("avx512f") {
        " (AVX-512)"
    } else if std::arch::is_x86_feature_detected!("avx2") {
        " (AVX2)"
    } else {
        ""
    }
}

// `is_x86_feature_detected!` exists only on x86: other CPUs are named by their model alone.
#[cfg(not(target_arch = "x86_64"))]
fn simd_level() -> &'static str {
    ""
}

/// The process's peak resident memory (Linux `VmHWM`); 0 where it cannot be read.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib / 1024.0)
        })
        .unwrap_or(0.0)
}

/// The machine's physical memory (Linux `MemTotal`); `None` where it cannot be read.
pub fn total_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
