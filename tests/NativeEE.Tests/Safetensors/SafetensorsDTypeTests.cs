using NativeEE.Safetensors;

namespace NativeEE.Tests.Safetensors;

public class SafetensorsDTypeTests
{
    [Theory]
    [InlineData("BOOL", 1)]
    [InlineData("U8", 1)]
    [InlineData("I8", 1)]
    [InlineData("F8_E5M2", 1)]
    [InlineData("F8_E4M3", 1)]
    [InlineData("I16", 2)]
    [InlineData("U16", 2)]
    [InlineData("F16", 2)]
    [InlineData("BF16", 2)]
    [InlineData("I32", 4)]
    [InlineData("U32", 4)]
    [InlineData("F32", 4)]
    [InlineData("F64", 8)]
    [InlineData("I64", 8)]
    [InlineData("U64", 8)]
    public void HeaderNameParsesToATypeOfTheRightSize(string headerName, int size)
    {
        Assert.True(SafetensorsDTypeExtensions.TryParseHeaderName(headerName, out SafetensorsDType dtype));
        Assert.Equal(size, dtype.SizeInBytes());
        Assert.Equal(headerName, dtype.ToHeaderName());
    }

    [Fact]
    public void EveryDTypeHasAHeaderName()
    {
        foreach (SafetensorsDType t in Enum.GetValues<SafetensorsDType>())
        {
            Assert.True(SafetensorsDTypeExtensions.TryParseHeaderName(t.ToHeaderName(), out SafetensorsDType back));
            Assert.Equal(t, back);
        }
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("F32 ")]
    [InlineData("FLOAT")]
    [InlineData("F4")]
    [InlineData("")]
    public void OtherSpellingsAreUnknown(string headerName) =>
        Assert.False(SafetensorsDTypeExtensions.TryParseHeaderName(headerName, out _));

    [Fact]
    public void FloatingPointTypesAreTheFloatFamily()
    {
        var floats = Enum.GetValues<SafetensorsDType>().Where(t => t.IsFloatingPoint()).Select(t => t.ToHeaderName());
        Assert.Equal(["F8_E5M2", "F8_E4M3", "F16", "BF16", "F32", "F64"], floats);
    }
}
