using System.Runtime.CompilerServices;

namespace NativeEE.Kernels;

/// <summary>
/// Float exp, Gaussian tail and tanh for any <see cref="IVectorWidth{TV}"/>, written once.
/// Coefficients are our own fits (Chebyshev fits in 40-digit arithmetic, coefficients rounded to
/// float one at a time with the lower ones refitted); measured errors are in the tests.
/// None of these needs a fused multiply-add to reach its accuracy, so the SSE path without FMA agrees.
/// </summary>
internal static class VectorMath
{
    const float Log2E = 1.44269504f;
    // ln 2 split so that n·Ln2Hi is exact for |n| < 2¹⁵: Ln2Hi has 9 significant bits.
    const float Ln2Hi = 0.693359375f;
    const float Ln2Lo = -2.12194440e-4f;
    // Adding 1.5·2²³ rounds to an integer held in the low mantissa bits (see Pow2FromRounded).
    const float RoundMagic = 12582912f;
    // ln(2⁻¹²⁶): below this exp would be subnormal; we return 0 (softmax and GELU lose nothing).
    const float ExpUnderflow = -87.33654f;

    /// <summary>
    /// eˣ for x ≤ 88.3 (all callers pass x ≤ 0): relative error ≲ 1.5 ulp; 0 below ln 2⁻¹²⁶,
    /// so −∞ → 0; NaN → NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<W, TV>(TV x) where W : IVectorWidth<TV> where TV : struct
    {
        TV under = W.LessThan(x, W.Create(ExpUnderflow));
        TV xc = W.Select(under, W.Create(ExpUnderflow), x);
        TV t = W.MultiplyAdd(xc, W.Create(Log2E), W.Create(RoundMagic));
        TV n = W.Subtract(t, W.Create(RoundMagic));
        TV r = W.MultiplyAdd(n, W.Create(-Ln2Hi), xc);
        r = W.MultiplyAdd(n, W.Create(-Ln2Lo), r);
        return W.AndNot(W.Multiply(ExpReduced<W, TV>(r), W.Pow2FromRounded(t)), under);
    }

    /// <summary>
    /// e^(a+b) for a large argument given as an exactly representable a plus a smaller b:
    /// the range reduction subtracts n·ln2 from a first (exactly, by Sterbenz), so b keeps its
    /// full precision. Same range and error as <see cref="Exp{W, TV}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<W, TV>(TV a, TV b) where W : IVectorWidth<TV> where TV : struct
    {
        TV x = W.Add(a, b);
        TV under = W.LessThan(x, W.Create(ExpUnderflow));
        TV xc = W.Select(under, W.Create(ExpUnderflow), x);
        TV t = W.MultiplyAdd(xc, W.Create(Log2E), W.Create(RoundMagic));
        TV n = W.Subtract(t, W.Create(RoundMagic));
        TV r = W.Add(W.MultiplyAdd(n, W.Create(-Ln2Hi), a), b);
        r = W.MultiplyAdd(n, W.Create(-Ln2Lo), r);
        return W.AndNot(W.Multiply(ExpReduced<W, TV>(r), W.Pow2FromRounded(t)), under);
    }

    /// <summary>eʳ for |r| ≤ ln2/2 as 1 + r + r²·P(r); P's error (2.5e-7) is scaled by r² ≤ 0.12.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TV ExpReduced<W, TV>(TV r) where W : IVectorWidth<TV> where TV : struct
    {
        TV p = W.MultiplyAdd(W.Create(0.0013926175888627768f), r, W.Create(0.008357199840247631f));
        p = W.MultiplyAdd(p, r, W.Create(0.041666533797979355f));
        p = W.MultiplyAdd(p, r, W.Create(0.1666659563779831f));
        p = W.MultiplyAdd(p, r, W.Create(0.5f));
        return W.Add(W.MultiplyAdd(W.Multiply(r, r), p, r), W.Create(1f));
    }

