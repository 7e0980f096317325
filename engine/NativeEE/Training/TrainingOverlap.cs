namespace NativeEE.Training;

/// <summary>
/// Finds evaluation rows that a training set already contains, word for word. Calibrating exit thresholds on
/// such rows is calibrating on training data: the heads (and a backbone fine-tuned on the same set) are more
/// confident and more often right there than on unseen text, so the threshold comes out too eager.
/// </summary>
/// <remarks>
/// Why this exists: SST-2 ships every phrase of every parse tree as a row, and <c>dev.tsv</c> here is the part of
/// GLUE's training split left out of <c>train.tsv</c>, so 89% of its rows (5,969 of 6,735) are word-for-word
/// sub-phrases of training rows. The other 766 look like unseen sentences (19 words on average, as in
/// <c>test.tsv</c>), and thresholds calibrated on them carry over to test; thresholds calibrated on all of dev do not.
/// </remarks>
public static class TrainingOverlap
{
    /// <summary>
    /// Indices (ascending) of the <paramref name="candidates"/> that are not a contiguous word sequence of any
    /// training text. Words are split on whitespace and compared case-insensitively (ordinal).
    /// </summary>
    public static int[] UnseenRows(IReadOnlyList<string> trainingTexts, IReadOnlyList<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(trainingTexts);
        ArgumentNullException.ThrowIfNull(candidates);
        var vocabulary = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var candidateWords = new int[candidates.Count][];
        var lengths = new HashSet<int>();
        int longest = 0;
        for (int i = 0; i < candidates.Count; i++)
        {
            candidateWords[i] = Words(candidates[i], vocabulary, add: true);
            lengths.Add(candidateWords[i].Length);
            longest = Math.Max(longest, candidateWords[i].Length);
        }

        // Every word n-gram of the training texts whose length some candidate has, as a 64-bit hash.
        var seen = new HashSet<ulong>();
        foreach (string text in trainingTexts)
        {
            var words = Words(text, vocabulary, add: false);
            for (int start = 0; start < words.Length; start++)
            {
                ulong hash = Seed;
                int end = Math.Min(words.Length, start + longest);
                for (int k = start; k < end; k++)
                {
                    if (words[k] < 0) break;   // a word no candidate has: no candidate contains this n-gram
                    hash = Step(hash, words[k]);
                    if (lengths.Contains(k - start + 1)) seen.Add(Finish(hash, k - start + 1));
                }
            }
        }

        var unseen = new List<int>();
        for (int i = 0; i < candidateWords.Length; i++)
        {
            var words = candidateWords[i];
            ulong hash = Seed;
            foreach (int w in words) hash = Step(hash, w);
            if (words.Length == 0 || !seen.Contains(Finish(hash, words.Length))) unseen.Add(i);
        }
        return [.. unseen];
    }

    const ulong Seed = 0x243F6A8885A308D3UL;

    static ulong Step(ulong hash, int word) => (hash ^ (uint)word) * 0x100000001B3UL + 0x9E3779B97F4A7C15UL;

    // A 1.4M-entry set of 64-bit hashes has a collision chance around 10⁻⁷; the length goes in as well.
    static ulong Finish(ulong hash, int length)
    {
        ulong z = hash ^ ((ulong)length << 48);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    static int[] Words(string text, Dictionary<string, int> vocabulary, bool add)
    {
        var parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (vocabulary.TryGetValue(parts[i], out int id)) ids[i] = id;
            else if (add) vocabulary[parts[i]] = ids[i] = vocabulary.Count;
            else ids[i] = -1;
        }
        return ids;
    }
}
