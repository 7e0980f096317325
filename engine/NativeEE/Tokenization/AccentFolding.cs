namespace NativeEE.Tokenization;

/// <summary>
/// Hugging Face's BERT accent stripping (NFD, then drop nonspacing marks) for one code point, from a table
/// generated out of Python's Unicode data. .NET's own <c>string.Normalize</c> needs ICU, which Native AOT
/// and InvariantGlobalization apps lack (there it silently returns the input), so relying on it would make
/// token ids depend on how the host app was built.
/// </summary>
internal static partial class AccentFolding
{
    /// <summary>Longest result in UTF-16 units (table entries ≤ 3 code points; Hangul ≤ 3 jamo).</summary>
    public const int MaxFoldedLength = 6;

    const int HangulFirst = 0xAC00, HangulLast = 0xD7A3;

    /// <summary>
    /// codePoint → its accent-stripped text in <paramref name="folded"/> (≥ <see cref="MaxFoldedLength"/> chars).
    /// Returns the number of chars written (0 when the code point is a mark that is deleted), or -1 when
    /// stripping leaves it unchanged.
    /// </summary>
    public static int Fold(int codePoint, Span<char> folded)
    {
        if (codePoint < 0x80) return -1;
        if (codePoint is >= HangulFirst and <= HangulLast)
        {
            // Unicode §3.12 canonical decomposition of a precomposed syllable into leading/vowel/trailing jamo.
            int s = codePoint - HangulFirst;
            folded[0] = (char)(0x1100 + s / 588);
            folded[1] = (char)(0x1161 + s % 588 / 28);
            if (s % 28 == 0) return 2;
            folded[2] = (char)(0x11A7 + s % 28);
            return 3;
        }
        int i = MappedKeys.BinarySearch(codePoint);
        if (i >= 0)
        {
            var text = MappedUtf16[MappedOffsets[i]..MappedOffsets[i + 1]];
            text.CopyTo(folded);
            return text.Length;
        }
        return IsDeleted(codePoint) ? 0 : -1;
    }

    static bool IsDeleted(int codePoint)
    {
        var ranges = DeletedRanges;
        int lo = 0, hi = ranges.Length / 2 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (codePoint < ranges[2 * mid]) hi = mid - 1;
            else if (codePoint > ranges[2 * mid + 1]) lo = mid + 1;
            else return true;
        }
        return false;
    }
}
