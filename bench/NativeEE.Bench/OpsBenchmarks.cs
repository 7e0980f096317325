using BenchmarkDotNet.Attributes;
using NativeEE.Kernels;

namespace NativeEE.Bench;

/// <summary>
/// The non-GEMM kernels of one BERT-base encoder layer at M = 128 tokens, next to that layer's four GEMMs
/// measured in the same run, so their share of the layer time is a ratio of numbers from one process:
/// share = (2·LayerNorm[128×768] + GELU[128×3072] + Attention[12×64, L=128]) / GemmLayer.
/// Element-wise kernels use OperationsPerInvoke = elements, so "Mean" is ns per element
/// (elements/s = 1e9/Mean; bytes moved = 8 per element: one float read, one written).
/// Attention's Mean is per call; its FLOPs are 4·L²·H·D (Q·Kᵀ and P·V, 2 FLOPs per multiply-add).
/// Run: <c>dotnet run -c Release --project bench/NativeEE.Bench -- --filter '*OpsBenchmarks*' --job short</c>
/// (add <c>--inProcess</c> on a loaded machine, where building the out-of-process runner can time out).
/// </summary>
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

        _wQkv = Gemm.Pack(Fill(3 * Hidden * Hidden, 0.05f), 3 * Hidden, Hidden);
        _wO = Gemm.Pack(Fill(Hidden * Hidden, 0.05f), Hidden, Hidden);
        _wUp = Gemm.Pack(Fill(Intermediate * Hidden, 0.05f), Intermediate, Hidden);
        _wDown = Gemm.Pack(Fill(Hidden * Intermediate, 0.05f), Hidden, Intermediate);
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

    /// <summary>The four GEMMs of one BERT-base layer at M = 128, one thread, active path: 2·128·768·9216 = 1.81 GFLOP.</summary>
    [Benchmark]
    public void GemmLayer_Bert_M128()
    {
        Gemm.Multiply(_hidden, M, _wQkv!, _bQkv, _gQkv);
        Gemm.Multiply(_hidden, M, _wO!, _bO, _hiddenOut, Epilogue.None, _hidden);
        Gemm.Multiply(_hidden, M, _wUp!, _bUp, _gUp, Epilogue.Gelu);
        Gemm.Multiply(_gUp, M, _wDown!, _bDown, _hiddenOut, Epilogue.None, _hidden);
    }
}
