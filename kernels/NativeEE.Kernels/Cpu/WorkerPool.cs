namespace NativeEE.Kernels;

/// <summary>A unit of parallel work: <see cref="Execute"/> is called once for every index in [0, count).</summary>
/// <remarks>Implementations are reusable objects owned by the caller, so a parallel call allocates nothing.</remarks>
public interface IParallelWork
{
    /// <summary>Runs work item <paramref name="index"/>. Called concurrently for different indices.</summary>
    void Execute(int index);
}

/// <summary>
/// A fixed set of worker threads that split one parallel loop at a time. The calling thread takes
/// part, so a pool of <c>Threads = n</c> owns n − 1 background threads.
/// </summary>
/// <remarks>
/// Oversubscription policy: a pool runs one loop at a time. When another caller thread finds the
/// pool busy, it does not wait and does not queue: it runs its loop on its own thread. So many
/// caller threads sharing one model use at most (callers + pool workers) cores' worth of threads,
/// and a service with as many callers as cores gets one thread per call with no contention.
/// No <c>Task</c>, no <c>Parallel.For</c>, no allocation per call.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    readonly Thread[] _threads;
    readonly SemaphoreSlim _start;
    readonly ManualResetEventSlim _done = new(false);
    IParallelWork? _work;
    int _count;
    int _next;
    int _pending;
    int _busy;
    volatile bool _disposed;
    Exception? _error;

    /// <summary>Creates a pool that runs loops on <paramref name="threads"/> threads (the caller included).</summary>
    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "A worker pool needs at least 1 thread.");
        Threads = threads;
        _start = new SemaphoreSlim(0);
        _threads = new Thread[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"NativeEE worker {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Number of threads a loop runs on, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Default thread count: the machine's logical processors.</summary>
    public static int DefaultThreads => Environment.ProcessorCount;

    /// <summary>
    /// Runs <c>work.Execute(i)</c> for i in [0, count) on the pool and returns when all are done.
    /// Exceptions from work items are rethrown on the caller.
    /// </summary>
    public void Run(IParallelWork work, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count <= 0) return;
        if (count == 1 || _threads.Length == 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int i = 0; i < count; i++) work.Execute(i);
            return;
        }
        try
        {
            _work = work;
            _count = count;
            _error = null;
            _next = 0;
            int helpers = Math.Min(_threads.Length, count - 1);
            _pending = helpers + 1;
            _done.Reset();
            _start.Release(helpers);
            Drain();
            if (Interlocked.Decrement(ref _pending) != 0) _done.Wait();
            _work = null;
            if (_error is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    void Drain()
    {
        var work = _work!;
        int count = _count;
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < count)
        {
            try { work.Execute(i); }
            catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
        }
    }

    void WorkerLoop()
    {
        while (true)
        {
            _start.Wait();
            if (_disposed) return;
            Drain();
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_threads.Length > 0) _start.Release(_threads.Length);
        foreach (var t in _threads) t.Join();
        _start.Dispose();
        _done.Dispose();
    }
}
