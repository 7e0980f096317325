using System.Text;
using NativeEE.Safetensors;
using static NativeEE.Tests.Safetensors.RawSafetensors;

namespace NativeEE.Tests.Safetensors;

/// <summary>Every file-level rule, each broken by a hand-made file; the index rules are in <see cref="SafetensorsModelTests"/>.</summary>
public class SafetensorsFormatExceptionTests
{
    sealed record BadFile(Func<byte[]> Bytes, SafetensorsRule Rule, string? Tensor, string MessagePart);

    static readonly Dictionary<string, BadFile> Cases = new()
    {
        ["empty file (cannot be mapped)"] = new(() => [], SafetensorsRule.FileTooShort, null, "0 bytes"),
        ["5-byte file"] = new(() => [2, 0, 0, 0, 0], SafetensorsRule.FileTooShort, null, "shorter than the 8-byte"),
        ["N = 100 MiB + 1"] = new(() => Build("{}", headerLength: (100UL << 20) + 1), SafetensorsRule.HeaderTooLarge, null, "100 MiB"),
        ["N = 2^64 - 1"] = new(() => Build("{}", headerLength: ulong.MaxValue), SafetensorsRule.HeaderTooLarge, null, "18446744073709551615"),
        ["8 + N beyond file"] = new(() => Build("{}", dataBytes: 4, headerLength: 7), SafetensorsRule.HeaderBeyondFile, null, "the file has 14"),
        ["header not UTF-8"] = new(() => Build([.. "{\"a"u8, 0xFF, .. "\":{}}"u8]), SafetensorsRule.HeaderNotUtf8, null, "first bad byte at header offset 3"),
        ["header N = 0"] = new(() => Build(""), SafetensorsRule.HeaderStart, null, "empty"),
        ["header starts with a space"] = new(() => Build(" {}"), SafetensorsRule.HeaderStart, null, "0x20"),
        ["header is an array"] = new(() => Build("[]"), SafetensorsRule.HeaderStart, null, "0x5B"),
        ["header cut short"] = new(() => Build("{\"a\":"), SafetensorsRule.HeaderNotJson, null, "not valid JSON"),
        ["garbage after the object"] = new(() => Build("{} x"), SafetensorsRule.HeaderNotJson, null, "not valid JSON"),
        ["NUL padding"] = new(() => Build("{}\0\0\0\0\0\0"), SafetensorsRule.HeaderNotJson, null, "not valid JSON"),
        ["trailing comma"] = new(() => Build("{\"__metadata__\":{\"a\":\"b\"},}"), SafetensorsRule.HeaderNotJson, null, "not valid JSON"),
        ["lone surrogate escape"] = new(() => Build("{\"\\uD800\":{}}"), SafetensorsRule.HeaderNotJson, null, "not valid text"),
        ["duplicate tensor"] = new(() => Build($"{{{F32("a", 0, 4, 1)},{F32("a", 0, 4, 1)}}}", 4), SafetensorsRule.DuplicateName, "a", "more than once"),
        ["duplicate spelled with an escape"] = new(() => Build($"{{{F32("a", 0, 4, 1)},{F32("\\u0061", 0, 4, 1)}}}", 4), SafetensorsRule.DuplicateName, "a", "more than once"),
        ["duplicate __metadata__"] = new(() => Build("{\"__metadata__\":{},\"__metadata__\":{}}"), SafetensorsRule.DuplicateName, "__metadata__", "more than once"),
        ["entry is an array"] = new(() => Build("{\"w\":[1,2]}"), SafetensorsRule.EntryStructure, "w", "found an array"),
        ["entry has an unknown key"] = new(() => Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"stride\":[1]}}", 4), SafetensorsRule.EntryStructure, "w", "unknown key 'stride'"),
        ["entry has no shape"] = new(() => Build("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), SafetensorsRule.EntryStructure, "w", "no 'shape'"),
        ["entry repeats dtype"] = new(() => Build("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), SafetensorsRule.EntryStructure, "w", "'dtype' appears more than once"),
        ["dtype unknown"] = new(() => Build("{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), SafetensorsRule.DTypeUnknown, "w", "\"F33\""),
        ["dtype lower case"] = new(() => Build("{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), SafetensorsRule.DTypeUnknown, "w", "\"f32\""),
        ["dtype sub-byte F4"] = new(() => Build("{\"w\":{\"dtype\":\"F4\",\"shape\":[2],\"data_offsets\":[0,1]}}", 1), SafetensorsRule.DTypeUnknown, "w", "\"F4\""),
        ["dtype is a number"] = new(() => Build("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), SafetensorsRule.DTypeUnknown, "w", "must be a string"),
        ["shape dim negative"] = new(() => Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), SafetensorsRule.ShapeInvalid, "w", "≥ 0"),
        ["shape dim fractional"] = new(() => Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4), SafetensorsRule.ShapeInvalid, "w", "1.5"),
        ["shape dim a string"] = new(() => Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4), SafetensorsRule.ShapeInvalid, "w", "found a string"),
        ["shape dim beyond int"] = new(() => Build("{\"w\":{\"dtype\":\"U8\",\"shape\":[2147483648],\"data_offsets\":[0,4]}}", 4), SafetensorsRule.ShapeInvalid, "w", "2147483648"),
        ["shape not an array"] = new(() => Build("{\"w\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4), SafetensorsRule.ShapeInvalid, "w", "found a number"),
        ["offsets reversed"] = new(() => Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4), SafetensorsRule.OffsetsInvalid, "w", "begin > end"),
        ["offset negative"] = new(() => Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4), SafetensorsRule.OffsetsInvalid, "w", "-4"),
        ["offset beyond 2^63"] = new(() => Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,9223372036854775808]}}", 4), SafetensorsRule.OffsetsInvalid, "w", "9223372036854775808"),
        ["one offset"] = new(() => Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), SafetensorsRule.OffsetsInvalid, "w", "exactly two"),
        ["three offsets"] = new(() => Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4), SafetensorsRule.OffsetsInvalid, "w", "exactly two"),
        ["element count overflows"] = new(() => Build("{\"w\":{\"dtype\":\"U8\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}", 4), SafetensorsRule.SizeOverflow, "w", "overflows"),
        ["byte size overflows"] = new(() => Build("{\"w\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,2],\"data_offsets\":[0,4]}}", 4), SafetensorsRule.SizeOverflow, "w", "× 8 bytes overflows"),
        ["size differs from offsets"] = new(() => Build($"{{{F32("w", 0, 4, 2)}}}", 4), SafetensorsRule.SizeMismatch, "w", "needs 2 × 4 = 8 bytes"),
        ["end beyond data"] = new(() => Build($"{{{F32("w", 0, 8, 2)}}}", 4), SafetensorsRule.OffsetsBeyondData, "w", "data block of 4 bytes"),
        ["tensors overlap"] = new(() => Build($"{{{F32("a", 0, 8, 2)},{F32("b", 4, 12, 2)}}}", 12), SafetensorsRule.Overlap, "b", "overlap tensor 'a'"),
        ["same range twice"] = new(() => Build($"{{{F32("a", 0, 4, 1)},{F32("b", 0, 4, 1)}}}", 4), SafetensorsRule.Overlap, "b", "overlap tensor 'a'"),
        ["empty tensor inside another"] = new(() => Build($"{{{F32("a", 0, 8, 2)},{F32("z", 4, 4, 0)}}}", 8), SafetensorsRule.Overlap, "z", "overlap tensor 'a'"),
        ["gap between tensors"] = new(() => Build($"{{{F32("a", 0, 4, 1)},{F32("b", 8, 12, 1)}}}", 12), SafetensorsRule.Gap, "b", "[4, 8)"),
        ["gap at the start"] = new(() => Build($"{{{F32("a", 4, 8, 1)}}}", 8), SafetensorsRule.Gap, "a", "[0, 4)"),
        ["bytes after the last tensor"] = new(() => Build($"{{{F32("a", 0, 4, 1)}}}", 8), SafetensorsRule.TrailingBytes, "a", "4 trailing bytes"),
        ["data but no tensors"] = new(() => Build("{}", 3), SafetensorsRule.TrailingBytes, null, "3 trailing bytes"),
        ["metadata value a number"] = new(() => Build("{\"__metadata__\":{\"n\":1}}"), SafetensorsRule.MetadataInvalid, null, "key 'n' must be a string"),
        ["metadata value nested"] = new(() => Build("{\"__metadata__\":{\"n\":{\"m\":\"x\"}}}"), SafetensorsRule.MetadataInvalid, null, "key 'n' must be a string"),
        ["metadata an array"] = new(() => Build("{\"__metadata__\":[\"a\"]}"), SafetensorsRule.MetadataInvalid, null, "must be an object"),
        ["metadata null"] = new(() => Build("{\"__metadata__\":null}"), SafetensorsRule.MetadataInvalid, null, "found null"),
        ["metadata key twice"] = new(() => Build("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}"), SafetensorsRule.MetadataInvalid, null, "key 'k' more than once"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void BadFileIsRejectedWithItsRule(string caseName)
    {
        BadFile bad = Cases[caseName];
        using var dir = new TempDirectory();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, bad.Bytes());

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path));

