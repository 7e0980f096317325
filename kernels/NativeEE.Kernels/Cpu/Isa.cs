using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace NativeEE.Kernels;

/// <summary>The vector width the kernels run at. Chosen once per process; see <see cref="Isa.Active"/>.</summary>
public enum IsaPath
{
    /// <summary>Plain scalar loops (also the test oracle).</summary>
    Scalar = 0,
    /// <summary>128-bit vectors: SSE on x64, NEON (AdvSimd) on arm64.</summary>
    Vector128 = 1,
    /// <summary>256-bit vectors with FMA: AVX2+FMA.</summary>
    Vector256 = 2,
    /// <summary>512-bit vectors: AVX-512F/BW/VL.</summary>
    Vector512 = 3,
}

/// <summary>
/// ISA detection, made once. The flags are <c>static readonly</c> so the JIT folds every
/// <c>switch (Isa.Active)</c> into a direct call: no per-call dispatch cost in hot loops.
/// Lower paths are forced through the runtime's switches (<c>DOTNET_EnableAVX512F=0</c>,
/// <c>DOTNET_EnableAVX2=0</c>, <c>DOTNET_EnableHWIntrinsic=0</c>), so there are no test-only branches.
/// </summary>
public static class Isa
{
    /// <summary>The widest path this CPU accelerates.</summary>
    public static readonly IsaPath Active = Detect();

    /// <summary>True when fused multiply-add is a hardware instruction on the active path.</summary>
    public static readonly bool HasFma = Fma.IsSupported || AdvSimd.IsSupported;

    static IsaPath Detect()
    {
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx512BW.IsSupported && Avx512F.VL.IsSupported)
            return IsaPath.Vector512;
        if (Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported)
            return IsaPath.Vector256;
        if (Vector128.IsHardwareAccelerated)
            return IsaPath.Vector128;
        return IsaPath.Scalar;
    }

    /// <summary>Human-readable name of the active path and the CPU features behind it.</summary>
    public static string Description => Active switch
    {
        IsaPath.Vector512 => "AVX-512F/BW/VL (Vector512)",
        IsaPath.Vector256 => "AVX2+FMA (Vector256)",
        IsaPath.Vector128 when AdvSimd.IsSupported =>
            "NEON (AdvSimd, Vector128" + (Dp.IsSupported ? ", dot-product" : "") + ")",
        IsaPath.Vector128 => "SSE4 (Vector128" + (Fma.IsSupported ? ", FMA" : ", no FMA") + ")",
        _ => "scalar",
    };
}
