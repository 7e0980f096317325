using System.Diagnostics;
using NativeEE.Safetensors;

namespace NativeEE.Bench;

/// <summary>
/// <c>safetensors-open [FILE] [--runs N]</c>: wall time of <see cref="SafetensorsFile.Open"/> + reading every
/// tensor's descriptor + Dispose, N times (default 20) after one warm-up open; prints median, min and max.
/// The default file is the shared model's <c>model.safetensors</c>. What an open costs is mapping the file and
/// validating its header and layout; tensor data is not read (that is the point of the zero-copy reader).
/// </summary>
internal static class SafetensorsOpenTiming
{
    public static int Run(string[] args)
    {
        string? file = null;
        int runs = 20;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--runs" && i + 1 < args.Length && int.TryParse(args[++i], out int n) && n > 0) runs = n;
            else if (!args[i].StartsWith("--", StringComparison.Ordinal) && file is null) file = args[i];
            else throw new ArgumentException($"safetensors-open: bad option {args[i]} (usage: safetensors-open [FILE] [--runs N])");
        }
        file = Path.GetFullPath(file ?? Path.Combine(E2e.E2eOptions.DefaultShared(), "models", "minilm-sst2-ee", "model.safetensors"));
        if (!File.Exists(file)) throw new FileNotFoundException($"safetensors-open: {file} does not exist (../shared missing?)", file);

        int tensors = OpenOnce(file, out long bytes);
        var ms = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            long start = Stopwatch.GetTimestamp();
            OpenOnce(file, out _);
            ms[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(ms);
        double median = runs % 2 == 1 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
        Console.WriteLine($"{file}: {tensors} tensors, {bytes / 1e6:F1} MB of data");
        Console.WriteLine($"open + descriptors + dispose, {runs} runs: median {median:F3} ms, min {ms[0]:F3} ms, max {ms[^1]:F3} ms");
        return 0;
    }

    static int OpenOnce(string file, out long bytes)
    {
        using var st = SafetensorsFile.Open(file);
        bytes = 0;
        foreach (var t in st.Tensors) bytes += t.SizeInBytes;
        return st.Tensors.Count;
    }
}
