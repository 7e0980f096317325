namespace NativeEE.Tests.Config;

public class ModelConfigExceptionTests
{
    [Fact]
    public void MessageNamesFileFieldAndRule()
    {
        var e = new ModelConfigException("m/config.json", "hidden_size", "must be positive");
        Assert.Equal("m/config.json: field 'hidden_size': must be positive", e.Message);
        Assert.Equal("m/config.json", e.FileName);
        Assert.Equal("hidden_size", e.Field);
    }

    [Fact]
    public void WholeFileProblemsHaveNoField()
    {
        var e = new ModelConfigException("m/config.json", null, "is not valid JSON");
        Assert.Equal("m/config.json: is not valid JSON", e.Message);
        Assert.Null(e.Field);
    }
}
