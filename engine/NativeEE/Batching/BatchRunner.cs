using NativeEE.Kernels;
using NativeEE.Model;

namespace NativeEE.Batching;

/// <summary>
/// Runs a packed chunk of sequences through the encoder with per-sample early exit: after each layer that has a
/// head, every running sequence's [CLS] row goes through the head (one GEMM for all of them), its policy decides,
/// and finished sequences leave — the rest are compacted so later layers only see tokens still running.
/// Where <see cref="LayerDeferral"/> expects enough exits, a layer is finished lazily: its [CLS] rows first, for the
/// head, and its other rows only for the sequences that go on.
/// </summary>
internal static class BatchRunner
{
    /// <summary>
    /// Chunk = <c>s.Ids[0..T]</c> split by <c>s.Offsets[0..S]</c> (offsets[0] = 0), <c>s.Truncated[0..S)</c> set;
    /// the scratch holds T rows, S sequences and the longest one. Fills what <paramref name="request"/> asks for.
    /// </summary>
    public static void Run(BertEncoder model, InferenceScratch s, int sequences, bool clsOnlyLastLayer, LayerDeferral? deferral, WorkerPool pool,
        ref ForwardRequest request)
    {
        var config = model.Config;
        int h = config.HiddenSize, c = config.NumLabels, layerCount = model.Layers.Length;
        var policy = request.Policy;
        bool askPolicy = policy is not null && policy.UsesIntermediateHeads;
        bool intermediateHeads = askPolicy || request.Trace is not null || !request.ExitLogits.IsEmpty;
        int exitCount = model.ExitCount;
        bool captureCls = !request.ClsStates.IsEmpty;

        var offsets = s.Offsets.AsSpan(0, sequences + 1);
        var index = s.Index.AsSpan(0, sequences);
        var states = s.States.AsSpan(0, sequences);
        for (int i = 0; i < sequences; i++) index[i] = i;
        states.Clear();
        model.Embeddings.Forward(s.Ids.AsSpan(0, offsets[^1]), offsets, s.Hidden);

        int running = sequences;
        for (int l = 0; l < layerCount; l++)
        {
            request.CancellationToken.ThrowIfCancellationRequested();
            var run = offsets[..(running + 1)];
            request.Observer?.LayerRan(l, running, run[^1]);
            bool last = l == layerCount - 1;
            var head = model.Heads[l];
            bool evaluate = head is not null && (last || intermediateHeads);
            var cls = s.Cls.AsSpan(0, running * h);

            bool deferred = !last && askPolicy && head is not null && deferral is not null && deferral.ShouldDefer(l, running, run[^1]);
            if (last && clsOnlyLastLayer)
            {
                model.Layers[l].ForwardFirstRows(s.Hidden, run, cls, s, pool);
            }
            else if (deferred)
            {
                model.Layers[l].Attend(s.Hidden, run, s, pool);
                model.Layers[l].FinishFirstRows(s.Hidden, run, cls, s, pool);
            }
            else
            {
                model.Layers[l].Forward(s.Hidden, run, s, pool);
                if (evaluate || captureCls) EncoderLayer.GatherFirstRows(s.Hidden, run, h, cls);
            }
            if (captureCls)
                for (int r = 0; r < running; r++)
                    cls.Slice(r * h, h).CopyTo(request.ClsStates.Slice((index[r] * layerCount + l) * h, h));
            if (!evaluate) continue;

            var logits = s.Logits.AsSpan(0, running * c);
            var probabilities = s.Probabilities.AsSpan(0, running * c);
            head!.Forward(cls, running, s.ClsContext, logits, pool);
            Softmax.Forward(logits, running, c, probabilities);

            int exited = 0;
            for (int r = 0; r < running; r++)
            {
                var p = probabilities.Slice(r * c, c);
                var z = logits.Slice(r * c, c);
                request.Trace?.Add(l, z, p);
                if (!request.ExitLogits.IsEmpty) z.CopyTo(request.ExitLogits.Slice((index[r] * exitCount + model.ExitOrdinal[l]) * c, c));
                bool exit = last || (askPolicy && policy!.ShouldExit(p, l, ref states[r]));
                s.Exited[r] = exit;
                if (!exit) continue;
                exited++;
                int at = index[r];
                if (!request.Results.IsEmpty)
                {
                    int label = ArgMax(p);
                    request.Results[at] = new Prediction(z, p, config.Labels[label], label, l, run[r + 1] - run[r], s.Truncated[at], request.Trace);
                }
                if (last && !request.FinalLogits.IsEmpty) z.CopyTo(request.FinalLogits.Slice(at * c, c));
            }
            if (askPolicy && !last) deferral?.Record(l, running, exited);
            if (exited == running)
            {
                if (deferred) request.Observer?.LayerFinishedLazily(l, 0, 0);
                return;
            }
            if (exited > 0) running = Compact(s, running, h, deferred);
            if (deferred)
            {
                request.Observer?.LayerFinishedLazily(l, running, offsets[running]);
                model.Layers[l].FinishRows(s.Hidden, offsets[..(running + 1)], s, pool);
            }
        }
    }

    /// <summary>
    /// Drops the exited sequences: moves the survivors' rows down, in order (with <paramref name="withContext"/> their
    /// attention output too, for a layer still to be finished), and rewrites offsets, indices and states.
    /// </summary>
    static int Compact(InferenceScratch s, int running, int h, bool withContext)
    {
        var offsets = s.Offsets;
        var hidden = s.Hidden.AsSpan();
        var context = s.Context.AsSpan();
        int kept = 0, row = 0;
        for (int r = 0; r < running; r++)
        {
            int start = offsets[r], length = offsets[r + 1] - start;
            if (s.Exited[r]) continue;
            if (start != row)
            {
                hidden.Slice(start * h, length * h).CopyTo(hidden.Slice(row * h));
                if (withContext) context.Slice(start * h, length * h).CopyTo(context.Slice(row * h));
            }
            offsets[kept] = row;
            s.Index[kept] = s.Index[r];
            s.States[kept] = s.States[r];
            kept++;
            row += length;
        }
        offsets[kept] = row;
        return kept;
    }

    /// <summary>Index of the largest value; ties go to the lowest index (as torch.argmax).</summary>
    static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
