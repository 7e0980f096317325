using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NativeEE.Kernels;

/// <summary>
/// 6×32 tile on 512-bit vectors (AVX-512F): 12 zmm accumulators + 2 W vectors + 1 broadcast;
/// per k step 8 loads feed 12 FMAs.
/// </summary>
internal readonly unsafe struct MicroKernel6x32 : IMicroKernel
{
    public static int MR => 6;
    public static int NR => 32;
    public static int KC => 768; // see GemmDriver: a 6×768 X slice (18 KB) stays in L1 while W streams from L2

    public static void Run(int rows, float* a, nint lda, float* b, int kc, float* c, nint ldc, bool accumulate, float* bias)
    {
        switch (rows)
        {
            case 6: Tile<Rows6>(a, lda, b, kc, c, ldc, accumulate, bias); break;
            case 5: Tile<Rows5>(a, lda, b, kc, c, ldc, accumulate, bias); break;
            case 4: Tile<Rows4>(a, lda, b, kc, c, ldc, accumulate, bias); break;
            case 3: Tile<Rows3>(a, lda, b, kc, c, ldc, accumulate, bias); break;
            case 2: Tile<Rows2>(a, lda, b, kc, c, ldc, accumulate, bias); break;
            default: Tile<Rows1>(a, lda, b, kc, c, ldc, accumulate, bias); break;
        }
    }

    [SkipLocalsInit]
    static void Tile<TRows>(float* a, nint lda, float* b, int kc, float* c, nint ldc, bool accumulate, float* bias)
        where TRows : struct, IRowCount
    {
        int r = TRows.Value;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        Vector512<float> av;
        nint p = 0;
        if (r <= 3)
        {
            // Up to 3 rows leave too few accumulators to cover FMA latency (M = 1 would run one dependent
            // chain per vector): odd k steps go to the idle registers of rows 3–5, summed after the loop.
            for (; p + 1 < kc; p += 2, b += 64)
            {
                Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16), b2 = Vector512.Load(b + 32), b3 = Vector512.Load(b + 48);
                av = Vector512.Create(a0[p]);
                c00 = Vector512.MultiplyAddEstimate(av, b0, c00);
                c01 = Vector512.MultiplyAddEstimate(av, b1, c01);
                av = Vector512.Create(a0[p + 1]);
                c30 = Vector512.MultiplyAddEstimate(av, b2, c30);
                c31 = Vector512.MultiplyAddEstimate(av, b3, c31);
                if (r > 1)
                {
                    av = Vector512.Create(a1[p]);
                    c10 = Vector512.MultiplyAddEstimate(av, b0, c10);
                    c11 = Vector512.MultiplyAddEstimate(av, b1, c11);
                    av = Vector512.Create(a1[p + 1]);
                    c40 = Vector512.MultiplyAddEstimate(av, b2, c40);
                    c41 = Vector512.MultiplyAddEstimate(av, b3, c41);
                }
                if (r > 2)
                {
                    av = Vector512.Create(a2[p]);
                    c20 = Vector512.MultiplyAddEstimate(av, b0, c20);
                    c21 = Vector512.MultiplyAddEstimate(av, b1, c21);
                    av = Vector512.Create(a2[p + 1]);
                    c50 = Vector512.MultiplyAddEstimate(av, b2, c50);
                    c51 = Vector512.MultiplyAddEstimate(av, b3, c51);
                }
            }
        }
        for (; p < kc; p++, b += 32)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            av = Vector512.Create(a0[p]);
            c00 = Vector512.MultiplyAddEstimate(av, b0, c00);
            c01 = Vector512.MultiplyAddEstimate(av, b1, c01);
            if (r > 1)
            {
                av = Vector512.Create(a1[p]);
                c10 = Vector512.MultiplyAddEstimate(av, b0, c10);
                c11 = Vector512.MultiplyAddEstimate(av, b1, c11);
            }
            if (r > 2)
            {
                av = Vector512.Create(a2[p]);
                c20 = Vector512.MultiplyAddEstimate(av, b0, c20);
                c21 = Vector512.MultiplyAddEstimate(av, b1, c21);
            }
            if (r > 3)
            {
                av = Vector512.Create(a3[p]);
                c30 = Vector512.MultiplyAddEstimate(av, b0, c30);
                c31 = Vector512.MultiplyAddEstimate(av, b1, c31);
            }
            if (r > 4)
            {
                av = Vector512.Create(a4[p]);
                c40 = Vector512.MultiplyAddEstimate(av, b0, c40);
                c41 = Vector512.MultiplyAddEstimate(av, b1, c41);
            }
            if (r > 5)
            {
                av = Vector512.Create(a5[p]);
                c50 = Vector512.MultiplyAddEstimate(av, b0, c50);
                c51 = Vector512.MultiplyAddEstimate(av, b1, c51);
            }
        }
        if (r <= 3)
        {
            c00 += c30;
            c01 += c31;
            c10 += c40;
            c11 += c41;
            c20 += c50;
            c21 += c51;
        }
        Store(c, c00, c01, accumulate, bias);
        if (r > 1) Store(c + ldc, c10, c11, accumulate, bias);
        if (r > 2) Store(c + 2 * ldc, c20, c21, accumulate, bias);
        if (r > 3) Store(c + 3 * ldc, c30, c31, accumulate, bias);
        if (r > 4) Store(c + 4 * ldc, c40, c41, accumulate, bias);
        if (r > 5) Store(c + 5 * ldc, c50, c51, accumulate, bias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector512<float> v0, Vector512<float> v1, bool accumulate, float* bias)
    {
        if (accumulate)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + 16);
        }
        if (bias != null)
        {
            v0 += Vector512.Load(bias);
            v1 += Vector512.Load(bias + 16);
        }
        v0.Store(c);
        v1.Store(c + 16);
    }
}
