namespace NativeEE.Kernels;

/// <summary>
/// Plain-loop tile for CPUs (or runtime switches) without SIMD. 4×4 keeps the 16 running sums in
/// registers on any target; the point is correctness and the shared driver, not speed (prefetch requests are ignored).
/// </summary>
internal readonly unsafe struct MicroKernelScalar : IMicroKernel
{
    public static int MR => 4;
    public static int NR => 4;
    public static int KC => 1024;

    public static void Run<TPrefetch>(int rows, float* a, nint lda, float* b, int kc, float* c, nint ldc, bool accumulate, float* bias,
        float* prefetch, nint prefetchStep) where TPrefetch : struct, IPrefetch
    {
        for (int i = 0; i < rows; i++, a += lda, c += ldc)
        {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            float* bp = b;
            for (int p = 0; p < kc; p++, bp += 4)
            {
                float av = a[p];
                s0 += av * bp[0];
                s1 += av * bp[1];
                s2 += av * bp[2];
                s3 += av * bp[3];
            }
            if (accumulate)
            {
                s0 += c[0]; s1 += c[1]; s2 += c[2]; s3 += c[3];
            }
            if (bias != null)
            {
                s0 += bias[0]; s1 += bias[1]; s2 += bias[2]; s3 += bias[3];
            }
            c[0] = s0; c[1] = s1; c[2] = s2; c[3] = s3;
        }
    }
}
