using NativeEE.Safetensors;

namespace NativeEE.Tests.Safetensors;

public class HalfConversionsTests
{
    [Fact]
    public void EveryF16BitPatternWidensLikeTheRuntimesHalf()
    {
        var bits = new Half[65536];
        for (int i = 0; i < bits.Length; i++) bits[i] = BitConverter.UInt16BitsToHalf((ushort)i);
        var widened = new float[bits.Length];

        HalfConversions.Float16ToSingle(bits, widened);

        for (int i = 0; i < bits.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits((float)bits[i]), BitConverter.SingleToInt32Bits(widened[i]));
    }

    [Fact]
    public void EveryBF16BitPatternIsTheUpperHalfOfAFloat()
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        var widened = new float[bits.Length];

        HalfConversions.BFloat16ToSingle(bits, widened);

        for (int i = 0; i < bits.Length; i++)
        {
            Assert.Equal((uint)i << 16, BitConverter.SingleToUInt32Bits(widened[i]));
            Assert.Equal(BitConverter.SingleToUInt32Bits(widened[i]), BitConverter.SingleToUInt32Bits(HalfConversions.BFloat16ToSingle(bits[i])));
        }
    }

    /// <summary>Oracle: of the two bfloat16 values around x, the nearer in exact (double) arithmetic; ties go to the even one.</summary>
    static ushort NearestBFloat16(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        ushort down = (ushort)(bits >> 16), up = (ushort)(down + 1);
        if ((bits & 0xFFFF) == 0) return down;
        double dDown = Math.Abs(x - (double)HalfConversions.BFloat16ToSingle(down));
        double dUp = Math.Abs(HalfConversions.BFloat16ToSingle(up) - (double)x);
        if (float.IsInfinity(HalfConversions.BFloat16ToSingle(up)))
            dUp = Math.Abs(Math.Pow(2, 128) * Math.Sign(x) - x); // rounding past the largest finite goes to infinity
        if (dDown != dUp) return dDown < dUp ? down : up;
        return (down & 1) == 0 ? down : up;
    }

    [Fact]
    public void SingleToBFloat16RoundsToNearestEven()
    {
        var random = new Random(5);
        var values = new List<float> { 1f, -1f, 0f, -0f, float.MaxValue, float.MinValue, float.Epsilon, 1.00390625f, 1.01171875f, 3.4e38f };
        for (int i = 0; i < 20000; i++)
            values.Add(BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31)));
        var outputs = new ushort[values.Count];

        HalfConversions.SingleToBFloat16(values.ToArray(), outputs);

        for (int i = 0; i < values.Count; i++)
        {
            float x = values[i];
            if (float.IsNaN(x))
                Assert.True(float.IsNaN(HalfConversions.BFloat16ToSingle(outputs[i])), $"NaN 0x{BitConverter.SingleToUInt32Bits(x):X8} lost");
            else
                Assert.True(NearestBFloat16(x) == outputs[i], $"0x{BitConverter.SingleToUInt32Bits(x):X8} → 0x{outputs[i]:X4}, expected 0x{NearestBFloat16(x):X4}");
        }
    }

    [Fact]
    public void SingleToFloat16MatchesTheRuntimesHalfCast()
    {
        float[] values = [0f, 1f / 3, 65504f, 65520f, 1e-8f, -2.5f, float.NaN];
        var outputs = new Half[values.Length];

        HalfConversions.SingleToFloat16(values, outputs);

        for (int i = 0; i < values.Length; i++)
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)values[i]), BitConverter.HalfToUInt16Bits(outputs[i]));
    }

    [Fact]
    public void MismatchedLengthsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => HalfConversions.BFloat16ToSingle(new ushort[3], new float[2]));
        Assert.Throws<ArgumentException>(() => HalfConversions.Float16ToSingle(new Half[1], new float[2]));
    }
}
