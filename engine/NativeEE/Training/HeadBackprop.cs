using NativeEE.Kernels;

namespace NativeEE.Training;

/// <summary>
/// Loss and parameter gradients of one <see cref="ExitHead"/> on a mini-batch, with the scratch they need.
/// The features are frozen inputs, so no gradient flows back into them (heads are independent).
/// </summary>
/// <remarks>
/// Both big products go through <see cref="Gemm"/> with the small batch matrix as the packed operand,
/// so nothing H×H is repacked per step:
/// forward aᵀ[H,B] = W1[H,H]·Xbᵀ, backward dW1[H,H] = δ1ᵀ[H,B]·(Xbᵀ[H,B])ᵀ.
/// </remarks>
internal sealed class HeadBackprop
{
    readonly int _hidden;
    readonly int _classes;
    readonly int _maxBatch;
    readonly float[] _xb;    // [B,H] gathered rows
    readonly float[] _xbT;   // [H,B]
    readonly float[] _aT;    // [H,B] pooler pre-activation, transposed
    readonly float[] _h;     // [B,H] tanh output
    readonly float[] _hd;    // [B,H] tanh output after dropout (the classifier's input)
    readonly float[] _mask;  // [B,H] dropout multipliers: 0 or 1/(1 − p)
    readonly float _dropout;
    SeededRandom _random;
    readonly float[] _z;     // [B,C] logits
    readonly float[] _dz;    // [B,C]
    readonly float[] _d1T;   // [H,B] δ1 = dL/da, transposed
    readonly float[] _work;  // [5·C] per-row softmax and target scratch

    /// <summary>Scratch for batches of up to <paramref name="maxBatch"/> rows; <paramref name="dropout"/> &gt; 0 drops pooled units with masks drawn from <paramref name="random"/>.</summary>
    public HeadBackprop(int hidden, int classes, int maxBatch, float dropout = 0f, SeededRandom random = default)
    {
        _dropout = dropout;
        _random = random;
        _hd = dropout > 0 ? new float[maxBatch * hidden] : [];
        _mask = dropout > 0 ? new float[maxBatch * hidden] : [];
        _hidden = hidden;
        _classes = classes;
        _maxBatch = maxBatch;
        _xb = new float[maxBatch * hidden];
        _xbT = new float[maxBatch * hidden];
        _aT = new float[maxBatch * hidden];
        _h = new float[maxBatch * hidden];
        _z = new float[maxBatch * classes];
        _dz = new float[maxBatch * classes];
        _d1T = new float[maxBatch * hidden];
        _work = new float[5 * classes];
        GradPoolerWeight = new float[hidden * hidden];
        GradPoolerBias = new float[hidden];
        GradClassifierWeight = new float[classes * hidden];
        GradClassifierBias = new float[classes];
    }

    public float[] GradPoolerWeight { get; }
    public float[] GradPoolerBias { get; }
    public float[] GradClassifierWeight { get; }
    public float[] GradClassifierBias { get; }

    /// <summary>The dropout multipliers [B,H] of the last <see cref="Compute"/> (empty without dropout).</summary>
    public ReadOnlySpan<float> LastDropoutMask => _mask.AsSpan(0, Math.Min(_mask.Length, _lastBatch * _hidden));

    int _lastBatch;

