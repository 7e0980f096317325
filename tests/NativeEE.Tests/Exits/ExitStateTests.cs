namespace NativeEE.Tests.Exits;

public class ExitStateTests
{
    [Fact]
    public void DefaultStateHasSeenNothing()
    {
        var s = default(ExitState);
        Assert.Equal(0, s.HeadsSeen);
        Assert.Equal(0, s.Streak);
        Assert.Equal(-1, s.LastLayer);
    }

    [Fact]
    public void EachHeadIsCountedWithItsLayer()
    {
        var policy = ExitPolicy.MaxProbability(1f);
        var s = default(ExitState);
        policy.ShouldExit([0.3f, 0.7f], 1, ref s);
        policy.ShouldExit([0.8f, 0.2f], 4, ref s);
        Assert.Equal(2, s.HeadsSeen);
        Assert.Equal(4, s.LastLayer);
        Assert.Equal(0, s.LastArgmax);
    }
}
