using NativeEE.Tokenization;

namespace NativeEE.Tests.Tokenization;

public class AccentFoldingTests
{
    static string? Fold(int cp)
    {
        Span<char> buf = stackalloc char[AccentFolding.MaxFoldedLength];
        int n = AccentFolding.Fold(cp, buf);
        return n < 0 ? null : new string(buf[..n]);
    }

    // Expected values are the Unicode canonical decompositions (UnicodeData.txt) without their marks.
    [Theory]
    [InlineData(0xE9, "e")]           // é
    [InlineData(0xC5, "A")]           // Å (case is left to the lower-casing step)
    [InlineData(0x130, "I")]          // İ
    [InlineData(0x439, "\u0438")]     // й → и
    [InlineData(0x304C, "\u304B")]    // が → か
    [InlineData(0xF900, "\u8C48")]    // CJK compatibility ideograph → unified
    [InlineData(0x1E09, "c")]         // ḉ (two marks)
    [InlineData(0x301, "")]           // combining acute: deleted
    [InlineData(0x5B8, "")]           // Hebrew point qamats: deleted
    [InlineData(0xD55C, "\u1112\u1161\u11AB")]  // 한 = ᄒ ᅡ ᆫ
    [InlineData(0xAC00, "\u1100\u1161")]        // 가 (no trailing consonant)
    public void FoldsLikeNfdWithoutMarks(int codePoint, string expected) => Assert.Equal(expected, Fold(codePoint));

    [Theory]
    [InlineData('a')]
    [InlineData(0xDF)]    // ß has no decomposition
    [InlineData(0xFB01)]  // ﬁ is a compatibility (NFKD) decomposition only
    [InlineData(0x4E2D)]  // 中
    [InlineData(0x1F600)] // 😀
    public void LeavesOtherCharactersAlone(int codePoint) => Assert.Null(Fold(codePoint));
}