        Assert.Equal(bad.Rule, e.Rule);
        Assert.Equal(path, e.FilePath);
        Assert.Equal(bad.Tensor, e.TensorName);
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains($"[rule: {bad.Rule}]", e.Message);
        Assert.Contains(bad.MessagePart, e.Message);
        if (bad.Tensor is not null)
            Assert.Contains($"tensor '{bad.Tensor}'", e.Message);
    }

    [Fact]
    public void EveryFileRuleHasABadFile()
    {
        var indexRules = new[] { SafetensorsRule.IndexInvalid, SafetensorsRule.ShardPathEscape, SafetensorsRule.ShardMissingTensor, SafetensorsRule.ShardUnmappedTensor };
        var covered = Cases.Values.Select(c => c.Rule).Concat(indexRules).ToHashSet();
        Assert.Equal(Enum.GetValues<SafetensorsRule>().ToHashSet(), covered);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{}      ")]
    [InlineData("{ \"__metadata__\" : { } }\n\t ")]
    [InlineData("{\"__metadata__\":{\"format\":\"pt\"}}")]
    public void EmptyFileWithNoTensorsIsValid(string header)
    {
        using var dir = new TempDirectory();
        string path = dir.File("empty.safetensors");
        File.WriteAllBytes(path, Build(header));

        using var file = SafetensorsFile.Open(path);

        Assert.Empty(file.Tensors);
        Assert.Equal(Encoding.UTF8.GetByteCount(header), file.HeaderSize);
    }

    [Fact]
    public void ZeroSizedTensorsMaySitAtTheSameOffsetAndAtTheEnd()
    {
        using var dir = new TempDirectory();
        string path = dir.File("zeros.safetensors");
        File.WriteAllBytes(path, Build($"{{{F32("z1", 0, 0, 0)},{F32("z2", 0, 0, 3, 0)},{F32("a", 0, 4, 1)},{F32("z3", 4, 4, 0, 2)}}}", 4));

        using var file = SafetensorsFile.Open(path);

        Assert.Equal(["z1", "z2", "a", "z3"], file.Tensors.Select(t => t.Name));
        Assert.Equal(0, file.GetSpan<float>("z2").Length);
    }
}
