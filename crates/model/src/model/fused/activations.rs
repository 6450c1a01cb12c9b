//! Branch-free `exp`, `sigmoid` and `tanh` in plain arithmetic (no libm calls), so the cells'
//! per-unit loops vectorise.

/// e^x in plain arithmetic (no libm call), so the gate loops vectorise: range reduction to
/// x = n·ln2 + r with |r| ≤ ln2/2, then a degree-7 polynomial; relative error below 2e-7.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer without a rounding call.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = (-n).mul_add(LN2_LO, (-n).mul_add(LN2_HI, x));
    let p = horner(
        r,
        &[
            1.0,
            1.0,
            0.5,
            1.0 / 6.0,
            1.0 / 24.0,
            1.0 / 120.0,
            1.0 / 720.0,
            1.0 / 5040.0,
        ],
    );
    // n sits in the low mantissa bits of `shifted`; integer arithmetic on the bits (not a
    // float-to-int cast, which would not vectorise) builds 2^n.
    let n_int = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let scale = f32::from_bits(n_int.wrapping_add(127) << 23);
    p * scale
}

/// `c[0] + x·(c[1] + x·(c[2] + …))` in fused multiply-adds: one instruction a term in the
/// cells' AVX2 and AVX-512 builds, which is where the gate loops spend their time.
#[inline(always)]
fn horner(x: f32, coefficients: &[f32]) -> f32 {
    let (&highest, lower) = coefficients.split_last().expect("a polynomial");
    lower
        .iter()
        .rev()
        .fold(highest, |sum, &c| sum.mul_add(x, c))
}

#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// tanh with small relative error everywhere: a Taylor polynomial near zero, where
/// `1 - e^{-2|x|}` would cancel, and the exponential form elsewhere.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let e = exp(-2.0 * a);
    let far = (1.0 - e) / (1.0 + e);
    let a2 = a * a;
    let near = a * horner(
        a2,
        &[1.0, -1.0 / 3.0, 2.0 / 15.0, -17.0 / 315.0, 62.0 / 2835.0],
    );
    let magnitude = if a < 0.25 { near } else { far };
    magnitude.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_sigmoid_and_tanh_match_the_standard_library() {
        let mut worst = [0.0f64; 3];
        for k in -20_000..=20_000 {
            let x = k as f32 * 0.001;
            let errors = [
                ((exp(x) - x.exp()) / x.exp()).abs(),
                ((sigmoid(x) - 1.0 / (1.0 + (-x).exp())) / (1.0 / (1.0 + (-x).exp()))).abs(),
                if x == 0.0 {
                    tanh(x).abs()
                } else {
                    ((tanh(x) - x.tanh()) / x.tanh()).abs()
                },
            ];
            for (w, e) in worst.iter_mut().zip(errors) {
                *w = w.max(e as f64);
            }
        }
        assert!(
            worst.iter().all(|&w| w < 1e-6),
            "worst relative errors {worst:?}"
        );
        assert_eq!(tanh(-30.0), -1.0);
        assert!(sigmoid(-200.0) < 1e-37);
        assert_eq!(sigmoid(200.0), 1.0);
    }
}
