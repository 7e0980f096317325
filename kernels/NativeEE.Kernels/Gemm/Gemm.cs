namespace NativeEE.Kernels;

/// <summary>Matrix multiply against packed weights: <c>Y[M,N] = epilogue(X[M,K]·W[N,K]ᵀ + bias) + residual</c>.</summary>
public static partial class Gemm
{
    /// <summary>Packs W[N,K] (row-major, nn.Linear layout) for the active microkernel.</summary>
    public static PackedMatrix Pack(ReadOnlySpan<float> w, int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (w.Length < (long)n * k) throw new ArgumentException($"W has {w.Length} elements, N·K = {(long)n * k}.", nameof(w));
        // Placeholder layout: row-major copy. Replaced by panel packing.
        return new PackedMatrix(n, k, w[..(n * k)].ToArray());
    }

    /// <summary>
    /// X[M,K] · W[N,K]ᵀ → Y[M,N]; then + bias[N] (if non-empty), the epilogue, then + residual[M,N] (if non-empty).
    /// <paramref name="pool"/> splits the work across threads (null = calling thread only). Allocates nothing.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> x, int m, PackedMatrix w, ReadOnlySpan<float> bias, Span<float> y,
        Epilogue epilogue = Epilogue.None, ReadOnlySpan<float> residual = default, WorkerPool? pool = null)
    {
        MultiplyReference(x, m, w.Data, w.N, w.K, bias, y, epilogue, residual);
    }

    /// <summary>Scalar oracle: X[M,K] · W[N,K]ᵀ (+ bias) → epilogue (+ residual) → Y[M,N]. Double accumulation.</summary>
    public static void MultiplyReference(ReadOnlySpan<float> x, int m, ReadOnlySpan<float> w, int n, int k,
        ReadOnlySpan<float> bias, Span<float> y, Epilogue epilogue = Epilogue.None, ReadOnlySpan<float> residual = default)
    {
        for (int i = 0; i < m; i++)
        {
            var xr = x.Slice(i * k, k);
            for (int j = 0; j < n; j++)
            {
                var wr = w.Slice(j * k, k);
                double acc = 0;
                for (int p = 0; p < k; p++) acc += (double)xr[p] * wr[p];
                if (!bias.IsEmpty) acc += bias[j];
                float v = epilogue switch
                {
                    Epilogue.Gelu => Activations.GeluReference((float)acc),
                    Epilogue.Tanh => MathF.Tanh((float)acc),
                    _ => (float)acc,
                };
                if (!residual.IsEmpty) v += residual[i * n + j];
                y[i * n + j] = v;
            }
        }
    }
}
