using NativeEE.Kernels;

namespace NativeEE.Kernels.Tests;

public class FmaPeakTests
{
    public static TheoryData<IsaPath, bool> Paths => new()
    {
        { IsaPath.Vector512, true }, { IsaPath.Vector256, true }, { IsaPath.Vector128, true },
        { IsaPath.Vector128, false }, { IsaPath.Scalar, false },
    };

    /// <summary>
    /// Every width really computes its chains: the chunk's sum equals chains × lanes × c_n with the closed form
    /// c_n = Mⁿ + A·(1 − Mⁿ)/(1 − M) of c ← c·M + A from c₀ = 1 (evaluated in double);
    /// c_n ≈ 0.508 here, far from both the start (1) and half the steps (0.564), so skipped work cannot pass.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void ChunkComputesEveryChain(IsaPath path, bool fma)
    {
        double m = FmaPeak.Multiplier, a = FmaPeak.Addend;
        double mn = Math.Pow(m, FmaPeak.ChunkSteps);
        double expected = FmaPeak.ChainValues(path) * (mn + a * (1 - mn) / (1 - m));
        float actual = FmaPeak.RunChunk(path, fma);
        Assert.InRange(actual, expected * (1 - 1e-3), expected * (1 + 1e-3));
    }

    [Fact]
    public void MeasureReportsTheActivePathAndPositiveRates()
    {
        var r = FmaPeak.Measure(2, TimeSpan.FromMilliseconds(20));
        Assert.Equal(Isa.Active, r.Path);
        Assert.Equal(2, r.Threads);
        Assert.True(double.IsFinite(r.PerCoreGflops) && r.PerCoreGflops > 0, $"per core {r.PerCoreGflops}");
        Assert.True(double.IsFinite(r.AllThreadsGflops) && r.AllThreadsGflops > 0, $"all threads {r.AllThreadsGflops}");
    }

    [Fact]
    public void MeasureRefusesBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaPeak.Measure(0, TimeSpan.FromMilliseconds(10)));
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaPeak.Measure(1, TimeSpan.Zero));
    }
}
