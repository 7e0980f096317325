using NativeEE.Kernels;

namespace NativeEE.Kernels.Tests;

public class IsaTests
{
    /// <summary>
    /// CI sets NATIVEEE_EXPECT_ISA in each mode (native, DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0,
    /// DOTNET_EnableHWIntrinsic=0, arm64 under qemu), so a silent fallback to a lower path cannot pass.
    /// </summary>
    [Fact]
    public void DispatcherPicksTheExpectedPath()
    {
        string? expected = Environment.GetEnvironmentVariable("NATIVEEE_EXPECT_ISA");
        IsaPath want = expected is null ? ExpectedFromRuntimeSwitches() : Enum.Parse<IsaPath>(expected);
        Assert.Equal(want, Isa.Active);
    }

    static IsaPath ExpectedFromRuntimeSwitches()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0") return IsaPath.Scalar;
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64) return IsaPath.Vector128;
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX2") == "0") return IsaPath.Vector128;
        bool cpuHasAvx512 = File.Exists("/proc/cpuinfo") && File.ReadAllText("/proc/cpuinfo").Contains("avx512bw");
        // .NET 10 reads DOTNET_EnableAVX512; the older DOTNET_EnableAVX512F alone no longer switches AVX-512 off.
        if (cpuHasAvx512 && Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") != "0") return IsaPath.Vector512;
        return IsaPath.Vector256;
    }
}
