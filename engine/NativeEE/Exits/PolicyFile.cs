using System.Text.Json;

namespace NativeEE;

/// <summary>What <c>nee calibrate</c> measured when it chose a model folder's default policy.</summary>
public sealed class PolicyCalibration
{
    /// <summary>The labelled file the threshold was calibrated on (as the user named it).</summary>
    public required string DataFile { get; init; }

    /// <summary>The allowed accuracy loss vs full depth, in percentage points.</summary>
    public required double MaxAccuracyDrop { get; init; }

    /// <summary>Accuracy on <see cref="DataFile"/> with the chosen policy, in [0, 1].</summary>
    public required double DevAccuracy { get; init; }

    /// <summary>Accuracy on <see cref="DataFile"/> at full depth, in [0, 1], if measured.</summary>
    public double? FullDepthAccuracy { get; init; }

    /// <summary>Mean encoder layers run per sample with the chosen policy.</summary>
    public required double MeanLayers { get; init; }

    /// <summary>Measured (or layer-count) speed-up vs full depth.</summary>
    public required double ExpectedSpeedup { get; init; }

    /// <summary>Rows of <see cref="DataFile"/> the threshold was calibrated on, if recorded.</summary>
    public int? Rows { get; init; }

    /// <summary>
    /// The training file whose word-for-word contained rows were left out of <see cref="DataFile"/> before calibrating
    /// (null: none were); <see cref="Rows"/> is what remained.
    /// </summary>
    public string? ExcludedSeenIn { get; init; }
}

/// <summary>
/// A model folder's calibrated default exit policy, <c>nativeee-policy.json</c>:
/// <code>{ "format": "nativeee-policy", "version": 1, "policy": "entropy:0.3",
///   "calibration": { "dataFile": "dev.tsv", "maxAccuracyDrop": 1, "devAccuracy": 0.93, "fullDepthAccuracy": 0.936,
///                    "meanLayers": 3.2, "expectedSpeedup": 1.7, "rows": 766, "excludedSeenIn": "train.tsv" } }</code>
/// (<c>rows</c> and <c>excludedSeenIn</c> are optional.)
/// </summary>
public static class PolicyFile
{
    public const string FileName = "nativeee-policy.json";
    const string Format = "nativeee-policy";
    const int Version = 1;

    /// <summary>The folder's default policy, or null when the folder has no policy file.
    /// A policy file that exists but is malformed → <see cref="ModelConfigException"/> naming the file.</summary>
    public static ExitPolicy? TryLoad(string modelDir) => TryRead(modelDir)?.Policy;