    /// <summary>
    /// features[N,H], rows[B] (indices into features), labels[N], teacherLogits[N,C] or empty →
    /// mean loss over the batch; the gradients of that mean loss land in the Grad* arrays.
    /// Loss per row: α·CE(z, target) + (1 − α)·T²·KL(softmax(t/T) ‖ softmax(z/T)); α = 1 needs no teacher.
    /// The target is the one-hot label, smoothed by <see cref="LossSettings.LabelSmoothing"/>. With
    /// <paramref name="mixup"/> λ &lt; 1 every row i is mixed with row (i + 1) mod B (mixup, Zhang et al. 2018):
    /// input λ·x_i + (1 − λ)·x_j, and targets and teacher distributions mixed with the same weights.
    /// The head reads (x − μ)·s when <paramref name="scaling"/> is given, raw x otherwise.
    /// </summary>
    public double Compute(ExitHead head, ReadOnlySpan<float> features, ReadOnlySpan<int> rows, ReadOnlySpan<int> labels,
        ReadOnlySpan<float> teacherLogits, LossSettings loss, FeatureScaling? scaling = null, float mixup = 1f)
    {
        int b = rows.Length, hd = _hidden, c = _classes;
        if (b < 1 || b > _maxBatch) throw new ArgumentOutOfRangeException(nameof(rows), b, $"Batch size must be in [1, {_maxBatch}].");
        float alpha = loss.Alpha, temperature = loss.Temperature;
        bool distill = alpha < 1f, mixing = mixup < 1f;
        if (distill && teacherLogits.IsEmpty) throw new ArgumentException("Distillation (α < 1) needs the teacher's logits.", nameof(teacherLogits));

        var xb = _xb.AsSpan(0, b * hd);
        for (int i = 0; i < b; i++) features.Slice(rows[i] * hd, hd).CopyTo(xb.Slice(i * hd, hd));
        if (scaling is not null)
        {
            float[] mean = scaling.Mean, scale = scaling.Scale;
            for (int i = 0; i < b; i++)
            {
                var row = xb.Slice(i * hd, hd);
                for (int j = 0; j < hd; j++) row[j] = (row[j] - mean[j]) * scale[j];
            }
        }
        if (mixing)
        {
            // Each row takes from its successor, so mix from a copy of the unmixed rows.
            var original = _xbT.AsSpan(0, b * hd);
            xb.CopyTo(original);
            for (int i = 0; i < b; i++)
            {
                var row = xb.Slice(i * hd, hd);
                var partner = original.Slice((i + 1) % b * hd, hd);
                for (int j = 0; j < hd; j++) row[j] = mixup * row[j] + (1f - mixup) * partner[j];
            }
        }

        // Forward: aᵀ = W1·Xbᵀ, h = tanh(a + b1), z = h·W2ᵀ + b2.
        var aT = _aT.AsSpan(0, hd * b);
        Gemm.Multiply(head.PoolerWeightArray, hd, Gemm.Pack(xb, b, hd), default, aT);
        var h = _h.AsSpan(0, b * hd);
        var b1 = head.PoolerBiasArray;
        for (int j = 0; j < hd; j++)
        {
            float bias = b1[j];
            var row = aT.Slice(j * b, b);
            for (int i = 0; i < b; i++) h[i * hd + j] = row[i] + bias;
        }
        Activations.Tanh(h, h);
        _lastBatch = b;
        // DeeBERT's highway drops pooled units before the classifier (inverted dropout: kept units scaled by 1/(1 − p)).
        ReadOnlySpan<float> pooled = h;
        if (_dropout > 0)
        {
            var mask = _mask.AsSpan(0, b * hd);
            var dropped = _hd.AsSpan(0, b * hd);
            float keep = 1f / (1f - _dropout);
            for (int k = 0; k < mask.Length; k++)
            {
                mask[k] = _random.NextDouble() < _dropout ? 0f : keep;
                dropped[k] = h[k] * mask[k];
            }
            pooled = dropped;
        }
        var z = _z.AsSpan(0, b * c);
        Gemm.Multiply(pooled, b, Gemm.Pack(head.ClassifierWeightArray, c, hd), head.ClassifierBiasArray, z);

        // Loss and dL/dz (of the batch mean).
        var dz = _dz.AsSpan(0, b * c);
        var logP = _work.AsSpan(0, c);
        var logQ = _work.AsSpan(c, c);
        var pt = _work.AsSpan(2 * c, c);
        var logPt = _work.AsSpan(3 * c, c);
        var target = _work.AsSpan(4 * c, c);
        double total = 0;
        float invB = 1f / b, beta = 1f - alpha, smooth = loss.LabelSmoothing;
        for (int i = 0; i < b; i++)
        {
            var zi = z.Slice(i * c, c);
            var dzi = dz.Slice(i * c, c);
            int partner = rows[(i + 1) % b];
            int y = Label(labels, rows[i], c), y2 = mixing ? Label(labels, partner, c) : y;
            for (int k = 0; k < c; k++)
            {
                float t = (k == y ? mixup : 0f) + (k == y2 ? 1f - mixup : 0f);
                target[k] = smooth > 0 ? (1f - smooth) * t + smooth / c : t;
            }
            float logZ = LogSoftmax(zi, 1f, logP);
            double ce = 0;
            for (int k = 0; k < c; k++)
            {
                if (target[k] != 0) ce += target[k] * (logZ - zi[k]);
                dzi[k] = alpha * (MathF.Exp(logP[k]) - target[k]);
            }
            double rowLoss = alpha * ce;
            if (distill)
            {
                LogSoftmax(zi, temperature, logQ);
                LogSoftmax(teacherLogits.Slice(rows[i] * c, c), temperature, logPt);
                if (mixing)
                {
                    LogSoftmax(teacherLogits.Slice(partner * c, c), temperature, pt);
                    for (int k = 0; k < c; k++) logPt[k] = MathF.Log(mixup * MathF.Exp(logPt[k]) + (1f - mixup) * MathF.Exp(pt[k]));
                }
                double kl = 0;
                for (int k = 0; k < c; k++)
                {
                    pt[k] = MathF.Exp(logPt[k]);
                    if (pt[k] > 0) kl += pt[k] * (logPt[k] - logQ[k]);
                    dzi[k] += beta * temperature * (MathF.Exp(logQ[k]) - pt[k]);
                }
                rowLoss += beta * temperature * temperature * kl;
            }
            for (int k = 0; k < c; k++) dzi[k] *= invB;
            total += rowLoss;
        }

        // Classifier gradients: dW2 = dzᵀ·pooled, db2 = Σ dz.
        var gW2 = GradClassifierWeight.AsSpan();
        var gb2 = GradClassifierBias.AsSpan();
        gW2.Clear();
        gb2.Clear();
        for (int i = 0; i < b; i++)
        {
            var hi = pooled.Slice(i * hd, hd);
            for (int k = 0; k < c; k++)
            {
                float d = dz[i * c + k];
                gb2[k] += d;
                var g = gW2.Slice(k * hd, hd);
                for (int j = 0; j < hd; j++) g[j] += d * hi[j];
            }
        }

        // δ1 = (dz·W2) ⊙ mask ⊙ (1 − h²), stored transposed for the dW1 product; db1 = Σ δ1.
        var d1T = _d1T.AsSpan(0, hd * b);
        var w2 = head.ClassifierWeightArray;
        var gb1 = GradPoolerBias.AsSpan();
        for (int j = 0; j < hd; j++)
        {
            float sum = 0;
            for (int i = 0; i < b; i++)
            {
                float dh = 0;
                for (int k = 0; k < c; k++) dh += dz[i * c + k] * w2[k * hd + j];
                float hij = h[i * hd + j];
                if (_dropout > 0) dh *= _mask[i * hd + j];
                float d = dh * (1f - hij * hij);
                d1T[j * b + i] = d;
                sum += d;
            }
            gb1[j] = sum;
        }

        // dW1 = δ1ᵀ·Xb = d1T[H,B] · (XbT[H,B])ᵀ.
        var xbT = _xbT.AsSpan(0, hd * b);
        for (int i = 0; i < b; i++)
            for (int j = 0; j < hd; j++) xbT[j * b + i] = xb[i * hd + j];
        Gemm.Multiply(d1T, hd, Gemm.Pack(xbT, hd, b), default, GradPoolerWeight);

        return total / b;
    }

    static int Label(ReadOnlySpan<int> labels, int row, int classes)
    {
        int y = labels[row];
        if ((uint)y >= (uint)classes) throw new ArgumentOutOfRangeException(nameof(labels), y, $"Label of row {row} is outside [0, {classes}).");
        return y;
    }

    /// <summary>logits[C] / T → log-softmax into logp[C]; returns logsumexp of the scaled logits.</summary>
    static float LogSoftmax(ReadOnlySpan<float> logits, float temperature, Span<float> logp)
    {
        float inv = 1f / temperature;
        float max = float.NegativeInfinity;
        for (int k = 0; k < logits.Length; k++) max = MathF.Max(max, logits[k] * inv);
        double sum = 0;
        for (int k = 0; k < logits.Length; k++) sum += Math.Exp(logits[k] * inv - max);
        float lse = max + (float)Math.Log(sum);
        for (int k = 0; k < logits.Length; k++) logp[k] = logits[k] * inv - lse;
        return lse;
    }
}

/// <summary>What a head's loss is made of: α·CE(label) + (1 − α)·T²·KL(teacher_T ‖ student_T), labels smoothed by ε.</summary>
internal sealed record LossSettings(float Alpha = 1f, float Temperature = 1f, float LabelSmoothing = 0f);
