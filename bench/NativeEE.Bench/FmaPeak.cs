using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using NativeEE.Kernels;
using Probe = NativeEE.Kernels.FmaPeak;

namespace NativeEE.Bench;

/// <summary>
/// The FMA peak of one core, per vector width: the library's independent multiply-add chains
/// (<see cref="NativeEE.Kernels.FmaPeak"/>: more chains than pipes × latency, no memory traffic). Every GEMM
/// figure is reported as a share of this number, measured on the same machine in the same run.
/// </summary>
[Config(typeof(BenchConfig))]
public class FmaPeak
{
    const int Chunks = 256;

    /// <summary>The widths this CPU runs natively (an emulated width would measure the emulation).</summary>
    public static IEnumerable<IsaPath> Widths() =>
        Enum.GetValues<IsaPath>().Where(p => p == IsaPath.Scalar || p <= Isa.Active);

    [ParamsSource(nameof(Widths))]
    public IsaPath Width { get; set; }

    /// <summary>Floating-point operations of one benchmark invocation (a multiply-add counts 2).</summary>
    internal static double Flops(IsaPath width) => Flops(width, Chunks);

    /// <summary>Floating-point operations of <see cref="Run"/> with <paramref name="chunks"/> chunks.</summary>
    internal static double Flops(IsaPath width, int chunks) => chunks * Probe.FlopsPerChunk(width);

    [Benchmark]
    public float Chains() => Run(Width, Chunks);

    /// <summary>Runs <paramref name="chunks"/> chunks of the probe's chains at <paramref name="path"/>'s width; returns their sum (a sink).</summary>
    internal static float Run(IsaPath path, int chunks)
    {
        float sink = 0;
        for (int c = 0; c < chunks; c++) sink += Probe.RunChunk(path, Isa.HasFma);
        return sink;
    }

    /// <summary>GFLOP/s of one core on the active path's width: best of repeated short probes (the least disturbed by other processes).</summary>
    internal static double MeasurePeak(IsaPath path)
    {
        const int chunks = 16;
        double best = 0;
        var total = Stopwatch.StartNew();
        while (total.ElapsedMilliseconds < 1500)
        {
            long start = Stopwatch.GetTimestamp();
            float sink = Run(path, chunks);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (!float.IsNaN(sink)) best = Math.Max(best, Flops(path, chunks) / seconds / 1e9);
        }
        return best;
    }
}
