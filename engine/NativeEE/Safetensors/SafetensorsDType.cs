namespace NativeEE.Safetensors;

/// <summary>
/// Element types a safetensors header may name, spelled as in the header. The set is the one the
/// reference implementation (huggingface/safetensors) writes for whole-byte types; the sub-byte
/// float formats (F4, F6_*) are rejected as unknown because their tensors are not byte-addressable.
/// </summary>
public enum SafetensorsDType
{
    BOOL,
    U8,
    I8,
    /// <summary>8-bit float, 5 exponent bits, 2 mantissa bits (IEEE-like, has infinities).</summary>
    F8_E5M2,
    /// <summary>8-bit float, 4 exponent bits, 3 mantissa bits, "fn" variant: no infinities, NaN = S.1111.111.</summary>
    F8_E4M3,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
}

public static class SafetensorsDTypeExtensions
{
    static readonly SafetensorsDType[] All = Enum.GetValues<SafetensorsDType>();

    /// <summary>Bytes per element.</summary>
    public static int SizeInBytes(this SafetensorsDType t) => t switch
    {
        SafetensorsDType.BOOL or SafetensorsDType.U8 or SafetensorsDType.I8
            or SafetensorsDType.F8_E5M2 or SafetensorsDType.F8_E4M3 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "not a safetensors dtype"),
    };

    /// <summary>True for the floating-point types (F8_*, F16, BF16, F32, F64).</summary>
    public static bool IsFloatingPoint(this SafetensorsDType t) => t is SafetensorsDType.F8_E5M2
        or SafetensorsDType.F8_E4M3 or SafetensorsDType.F16 or SafetensorsDType.BF16
        or SafetensorsDType.F32 or SafetensorsDType.F64;

    /// <summary>The header spelling ("F32", "BF16", …).</summary>
    public static string ToHeaderName(this SafetensorsDType t) => t switch
    {
        SafetensorsDType.BOOL => "BOOL",
        SafetensorsDType.U8 => "U8",
        SafetensorsDType.I8 => "I8",
        SafetensorsDType.F8_E5M2 => "F8_E5M2",
        SafetensorsDType.F8_E4M3 => "F8_E4M3",
        SafetensorsDType.I16 => "I16",
        SafetensorsDType.U16 => "U16",
        SafetensorsDType.F16 => "F16",
        SafetensorsDType.BF16 => "BF16",
        SafetensorsDType.I32 => "I32",
        SafetensorsDType.U32 => "U32",
        SafetensorsDType.F32 => "F32",
        SafetensorsDType.F64 => "F64",
        SafetensorsDType.I64 => "I64",
        SafetensorsDType.U64 => "U64",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "not a safetensors dtype"),
    };

    /// <summary>Parses a header spelling, exact and case-sensitive as the format requires.</summary>
    public static bool TryParseHeaderName(ReadOnlySpan<char> name, out SafetensorsDType dtype)
    {
        foreach (SafetensorsDType t in All)
        {
            if (name.SequenceEqual(t.ToHeaderName()))
            {
                dtype = t;
                return true;
            }
        }
        dtype = default;
        return false;
    }
}
