namespace NativeEE.Training;

/// <summary>
/// SplitMix64 generator for initialisation and shuffling. Why not <see cref="Random"/>: its seeded
/// sequence is an implementation detail of the runtime, and trained heads must be reproducible
/// from (seed, layer) on any runtime and thread count.
/// </summary>
internal struct SeededRandom
{
    ulong _state;

    SeededRandom(ulong state) => _state = state;

    /// <summary>An independent stream for one (seed, stream) pair, e.g. (seed, layer·8 + purpose).</summary>
    public static SeededRandom Create(int seed, int stream)
    {
        var r = new SeededRandom(((ulong)(uint)seed << 32) | (uint)stream);
        r.NextUInt64();
        return r;
    }

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public float NextUniform(float lo, float hi) => (float)(lo + (hi - lo) * NextDouble());

    /// <summary>Uniform integer in [0, n) (Lemire's multiply-shift; the bias is below 2⁻³² for n &lt; 2³¹).</summary>
    public int NextInt(int n) => (int)(((NextUInt64() >> 32) * (ulong)n) >> 32);

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Gamma(shape, 1) by Marsaglia &amp; Tsang (2000); shape &lt; 1 via Gamma(shape + 1)·U^(1/shape).</summary>
    public double NextGamma(double shape)
    {
        if (shape < 1) return NextGamma(shape + 1) * Math.Pow(1.0 - NextDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = NextGaussian();
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = 1.0 - NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v)) return d * v;
        }
    }

    /// <summary>Beta(a, a): the mixup weight distribution.</summary>
    public double NextSymmetricBeta(double a)
    {
        double x = NextGamma(a), y = NextGamma(a);
        return x / (x + y);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle(Span<int> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
