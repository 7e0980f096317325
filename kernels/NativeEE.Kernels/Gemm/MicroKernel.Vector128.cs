using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NativeEE.Kernels;

/// <summary>
/// 6×8 tile on 128-bit vectors (SSE / NEON): 12 accumulators + 2 W vectors + 1 broadcast fit the
/// 16 xmm registers of x64 (NEON has 32).
/// </summary>
internal readonly unsafe struct MicroKernel6x8 : IMicroKernel
{
    public static int MR => 6;
    public static int NR => 8;
    public static int KC => 768; // see GemmDriver: a 768-deep W panel (≤ 96 KB) stays in L2 while every row block reads it

    public static void Run<TPrefetch>(int rows, float* a, nint lda, float* b, int kc, float* c, nint ldc, bool accumulate, float* bias,
        float* prefetch, nint prefetchStep) where TPrefetch : struct, IPrefetch
    {
        switch (rows)
        {
            case 6: Tile<Rows6, TPrefetch>(a, lda, b, kc, c, ldc, accumulate, bias, prefetch, prefetchStep); break;
            case 5: Tile<Rows5, TPrefetch>(a, lda, b, kc, c, ldc, accumulate, bias, prefetch, prefetchStep); break;
            case 4: Tile<Rows4, TPrefetch>(a, lda, b, kc, c, ldc, accumulate, bias, prefetch, prefetchStep); break;
            case 3: Tile<Rows3, TPrefetch>(a, lda, b, kc, c, ldc, accumulate, bias, prefetch, prefetchStep); break;
            case 2: Tile<Rows2, TPrefetch>(a, lda, b, kc, c, ldc, accumulate, bias, prefetch, prefetchStep); break;
            default: Tile<Rows1, TPrefetch>(a, lda, b, kc, c, ldc, accumulate, bias, prefetch, prefetchStep); break;
        }
    }

    [SkipLocalsInit]
    static void Tile<TRows, TPrefetch>(float* a, nint lda, float* b, int kc, float* c, nint ldc, bool accumulate, float* bias,
        float* prefetch, nint prefetchStep) where TRows : struct, IRowCount where TPrefetch : struct, IPrefetch
    {
        int r = TRows.Value;
        Vector128<float> c0_0 = default, c0_1 = default, c1_0 = default, c1_1 = default, c2_0 = default, c2_1 = default;
        Vector128<float> c3_0 = default, c3_1 = default, c4_0 = default, c4_1 = default, c5_0 = default, c5_1 = default;
        float* a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        Vector128<float> av;
        nint p = 0;
        for (; p < kc; p++, b += 8)
        {
            Vector128<float> b0 = Vector128.Load(b), b1 = Vector128.Load(b + 4);
            Prefetch.Step<TPrefetch>(prefetch + p * prefetchStep);
            av = Vector128.Create(a0[p]);
            c0_0 = Vector128.MultiplyAddEstimate(av, b0, c0_0);
            c0_1 = Vector128.MultiplyAddEstimate(av, b1, c0_1);
            if (r > 1)
            {
                av = Vector128.Create(a1[p]);
                c1_0 = Vector128.MultiplyAddEstimate(av, b0, c1_0);
                c1_1 = Vector128.MultiplyAddEstimate(av, b1, c1_1);
            }
            if (r > 2)
            {
                av = Vector128.Create(a2[p]);
                c2_0 = Vector128.MultiplyAddEstimate(av, b0, c2_0);
                c2_1 = Vector128.MultiplyAddEstimate(av, b1, c2_1);
            }
            if (r > 3)
            {
                av = Vector128.Create(a3[p]);
                c3_0 = Vector128.MultiplyAddEstimate(av, b0, c3_0);
                c3_1 = Vector128.MultiplyAddEstimate(av, b1, c3_1);
            }
            if (r > 4)
            {
                av = Vector128.Create(a4[p]);
                c4_0 = Vector128.MultiplyAddEstimate(av, b0, c4_0);
                c4_1 = Vector128.MultiplyAddEstimate(av, b1, c4_1);
            }
            if (r > 5)
            {
                av = Vector128.Create(a5[p]);
                c5_0 = Vector128.MultiplyAddEstimate(av, b0, c5_0);
                c5_1 = Vector128.MultiplyAddEstimate(av, b1, c5_1);
            }
        }
        Store(c, c0_0, c0_1, accumulate, bias);
        if (r > 1) Store(c + 1 * ldc, c1_0, c1_1, accumulate, bias);
        if (r > 2) Store(c + 2 * ldc, c2_0, c2_1, accumulate, bias);
        if (r > 3) Store(c + 3 * ldc, c3_0, c3_1, accumulate, bias);
        if (r > 4) Store(c + 4 * ldc, c4_0, c4_1, accumulate, bias);
        if (r > 5) Store(c + 5 * ldc, c5_0, c5_1, accumulate, bias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector128<float> v0, Vector128<float> v1, bool accumulate, float* bias)
    {
        if (accumulate)
        {
            v0 += Vector128.Load(c);
            v1 += Vector128.Load(c + 4);
        }
        if (bias != null)
        {
            v0 += Vector128.Load(bias);
            v1 += Vector128.Load(bias + 4);
        }
        v0.Store(c);
        v1.Store(c + 4);
    }
}
