namespace NativeEE.Model;

/// <summary>
/// The mappings a loaded model reads its weights from (safetensors files, the packed-weight cache), released when
/// the model is disposed and the last call still running has finished — never under a running call.
/// </summary>
/// <remarks>
/// A call takes a lease (<see cref="Acquire"/>/<see cref="Release"/>: two interlocked operations); the model holds
/// one more lease of its own, which <see cref="Dispose"/> returns. Unmapping under a running call would not throw
/// but crash the process, so the count, not a disposed flag, decides when the mappings go.
/// </remarks>
internal sealed class ModelMemory : IDisposable
{
    readonly List<IDisposable> _owned = [];
    int _leases = 1;
    int _disposed;

    /// <summary>Takes ownership of <paramref name="mapping"/>: it is disposed with the last lease.</summary>
    public T Own<T>(T mapping) where T : IDisposable
    {
        _owned.Add(mapping);
        return mapping;
    }

    /// <summary>True while the mappings are alive (the model not disposed, or a call still holds a lease).</summary>
    public bool IsAlive => Volatile.Read(ref _leases) > 0;

    /// <summary>Leases the mappings for one call.</summary>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public void Acquire()
    {
        int n = Volatile.Read(ref _leases);
        while (true)
        {
            ObjectDisposedException.ThrowIf(n == 0 || Volatile.Read(ref _disposed) != 0, typeof(EarlyExitModel));
            int seen = Interlocked.CompareExchange(ref _leases, n + 1, n);
            if (seen == n) return;
            n = seen;
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _leases) == 0)
            foreach (var owned in _owned) owned.Dispose();
    }

    /// <summary>
    /// Starts a background thread that faults in the pages of every owned packed-weight cache (see
    /// <see cref="PackedWeightCache.Prefault"/>) under a lease of its own, so a first call finds its weights mapped.
    /// Disposing the model stops it at the next 1 MB; the mapping goes when it has returned its lease.
    /// Returns false when there is nothing to fault in.
    /// </summary>
    public bool PrefaultInBackground()
    {
        var caches = new List<PackedWeightCache>();
        foreach (var owned in _owned)
            if (owned is PackedWeightCache cache) caches.Add(cache);
        if (caches.Count == 0) return false;
        Acquire();
        var thread = new Thread(() =>
        {
            try
            {
                foreach (var cache in caches) cache.Prefault(ref _disposed);
            }
            finally
            {
                Release();
            }
        })
        {
            IsBackground = true,
            Name = "NativeEE prefault",
        };
        try
        {
            thread.Start();
        }
        catch
        {
            Release();
            throw;
        }
        return true;
    }

    /// <summary>Returns the model's own lease: the mappings go now, or when the last running call releases its lease.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) Release();
    }
}
