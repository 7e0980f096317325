using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NativeEE.Kernels;

namespace NativeEE.Bench;

/// <summary>
/// The non-GEMM kernels of one BERT-base encoder layer at M = 128 tokens, next to that layer's four GEMMs
/// measured in the same run, so their share of the layer is a ratio of numbers from one process (the
/// "layer share" column: median call time × uses per layer / median GemmLayer time on the same path).
/// Per layer: LayerNorm[128×768] twice, GELU[128×3072] once (fused into the FFN-up GEMM's epilogue, so
/// GemmLayer already contains it: its share is what the epilogue costs inside that GEMM), attention once.
/// Element-wise kernels use OperationsPerInvoke = elements, so Mean is ns per element; the throughput column
/// gives elements/s and GB/s (8 bytes per element: one float read, one written). Attention and GEMM give
/// GFLOP/s (attention 4·L²·H·D per sequence: Q·Kᵀ and P·V at 2 FLOPs per multiply-add).
/// Run: <c>dotnet run -c Release --project bench/NativeEE.Bench -- --filter '*OpsBenchmarks*' --job short</c>
/// (add <c>--inProcess</c> on a loaded machine, where building the out-of-process runner can time out).
/// </summary>
[Config(typeof(OpsColumns))]
public class OpsBenchmarks
{
    const int M = 128, Hidden = 768, Intermediate = 3072;

    /// <summary>The active path and, where it is wider, the AVX2 path for comparison.</summary>
    public static IEnumerable<IsaPath> Paths() =>
        Isa.Active > IsaPath.Vector256 ? [IsaPath.Vector256, Isa.Active] : [Isa.Active];

    [ParamsSource(nameof(Paths))]
    public IsaPath Path { get; set; }

