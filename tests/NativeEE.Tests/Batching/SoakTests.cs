using System.Diagnostics;
using NativeEE.Tests.Engine;

namespace NativeEE.Tests.Batching;

/// <summary>
/// One model, 8 threads, many calls of mixed lengths, policies and batch sizes: every output is bit-identical to the
/// single-threaded run, and memory stays flat. Calls per thread: env NATIVEEE_SOAK_CALLS (default 200; 2000 for a long run).
/// The working set is the whole process's, so this runs in a collection of its own with nothing else in parallel
/// (other tests' allocations made the bound fail under CI).
/// </summary>
[Collection(SoakCollection.Name)]
public sealed class SoakTests(MiniLmFixture fixture, ITestOutputHelper output)
{
    const int Threads = 8, Distinct = 48, BatchSize = 4;
    // After warm-up every thread has its scratch; what may still grow is bookkeeping (thread statics, JIT, xunit).
    const long HeapBound = 2 << 20;
    // Working set: native allocations and the kernel's page cache for the mapped files aside, nothing should grow per call.
    const long WorkingSetBound = 64 << 20;

    static readonly ExitPolicy[] PolicyMix = [ExitPolicy.Entropy(0.3f), ExitPolicy.MaxProbability(0.9f), ExitPolicy.Patience(2), ExitPolicy.FullDepth];

    static int CallsPerThread => int.TryParse(Environment.GetEnvironmentVariable("NATIVEEE_SOAK_CALLS"), out int n) && n > 0 ? n : 200;

    [Fact]
    public void EightThreadsAreBitIdenticalToOneAndMemoryStaysFlat()
    {
        var model = fixture.Model;
        var eval = EvalSet.Test;
        var ct = TestContext.Current.CancellationToken;
        // Work items: (sentence, policy) singles and fixed 4-sentence batches; spread over short and long sentences.
        var rows = Enumerable.Range(0, Distinct).Select(k => k * (eval.Count / Distinct)).ToArray();
        var singleBaseline = new Prediction[Distinct, PolicyMix.Length];
        for (int k = 0; k < Distinct; k++)
            for (int p = 0; p < PolicyMix.Length; p++)
                singleBaseline[k, p] = model.Classify(eval.Ids[rows[k]], PolicyMix[p], ct);
        var batches = Enumerable.Range(0, Distinct / BatchSize).Select(b => Pack(rows.Skip(b * BatchSize).Take(BatchSize).Select(r => eval.Ids[r]))).ToArray();
        var batchBaseline = new Prediction[batches.Length, PolicyMix.Length][];
        for (int b = 0; b < batches.Length; b++)
            for (int p = 0; p < PolicyMix.Length; p++)
            {
                batchBaseline[b, p] = new Prediction[BatchSize];
                model.Classify(batches[b].Ids, batches[b].Offsets, batchBaseline[b, p], PolicyMix[p], ct);
            }

        int calls = CallsPerThread, mismatches = 0;
        string? firstMismatch = null;
        void Work(int thread, int count)
        {
            var results = new Prediction[BatchSize];
            for (int i = 0; i < count; i++)
            {
                int pick = (thread * 7919 + i * 104729) & int.MaxValue, p = pick % PolicyMix.Length;
                if (i % 8 == 7)
                {
                    int b = pick / PolicyMix.Length % batches.Length;
                    model.Classify(batches[b].Ids, batches[b].Offsets, results, PolicyMix[p], ct);
                    for (int j = 0; j < BatchSize; j++) Check(results[j], batchBaseline[b, p][j], $"thread {thread} call {i} batch {b}[{j}] {PolicyMix[p]}");
                }
                else
                {
                    int k = pick / PolicyMix.Length % Distinct;
                    Check(model.Classify(eval.Ids[rows[k]], PolicyMix[p], ct), singleBaseline[k, p], $"thread {thread} call {i} row {rows[k]} {PolicyMix[p]}");
                }
            }
        }
        void Check(in Prediction actual, in Prediction expected, string what)
        {
            bool same = actual.Label == expected.Label && actual.ExitLayer == expected.ExitLayer && actual.Logits.SequenceEqual(expected.Logits)
                && actual.Probabilities.SequenceEqual(expected.Probabilities);
            if (!same && Interlocked.Increment(ref mismatches) == 1) firstMismatch = what;
        }
        void RunThreads(int count)
        {
            var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() => Work(t, count))).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
        }

        RunThreads(16); // warm-up: every thread's scratch grows to its largest input
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long workingSetBefore = Process.GetCurrentProcess().WorkingSet64;
        var clock = Stopwatch.StartNew();
        RunThreads(calls);
        clock.Stop();
        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        long workingSetAfter = Process.GetCurrentProcess().WorkingSet64;
        output.WriteLine($"{Threads}×{calls} calls in {clock.Elapsed.TotalSeconds:F1} s; managed heap {heapBefore / 1024} → {heapAfter / 1024} KiB, working set {workingSetBefore >> 20} → {workingSetAfter >> 20} MiB; mismatches {mismatches}");
        Assert.True(mismatches == 0, $"{mismatches} outputs differ from the single-threaded run; first: {firstMismatch}");
        Assert.True(heapAfter - heapBefore < HeapBound, $"managed heap grew by {heapAfter - heapBefore} B");
        Assert.True(workingSetAfter - workingSetBefore < WorkingSetBound, $"working set grew by {workingSetAfter - workingSetBefore} B");
    }

    static (int[] Ids, int[] Offsets) Pack(IEnumerable<int[]> sequences)
    {
        var list = sequences.ToList();
        var offsets = new int[list.Count + 1];
        for (int i = 0; i < list.Count; i++) offsets[i + 1] = offsets[i] + list[i].Length;
        return (list.SelectMany(s => s).ToArray(), offsets);
    }
}

/// <summary>The soak's own model, in a collection xunit runs alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoakCollection : ICollectionFixture<MiniLmFixture>
{
    public const string Name = "Soak (runs alone)";
}
