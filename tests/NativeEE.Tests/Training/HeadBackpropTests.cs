using NativeEE.Training;

namespace NativeEE.Tests.Training;

public class HeadBackpropTests
{
    const int H = 5, C = 3, N = 7;
    static readonly int[] Rows = [5, 2, 6, 0];

    [Theory]
    [InlineData(1f, 1f, false)]      // plain cross-entropy
    [InlineData(0.3f, 2f, false)]    // CE + distillation at T = 2
    [InlineData(0f, 0.5f, false)]    // distillation only, sharpening temperature
    [InlineData(0.3f, 2f, true)]     // on standardised inputs
    [InlineData(1f, 1f, false, 0.4f)] // with dropout on the pooled units (the oracle replays the mask)
    [InlineData(1f, 1f, false, 0f, 0.2f)]         // label smoothing
    [InlineData(0.4f, 1.5f, true, 0f, 0.1f, 0.7f)] // mixup of inputs, labels and teacher, with smoothing
    public void GradientsMatchFiniteDifferencesOfADoubleOracle(float alpha, float temperature, bool standardize, float dropout = 0f,
        float smoothing = 0f, float mixup = 1f)
    {
        var (head, x, labels, teacher) = TinyProblem(seed: 3);
        var bp = new HeadBackprop(H, C, maxBatch: 8, dropout, SeededRandom.Create(1, 2));
        var scaling = standardize ? FeatureScaling.Fit(x, N, H) : null;
        double loss = bp.Compute(head, x, Rows, labels, teacher, new LossSettings(alpha, temperature, smoothing), scaling, mixup);
        if (scaling is not null)
        {
            // The oracle reads the standardised rows directly.
            x = (float[])x.Clone();
            for (int i = 0; i < N; i++)
                for (int j = 0; j < H; j++) x[i * H + j] = (x[i * H + j] - scaling.Mean[j]) * scaling.Scale[j];
        }

        double[][] theta = [ToDouble(head.PoolerWeight), ToDouble(head.PoolerBias), ToDouble(head.ClassifierWeight), ToDouble(head.ClassifierBias)];
        float[][] analytic = [bp.GradPoolerWeight, bp.GradPoolerBias, bp.GradClassifierWeight, bp.GradClassifierBias];
        float[]? mask = dropout > 0 ? bp.LastDropoutMask.ToArray() : null;
        if (mask is not null)
        {
            Assert.Equal(Rows.Length * H, mask.Length);
            Assert.Contains(0f, mask);
            Assert.Contains(1f / (1f - dropout), mask);
        }
        double OracleLoss(double[][] t, float[] xs, int[] ys, float[] tl, double a, double temp) => ExitHeadOracle(t, xs, ys, tl, a, temp, mask, smoothing, mixup);
        double oracleLoss = OracleLoss(theta, x, labels, teacher, alpha, temperature);
        Assert.Equal(oracleLoss, loss, 1e-5);

        const double eps = 1e-6;
        for (int t = 0; t < 4; t++)
        {
            for (int i = 0; i < theta[t].Length; i++)
            {
                double keep = theta[t][i];
                theta[t][i] = keep + eps;
                double up = OracleLoss(theta, x, labels, teacher, alpha, temperature);
                theta[t][i] = keep - eps;
                double down = OracleLoss(theta, x, labels, teacher, alpha, temperature);
                theta[t][i] = keep;
                double numeric = (up - down) / (2 * eps);
                double tolerance = 2e-5 + 1e-3 * Math.Abs(numeric);
                Assert.True(Math.Abs(analytic[t][i] - numeric) <= tolerance,
                    $"tensor {t}, element {i}: analytic {analytic[t][i]} vs finite difference {numeric}");
            }
        }
    }

    [Fact]
    public void AlphaOneIgnoresTheTeacherAndEqualsPlainCrossEntropy()
    {
        var (head, x, labels, teacher) = TinyProblem(seed: 4);
        var withTeacher = new HeadBackprop(H, C, 8);
        var plain = new HeadBackprop(H, C, 8);
        double a = withTeacher.Compute(head, x, Rows, labels, teacher, new LossSettings(Alpha: 1f, Temperature: 3f));
        double b = plain.Compute(head, x, Rows, labels, default, new LossSettings());
        Assert.Equal(b, a);
        Assert.Equal(plain.GradPoolerWeight, withTeacher.GradPoolerWeight);
        Assert.Equal(plain.GradClassifierBias, withTeacher.GradClassifierBias);
        // And plain CE is what a double oracle says it is.
        double[][] theta = [ToDouble(head.PoolerWeight), ToDouble(head.PoolerBias), ToDouble(head.ClassifierWeight), ToDouble(head.ClassifierBias)];
        Assert.Equal(ExitHeadOracle(theta, x, labels, teacher, 1, 1, null, 0, 1), b, 1e-5);
    }

