namespace NativeEE.Training;

/// <summary>Adam(W) or SGD-with-momentum state for the four tensors of one <see cref="ExitHead"/>.</summary>
internal sealed class HeadOptimizer
{
    readonly ExitHeadTrainerOptions _options;
    readonly float[][] _first;   // Adam m / SGD momentum buffer, per tensor
    readonly float[][] _second;  // Adam v, per tensor (unused by SGD)
    long _step;

    public HeadOptimizer(ExitHead head, ExitHeadTrainerOptions options)
    {
        _options = options;
        int[] sizes = [head.PoolerWeightArray.Length, head.PoolerBiasArray.Length, head.ClassifierWeightArray.Length, head.ClassifierBiasArray.Length];
        _first = new float[4][];
        _second = new float[4][];
        for (int i = 0; i < 4; i++)
        {
            _first[i] = new float[sizes[i]];
            _second[i] = options.Optimizer == ExitOptimizer.Adam ? new float[sizes[i]] : [];
        }
    }

    /// <summary>One update of every tensor of <paramref name="head"/> from the gradients in <paramref name="grads"/>.</summary>
    public void Step(ExitHead head, HeadBackprop grads, float learningRate)
    {
        _step++;
        Update(head.PoolerWeightArray, grads.GradPoolerWeight, 0, learningRate, decay: true);
        Update(head.PoolerBiasArray, grads.GradPoolerBias, 1, learningRate, decay: false);
        Update(head.ClassifierWeightArray, grads.GradClassifierWeight, 2, learningRate, decay: true);
        Update(head.ClassifierBiasArray, grads.GradClassifierBias, 3, learningRate, decay: false);
    }

    void Update(Span<float> param, ReadOnlySpan<float> grad, int tensor, float lr, bool decay)
    {
        var o = _options;
        float wd = decay ? o.WeightDecay : 0f;
        var m = _first[tensor].AsSpan();
        if (o.Optimizer == ExitOptimizer.Sgd)
        {
            float mu = o.Momentum;
            for (int i = 0; i < param.Length; i++)
            {
                float g = grad[i] + wd * param[i];
                m[i] = mu * m[i] + g;
                param[i] -= lr * m[i];
            }
            return;
        }
        var v = _second[tensor].AsSpan();
        float b1 = o.Beta1, b2 = o.Beta2, eps = o.Epsilon;
        // Bias corrections folded into the step size and ε, as PyTorch's Adam does.
        float c1 = 1f - MathF.Pow(b1, _step);
        float c2Sqrt = MathF.Sqrt(1f - MathF.Pow(b2, _step));
        float stepSize = lr / c1;
        float shrink = 1f - lr * wd;
        for (int i = 0; i < param.Length; i++)
        {
            float g = grad[i];
            m[i] = b1 * m[i] + (1f - b1) * g;
            v[i] = b2 * v[i] + (1f - b2) * g * g;
            param[i] = param[i] * shrink - stepSize * m[i] / (MathF.Sqrt(v[i]) / c2Sqrt + eps);
        }
    }
}
