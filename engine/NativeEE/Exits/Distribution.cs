namespace NativeEE;

/// <summary>Summaries of one probability vector that exit policies compare with their thresholds.</summary>
internal static class Distribution
{
    /// <summary>p[C] → H(p) = −Σ p ln p in nats (0 · ln 0 taken as 0; accumulated in double).</summary>
    public static double Entropy(ReadOnlySpan<float> p)
    {
        double h = 0;
        foreach (float x in p)
        {
            if (x > 0) h -= x * Math.Log(x);
            else if (float.IsNaN(x)) return double.NaN;
        }
        return h;
    }

    /// <summary>p[C] → index of the largest value; the first one wins ties (as torch.argmax). NaN never wins.</summary>
    public static int Argmax(ReadOnlySpan<float> p)
    {
        int best = 0;
        for (int i = 1; i < p.Length; i++)
            if (p[i] > p[best] || float.IsNaN(p[best])) best = i;
        return best;
    }

    /// <summary>p[C] → the largest and second-largest values (second is 0 when C = 1).</summary>
    public static (float Top1, float Top2) TopTwo(ReadOnlySpan<float> p)
    {
        float top1 = float.NegativeInfinity, top2 = 0;
        bool haveTop2 = false;
        foreach (float x in p)
        {
            if (float.IsNaN(x)) return (float.NaN, float.NaN);
            if (x > top1)
            {
                if (!float.IsNegativeInfinity(top1)) { top2 = top1; haveTop2 = true; }
                top1 = x;
            }
            else if (!haveTop2 || x > top2) { top2 = x; haveTop2 = true; }
        }
        return (top1, haveTop2 ? top2 : 0);
    }

    public static void RequireNonEmpty(ReadOnlySpan<float> p)
    {
        if (p.IsEmpty) throw new ArgumentException("probabilities is empty: an exit head has at least one class.", "probabilities");
    }
}
