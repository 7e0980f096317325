using NativeEE.Safetensors;

namespace NativeEE.Tests.Safetensors;

public class SafetensorsExceptionTests
{
    [Fact]
    public void MessageNamesFileThenTensorThenProblem()
    {
        var e = new SafetensorsException("/m/model.safetensors", "w", "broken");
        Assert.Equal("/m/model.safetensors: tensor 'w': broken", e.Message);
        Assert.Equal("/m/model.safetensors", e.FilePath);
        Assert.Equal("w", e.TensorName);
    }

    [Fact]
    public void MessageWithoutATensorNamesTheFile()
    {
        var e = new SafetensorsException("/m/model.safetensors", null, "broken");
        Assert.Equal("/m/model.safetensors: broken", e.Message);
        Assert.Null(e.TensorName);
    }

    [Fact]
    public void FormatErrorsAreSafetensorsErrorsCarryingTheirRule()
    {
        SafetensorsException e = new SafetensorsFormatException("/f", "t", SafetensorsRule.Gap, "hole");
        Assert.Equal("/f: tensor 't': hole [rule: Gap]", e.Message);
        Assert.Equal(SafetensorsRule.Gap, Assert.IsType<SafetensorsFormatException>(e).Rule);
    }
}
