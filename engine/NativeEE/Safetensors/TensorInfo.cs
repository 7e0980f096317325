namespace NativeEE.Safetensors;

/// <summary>One tensor of a safetensors file, as validated from its header.</summary>
public sealed class TensorInfo
{
    internal TensorInfo(string name, SafetensorsDType dtype, int[] shape, long elementCount, long dataBegin, long dataEnd)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        ElementCount = elementCount;
        DataBegin = dataBegin;
        DataEnd = dataEnd;
    }

    public string Name { get; }

    public SafetensorsDType DType { get; }

    /// <summary>Dimensions, outermost first; empty for a 0-d scalar. Shared with the reader: do not modify.</summary>
    public int[] Shape { get; }

    /// <summary>Product of <see cref="Shape"/> (1 for a scalar, 0 when any dimension is 0).</summary>
    public long ElementCount { get; }

    /// <summary>First byte, relative to the start of the data block (after the 8 + N header bytes).</summary>
    public long DataBegin { get; }

    /// <summary>One past the last byte, relative to the start of the data block.</summary>
    public long DataEnd { get; }

    public long SizeInBytes => DataEnd - DataBegin;

    /// <summary>"name F32 [2, 384]".</summary>
    public override string ToString() => $"{Name} {DType.ToHeaderName()} [{string.Join(", ", Shape)}]";
}