    /// <summary>The folder's default policy and its calibration facts, or null when there is no policy file.</summary>
    public static (ExitPolicy Policy, PolicyCalibration? Calibration)? TryRead(string modelDir)
    {
        string path = Path.Combine(modelDir, FileName);
        if (!File.Exists(path)) return null;
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelConfigException(path, null, $"cannot be read: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Writes <paramref name="policy"/> and its calibration facts as the folder's default (replacing any previous one).</summary>
    public static void Save(string modelDir, ExitPolicy policy, PolicyCalibration calibration)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(calibration);
        if (!Directory.Exists(modelDir)) throw new DirectoryNotFoundException($"Model folder not found: {modelDir}");
        string spec = policy.Spec;
        if (!ExitPolicy.TryParse(spec, out _))
            throw new ArgumentException($"Policy '{spec}' has no parsable spec, so it cannot be saved as a default.", nameof(policy));

        string path = Path.Combine(modelDir, FileName);
        string temp = path + ".tmp";
        using (var stream = File.Create(temp))
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("version", Version);
            w.WriteString("policy", spec);
            w.WriteStartObject("calibration");
            w.WriteString("dataFile", calibration.DataFile);
            w.WriteNumber("maxAccuracyDrop", calibration.MaxAccuracyDrop);
            w.WriteNumber("devAccuracy", calibration.DevAccuracy);
            if (calibration.FullDepthAccuracy is double full) w.WriteNumber("fullDepthAccuracy", full);
            w.WriteNumber("meanLayers", calibration.MeanLayers);
            w.WriteNumber("expectedSpeedup", calibration.ExpectedSpeedup);
            if (calibration.Rows is int rows) w.WriteNumber("rows", rows);
            if (calibration.ExcludedSeenIn is { } seen) w.WriteString("excludedSeenIn", seen);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        // Write-then-rename so a crash never leaves a half-written default behind.
        File.Move(temp, path, overwrite: true);
    }

    static (ExitPolicy, PolicyCalibration?) Parse(ReadOnlySpan<byte> json, string path)
    {
        if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) json = json[3..];
        string? format = null, spec = null;
        long? version = null;
        PolicyCalibration? calibration = null;
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new ModelConfigException(path, null, "must contain one JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                reader.Read();
                switch (name)
                {
                    case "format": format = String(ref reader, path, name); break;
                    case "version":
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v))
                            throw new ModelConfigException(path, name, "must be an integer");
                        version = v;
                        break;
                    case "policy": spec = String(ref reader, path, name); break;
                    case "calibration": calibration = ReadCalibration(ref reader, path); break;
                    default: reader.Skip(); break;
                }
            }
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(path, null, $"is not valid JSON ({e.Message})", e);
        }

        if (format != Format) throw new ModelConfigException(path, "format", $"must be \"{Format}\", got {(format is null ? "nothing" : $"\"{format}\"")}");
        if (version != Version) throw new ModelConfigException(path, "version", $"must be {Version} (the only version this NativeEE reads), got {version?.ToString() ?? "nothing"}");
        if (spec is null) throw new ModelConfigException(path, "policy", "is required (a spec such as \"entropy:0.3\")");
        ExitPolicy policy;
        try { policy = ExitPolicy.Parse(spec); }
        catch (FormatException e) { throw new ModelConfigException(path, "policy", e.Message, e); }
        return (policy, calibration);
    }

    static PolicyCalibration ReadCalibration(ref Utf8JsonReader reader, string path)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new ModelConfigException(path, "calibration", "must be an object");
        string? data = null, seen = null;
        int? rows = null;
        double? drop = null, acc = null, full = null, layers = null, speedup = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            switch (name)
            {
                case "dataFile": data = String(ref reader, path, "calibration.dataFile"); break;
                case "maxAccuracyDrop": drop = Number(ref reader, path, name); break;
                case "devAccuracy": acc = Number(ref reader, path, name); break;
                case "fullDepthAccuracy": full = Number(ref reader, path, name); break;
                case "meanLayers": layers = Number(ref reader, path, name); break;
                case "expectedSpeedup": speedup = Number(ref reader, path, name); break;
                case "rows":
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int r) || r < 1)
                        throw new ModelConfigException(path, "calibration.rows", "must be an integer ≥ 1");
                    rows = r;
                    break;
                case "excludedSeenIn": seen = String(ref reader, path, "calibration.excludedSeenIn"); break;
                default: reader.Skip(); break;
            }
        }
        return new PolicyCalibration
        {
            DataFile = data ?? throw Missing(path, "dataFile"),
            MaxAccuracyDrop = drop ?? throw Missing(path, "maxAccuracyDrop"),
            DevAccuracy = acc ?? throw Missing(path, "devAccuracy"),
            FullDepthAccuracy = full,
            MeanLayers = layers ?? throw Missing(path, "meanLayers"),
            ExpectedSpeedup = speedup ?? throw Missing(path, "expectedSpeedup"),
            Rows = rows,
            ExcludedSeenIn = seen,
        };
    }

    static ModelConfigException Missing(string path, string field) => new(path, "calibration." + field, "is required");

    static string String(ref Utf8JsonReader reader, string path, string field)
    {
        if (reader.TokenType != JsonTokenType.String) throw new ModelConfigException(path, field, "must be a string");
        return reader.GetString()!;
    }

    static double Number(ref Utf8JsonReader reader, string path, string field)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out double v) || !double.IsFinite(v))
            throw new ModelConfigException(path, "calibration." + field, "must be a finite number");
        return v;
    }
}
