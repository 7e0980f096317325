namespace NativeEE.Model;

/// <summary>
/// A float tensor the model reads as it is: F32 data straight from the mapped safetensors file (no copy), or a
/// pinned array when the file stores another dtype and it had to be widened. Valid while the model's
/// <see cref="ModelMemory"/> holds the mapping; the element pointer may be unaligned (safetensors does not align
/// tensors), which span element access and the kernels' unaligned vector loads handle on x64 and arm64.
/// </summary>
internal readonly unsafe struct TensorView
{
    readonly float* _data;
    readonly float[]? _converted; // keeps a widened copy alive; pinned, so _data stays valid

    TensorView(float* data, int length, float[]? converted)
    {
        _data = data;
        Length = length;
        _converted = converted;
    }

    /// <summary>Elements [length] at <paramref name="data"/>, owned by someone who keeps them mapped.</summary>
    public static TensorView Mapped(float* data, int length) => new(data, length, null);

    /// <summary>A new array of <paramref name="length"/> on the pinned heap (so the view can point into it), for the caller to fill.</summary>
    public static TensorView Allocate(int length, out Span<float> contents)
    {
        float[] data = GC.AllocateUninitializedArray<float>(length, pinned: true);
        contents = data;
        fixed (float* p = data) return new TensorView(p, length, data);
    }

    public int Length { get; }

    public ReadOnlySpan<float> Span => new(_data, Length);

    /// <summary>Elements [start, start + length) as a view of the same memory.</summary>
    public TensorView Slice(int start, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, Length - length);
        return new TensorView(_data + start, length, _converted);
    }
}
