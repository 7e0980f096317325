using NativeEE.Kernels;
using NativeEE.Model;

namespace NativeEE.Bench.E2e;

/// <summary>
/// Where one forward pass spends its time. The engine has no per-op timing hook (its observer only reports
/// rows per layer), so this replays the engine's kernel call sequence (EncoderLayer.Forward for every layer,
/// ForwardFirstRows for the last, the final head) on the model's shapes with seeded random weights — one
/// distinct weight set per layer, as in the model, so caches see the same footprint — and times every kernel
/// call. Each iteration also times the real model on the same shape; "other" is that end-to-end time minus the
/// replayed kernels (embeddings, row gathers, softmax and exit bookkeeping, call overhead). Times are the calling
/// thread's CPU time (<see cref="ThreadClock"/>), so run it with a 1-thread model: then every kernel runs on the caller.
/// </summary>
internal static class OpProfile
{
    public sealed record Op(string Name, double Ms, double Gflop);

    public sealed record Result(string Shape, int Threads, IReadOnlyList<Op> Ops, double EndToEndMs, double ModelGflop);

    enum K { Qkv, Attention, AttnOut, LayerNorm, Up, Gelu, Down, Head, Count }

    static readonly string[] Names =
    [
        "GEMM Q/K/V (fused)", "attention (QKᵀ, softmax, PV)", "GEMM attention output (+bias, residual)", "LayerNorm (×2 per layer)",
        "GEMM FFN up (+bias)", "GELU (FFN-up epilogue; est.)", "GEMM FFN down (+bias, residual)", "final head (pooler + classifier)",
    ];

    sealed class LayerWeights(ModelConfig c, Random rng)
    {
        public readonly PackedMatrix Qkv = Pack(rng, 3 * c.HiddenSize, c.HiddenSize);
        public readonly PackedMatrix Out = Pack(rng, c.HiddenSize, c.HiddenSize);
        public readonly PackedMatrix Up = Pack(rng, c.IntermediateSize, c.HiddenSize);
        public readonly PackedMatrix Down = Pack(rng, c.HiddenSize, c.IntermediateSize);
        public readonly float[] QkvBias = Vector(rng, 3 * c.HiddenSize, 0.02f), OutBias = Vector(rng, c.HiddenSize, 0.02f);
        public readonly float[] UpBias = Vector(rng, c.IntermediateSize, 0.02f), DownBias = Vector(rng, c.HiddenSize, 0.02f);
        public readonly float[] Gamma = Filled(c.HiddenSize, 1f), Beta = new float[c.HiddenSize];
    }