    float[] _hidden = [], _hiddenOut = [], _wide = [], _wideOut = [], _gamma = [], _beta = [];
    float[] _qkvBase = [], _qkvMini = [], _attnOut = [], _scratch = [];
    int[] _oneSequence = [], _miniBatch = [];
    PackedMatrix? _wQkv, _wO, _wUp, _wDown;
    float[] _bQkv = [], _bO = [], _bUp = [], _bDown = [], _gQkv = [], _gUp = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        float[] Fill(int n, float scale) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = scale * (2 * rng.NextSingle() - 1); return a; }
        _hidden = Fill(M * Hidden, 3f);
        _hiddenOut = new float[M * Hidden];
        _wide = Fill(M * Intermediate, 4f);
        _wideOut = new float[M * Intermediate];
        _gamma = Fill(Hidden, 1f);
        _beta = Fill(Hidden, 0.1f);

        // BERT-base: one sequence of 128 tokens, 12 heads × 64. MiniLM (our model): SST-2-sized batch of 8 × 25 tokens, 12 × 32.
        _oneSequence = [0, M];
        _qkvBase = Fill(M * 3 * Hidden, 1.5f);
        _miniBatch = [0, 25, 50, 75, 100, 125, 150, 175, 200];
        _qkvMini = Fill(200 * 3 * 384, 1.5f);
        _attnOut = new float[M * Hidden * 2];
        _scratch = new float[Attention.ScratchSize(M, 1)];

        // The GEMMs run on the same path as the kernels they are compared with.
        _wQkv = Gemm.Pack(Fill(3 * Hidden * Hidden, 0.05f), 3 * Hidden, Hidden, Path);
        _wO = Gemm.Pack(Fill(Hidden * Hidden, 0.05f), Hidden, Hidden, Path);
        _wUp = Gemm.Pack(Fill(Intermediate * Hidden, 0.05f), Intermediate, Hidden, Path);
        _wDown = Gemm.Pack(Fill(Hidden * Intermediate, 0.05f), Hidden, Intermediate, Path);
        _bQkv = Fill(3 * Hidden, 0.1f); _bO = Fill(Hidden, 0.1f); _bUp = Fill(Intermediate, 0.1f); _bDown = Fill(Hidden, 0.1f);
        _gQkv = new float[M * 3 * Hidden];
        _gUp = new float[M * Intermediate];
    }

    [Benchmark(OperationsPerInvoke = M * Hidden)]
    public void LayerNorm_128x768() => LayerNorm.Forward(_hidden, M, Hidden, _gamma, _beta, 1e-12f, _hiddenOut, Path);

    [Benchmark(OperationsPerInvoke = M * Hidden)]
    public void Softmax_128x768() => Softmax.Forward(_hidden, M, Hidden, _hiddenOut, Path);

    [Benchmark(OperationsPerInvoke = M * Intermediate)]
    public void Gelu_128x3072() => Activations.Gelu(_wide, _wideOut, Path);

    [Benchmark(OperationsPerInvoke = M * Intermediate)]
    public void GeluTanh_128x3072() => Activations.GeluTanh(_wide, _wideOut, Path);

    [Benchmark(OperationsPerInvoke = M * Hidden)]
    public void Tanh_128x768() => Activations.Tanh(_hidden, _hiddenOut, Path);

    /// <summary>4·128²·12·64 = 50.3 MFLOP per call.</summary>
    [Benchmark]
    public void Attention_Bert_12x64_L128()
        => Attention.Forward(_qkvBase, _oneSequence, 12, 64, _attnOut, _scratch, default, null, firstTokenOnly: false, Path);

    /// <summary>8 sequences × 4·25²·12·32 = 7.7 MFLOP per call.</summary>
    [Benchmark]
    public void Attention_MiniLm_12x32_8xL25()
        => Attention.Forward(_qkvMini, _miniBatch, 12, 32, _attnOut, _scratch, default, null, firstTokenOnly: false, Path);

    /// <summary>The four GEMMs of one BERT-base layer at M = 128, one thread: 2·128·768·9216 = 1.81 GFLOP (GELU epilogue included).</summary>
    [Benchmark]
    public void GemmLayer_Bert_M128()
    {
        Gemm.Multiply(_hidden, M, _wQkv!, _bQkv, _gQkv, Epilogue.None, default, null, Path);
        Gemm.Multiply(_hidden, M, _wO!, _bO, _hiddenOut, Epilogue.None, _hidden, null, Path);
        Gemm.Multiply(_hidden, M, _wUp!, _bUp, _gUp, Epilogue.Gelu, default, null, Path);
        Gemm.Multiply(_gUp, M, _wDown!, _bDown, _hiddenOut, Epilogue.None, _hidden, null, Path);
    }

    /// <summary>What one call of each benchmark does: elements (element-wise), FLOPs (attention, GEMM), uses per BERT layer.</summary>
    static readonly Dictionary<string, (double Elements, double Flops, int PerLayer)> Work = new()
    {
        [nameof(LayerNorm_128x768)] = (M * Hidden, 0, 2),
        [nameof(Softmax_128x768)] = (M * Hidden, 0, 0),
        [nameof(Gelu_128x3072)] = (M * Intermediate, 0, 1),
        [nameof(GeluTanh_128x3072)] = (M * Intermediate, 0, 0),
        [nameof(Tanh_128x768)] = (M * Hidden, 0, 0),
        [nameof(Attention_Bert_12x64_L128)] = (0, 4.0 * M * M * 12 * 64, 1),
        [nameof(Attention_MiniLm_12x32_8xL25)] = (0, 8 * 4.0 * 25 * 25 * 12 * 32, 0),
        [nameof(GemmLayer_Bert_M128)] = (0, 2.0 * M * Hidden * (3 * Hidden + Hidden + 2 * Intermediate), 0),
    };

    /// <summary>Throughput and layer-share columns computed from the medians of this run.</summary>
    public sealed class OpsColumns : ManualConfig
    {
        public OpsColumns()
        {
            AddColumn(new ThroughputColumn(), new LayerShareColumn(), StatisticColumn.Median);
        }
    }

    /// <summary>Median time of one call in ns (Mean-style statistics are per operation when OperationsPerInvoke &gt; 1).</summary>
    static double CallNanoseconds(Summary summary, BenchmarkCase benchmark)
    {
        var stats = summary[benchmark]?.ResultStatistics;
        if (stats is null) return double.NaN;
        var work = Work[benchmark.Descriptor.WorkloadMethod.Name];
        return stats.Median * (work.Elements > 0 ? work.Elements : 1);
    }

    sealed class ThroughputColumn : IColumn
    {
        public string Id => "OpsThroughput";
        public string ColumnName => "Throughput";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => false;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Gelem/s and GB/s (element-wise) or GFLOP/s (attention, GEMM), at the median time";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            double ns = CallNanoseconds(summary, benchmarkCase);
            if (double.IsNaN(ns)) return "-";
            var work = Work[benchmarkCase.Descriptor.WorkloadMethod.Name];
            return work.Elements > 0
                ? $"{work.Elements / ns:F2} Gelem/s, {8 * work.Elements / ns:F1} GB/s"
                : $"{work.Flops / ns:F1} GFLOP/s";
        }
    }

    sealed class LayerShareColumn : IColumn
    {
        public string Id => "OpsLayerShare";
        public string ColumnName => "Layer share";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 1;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "uses per BERT-base layer × median call time, as % of GemmLayer_Bert_M128's median on the same path";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var work = Work[benchmarkCase.Descriptor.WorkloadMethod.Name];
            if (work.PerLayer == 0) return "-";
            var gemm = summary.BenchmarksCases.FirstOrDefault(c =>
                c.Descriptor.WorkloadMethod.Name == nameof(GemmLayer_Bert_M128) &&
                Equals(c.Parameters["Path"], benchmarkCase.Parameters["Path"]));
            if (gemm is null) return "-";
            double share = work.PerLayer * CallNanoseconds(summary, benchmarkCase) / CallNanoseconds(summary, gemm);
            return double.IsNaN(share) ? "-" : $"{100 * share:F1} %";
        }
    }
}
