namespace NativeEE.Kernels.Tests;

public class WorkerPoolTests
{
    sealed class CountingWork(int count) : IParallelWork
    {
        public readonly int[] Hits = new int[count];
        public void Execute(int index) => Interlocked.Increment(ref Hits[index]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void RunsEveryIndexExactlyOnce(int threads)
    {
        using var pool = new WorkerPool(threads);
        foreach (int count in new[] { 1, 2, 3, 7, 64, 1_000 })
        {
            // Many back-to-back loops: workers wake while the previous loop winds down, where a stale claim would show.
            for (int round = 0; round < 50; round++)
            {
                var work = new CountingWork(count);
                pool.Run(work, count);
                Assert.All(work.Hits, h => Assert.Equal(1, h));
            }
        }
    }

    sealed class MeetingWork : IParallelWork
    {
        readonly HashSet<int> _threads = [];
        public int Distinct { get { lock (_threads) return _threads.Count; } }
        public void Execute(int index)
        {
            lock (_threads) _threads.Add(Environment.CurrentManagedThreadId);
            // Hold the item until a second thread shows up (or give up after 10 s, failing the assert below).
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Distinct < 2 && DateTime.UtcNow < deadline) Thread.Sleep(1);
        }
    }

    [Fact]
    public void LoopsRunOnTheCallerAndAWorkerAtOnce()
    {
        using var pool = new WorkerPool(2);
        var work = new MeetingWork();
        pool.Run(work, 2);
        Assert.Equal(2, work.Distinct);
    }

    [Fact]
    public void WorkersThatFellAsleepAreWokenForTheNextLoop()
    {
        using var pool = new WorkerPool(2);
        pool.Run(new CountingWork(4), 4);
        Thread.Sleep(100); // far past the spin time: the worker is blocked now
        var work = new MeetingWork();
        pool.Run(work, 2);
        Assert.Equal(2, work.Distinct);
    }

    sealed class NestedWork(WorkerPool pool) : IParallelWork
    {
        public readonly int[] Owner = new int[4];
        public readonly int[] Inner = new int[16];
        public void Execute(int index)
        {
            Owner[index] = Environment.CurrentManagedThreadId;
            pool.Run(new RecordingWork(Inner, index * 4), 4);
        }
    }

    sealed class RecordingWork(int[] into, int offset) : IParallelWork
    {
        public void Execute(int index) => into[offset + index] = Environment.CurrentManagedThreadId;
    }

    [Fact]
    public void ABusyPoolRunsTheSecondLoopInlineOnItsCaller()
    {
        using var pool = new WorkerPool(2);
        var work = new NestedWork(pool);
        pool.Run(work, 4);
        for (int i = 0; i < 16; i++) Assert.Equal(work.Owner[i / 4], work.Inner[i]);
    }

    sealed class ThrowingWork : IParallelWork
    {
        public int Ran;
        public void Execute(int index)
        {
            Interlocked.Increment(ref Ran);
            if (index == 5) throw new InvalidOperationException("item 5");
        }
    }

    [Fact]
    public void AnItemsExceptionReachesTheCallerAndThePoolStaysUsable()
    {
        using var pool = new WorkerPool(2);
        var work = new ThrowingWork();
        Assert.Equal("item 5", Assert.Throws<InvalidOperationException>(() => pool.Run(work, 20)).Message);
        Assert.Equal(20, work.Ran);
        var after = new CountingWork(50);
        pool.Run(after, 50);
        Assert.All(after.Hits, h => Assert.Equal(1, h));
    }

    /// <summary>Item 1 sleeps 2 ms, far past the spin time, so the caller also goes through its blocking wait.</summary>
    sealed class SlowItemWork : IParallelWork
    {
        public void Execute(int index)
        {
            if (index == 1) Thread.Sleep(2);
        }
    }

    [Fact]
    public void SteadyStateRunAllocatesNothing()
    {
        using var pool = new WorkerPool(2);
        var work = new CountingWork(64);
        var slow = new SlowItemWork();
        for (int i = 0; i < 10; i++)
        {
            pool.Run(work, 64);
            pool.Run(slow, 2);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            pool.Run(work, 64);
            pool.Run(slow, 2);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void RejectsZeroThreadsAndUseAfterDispose()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0));
        var pool = new WorkerPool(3);
        Assert.Equal(3, pool.Threads);
        pool.Dispose();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Run(new CountingWork(2), 2));
    }
}
