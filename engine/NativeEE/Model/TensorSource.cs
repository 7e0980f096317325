using NativeEE.Kernels;
using NativeEE.Safetensors;

namespace NativeEE.Model;

/// <summary>
/// Reads named float tensors out of a safetensors file (or sharded set), checking each one against the shape
/// the config implies, so a bad folder fails with a message naming the file, the tensor and both shapes.
/// </summary>
/// <remarks>
/// F32 tensors are read in place from the mapping (the caller keeps the file open for as long as it uses them);
/// other float dtypes are widened once into a pinned copy. GEMM weights go through <see cref="PackedWeights"/>.
/// </remarks>
internal sealed unsafe class TensorSource(SafetensorsModel model, string filePath, string configPath, PackedWeights packed)
{
    public string FilePath { get; } = filePath;

    public bool Contains(string name) => model.Contains(name);

    /// <summary>Tensor <paramref name="name"/>, which must have exactly <paramref name="shape"/>: zero-copy if F32, else widened to float.</summary>
    public TensorView Read(string name, string why, params int[] shape)
    {
        var info = Check(name, why, shape);
        if (info.DType == SafetensorsDType.F32)
        {
            var span = model.GetSpan<float>(name);
            fixed (float* p = span) return TensorView.Mapped(p, span.Length);
        }
        var view = TensorView.Allocate((int)info.ElementCount, out var contents);
        model.ReadFloat32(name, contents);
        return view;
    }

    /// <summary>Reads <paramref name="name"/>, or <paramref name="legacyName"/> if only that is present (for tensors whose name changed across library versions).</summary>
    public TensorView ReadEither(string name, string legacyName, string why, params int[] shape)
        => model.Contains(name) || !model.Contains(legacyName) ? Read(name, why, shape) : Read(legacyName, why, shape);

    /// <summary>
    /// The tensors <paramref name="names"/>, each W[rows, k], stacked into one W[names·rows, k] and packed for the GEMM
    /// (or mapped from the cache). Shapes are checked against the header either way.
    /// </summary>
    public PackedMatrix Matrix(string why, int rows, int k, params string[] names)
    {
        foreach (string name in names) Check(name, why, rows, k);
        int n = rows * names.Length;
        return packed.Get(string.Join("+", names), n, k, () =>
        {
            if (names.Length == 1 && model.GetInfo(names[0]).DType == SafetensorsDType.F32)
                return Gemm.Pack(model.GetSpan<float>(names[0]), n, k);
            var w = new float[(long)n * k];
            for (int i = 0; i < names.Length; i++) model.ReadFloat32(names[i], w.AsSpan(i * rows * k, rows * k));
            return Gemm.Pack(w, n, k);
        });
    }

    TensorInfo Check(string name, string why, params int[] shape)
    {
        if (!model.Contains(name))
            throw new ModelLoadException($"{Path.GetFileName(FilePath)}: tensor '{name}' is missing; {Path.GetFileName(configPath)} ({why}) needs it with shape {Format(shape)}. File: {FilePath}", FilePath, name);
        var info = model.GetInfo(name);
        if (info.DType is not (SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F8_E4M3 or SafetensorsDType.F8_E5M2 or SafetensorsDType.F64))
            throw new ModelLoadException($"{Path.GetFileName(FilePath)}: tensor '{name}' has dtype {info.DType}; weights must be floating point (F32, F16, BF16, F8, F64). File: {FilePath}", FilePath, name);
        if (!info.Shape.AsSpan().SequenceEqual(shape))
            throw new ModelLoadException($"{Path.GetFileName(FilePath)}: tensor '{name}' has shape {Format(info.Shape)} but {Path.GetFileName(configPath)} ({why}) implies {Format(shape)}. File: {FilePath}", FilePath, name);
        return info;
    }

    static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
