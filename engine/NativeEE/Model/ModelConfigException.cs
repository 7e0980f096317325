namespace NativeEE;

/// <summary>
/// A model folder's JSON file (<c>config.json</c>, <c>tokenizer_config.json</c>, <c>nativeee-policy.json</c>)
/// is missing, malformed, or asks for something NativeEE does not run. The message names the file,
/// the field and the broken rule, so a user can fix the file without reading code.
/// </summary>
public sealed class ModelConfigException : Exception
{
    /// <summary>The file (or source name) that was being read.</summary>
    public string FileName { get; }

    /// <summary>The JSON field at fault, or null when the file as a whole is at fault.</summary>
    public string? Field { get; }

    public ModelConfigException(string sourceName, string? field, string rule, Exception? inner = null)
        : base(Format(sourceName, field, rule), inner)
    {
        FileName = sourceName;
        Field = field;
    }

    static string Format(string sourceName, string? field, string rule)
        => field is null ? $"{sourceName}: {rule}" : $"{sourceName}: field '{field}': {rule}";
}
