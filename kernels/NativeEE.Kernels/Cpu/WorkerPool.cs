using System.Diagnostics;
using System.Runtime.ExceptionServices;

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
/// <para>
/// Latency: an encoder layer issues a parallel loop every few tens of microseconds, while waking a
/// blocked thread costs about as much. So a worker that finishes a loop spins for
/// <see cref="SpinTime"/> watching for the next one before it blocks, and the caller never waits
/// for a worker that has not started: items are claimed one by one, and the caller claims them too.
/// </para>
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    /// <summary>How long an idle worker (or a caller waiting for the last item) spins before blocking.</summary>
    static readonly long SpinTime = Stopwatch.Frequency / 5000; // 200 µs

    // The loop in flight is one 64-bit ticket [generation:16 | count:24 | next:24], so claiming an
    // item and checking that it belongs to the current loop is a single compare-exchange: a worker
    // that wakes late can never take an index of a loop that has already moved on.
    const int CountBits = 24;
    const int MaxRound = (1 << CountBits) - 1;
    const long FieldMask = MaxRound;

    readonly Thread[] _threads;
    readonly SemaphoreSlim _wake = new(0);
    readonly object _doneGate = new();
    int _callerBlocked;
    long _ticket;
    IParallelWork? _work;
    int _base;
    int _completed;
    int _sleepers;
    int _busy;
    volatile bool _disposed;
    Exception? _error;

    /// <summary>Creates a pool that runs loops on <paramref name="threads"/> threads (the caller included).</summary>
    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "A worker pool needs at least 1 thread.");
        Threads = threads;
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
    /// Exceptions from work items are rethrown on the caller (the first one, after all items ran).
    /// </summary>
    public void Run(IParallelWork work, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(work);
        if (count <= 0) return;
        if (count == 1 || _threads.Length == 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int i = 0; i < count; i++) work.Execute(i);
            return;
        }
        try
        {
            for (int start = 0; start < count; start += MaxRound)
                RunRound(work, start, Math.Min(MaxRound, count - start));
        }
        finally
        {
            _work = null;
            Volatile.Write(ref _busy, 0);
        }
    }

    void RunRound(IParallelWork work, int start, int count)
    {
        _work = work;
        _base = start;
        _error = null;
        _completed = 0;
        long generation = ((Volatile.Read(ref _ticket) >> (2 * CountBits)) + 1) & 0xFFFF;
        Interlocked.Exchange(ref _ticket, (generation << (2 * CountBits)) | ((long)count << CountBits));
        int sleepers = Volatile.Read(ref _sleepers);
        if (sleepers > 0) _wake.Release(Math.Min(sleepers, count - 1));

        Drain();
        long deadline = Stopwatch.GetTimestamp() + SpinTime;
        var spinner = new SpinWait();
        while (Volatile.Read(ref _completed) != count)
        {
            if (Stopwatch.GetTimestamp() < deadline)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            // Announce, then look again under the gate, then block: the last item's thread increments
            // _completed, then reads _callerBlocked (both full fences), so either it sees this flag and
            // pulses, or we see its count. Monitor allocates nothing, unlike a lazily built event.
            lock (_doneGate)
            {
                Interlocked.Exchange(ref _callerBlocked, 1);
                while (Volatile.Read(ref _completed) != count) Monitor.Wait(_doneGate);
                _callerBlocked = 0;
            }
        }
        if (_error is { } e) ExceptionDispatchInfo.Throw(e);
    }

    /// <summary>Claims and runs items of the current loop until none is left.</summary>
    void Drain()
    {
        while (true)
        {
            long ticket = Volatile.Read(ref _ticket);
            int count = (int)((ticket >> CountBits) & FieldMask), next = (int)(ticket & FieldMask);
            if (next >= count) return;
            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket) continue;
            // The claim succeeded, so this loop cannot finish (nor _work change) before the item does.
            try { _work!.Execute(_base + next); }
            catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
            if (Interlocked.Increment(ref _completed) == count && Volatile.Read(ref _callerBlocked) != 0)
                lock (_doneGate) Monitor.PulseAll(_doneGate);
        }
    }

    void WorkerLoop()
    {
        long seen = Volatile.Read(ref _ticket) >> (2 * CountBits);
        while (true)
        {
            seen = WaitForNextLoop(seen);
            if (_disposed) return;
            Drain();
        }
    }

    /// <summary>Spins for <see cref="SpinTime"/>, then blocks, until a loop newer than <paramref name="seen"/> is published.</summary>
    long WaitForNextLoop(long seen)
    {
        long deadline = Stopwatch.GetTimestamp() + SpinTime;
        var spinner = new SpinWait();
        while (true)
        {
            long generation = Volatile.Read(ref _ticket) >> (2 * CountBits);
            if (generation != seen || _disposed) return generation;
            if (Stopwatch.GetTimestamp() < deadline)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            // Announce the sleep, then look again: the caller publishes, then reads _sleepers (both
            // full fences), so either it sees this sleeper and releases, or we see its loop.
            Interlocked.Increment(ref _sleepers);
            if (Volatile.Read(ref _ticket) >> (2 * CountBits) == seen && !_disposed) _wake.Wait();
            Interlocked.Decrement(ref _sleepers);
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_threads.Length > 0) _wake.Release(_threads.Length);
        foreach (var t in _threads) t.Join();
        _wake.Dispose();
    }
}
