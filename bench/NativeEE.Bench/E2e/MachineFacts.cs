using System.Runtime.InteropServices;

namespace NativeEE.Bench.E2e;

/// <summary>What the report says about the machine the numbers came from.</summary>
internal static class MachineFacts
{
    public static string CpuModel()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (File.Exists(cpuinfo))
            foreach (string line in File.ReadLines(cpuinfo))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int colon and > 0)
                    return line[(colon + 1)..].Trim();
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>The 1/5/15-minute load averages (Linux), else "n/a".</summary>
    public static string LoadAverage()
    {
        const string loadavg = "/proc/loadavg";
        if (!File.Exists(loadavg)) return "n/a";
        var parts = File.ReadAllText(loadavg).Split(' ');
        return parts.Length >= 3 ? $"{parts[0]} {parts[1]} {parts[2]}" : "n/a";
    }

    public static string Runtime => RuntimeInformation.FrameworkDescription;

    public static string Os => RuntimeInformation.OSDescription;
}
