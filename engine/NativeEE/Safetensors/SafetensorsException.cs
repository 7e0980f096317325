namespace NativeEE.Safetensors;

/// <summary>
/// A safetensors file or model cannot be used as asked. The message always names the file, the
/// tensor when there is one, and what was wrong.
/// </summary>
public class SafetensorsException : Exception
{
    public SafetensorsException(string filePath, string? tensorName, string problem, Exception? inner = null)
        : base(Compose(filePath, tensorName, problem), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    /// <summary>The file (or model folder / index) the problem is in.</summary>
    public string FilePath { get; }

    /// <summary>The tensor concerned, or null when the problem is not about one tensor.</summary>
    public string? TensorName { get; }

    static string Compose(string filePath, string? tensorName, string problem) =>
        tensorName is null ? $"{filePath}: {problem}" : $"{filePath}: tensor '{tensorName}': {problem}";
}