    /// <summary>
    /// Sequences of <paramref name="lengths"/> through <paramref name="model"/> (its config and thread count) at full
    /// depth, <paramref name="iterations"/> times → median time of each op per forward pass.
    /// </summary>
    public static Result Run(EarlyExitModel model, int[] lengths, int iterations, string shape)
    {
        var c = model.Config;
        int h = c.HiddenSize, ff = c.IntermediateSize, layers = c.NumHiddenLayers, seqs = lengths.Length;
        var rng = new Random(20261125);
        var weights = new LayerWeights[layers];
        for (int l = 0; l < layers; l++) weights[l] = new LayerWeights(c, rng);
        var head = (Pooler: Pack(rng, h, h), PoolerBias: Vector(rng, h, 0.02f), Classifier: Pack(rng, c.NumLabels, h), ClassifierBias: new float[c.NumLabels]);

        var offsets = new int[seqs + 1];
        for (int i = 0; i < seqs; i++) offsets[i + 1] = offsets[i] + lengths[i];
        int rows = offsets[^1];
        var input = Vector(rng, rows * h, 1f);
        var hidden = new float[rows * h];
        var qkv = new float[rows * 3 * h];
        var context = new float[rows * h];
        var sum = new float[rows * h];
        var ffn = new float[rows * ff];
        var cls = new float[seqs * h];
        var clsContext = new float[seqs * h];
        var clsSum = new float[seqs * h];
        var pooled = new float[seqs * h];
        var logits = new float[seqs * c.NumLabels];
        using var pool = new WorkerPool(model.Threads);
        var scratch = new float[Attention.ScratchSize(lengths.Max(), model.Threads)];

        var ids = new int[rows];
        for (int i = 0; i < seqs; i++)
            for (int t = 0; t < lengths[i]; t++)
                ids[offsets[i] + t] = t == 0 ? model.Tokenizer.ClsId : t == lengths[i] - 1 ? model.Tokenizer.SepId : 1000 + rng.Next(20000);
        var predictions = new Prediction[seqs];

        var samples = new List<double>[(int)K.Count];
        for (int k = 0; k < samples.Length; k++) samples[k] = [];
        var endToEnd = new List<double>();
        var spent = new long[(int)K.Count];

        for (int it = -2; it < iterations; it++)
        {
            Array.Clear(spent);
            input.CopyTo(hidden, 0);
            for (int l = 0; l < layers; l++)
            {
                var w = weights[l];
                long t = ThreadClock.NowNs();
                Gemm.Multiply(hidden, rows, w.Qkv, w.QkvBias, qkv, pool: pool);
                t = Lap(spent, K.Qkv, t);
                Attention.Forward(qkv, offsets, c.NumAttentionHeads, c.HeadDim, context, scratch, default, pool);
                t = Lap(spent, K.Attention, t);
                if (l < layers - 1)
                {
                    Layer(w, hidden, context, sum, ffn, rows, h, c.LayerNormEps, pool, spent, t);
                }
                else
                {
                    // The engine's last layer: projections and FFN on the [CLS] rows only.
                    for (int b = 0; b < seqs; b++)
                    {
                        context.AsSpan(offsets[b] * h, h).CopyTo(clsContext.AsSpan(b * h));
                        hidden.AsSpan(offsets[b] * h, h).CopyTo(cls.AsSpan(b * h));
                    }
                    Layer(w, cls, clsContext, clsSum, ffn, seqs, h, c.LayerNormEps, pool, spent, ThreadClock.NowNs());
                }
            }
            long th = ThreadClock.NowNs();
            Gemm.Multiply(cls, seqs, head.Pooler, head.PoolerBias, pooled, Epilogue.Tanh, pool: pool);
            Gemm.Multiply(pooled, seqs, head.Classifier, head.ClassifierBias, logits, pool: pool);
            Lap(spent, K.Head, th);

            long te = ThreadClock.NowNs();
            model.Classify(ids, offsets, predictions, ExitPolicy.FullDepth);
            double e2e = ThreadClock.Ms(ThreadClock.NowNs() - te);
            if (it < 0) continue;
            endToEnd.Add(e2e);
            for (int k = 0; k < spent.Length; k++) samples[k].Add(ThreadClock.Ms(spent[k]));
        }

        double gelu = Stats.Median(samples[(int)K.Gelu]);
        int firstRows = seqs;
        double allLayers = layers - 1;
        var ops = new List<Op>
        {
            new(Names[(int)K.Qkv], Stats.Median(samples[(int)K.Qkv]), layers * Flops.Gemm(rows, 3 * h, h)),
            new(Names[(int)K.Attention], Stats.Median(samples[(int)K.Attention]), layers * Flops.Attention(h, lengths, false)),
            new(Names[(int)K.AttnOut], Stats.Median(samples[(int)K.AttnOut]), allLayers * Flops.Gemm(rows, h, h) + Flops.Gemm(firstRows, h, h)),
            new(Names[(int)K.LayerNorm], Stats.Median(samples[(int)K.LayerNorm]), 0),
            new(Names[(int)K.Up], Math.Max(0, Stats.Median(samples[(int)K.Up]) - gelu), allLayers * Flops.Gemm(rows, ff, h) + Flops.Gemm(firstRows, ff, h)),
            new(Names[(int)K.Gelu], gelu, 0),
            new(Names[(int)K.Down], Stats.Median(samples[(int)K.Down]), allLayers * Flops.Gemm(rows, h, ff) + Flops.Gemm(firstRows, h, ff)),
            new(Names[(int)K.Head], Stats.Median(samples[(int)K.Head]), Flops.Gemm(seqs, h, h) + Flops.Gemm(seqs, c.NumLabels, h)),
        };
        double median = Stats.Median(endToEnd);
        ops.Add(new("other (embeddings, gathers, bookkeeping, call overhead)", Math.Max(0, median - ops.Sum(o => o.Ms)), 0));
        return new Result(shape, model.Threads, ops, median, Flops.Model(c, lengths) / 1e9);
    }

    /// <summary>
    /// Everything after attention in one layer, x[R, H] in place (EncoderLayer's order). GELU is fused into the FFN-up
    /// GEMM, so its share is estimated by running the standalone GELU kernel over the same R × FF elements after the
    /// layer (off the timed path of the other ops) and taken out of the FFN-up row.
    /// </summary>
    static void Layer(LayerWeights w, float[] x, float[] context, float[] sum, float[] ffn, int r, int h, float eps,
        WorkerPool pool, long[] spent, long t)
    {
        int ff = w.Up.N;
        Gemm.Multiply(context.AsSpan(0, r * h), r, w.Out, w.OutBias, sum, Epilogue.None, residual: x.AsSpan(0, r * h), pool);
        t = Lap(spent, K.AttnOut, t);
        LayerNorm.Forward(sum, r, h, w.Gamma, w.Beta, eps, x);
        t = Lap(spent, K.LayerNorm, t);
        Gemm.Multiply(x.AsSpan(0, r * h), r, w.Up, w.UpBias, ffn, Epilogue.Gelu, pool: pool);
        t = Lap(spent, K.Up, t);
        Gemm.Multiply(ffn.AsSpan(0, r * ff), r, w.Down, w.DownBias, sum, Epilogue.None, residual: x.AsSpan(0, r * h), pool);
        t = Lap(spent, K.Down, t);
        LayerNorm.Forward(sum, r, h, w.Gamma, w.Beta, eps, x);
        t = Lap(spent, K.LayerNorm, t);
        var activations = ffn.AsSpan(0, r * ff);
        Activations.Gelu(activations, activations);
        Lap(spent, K.Gelu, t);
    }

    static long Lap(long[] spent, K op, long since)
    {
        long now = ThreadClock.NowNs();
        spent[(int)op] += now - since;
        return now;
    }

    static PackedMatrix Pack(Random rng, int n, int k) => Gemm.Pack(Vector(rng, n * k, 0.05f), n, k);

    static float[] Vector(Random rng, int n, float scale)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return v;
    }

    static float[] Filled(int n, float value)
    {
        var v = new float[n];
        Array.Fill(v, value);
        return v;
    }
}
