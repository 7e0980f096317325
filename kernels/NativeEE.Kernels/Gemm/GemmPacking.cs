namespace NativeEE.Kernels;

/// <summary>
/// Packed layout: W[N,K] is cut into ⌈N/NR⌉ panels of NR output columns; panel j holds, for
/// k = 0…K−1, the NR values W[j·NR + c, k] side by side (columns past N are zero). A K block of a
/// panel is therefore one contiguous kc×NR run, which is what the microkernel streams.
/// The array lives on the pinned heap and the first panel starts on a 64-byte boundary, so
/// vector loads never split a cache line.
/// </summary>
internal static unsafe class GemmPacking
{
    internal const int Alignment = 64;

    internal static PackedMatrix Pack(ReadOnlySpan<float> w, int n, int k, IsaPath path)
    {
        int nr = Gemm.PanelWidth(path);
        int panels = (n + nr - 1) / nr;
        long length = (long)panels * k * nr;
        if (length > Array.MaxLength - Alignment) throw new ArgumentException($"W[{n},{k}] is too large to pack ({length} floats).", nameof(w));
        float[] data = GC.AllocateArray<float>((int)length + Alignment / sizeof(float), pinned: true);
        int offset;
        fixed (float* p = data) offset = (int)((Alignment - ((nint)p & (Alignment - 1))) & (Alignment - 1)) / sizeof(float);
        var dst = data.AsSpan(offset, (int)length);
        for (int j = 0; j < panels; j++)
        {
            int n0 = j * nr, cols = Math.Min(nr, n - n0);
            var panel = dst.Slice((int)((long)j * k * nr), k * nr);
            for (int c = 0; c < cols; c++)
            {
                var row = w.Slice((n0 + c) * k, k);
                for (int p = 0; p < k; p++) panel[p * nr + c] = row[p];
            }
        }
        return new PackedMatrix(n, k, data, offset, path);
    }
}