    // Φ(−a) = u·K·exp(−a²/2 + R(u − ½)), u = 1/(1 + 0.3·a): R absorbs the slowly varying part of the
    // Mills ratio; fitted for a ∈ [0, 13.5] (beyond, the result underflows), |error of R| ≤ 5.3e-8.
    // K = e^−1.408 centres R's range on 0, so R is evaluated to ~3e-8 rather than ulp(2).
    const float TailScale = 0.3f;
    const float TailK = 0.2446320652961731f;
    // a is clamped here: Φ(−14) is already 0 in float, and the clamp keeps ±∞ away from the split below.
    const float TailClamp = 14f;

    /// <summary>
    /// The standard normal lower tail Φ(−a) for a ≥ 0 (NaN passes through), with a relative error
    /// ≲ 3e-7 down to the underflow near a = 13.2, and 0 beyond. Used for GELU: x·Φ(x).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV NormalTail<W, TV>(TV a) where W : IVectorWidth<TV> where TV : struct
    {
        a = W.Select(W.GreaterThan(a, W.Create(TailClamp)), W.Create(TailClamp), a);
        TV u = W.Divide(W.Create(1f), W.MultiplyAdd(a, W.Create(TailScale), W.Create(1f)));
        TV s = W.Subtract(u, W.Create(0.5f));
        TV r = W.MultiplyAdd(W.Create(0.11304816603660583f), s, W.Create(0.04699208214879036f));
        r = W.MultiplyAdd(r, s, W.Create(-0.2822430729866028f));
        r = W.MultiplyAdd(r, s, W.Create(-0.00898765865713358f));
        r = W.MultiplyAdd(r, s, W.Create(0.30976516008377075f));
        r = W.MultiplyAdd(r, s, W.Create(0.052246369421482086f));
        r = W.MultiplyAdd(r, s, W.Create(-0.3481196463108063f));
        r = W.MultiplyAdd(r, s, W.Create(-0.2253730595111847f));
        r = W.MultiplyAdd(r, s, W.Create(0.46017125248908997f));
        r = W.MultiplyAdd(r, s, W.Create(1.4828944206237793f));
        r = W.MultiplyAdd(r, s, W.Create(-0.09721027314662933f));
        // −a²/2 exactly: ah keeps a's top 12 significant bits, so ah² is exact in float and
        // a² = ah² + al·(a + ah) with al = a − ah. A plain a·a would lose ~4e-6 relative at a = 13.
        TV ah = W.And(a, W.CreateFromBits(unchecked((int)0xFFFF_F000)));
        TV al = W.Subtract(a, ah);
        TV big = W.Multiply(W.Multiply(ah, ah), W.Create(-0.5f));
        TV small = W.MultiplyAdd(W.Multiply(al, W.Create(-0.5f)), W.Add(a, ah), r);
        return W.Multiply(W.Multiply(u, W.Create(TailK)), Exp<W, TV>(big, small));
    }

    /// <summary>
    /// tanh(x): relative error ≲ 2 ulp; ±1 beyond |x| ≈ 9; keeps the sign of ±0; NaN → NaN.
    /// An odd polynomial below |x| = 0.625 (where 1 − e^−2|x| would cancel), (1 − e)/(1 + e) with e = e^−2|x| above.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<W, TV>(TV x) where W : IVectorWidth<TV> where TV : struct
    {
        TV a = W.Abs(x);
        a = W.Select(W.GreaterThan(a, W.Create(10f)), W.Create(10f), a);
        TV a2 = W.Multiply(a, a);
        TV p = W.MultiplyAdd(W.Create(0.002292744815349579f), a2, W.Create(-0.008335722610354424f));
        p = W.MultiplyAdd(p, a2, W.Create(0.021762464195489883f));
        p = W.MultiplyAdd(p, a2, W.Create(-0.05395759642124176f));
        p = W.MultiplyAdd(p, a2, W.Create(0.13333287835121155f));
        p = W.MultiplyAdd(p, a2, W.Create(-0.3333333134651184f));
        TV small = W.MultiplyAdd(W.Multiply(a, a2), p, a);
        TV e = Exp<W, TV>(W.Multiply(a, W.Create(-2f)));
        TV large = W.Divide(W.Subtract(W.Create(1f), e), W.Add(W.Create(1f), e));
        TV result = W.Select(W.LessThan(a, W.Create(0.625f)), small, large);
        return W.Or(result, W.And(x, W.Create(-0f)));
    }
}
