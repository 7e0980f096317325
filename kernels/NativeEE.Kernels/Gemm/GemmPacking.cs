namespace NativeEE.Kernels;

/// <summary>
/// Packed layout: W[N,K] is cut into ⌈N/NR⌉ panels of NR output columns; panel j holds, for
/// k = 0…K−1, the NR values W[j·NR + c, k] side by side (columns past N are zero). A K block of a
/// panel is therefore one contiguous kc×NR run, which is what the microkernel streams.
/// Panels start on a 64-byte boundary (a pinned array, or a mapped file that places them so), so
/// vector loads never split a cache line.
/// </summary>
internal static unsafe class GemmPacking
{
    internal const int Alignment = 64;

    /// <summary>
    /// Version of the layout above. Panels persisted outside the process (the engine's packed-weight cache) record it,
    /// so a change to the layout must bump it: old files are then rebuilt instead of misread.
    /// </summary>
    internal const int LayoutVersion = 1;

    /// <summary>Floats the panels of W[N,K] take on <paramref name="path"/>: ⌈N/NR⌉·K·NR.</summary>
    internal static long PackedLength(int n, int k, IsaPath path)
    {
        int nr = Gemm.PanelWidth(path);
        return (long)((n + nr - 1) / nr) * k * nr;
    }

    internal static PackedMatrix Pack(ReadOnlySpan<float> w, int n, int k, IsaPath path)
    {
        long length = PackedLength(n, k, path);
        if (length > Array.MaxLength - Alignment) throw new ArgumentException($"W[{n},{k}] is too large to pack ({length} floats).", nameof(w));
        float[] data = GC.AllocateArray<float>((int)length + Alignment / sizeof(float), pinned: true);
        int offset;
        fixed (float* p = data) offset = (int)((Alignment - ((nint)p & (Alignment - 1))) & (Alignment - 1)) / sizeof(float);
        PackInto(w, n, k, path, data.AsSpan(offset, (int)length));
        fixed (float* p = data) return new PackedMatrix(n, k, path, p + offset, length, data);
    }

    /// <summary>W[N,K] → panels[⌈N/NR⌉·K·NR] for <paramref name="path"/> (every element written, padding zeroed).</summary>
    internal static void PackInto(ReadOnlySpan<float> w, int n, int k, IsaPath path, Span<float> panels)
    {
        int nr = Gemm.PanelWidth(path);
        int count = (n + nr - 1) / nr;
        for (int j = 0; j < count; j++)
        {
            int n0 = j * nr, cols = Math.Min(nr, n - n0);
            var panel = panels.Slice((int)((long)j * k * nr), k * nr);
            if (cols < nr) panel.Clear();
            for (int c = 0; c < cols; c++)
            {
                var row = w.Slice((n0 + c) * k, k);
                for (int p = 0; p < k; p++) panel[p * nr + c] = row[p];
            }
        }
    }
}
