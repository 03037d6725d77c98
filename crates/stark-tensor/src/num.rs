//! Arithmetic traits over element types: `Numeric` (everything but `Bool`)
//! and `Float` (`f32`, `f64`), plus a vectorisable `exp` for `f32`.

use crate::dtype::Element;

/// An element type with arithmetic: `u8`, `i32`, `i64`, `f32`, `f64`.
pub trait Numeric: Element {
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// `a + b` (integers wrap).
    fn add(self, other: Self) -> Self;
    /// `a - b` (integers wrap).
    fn sub(self, other: Self) -> Self;
    /// `a * b` (integers wrap).
    fn mul(self, other: Self) -> Self;
    /// `a / b` (integers: truncating and wrapping; 0 for a zero divisor, which tensors reject first).
    fn div(self, other: Self) -> Self;
    /// `a % b` with the sign of `a` (integers: 0 for a zero divisor, which tensors reject first).
    fn rem(self, other: Self) -> Self;
    /// Whether this is zero (an integer divisor that `/` and `%` reject).
    fn is_zero(self) -> bool;
}

macro_rules! integer {
    ($t:ty) => {
        impl Numeric for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            #[inline(always)]
            fn add(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
            #[inline(always)]
            fn sub(self, other: Self) -> Self {
                self.wrapping_sub(other)
            }
            #[inline(always)]
            fn mul(self, other: Self) -> Self {
                self.wrapping_mul(other)
            }
            #[inline(always)]
            fn div(self, other: Self) -> Self {
                if other == 0 {
                    0
                } else {
                    self.wrapping_div(other)
                }
            }
            #[inline(always)]
            fn rem(self, other: Self) -> Self {
                if other == 0 {
                    0
                } else {
                    self.wrapping_rem(other)
                }
            }
            #[inline(always)]
            fn is_zero(self) -> bool {
                self == 0
            }
        }
    };
}

integer!(u8);
integer!(i32);
integer!(i64);

/// A floating-point element type: `f32` or `f64`.
pub trait Float: Numeric {
    /// Negative infinity.
    const NEG_INFINITY: Self;
    /// `e^x`.
    fn exp(self) -> Self;
    /// The natural logarithm.
    fn ln(self) -> Self;
    /// The square root.
    fn sqrt(self) -> Self;
    /// The hyperbolic tangent.
    fn tanh(self) -> Self;
    /// `1 / (1 + e^-x)`.
    fn sigmoid(self) -> Self;
    /// A float from a `usize` count.
    fn from_count(n: usize) -> Self;
}

macro_rules! float {
    ($t:ty, $exp:path) => {
        impl Numeric for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn add(self, other: Self) -> Self {
                self + other
            }
            #[inline(always)]
            fn sub(self, other: Self) -> Self {
                self - other
            }
            #[inline(always)]
            fn mul(self, other: Self) -> Self {
                self * other
            }
            #[inline(always)]
            fn div(self, other: Self) -> Self {
                self / other
            }
            #[inline(always)]
            fn rem(self, other: Self) -> Self {
                self % other
            }
            #[inline(always)]
            fn is_zero(self) -> bool {
                self == 0.0
            }
        }
        impl Float for $t {
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            #[inline(always)]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn sigmoid(self) -> Self {
                1.0 / (1.0 + $exp(-self))
            }
            #[inline(always)]
            fn from_count(n: usize) -> Self {
                n as $t
            }
        }
    };
}

float!(f32, exp_f32);
float!(f64, f64::exp);

/// `e^x` for `f32` without branches or calls, so loops over it vectorise.
///
/// Cephes' method: `x = n ln 2 + r` with `|r| <= ln 2 / 2`, a degree-6
/// polynomial for `e^r`, and `2^n` built from exponent bits (split in two
/// factors so that every `n` in range stays a normal float). Relative error is
/// within 2 ulp for normal results; results below `f32::MIN_POSITIVE` round
/// through the subnormals to 0, overflow gives infinity, and NaN stays NaN.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    // Comparisons are false for NaN, which therefore flows through to the result.
    let x = if x < -104.0 { -104.0 } else { x };
    let x = if x > 89.0 { 89.0 } else { x };
    let t = x * LOG2_E + ROUND;
    let n = t - ROUND;
    let k = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e = p * r * r + r + 1.0;
    let k1 = k >> 1;
    let k2 = k.wrapping_sub(k1);
    e * pow2(k1) * pow2(k2)
}

/// `2^k` for `k` in `-126..=127`, from exponent bits.
#[inline(always)]
fn pow2(k: i32) -> f32 {
    f32::from_bits((k.wrapping_add(127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The distance in units in the last place between two finite non-negative floats.
    fn ulps(a: f32, b: f32) -> u32 {
        a.to_bits().abs_diff(b.to_bits())
    }

    /// `e^x` computed in `f64` and rounded once to `f32`: the correctly rounded result, nearly always.
    fn reference(x: f32) -> f32 {
        (x as f64).exp() as f32
    }

    #[test]
    fn exp_f32_is_within_two_ulp_of_exp_in_f64_over_a_dense_sweep() {
        // Every 1009th float of each sign up to the clamps: about two million
        // inputs, dense near 0 as the floats are, and reaching the
        // subnormal results below -87.3 and the overflow above 88.72.
        let positive = (0..=89.0f32.to_bits()).step_by(1009).map(f32::from_bits);
        let negative = (0..=104.0f32.to_bits()).step_by(1009).map(|b| -f32::from_bits(b));
        let mut worst = (0, 0.0);
        for x in positive.chain(negative) {
            let (got, want) = (exp_f32(x), reference(x));
            if want.is_infinite() {
                assert_eq!(got, want, "exp({x}) should overflow");
                continue;
            }
            let error = ulps(got, want);
            if error > worst.0 {
                worst = (error, x);
            }
        }
        assert!(worst.0 <= 2, "exp({}) is {} ulp from exp in f64", worst.1, worst.0);
    }

    #[test]
    fn exp_f32_edge_values_match_libm() {
        let overflow = 88.722_84f32; // the first float whose e^x exceeds f32::MAX
        let cases = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            1e-45,
            f32::EPSILON,
            88.722_83,
            overflow,
            89.0,
            1000.0,
            f32::MAX,
            -87.336_54,  // e^x near f32::MIN_POSITIVE
            -103.972_08, // e^x near the smallest subnormal
            -104.0,
            -150.0,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        for x in cases {
            let (got, want) = (exp_f32(x), x.exp());
            assert!(got == want || ulps(got, want) <= 2, "exp({x}) = {got}, libm gives {want}");
        }
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(overflow), f32::INFINITY);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-150.0), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert!(exp_f32(-f32::NAN).is_nan());
    }

    #[test]
    fn integer_arithmetic_wraps_and_division_by_zero_is_zero() {
        assert_eq!(250u8.add(10), 4);
        assert_eq!(i32::MAX.add(1), i32::MIN);
        assert_eq!(7i64.div(0), 0);
        assert_eq!(i32::MIN.div(-1), i32::MIN);
        assert_eq!((-7i32).rem(3), -1);
        assert_eq!((-7.5f64).rem(2.0), -1.5);
    }
}
