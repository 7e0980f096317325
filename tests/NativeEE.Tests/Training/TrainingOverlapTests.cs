using NativeEE.Training;

namespace NativeEE.Tests.Training;

public class TrainingOverlapTests
{
    [Fact]
    public void KeepsOnlyRowsThatAreNotAWordSequenceOfATrainingRow()
    {
        string[] train = ["a great movie ", "the plot , sadly , is thin"];
        string[] candidates = ["great movie", "GREAT  Movie", "movie great", "plot , sadly", "a great movie indeed", "thin", "grea", "sadly , is thin ."];
        Assert.Equal([2, 4, 6, 7], TrainingOverlap.UnseenRows(train, candidates));
    }

    [Fact]
    public void AgreesWithBruteForceContainmentOnTheSharedSst2Split()
    {
        var train = ReadSentences(SharedPaths.Sst2("train.tsv"));
        var dev = ReadSentences(SharedPaths.Sst2("dev.tsv")).Take(300).ToList();
        var unseen = TrainingOverlap.UnseenRows(train, dev);
        var padded = train.Select(t => " " + Normalize(t) + " ").ToArray();
        var expected = Enumerable.Range(0, dev.Count).Where(i => !padded.Any(t => t.Contains(" " + Normalize(dev[i]) + " ", StringComparison.Ordinal))).ToArray();
        Assert.Equal(expected, unseen);
        // Most SST-2 dev phrases are pieces of training sentences.
        Assert.InRange(unseen.Length, 10, 100);
    }

    static string Normalize(string s) => string.Join(' ', s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();

    static List<string> ReadSentences(string path) =>
        File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select(l => l[..l.LastIndexOf('\t')]).ToList();
}