    [Fact]
    public void DistillingFromItsOwnLogitsHasZeroLossAndGradient()
    {
        var (head, x, labels, _) = TinyProblem(seed: 5);
        var own = new float[N * C];
        head.ComputeLogits(x, N, own);
        var bp = new HeadBackprop(H, C, 8);
        double loss = bp.Compute(head, x, Rows, labels, own, new LossSettings(Alpha: 0f, Temperature: 2f));
        Assert.True(Math.Abs(loss) < 1e-6, $"KL(p ‖ p) should be 0, got {loss}");
        Assert.All(bp.GradPoolerWeight, g => Assert.True(Math.Abs(g) < 1e-6, $"gradient {g}"));
        Assert.All(bp.GradClassifierWeight, g => Assert.True(Math.Abs(g) < 1e-6, $"gradient {g}"));
    }

    [Fact]
    public void DistillationWithoutTeacherOrBadLabelsIsRejected()
    {
        var (head, x, labels, _) = TinyProblem(seed: 6);
        var bp = new HeadBackprop(H, C, 8);
        Assert.Throws<ArgumentException>(() => bp.Compute(head, x, Rows, labels, default, new LossSettings(Alpha: 0.5f)));
        labels[2] = C;
        Assert.Throws<ArgumentOutOfRangeException>(() => bp.Compute(head, x, Rows, labels, default, new LossSettings()));
    }

    static (ExitHead Head, float[] X, int[] Labels, float[] Teacher) TinyProblem(int seed)
    {
        var rng = new Random(seed);
        // Weights larger than nn.Linear's init so tanh is well into its non-linear range.
        var head = new ExitHead(H, C, Fill(rng, H * H, 1.2f), Fill(rng, H, 0.5f), Fill(rng, C * H, 1.5f), Fill(rng, C, 0.5f));
        var labels = new int[N];
        for (int i = 0; i < N; i++) labels[i] = rng.Next(C);
        return (head, Fill(rng, N * H, 1f), labels, Fill(rng, N * C, 2f));
    }

    static float[] Fill(Random rng, int n, float scale)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = scale * SyntheticFeatures.Gaussian(rng);
        return a;
    }

    static double[] ToDouble(ReadOnlySpan<float> a)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++) d[i] = a[i];
        return d;
    }

    /// <summary>
    /// Independent double-precision loss: mean over Rows of α·CE(target) + (1 − α)·T²·KL(teacher_T ‖ softmax(z/T)), where
    /// row r = Rows[i] is mixed with Rows[i+1 mod B] (input, one-hot target and teacher distribution, weights λ and 1 − λ),
    /// the target smoothed by ε, and the pooled units multiplied by the dropout mask, if any.
    /// </summary>
    static double ExitHeadOracle(double[][] theta, float[] x, int[] labels, float[] teacher, double alpha, double temperature,
        float[]? mask, double smoothing, double lambda)
    {
        double[] w1 = theta[0], b1 = theta[1], w2 = theta[2], b2 = theta[3];
        double total = 0;
        for (int row = 0; row < Rows.Length; row++)
        {
            int r = Rows[row], q = Rows[(row + 1) % Rows.Length];
            var h = new double[H];
            for (int j = 0; j < H; j++)
            {
                double a = b1[j];
                for (int k = 0; k < H; k++) a += w1[j * H + k] * (lambda * x[r * H + k] + (1 - lambda) * x[q * H + k]);
                h[j] = Math.Tanh(a) * (mask is null ? 1 : mask[row * H + j]);
            }
            var z = new double[C];
            for (int c = 0; c < C; c++)
            {
                z[c] = b2[c];
                for (int j = 0; j < H; j++) z[c] += w2[c * H + j] * h[j];
            }
            double lse = LogSumExp(z, 1), ce = 0;
            for (int c = 0; c < C; c++)
            {
                double t = (c == labels[r] ? lambda : 0) + (c == labels[q] ? 1 - lambda : 0);
                t = (1 - smoothing) * t + smoothing / C;
                ce += t * (lse - z[c]);
            }
            double kl = 0;
            if (alpha < 1)
            {
                double[] tr = new double[C], tq = new double[C];
                for (int c = 0; c < C; c++) (tr[c], tq[c]) = (teacher[r * C + c], teacher[q * C + c]);
                double lseR = LogSumExp(tr, temperature), lseQ = LogSumExp(tq, temperature), lseZ = LogSumExp(z, temperature);
                for (int c = 0; c < C; c++)
                {
                    double p = lambda * Math.Exp(tr[c] / temperature - lseR) + (1 - lambda) * Math.Exp(tq[c] / temperature - lseQ);
                    kl += p * (Math.Log(p) - (z[c] / temperature - lseZ));
                }
            }
            total += alpha * ce + (1 - alpha) * temperature * temperature * kl;
        }
        return total / Rows.Length;
    }

    static double LogSumExp(double[] v, double temperature)
    {
        double max = double.NegativeInfinity;
        foreach (double e in v) max = Math.Max(max, e / temperature);
        double s = 0;
        foreach (double e in v) s += Math.Exp(e / temperature - max);
        return max + Math.Log(s);
    }
}
