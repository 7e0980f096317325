using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace NativeEE.Kernels;

/// <summary>
/// The register-blocked inner kernel of the GEMM, after BLIS: it multiplies a block of up to
/// <see cref="MR"/> rows of X (read in place, row stride <c>lda</c>) by one packed W panel
/// (<c>kc</c> steps of <see cref="NR"/> contiguous floats) and writes an MR×NR tile of Y.
/// Ragged N edges never reach it: panels are zero-padded by <see cref="GemmPacking"/> and the driver
/// redirects edge tiles to a scratch tile.
/// <para><b>Batch invariance.</b> Every row count runs the same computation per element — one FMA chain over k
/// in order, per K block — so a row of Y is bit-identical whether it is computed alone or among other rows, and
/// a sentence classified alone or inside a batch gets the same bits (and the same exit decision). Short blocks
/// (1–3 rows) used to send odd k steps to idle accumulators to hide FMA latency; measured on Zen 5 (AVX-512,
/// `gemm-table --shapes shared --rows 1,3 --weights both`) dropping that was faster with cold weights — what a
/// forward pass streams: M = 1 12 → 16 GFLOP/s — and slower only on hot, cache-resident tiny shapes
/// (1 × 384 × 384: 69 → 51 GFLOP/s); on AVX2 hot M = 1 went from ~2.8× to ~1.8× a plain dot loop.</para>
/// </summary>
internal unsafe interface IMicroKernel
{
    /// <summary>Rows of the register tile (the most rows one call handles).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the register tile = width of a packed W panel.</summary>
    static abstract int NR { get; }

    /// <summary>K block: the MR×KC slice of X a row block keeps in L1 while W streams past it (Y is reloaded once per K block).</summary>
    static abstract int KC { get; }

    /// <summary>
    /// C[rows,NR] = (accumulate ? C : 0) + A[rows,kc]·B[kc,NR] (+ bias[NR] when non-null), for 1 ≤ rows ≤ MR.
    /// A rows are <paramref name="lda"/> floats apart, C rows <paramref name="ldc"/>; B is one packed panel.
    /// At each k step p it also requests <typeparamref name="TPrefetch"/> cache lines from
    /// <c>prefetch + p·prefetchStep</c>: W that a later call will read (see <see cref="GemmDriver{TKernel}"/>),
    /// so its DRAM latency hides behind this tile's FMAs. A hint only: never read, may point anywhere.
    /// </summary>
    static abstract void Run<TPrefetch>(int rows, float* a, nint lda, float* b, int kc, float* c, nint ldc, bool accumulate, float* bias,
        float* prefetch, nint prefetchStep) where TPrefetch : struct, IPrefetch;
}

/// <summary>Cache lines a microkernel prefetches per k step, known to the JIT (0 costs nothing in the loop).</summary>
internal interface IPrefetch
{
    static abstract int Lines { get; }
}

internal struct PrefetchNone : IPrefetch { public static int Lines => 0; }
internal struct PrefetchOneLine : IPrefetch { public static int Lines => 1; }
internal struct PrefetchTwoLines : IPrefetch { public static int Lines => 2; }

internal static unsafe class Prefetch
{
    /// <summary>
    /// Requests the <typeparamref name="TPrefetch"/> lines at <paramref name="at"/> (64 bytes apart) into L2 and
    /// L1. x86 only (.NET exposes no Arm prefetch); elsewhere a no-op, which changes timing, never results.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step<TPrefetch>(float* at) where TPrefetch : struct, IPrefetch
    {
        if (!Sse.IsSupported) return;
        if (TPrefetch.Lines > 0) Sse.Prefetch0(at);
        if (TPrefetch.Lines > 1) Sse.Prefetch0(at + 16);
    }
}

/// <summary>A row count known to the JIT: each microkernel body is instantiated once per count, so unused rows cost nothing.</summary>
internal interface IRowCount
{
    static abstract int Value { get; }
}

internal struct Rows1 : IRowCount { public static int Value => 1; }
internal struct Rows2 : IRowCount { public static int Value => 2; }
internal struct Rows3 : IRowCount { public static int Value => 3; }
internal struct Rows4 : IRowCount { public static int Value => 4; }
internal struct Rows5 : IRowCount { public static int Value => 5; }
internal struct Rows6 : IRowCount { public static int Value => 6; }
internal struct Rows7 : IRowCount { public static int Value => 7; }
internal struct Rows8 : IRowCount { public static int Value => 8; }
