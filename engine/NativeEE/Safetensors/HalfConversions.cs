namespace NativeEE.Safetensors;

/// <summary>
/// Conversions between float and the 16-bit float formats found in checkpoints: IEEE F16 (<see cref="Half"/>)
/// and bfloat16 (the upper 16 bits of a float, carried as <see cref="ushort"/> bits). Widening is exact.
/// </summary>
/// <remarks>Used at load time only, so these are plain loops; vector code belongs in kernels/ if loading ever shows up in a profile.</remarks>
public static class HalfConversions
{
    /// <summary>bits → the bfloat16 value as float (exact).</summary>
    public static float BFloat16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>float → bfloat16 bits, rounded to nearest even (as PyTorch's <c>.to(torch.bfloat16)</c>); NaN stays a quiet NaN.</summary>
    public static ushort SingleToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x0040);
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>source[n] F16 → destination[n] float.</summary>
    public static void Float16ToSingle(ReadOnlySpan<Half> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        for (int i = 0; i < source.Length; i++) destination[i] = (float)source[i];
    }

    /// <summary>source[n] bfloat16 bits → destination[n] float.</summary>
    public static void BFloat16ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        for (int i = 0; i < source.Length; i++) destination[i] = BitConverter.Int32BitsToSingle(source[i] << 16);
    }

    /// <summary>source[n] float → destination[n] F16, rounded to nearest even.</summary>
    public static void SingleToFloat16(ReadOnlySpan<float> source, Span<Half> destination)
    {
        CheckLengths(source.Length, destination.Length);
        for (int i = 0; i < source.Length; i++) destination[i] = (Half)source[i];
    }

    /// <summary>source[n] float → destination[n] bfloat16 bits, rounded to nearest even.</summary>
    public static void SingleToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        CheckLengths(source.Length, destination.Length);
        for (int i = 0; i < source.Length; i++) destination[i] = SingleToBFloat16(source[i]);
    }

    static void CheckLengths(int source, int destination)
    {
        if (source != destination)
            throw new ArgumentException($"source has {source} elements but destination has {destination}", nameof(destination));
    }
}
