namespace NativeEE;

/// <summary>
/// A model folder cannot be loaded: a file is missing, a tensor is missing, or a tensor's shape or
/// type disagrees with <c>config.json</c>. The message names the file, the tensor and the rule broken.
/// </summary>
public sealed class ModelLoadException : Exception
{
    /// <summary>Creates the exception for <paramref name="filePath"/> (and <paramref name="tensorName"/>, if the problem is one tensor).</summary>
    public ModelLoadException(string message, string filePath, string? tensorName = null, Exception? inner = null)
        : base(message, inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    /// <summary>The file at fault.</summary>
    public string FilePath { get; }

    /// <summary>The tensor at fault, or null when the problem is not about one tensor.</summary>
    public string? TensorName { get; }
}
