namespace NativeEE.Kernels;

/// <summary>Matrix multiply against packed weights: <c>Y[M,N] = epilogue(X[M,K]·W[N,K]ᵀ + bias) + residual</c>.</summary>
public static partial class Gemm
{
    /// <summary>W[N,K] (row-major, nn.Linear layout) → panels for the active microkernel. Allocates the packed copy once.</summary>
    public static PackedMatrix Pack(ReadOnlySpan<float> w, int n, int k) => Pack(w, n, k, Isa.Active);

    /// <summary>W[N,K] → panels for the microkernel of <paramref name="path"/> (tests run every path on every machine).</summary>
    internal static PackedMatrix Pack(ReadOnlySpan<float> w, int n, int k, IsaPath path)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (w.Length < (long)n * k) throw new ArgumentException($"W has {w.Length} elements, but N·K = {n}·{k} = {(long)n * k}.", nameof(w));
        return GemmPacking.Pack(w, n, k, path);
    }

    /// <summary>
    /// Panels already packed for <paramref name="path"/> (e.g. read back from a file) → a matrix over them, without copying.
    /// <paramref name="panels"/>[⌈N/NR⌉·K·NR] must start on a 64-byte boundary and stay valid and unchanged while
    /// <paramref name="owner"/> is reachable and not released by its creator; the matrix references the owner.
    /// </summary>
    internal static unsafe PackedMatrix FromPanels(float* panels, long length, int n, int k, IsaPath path, object owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        long expected = GemmPacking.PackedLength(n, k, path);
        if (length != expected) throw new ArgumentException($"W[{n},{k}] packed for {path} takes {expected} floats, not {length}.", nameof(length));
        if (panels == null || ((nint)panels & (GemmPacking.Alignment - 1)) != 0)
            throw new ArgumentException($"Packed panels must start on a {GemmPacking.Alignment}-byte boundary.", nameof(panels));
        return new PackedMatrix(n, k, path, panels, length, owner);
    }

    /// <summary>Width NR of the panels cut for <paramref name="path"/>'s microkernel.</summary>
    internal static int PanelWidth(IsaPath path) => path switch
    {
        IsaPath.Vector512 => MicroKernel8x32.NR,
        IsaPath.Vector256 => MicroKernel6x16.NR,
        IsaPath.Vector128 => MicroKernel6x8.NR,
        _ => MicroKernelScalar.NR,
    };

    /// <summary>
    /// X[M,K] · W[N,K]ᵀ → Y[M,N]; then + bias[N] (if non-empty), the epilogue, then + residual[M,N] (if non-empty).
    /// <paramref name="pool"/> splits the work across threads (null = calling thread only). Allocates nothing.
    /// Y must not overlap X or the residual (Y holds partial sums while K blocks are summed).
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> x, int m, PackedMatrix w, ReadOnlySpan<float> bias, Span<float> y,
        Epilogue epilogue = Epilogue.None, ReadOnlySpan<float> residual = default, WorkerPool? pool = null)
        => Multiply(x, m, w, bias, y, epilogue, residual, pool, Isa.Active);

    /// <summary>As the public overload, on the microkernel of <paramref name="path"/>; <paramref name="w"/> must be packed for it.</summary>
    internal static unsafe void Multiply(ReadOnlySpan<float> x, int m, PackedMatrix w, ReadOnlySpan<float> bias, Span<float> y,
        Epilogue epilogue, ReadOnlySpan<float> residual, WorkerPool? pool, IsaPath path)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        int n = w.N, k = w.K;
        if (w.Path != path) throw new ArgumentException($"W was packed for the {w.Path} microkernel, not {path}.", nameof(w));
        if (x.Length < (long)m * k) throw new ArgumentException($"X has {x.Length} elements, but M·K = {m}·{k} = {(long)m * k}.", nameof(x));
        if (y.Length < (long)m * n) throw new ArgumentException($"Y has {y.Length} elements, but M·N = {m}·{n} = {(long)m * n}.", nameof(y));
        if (!bias.IsEmpty && bias.Length < n) throw new ArgumentException($"bias has {bias.Length} elements, but N = {n}.", nameof(bias));
        if (!residual.IsEmpty && residual.Length < (long)m * n) throw new ArgumentException($"residual has {residual.Length} elements, but M·N = {(long)m * n}.", nameof(residual));
        if (m == 0) return;
        x = x[..(m * k)];
        y = y[..(m * n)];
        if (x.Overlaps(y)) throw new ArgumentException("Y must not overlap X.", nameof(y));
        if (!residual.IsEmpty && residual[..(m * n)].Overlaps(y)) throw new ArgumentException("Y must not overlap the residual.", nameof(residual));

        fixed (float* px = x, pb = bias, py = y, pr = residual)
        {
            var g = new GemmArgs
            {
                X = px, W = w.Panels, Bias = bias.IsEmpty ? null : pb, Y = py, Residual = residual.IsEmpty ? null : pr,
                M = m, N = n, K = k, Epilogue = epilogue,
            };
            switch (path)
            {
                case IsaPath.Vector512: GemmDriver<MicroKernel8x32>.Run(g, pool); break;
                case IsaPath.Vector256: GemmDriver<MicroKernel6x16>.Run(g, pool); break;
                case IsaPath.Vector128: GemmDriver<MicroKernel6x8>.Run(g, pool); break;
                default: GemmDriver<MicroKernelScalar>.Run(g, pool); break;
            }
        }
        // The panels' owner (pinned array or mapping) must outlive the loops above.
        GC.KeepAlive(w);
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
