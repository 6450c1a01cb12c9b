//! What the program runs on, for the figures it reports.

/// The CPU model and how many threads the process may use, e.g.
/// "Intel(R) Xeon(R) Processor (AVX-512), 2 threads".
pub(crate) fn describe() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split_once(':')?.1.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    // The compute threads (rayon's pool: all cores, or RAYON_NUM_THREADS, which a sweep's
    // jobs are given).
    let threads = rayon::current_num_threads();
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

/// This process's peak resident memory (Linux `VmHWM`); 0 where it cannot be read.
pub fn peak_rss_mib() -> f64 {
    peak_rss_mib_of(std::process::id()).unwrap_or(0.0)
}

/// The peak resident memory of process `pid` (Linux `VmHWM`), where /proc has it.
pub(crate) fn peak_rss_mib_of(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The machine's physical memory (Linux `MemTotal`); `None` where it cannot be read.
pub(crate) fn total_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The CPU's single-precision arithmetic peak, measured: every thread the process may use runs
/// independent fused multiply-adds on the widest vectors the CPU has (AVX-512, else AVX2), the
/// most a GEMM micro-kernel can do; in GFLOP/s (a multiply-add is two). `None` on CPUs
/// without FMA.
pub fn fma_peak_gflops() -> Option<f64> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let probe = fma_probe::widest()?;
    // The first pass lets the cores reach their loaded clock; the best of the rest counts.
    (0..4)
        .map(|_| {
            let start = std::time::Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(|| std::hint::black_box(probe.run()));
                }
            });
            threads as f64 * probe.flops() / start.elapsed().as_secs_f64() / 1e9
        })
        .skip(1)
        .reduce(f64::max)
}

#[cfg(target_arch = "x86_64")]
mod fma_probe {
    use std::arch::x86_64::*;

    /// Independent accumulator chains, each starting from its own opaque value so that none
    /// can be folded into another: more than FMA latency × FMA units on current x86 cores, so
    /// the units never wait.
    const CHAINS: usize = 12;
    /// Rounds of `CHAINS` multiply-adds per thread: tens of milliseconds.
    const ROUNDS: usize = 10_000_000;

    #[derive(Clone, Copy)]
    pub(crate) enum Probe {
        Avx512,
        Avx2,
    }

    pub(crate) fn widest() -> Option<Probe> {
        if is_x86_feature_detected!("avx512f") {
            Some(Probe::Avx512)
        } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            Some(Probe::Avx2)
        } else {
            None
        }
    }

    impl Probe {
        pub(crate) fn flops(self) -> f64 {
            let lanes = match self {
                Probe::Avx512 => 16,
                Probe::Avx2 => 8,
            };
            (ROUNDS * CHAINS * lanes * 2) as f64
        }

        pub fn run(self) -> f32 {
            // SAFETY: `widest` chose the probe from what the CPU reports it has.
            unsafe {
                match self {
                    Probe::Avx512 => avx512(),
                    Probe::Avx2 => avx2(),
                }
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    fn avx2() -> f32 {
        let (scale, shift) = (_mm256_set1_ps(0.999_9), _mm256_set1_ps(1e-4));
        let mut chains: [__m256; CHAINS] =
            std::array::from_fn(|i| _mm256_set1_ps(std::hint::black_box(i as f32)));
        for _ in 0..ROUNDS {
            for chain in &mut chains {
                *chain = _mm256_fmadd_ps(*chain, scale, shift);
            }
        }
        let mut lanes = [0.0f32; 8];
        let sum = chains
            .iter()
            .fold(_mm256_setzero_ps(), |a, &b| _mm256_add_ps(a, b));
        // SAFETY: `lanes` holds the 8 floats an unaligned store writes.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }

    #[target_feature(enable = "avx512f")]
    fn avx512() -> f32 {
        let (scale, shift) = (_mm512_set1_ps(0.999_9), _mm512_set1_ps(1e-4));
        let mut chains: [__m512; CHAINS] =
            std::array::from_fn(|i| _mm512_set1_ps(std::hint::black_box(i as f32)));
        for _ in 0..ROUNDS {
            for chain in &mut chains {
                *chain = _mm512_fmadd_ps(*chain, scale, shift);
            }
        }
        _mm512_reduce_add_ps(
            chains
                .iter()
                .fold(_mm512_setzero_ps(), |a, &b| _mm512_add_ps(a, b)),
        )
    }
}

// Elsewhere no probe is written yet: the peak is left out of the figures.
#[cfg(not(target_arch = "x86_64"))]
mod fma_probe {
    #[derive(Clone, Copy)]
    pub(crate) enum Probe {}

    pub(crate) fn widest() -> Option<Probe> {
        None
    }

    impl Probe {
        pub(crate) fn flops(self) -> f64 {
            match self {}
        }

        pub fn run(self) -> f32 {
            match self {}
        }
    }
}
