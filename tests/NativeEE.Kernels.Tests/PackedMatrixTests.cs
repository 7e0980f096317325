using System.Runtime.InteropServices;

namespace NativeEE.Kernels.Tests;

public class PackedMatrixTests
{
    [Fact]
    public void KeepsTheShapeOfW()
    {
        var packed = Gemm.Pack(new float[17 * 33], 17, 33);
        Assert.Equal(17, packed.N);
        Assert.Equal(33, packed.K);
    }

    /// <summary>Packing copies: the caller may reuse or free W afterwards (weights come from a mapped file that can be closed).</summary>
    [Fact]
    public void IsIndependentOfTheSourceAfterPacking()
    {
        const int m = 3, n = 19, k = 21;
        var p = GemmTests.Problem.Create(m, n, k, withBias: false, withResidual: false, seed: 9);
        var packed = Gemm.Pack(p.W, n, k);
        var w = (float[])p.W.Clone();
        Array.Clear(p.W);
        var y = new float[m * n];
        Gemm.Multiply(p.X, m, packed, default, y);
        w.CopyTo(p.W, 0);
        p.AssertClose(y, Epilogue.None);
    }

    [Fact]
    public void PackRejectsBadShapes()
    {
        Assert.Contains("N·K", Assert.Throws<ArgumentException>(() => Gemm.Pack(new float[11], 3, 4)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Pack(new float[12], 0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Pack(new float[12], 4, 0));
    }

    [Theory]
    [InlineData(IsaPath.Scalar)]
    [InlineData(IsaPath.Vector128)]
    [InlineData(IsaPath.Vector256)]
    [InlineData(IsaPath.Vector512)]
    public void PanelsStartOnACacheLineAndPadRaggedColumnsWithZeros(IsaPath path)
    {
        const int n = 37, k = 5;
        var w = new float[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = i + 1;
        var packed = Gemm.Pack(w, n, k, path);
        int nr = Gemm.PanelWidth(path), panels = (n + nr - 1) / nr;
        Assert.Equal((long)panels * k * nr, packed.Length);
        ReadOnlySpan<float> data;
        unsafe
        {
            Assert.Equal(0, (nint)packed.Panels % 64);
            data = new ReadOnlySpan<float>(packed.Panels, (int)packed.Length);
        }
        for (int j = 0; j < panels * nr; j++)
            for (int p = 0; p < k; p++)
            {
                float expected = j < n ? w[j * k + p] : 0f;
                Assert.Equal(expected, data[(j / nr) * k * nr + p * nr + j % nr]);
            }
    }

    /// <summary>Panels copied into native memory (as a mapped cache file holds them) multiply bit-identically to the packed array.</summary>
    [Theory]
    [InlineData(IsaPath.Scalar)]
    [InlineData(IsaPath.Vector128)]
    [InlineData(IsaPath.Vector256)]
    [InlineData(IsaPath.Vector512)]
    public unsafe void PanelsInNativeMemoryMultiplyLikeThePackedArray(IsaPath path)
    {
        const int m = 5, n = 37, k = 29;
        var p = GemmTests.Problem.Create(m, n, k, withBias: true, withResidual: false, seed: 4);
        var packed = Gemm.Pack(p.W, n, k, path);
        var owner = new object();
        float* native = (float*)NativeMemory.AlignedAlloc((nuint)(packed.Length * sizeof(float)), 64);
        try
        {
            new ReadOnlySpan<float>(packed.Panels, (int)packed.Length).CopyTo(new Span<float>(native, (int)packed.Length));
            var mapped = Gemm.FromPanels(native, packed.Length, n, k, path, owner);
            Assert.Same(owner, mapped.Owner);
            var expected = new float[m * n];
            var actual = new float[m * n];
            Gemm.Multiply(p.X, m, packed, p.Bias, expected, Epilogue.Gelu, default, null, path);
            Gemm.Multiply(p.X, m, mapped, p.Bias, actual, Epilogue.Gelu, default, null, path);
            Assert.Equal(expected, actual);
        }
        finally
        {
            NativeMemory.AlignedFree(native);
        }
    }

    [Fact]
    public unsafe void FromPanelsRejectsAWrongLengthOrAnUnalignedStart()
    {
        float* native = (float*)NativeMemory.AlignedAlloc(4096, 64);
        try
        {
            long length = GemmPacking.PackedLength(5, 3, IsaPath.Vector256); // one 16-wide panel × 3
            Assert.Equal(48, length);
            Assert.Contains("not 47", Assert.Throws<ArgumentException>(() => Gemm.FromPanels(native, 47, 5, 3, IsaPath.Vector256, new object())).Message);
            Assert.Contains("64-byte", Assert.Throws<ArgumentException>(() => Gemm.FromPanels(native + 1, 48, 5, 3, IsaPath.Vector256, new object())).Message);
            Assert.Throws<ArgumentNullException>(() => Gemm.FromPanels(native, 48, 5, 3, IsaPath.Vector256, null!));
        }
        finally
        {
            NativeMemory.AlignedFree(native);
        }
    }
}
