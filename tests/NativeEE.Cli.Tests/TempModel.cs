using NativeEE.Tests;

namespace NativeEE.Cli.Tests;

/// <summary>
/// A writable model folder for tests: the shared model's files symlinked (the shared folder is read-only),
/// so a test can add a policy file or replace a file without touching the original.
/// </summary>
internal sealed class TempModel : IDisposable
{
    public TempModel(params string[] skip)
    {
        Directory = Path.Combine(Path.GetTempPath(), "nee-test-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        foreach (var file in System.IO.Directory.EnumerateFiles(SharedPaths.MiniLm))
        {
            string name = Path.GetFileName(file);
            if (Array.IndexOf(skip, name) >= 0 || name.EndsWith(".onnx", StringComparison.Ordinal)) continue;
            File.CreateSymbolicLink(Path.Combine(Directory, name), file);
        }
    }

    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}
