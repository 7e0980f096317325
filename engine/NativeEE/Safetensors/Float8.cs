namespace NativeEE.Safetensors;

/// <summary>
/// The two 8-bit float formats of safetensors (OCP FP8): E5M2 is the top byte of an IEEE F16; E4M3 is
/// the "fn" variant with no infinities, exponent bias 7 and NaN only at S.1111.111. Both widen exactly
/// to float, so a 256-entry table per format is the whole conversion.
/// </summary>
internal static class Float8
{
    static readonly float[] E4M3 = BuildE4M3();
    static readonly float[] E5M2 = BuildE5M2();

    public static float E4M3ToSingle(byte bits) => E4M3[bits];

    public static float E5M2ToSingle(byte bits) => E5M2[bits];

    /// <summary>source[n] E4M3 bits → destination[n] float.</summary>
    public static void E4M3ToSingle(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (int i = 0; i < source.Length; i++) destination[i] = E4M3[source[i]];
    }

    /// <summary>source[n] E5M2 bits → destination[n] float.</summary>
    public static void E5M2ToSingle(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (int i = 0; i < source.Length; i++) destination[i] = E5M2[source[i]];
    }

    static float[] BuildE4M3()
    {
        var table = new float[256];
        for (int b = 0; b < 256; b++)
        {
            int exponent = (b >> 3) & 0xF, mantissa = b & 0x7;
            float magnitude = exponent == 0
                ? mantissa / 8f * MathF.Pow(2, -6)                         // subnormal
                : (1 + mantissa / 8f) * MathF.Pow(2, exponent - 7);
            if (exponent == 0xF && mantissa == 0x7) magnitude = float.NaN;
            table[b] = (b & 0x80) != 0 ? -magnitude : magnitude;
        }
        return table;
    }

    static float[] BuildE5M2()
    {
        var table = new float[256];
        for (int b = 0; b < 256; b++)
            table[b] = (float)BitConverter.UInt16BitsToHalf((ushort)(b << 8));
        return table;
    }
}
