using NativeEE.Safetensors;

namespace NativeEE.Model;

/// <summary>
/// Reads named float tensors out of a safetensors file (or sharded set), checking each one against the shape
/// the config implies, so a bad folder fails with a message naming the file, the tensor and both shapes.
/// </summary>
internal sealed class TensorSource(SafetensorsModel model, string filePath, string configPath)
{
    public string FilePath { get; } = filePath;

    public bool Contains(string name) => model.Contains(name);

    /// <summary>Copies tensor <paramref name="name"/> (F32, or F16/BF16/F8/F64 converted) after checking it has exactly <paramref name="shape"/>.</summary>
    public float[] Read(string name, string why, params int[] shape)
    {
        if (!model.Contains(name))
            throw new ModelLoadException($"{Path.GetFileName(FilePath)}: tensor '{name}' is missing; {Path.GetFileName(configPath)} ({why}) needs it with shape {Format(shape)}. File: {FilePath}", FilePath, name);
        var info = model.GetInfo(name);
        if (info.DType is not (SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F8_E4M3 or SafetensorsDType.F8_E5M2 or SafetensorsDType.F64))
            throw new ModelLoadException($"{Path.GetFileName(FilePath)}: tensor '{name}' has dtype {info.DType}; weights must be floating point (F32, F16, BF16, F8, F64). File: {FilePath}", FilePath, name);
        if (!info.Shape.AsSpan().SequenceEqual(shape))
            throw new ModelLoadException($"{Path.GetFileName(FilePath)}: tensor '{name}' has shape {Format(info.Shape)} but {Path.GetFileName(configPath)} ({why}) implies {Format(shape)}. File: {FilePath}", FilePath, name);
        return model.ReadFloat32(name);
    }

    /// <summary>Reads <paramref name="name"/>, or <paramref name="legacyName"/> if only that is present (for tensors whose name changed across library versions).</summary>
    public float[] ReadEither(string name, string legacyName, string why, params int[] shape)
        => model.Contains(name) || !model.Contains(legacyName) ? Read(name, why, shape) : Read(legacyName, why, shape);

    static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
