using System.Buffers;
using NativeEE.Kernels;

namespace NativeEE.Training;

/// <summary>
/// One DeeBERT "highway" exit head in trainable form: <c>logits = classifier(tanh(pooler(h_cls)))</c>,
/// with <c>pooler.weight [H,H]</c>, <c>pooler.bias [H]</c>, <c>classifier.weight [C,H]</c>,
/// <c>classifier.bias [C]</c> in nn.Linear layout (the names and shapes of <c>exits.safetensors</c>).
/// </summary>
/// <remarks>The trainer updates a head in place while it trains it; a finished head is not shared with a running trainer.</remarks>
public sealed class ExitHead
{
    internal readonly float[] PoolerWeightArray;
    internal readonly float[] PoolerBiasArray;
    internal readonly float[] ClassifierWeightArray;
    internal readonly float[] ClassifierBiasArray;

    /// <summary>Copies the four tensors: pooler.weight [H,H], pooler.bias [H], classifier.weight [C,H], classifier.bias [C].</summary>
    public ExitHead(int hidden, int classes, ReadOnlySpan<float> poolerWeight, ReadOnlySpan<float> poolerBias,
        ReadOnlySpan<float> classifierWeight, ReadOnlySpan<float> classifierBias)
        : this(hidden, classes)
    {
        Require(poolerWeight.Length, (long)hidden * hidden, "pooler.weight", $"[{hidden},{hidden}]");
        Require(poolerBias.Length, hidden, "pooler.bias", $"[{hidden}]");
        Require(classifierWeight.Length, (long)classes * hidden, "classifier.weight", $"[{classes},{hidden}]");
        Require(classifierBias.Length, classes, "classifier.bias", $"[{classes}]");
        poolerWeight.CopyTo(PoolerWeightArray);
        poolerBias.CopyTo(PoolerBiasArray);
        classifierWeight.CopyTo(ClassifierWeightArray);
        classifierBias.CopyTo(ClassifierBiasArray);
    }

    ExitHead(int hidden, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        Hidden = hidden;
        Classes = classes;
        PoolerWeightArray = new float[hidden * hidden];
        PoolerBiasArray = new float[hidden];
        ClassifierWeightArray = new float[classes * hidden];
        ClassifierBiasArray = new float[classes];
    }

    /// <summary>Hidden size H (input and pooler width).</summary>
    public int Hidden { get; }

    /// <summary>Number of classes C.</summary>
    public int Classes { get; }

    /// <summary>pooler.weight [H,H].</summary>
    public ReadOnlySpan<float> PoolerWeight => PoolerWeightArray;

    /// <summary>pooler.bias [H].</summary>
    public ReadOnlySpan<float> PoolerBias => PoolerBiasArray;

    /// <summary>classifier.weight [C,H].</summary>
    public ReadOnlySpan<float> ClassifierWeight => ClassifierWeightArray;

    /// <summary>classifier.bias [C].</summary>
    public ReadOnlySpan<float> ClassifierBias => ClassifierBiasArray;

    /// <summary>
    /// A freshly initialised head, as PyTorch's <c>nn.Linear</c> does it: every weight and bias
    /// uniform in (−1/√H, 1/√H) (both layers have fan-in H). Deterministic for (seed, stream).
    /// </summary>
    public static ExitHead CreateRandom(int hidden, int classes, int seed, int stream = 0)
    {
        var rng = SeededRandom.Create(seed, stream);
        return CreateRandom(hidden, classes, ref rng);
    }

    internal static ExitHead CreateRandom(int hidden, int classes, ref SeededRandom rng)
    {
        var head = new ExitHead(hidden, classes);
        float bound = 1f / MathF.Sqrt(hidden);
        Fill(head.PoolerWeightArray, bound, ref rng);
        Fill(head.PoolerBiasArray, bound, ref rng);
        Fill(head.ClassifierWeightArray, bound, ref rng);
        Fill(head.ClassifierBiasArray, bound, ref rng);
        return head;
    }

    /// <summary>A deep copy.</summary>
    public ExitHead Clone() => new(Hidden, Classes, PoolerWeightArray, PoolerBiasArray, ClassifierWeightArray, ClassifierBiasArray);

    /// <summary>
    /// X[rows,H] → logits[rows,C]: classifier(tanh(pooler(x))) for every row.
    /// <paramref name="pool"/> splits the matrix work across threads (null = calling thread).
    /// </summary>
    public void ComputeLogits(ReadOnlySpan<float> x, int rows, Span<float> logits, WorkerPool? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (x.Length < (long)rows * Hidden) throw new ArgumentException($"X has {x.Length} elements, rows·H = {(long)rows * Hidden}.", nameof(x));
        if (logits.Length < (long)rows * Classes) throw new ArgumentException($"logits has {logits.Length} elements, rows·C = {(long)rows * Classes}.", nameof(logits));
        if (rows == 0) return;
        const int chunk = 256;
        var pooler = Gemm.Pack(PoolerWeightArray, Hidden, Hidden);
        var classifier = Gemm.Pack(ClassifierWeightArray, Classes, Hidden);
        float[] pooled = ArrayPool<float>.Shared.Rent(chunk * Hidden);
        try
        {
            for (int r = 0; r < rows; r += chunk)
            {
                int m = Math.Min(chunk, rows - r);
                var h = pooled.AsSpan(0, m * Hidden);
                Gemm.Multiply(x.Slice(r * Hidden, m * Hidden), m, pooler, PoolerBiasArray, h, Epilogue.Tanh, default, pool);
                Gemm.Multiply(h, m, classifier, ClassifierBiasArray, logits.Slice(r * Classes, m * Classes), Epilogue.None, default, pool);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(pooled);
        }
    }

    /// <summary>X[rows,H] → predicted class [rows] (argmax of the logits; the first maximum wins).</summary>
    public void Predict(ReadOnlySpan<float> x, int rows, Span<int> predictions, WorkerPool? pool = null)
    {
        if (predictions.Length < rows) throw new ArgumentException($"predictions has {predictions.Length} elements, rows = {rows}.", nameof(predictions));
        float[] logits = new float[(long)rows * Classes];
        ComputeLogits(x, rows, logits, pool);
        for (int i = 0; i < rows; i++) predictions[i] = ArgMax(logits.AsSpan(i * Classes, Classes));
    }

    /// <summary>Accuracy of the head on X[rows,H] against labels[rows], in [0, 1].</summary>
    public double Accuracy(ReadOnlySpan<float> x, ReadOnlySpan<int> labels, WorkerPool? pool = null)
    {
        int rows = labels.Length;
        if (rows == 0) throw new ArgumentException("Accuracy needs at least one labelled row.", nameof(labels));
        int[] predicted = new int[rows];
        Predict(x, rows, predicted, pool);
        int correct = 0;
        for (int i = 0; i < rows; i++) if (predicted[i] == labels[i]) correct++;
        return (double)correct / rows;
    }

    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    static void Fill(Span<float> values, float bound, ref SeededRandom rng)
    {
        for (int i = 0; i < values.Length; i++) values[i] = rng.NextUniform(-bound, bound);
    }

    static void Require(int actual, long expected, string tensor, string shape)
    {
        if (actual != expected)
            throw new ArgumentException($"Exit head tensor {tensor} has {actual} elements; expected {shape} = {expected}.", tensor);
    }
}
