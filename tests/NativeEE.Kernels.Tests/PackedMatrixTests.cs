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
        unsafe
        {
            fixed (float* first = &packed.Data[packed.Offset])
                Assert.Equal(0, (nint)first % 64);
        }
        int nr = Gemm.PanelWidth(path), panels = (n + nr - 1) / nr;
        var data = packed.Data.AsSpan(packed.Offset, panels * k * nr);
        for (int j = 0; j < panels * nr; j++)
            for (int p = 0; p < k; p++)
            {
                float expected = j < n ? w[j * k + p] : 0f;
                Assert.Equal(expected, data[(j / nr) * k * nr + p * nr + j % nr]);
            }
    }
}
