using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NativeEE.Kernels;

namespace NativeEE.Bench;

/// <summary>
/// Adds GFLOP/s and "% of peak" to every benchmark that knows its operation count. The peak is one
/// core's FMA rate on the active ISA path, measured by <see cref="FmaPeak.MeasurePeak"/> in this
/// process at start-up, times the benchmark's thread count.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    static readonly Lazy<double> PeakPerCore = new(() => FmaPeak.MeasurePeak(Isa.Active));

    public BenchConfig()
    {
        AddColumn(new FlopsColumn(percentOfPeak: false, best: false), new FlopsColumn(percentOfPeak: true, best: false),
                  new FlopsColumn(percentOfPeak: false, best: true), new FlopsColumn(percentOfPeak: true, best: true));
        AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max);
        SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(20);
    }

    /// <summary>Peak per core (GFLOP/s) used for the % column; measured once per host process.</summary>
    public static double Peak => PeakPerCore.Value;

    /// <summary>Floating-point operations per invocation, or NaN when the benchmark has no flop count.</summary>
    internal static double Flops(BenchmarkCase benchmark)
    {
        if (benchmark.Parameters.Items.FirstOrDefault(p => p.Name == "Width")?.Value is IsaPath width) return FmaPeak.Flops(width);
        return benchmark.Parameters.Items.FirstOrDefault(p => p.Name == "Shape")?.Value is GemmShape shape ? shape.Flops : double.NaN;
    }

    static int Threads(BenchmarkCase benchmark) =>
        benchmark.Parameters.Items.FirstOrDefault(p => p.Name == "Threads")?.Value is int t ? t : 1;

    /// <summary>
    /// GFLOP/s at the median time, or at the minimum ("best": on a shared machine the least disturbed
    /// iteration), optionally as % of the peak.
    /// </summary>
    sealed class FlopsColumn(bool percentOfPeak, bool best) : IColumn
    {
        public string Id => (percentOfPeak ? "PercentOfPeak" : "GFlops") + (best ? "Best" : "");
        public string ColumnName => (percentOfPeak ? "% peak" : "GFLOP/s") + (best ? " best" : "");
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => (best ? 2 : 0) + (percentOfPeak ? 1 : 0);
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => (percentOfPeak
            ? "GFLOP/s as % of (threads × one core's FMA peak on the active ISA path, measured in this run)"
            : "Floating-point operations per second (multiply-add = 2)") + (best ? ", at the minimum time" : ", at the median time");
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            double flops = Flops(benchmarkCase);
            if (stats is null || double.IsNaN(flops)) return "-";
            double gflops = flops / (best ? stats.Min : stats.Median); // times are in nanoseconds: flop/ns = GFLOP/s
            if (!percentOfPeak) return gflops.ToString("F1");
            double peak = Peak * Threads(benchmarkCase);
            return (100 * gflops / peak).ToString("F0");
        }
    }
}
