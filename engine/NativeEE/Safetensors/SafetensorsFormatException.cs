namespace NativeEE.Safetensors;

/// <summary>The content of a safetensors file or shard index breaks a rule of the format.</summary>
public sealed class SafetensorsFormatException : SafetensorsException
{
    public SafetensorsFormatException(string filePath, string? tensorName, SafetensorsRule rule, string problem, Exception? inner = null)
        : base(filePath, tensorName, $"{problem} [rule: {rule}]", inner)
    {
        Rule = rule;
    }

    /// <summary>Which rule was broken; lets callers and tests tell failures apart without parsing messages.</summary>
    public SafetensorsRule Rule { get; }
}
