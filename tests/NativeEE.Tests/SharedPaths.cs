namespace NativeEE.Tests;

/// <summary>Locates ../shared (override: env NATIVEEE_SHARED). Missing material fails loudly, never skips.</summary>
public static class SharedPaths
{
    public static string Root { get; } = FindRoot();

    static string FindRoot()
    {
        string? env = Environment.GetEnvironmentVariable("NATIVEEE_SHARED");
        if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
        // Walk up from the test binary to the repo root (the folder with NativeEE.sln), then ../shared.
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NativeEE.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException($"Cannot find the repo root (NativeEE.sln) above {AppContext.BaseDirectory}; set NATIVEEE_SHARED.");
        return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
    }

    /// <summary>Path of a file or folder under ../shared; throws a clear error if it is missing.</summary>
    public static string Get(string relative)
    {
        string p = Path.Combine(Root, relative);
        if (!File.Exists(p) && !Directory.Exists(p))
            throw new FileNotFoundException($"Shared test material missing: {p}. Tests read ../shared beside the repo (or NATIVEEE_SHARED).", p);
        return p;
    }

    public static string MiniLm => Get("models/minilm-sst2-ee");
    public static string Sst2(string file) => Get(Path.Combine("data", "sst2", file));
}
