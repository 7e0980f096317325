using System.Runtime.CompilerServices;

namespace NativeEE.Cli.Tests;

/// <summary>
/// <c>nee</c> caches packed weights under $XDG_CACHE_HOME/nativeee by default, one file per model folder; tests load
/// many temporary folders, so the test process gets a cache folder of its own, deleted when it exits.
/// </summary>
internal static class CacheIsolation
{
    [ModuleInitializer]
    internal static void UseATemporaryCacheFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "nee-test-cache-" + Guid.NewGuid().ToString("N")[..12]);
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(folder, recursive: true); }
            catch (IOException) { }
        };
    }
}
