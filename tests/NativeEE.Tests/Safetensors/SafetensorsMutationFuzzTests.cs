using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using NativeEE.Safetensors;

namespace NativeEE.Tests.Safetensors;

/// <summary>
/// Seeded mutations of valid files (bit flips, truncations, header-length lies, JSON edits). Every open
/// must either fail with a <see cref="SafetensorsException"/> or give tensors that tile the data block
/// exactly and can all be read; nothing else may escape, and no open may hang.
/// </summary>
public class SafetensorsMutationFuzzTests(ITestOutputHelper output)
{
    static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    [Fact]
    public void WriterMadeFilesSurviveMutations()
    {
        using var dir = new TempDirectory();
        var stats = new Stats();
        Fuzz(dir, "mixed.safetensors", MixedFile(), 700, seed: 1, stats);
        Fuzz(dir, "plain.safetensors", PlainFile(), 500, seed: 2, stats);
        Fuzz(dir, "empty.safetensors", EmptyFile(), 300, seed: 3, stats);
        stats.Report(output, minOpened: 50, minRejected: 900, minRules: 14);
    }

    [Fact]
    public void SharedExitsFileSurvivesMutations()
    {
        using var dir = new TempDirectory();
        var stats = new Stats();
        Fuzz(dir, "exits.safetensors", File.ReadAllBytes(Path.Combine(SharedPaths.MiniLm, "exits.safetensors")), 600, seed: 4, stats);
        stats.Report(output, minOpened: 20, minRejected: 350, minRules: 10);
    }

    /// <summary>The 90 MB model: a temp copy is patched in place (header, length prefix, a few data bytes, short tail cuts) and restored after each open.</summary>
    [Fact]
    public void SharedModelFileSurvivesMutations()
    {
        using var dir = new TempDirectory();
        var stats = new Stats();
        string copy = dir.File("model.safetensors");
        File.Copy(Path.Combine(SharedPaths.MiniLm, "model.safetensors"), copy);
        Fuzz(dir, copy, 400, seed: 5, stats);
        stats.Report(output, minOpened: 15, minRejected: 230, minRules: 10);
    }

    // ---- subjects ----

    static byte[] MixedFile()
    {
        var w = new SafetensorsWriter();
        w.Metadata["format"] = "pt";
        w.Metadata["note"] = "mixed dtypes, odd sizes";
        w.Add("i8", SafetensorsDType.I8, [1, 2, 3], 3);
        w.Add("f32", [1f, -2f, 3.5f, 0f, 1e-3f, 7f], 2, 3);
        w.Add("scalar.u8", SafetensorsDType.U8, [200]);
        w.Add("bf16", SafetensorsDType.BF16, [0x80, 0x3F, 0x20, 0xC0, 0, 0, 0x80, 0x7F, 1, 0], 5);
        w.Add("empty.i16", SafetensorsDType.I16, [], 0, 4);
        w.Add("f16", SafetensorsDType.F16, [0x00, 0x3C], 1);
        w.Add("f64", SafetensorsDType.F64, MemoryMarshal.AsBytes<double>([Math.E, -1]), 2);
        w.Add("bool", SafetensorsDType.BOOL, [0, 1, 1, 0], 4);
        w.Add("i64", SafetensorsDType.I64, MemoryMarshal.AsBytes<long>([-5L]));
        w.Add("u32", SafetensorsDType.U32, MemoryMarshal.AsBytes<uint>([1u, 2u]), 2, 1);
        w.Add("e4m3", SafetensorsDType.F8_E4M3, [0x38, 0x7F], 2);
        w.Add("e5m2", SafetensorsDType.F8_E5M2, [0x3C], 1);
        w.Add("u64", SafetensorsDType.U64, MemoryMarshal.AsBytes<ulong>([ulong.MaxValue]), 1);
        w.Add("u16", SafetensorsDType.U16, [1, 2], 1);
        return Save(w);
    }

    static byte[] PlainFile()
    {
        var w = new SafetensorsWriter();
        w.Add("layer.0.weight", [1f, 2f, 3f, 4f], 2, 2);
        w.Add("layer.0.bias", [0.5f, -0.5f], 2);
        return Save(w);
    }

    static byte[] EmptyFile()
    {
        var w = new SafetensorsWriter();
        w.Metadata["format"] = "pt";
        return Save(w);
    }

    static byte[] Save(SafetensorsWriter w)
    {
        using var dir = new TempDirectory();
        string path = dir.File("x.safetensors");
        w.Save(path);
        return File.ReadAllBytes(path);
    }

    // ---- the fuzz loop ----

    /// <summary>Small subject: held in memory; any mutation may rewrite the whole file.</summary>
    void Fuzz(TempDirectory dir, string name, byte[] bytes, int iterations, int seed, Stats stats)
    {
        string path = dir.File(name);
        File.WriteAllBytes(path, bytes);
        Fuzz(dir, path, iterations, seed, stats, bytes);
    }

    void Fuzz(TempDirectory dir, string path, int iterations, int seed, Stats stats, byte[]? whole = null)
    {
        long length = new FileInfo(path).Length;
        byte[] prefix = new byte[Math.Min(length, 1 << 20)];
        using (var s = File.OpenRead(path)) s.ReadExactly(prefix);
        long n = BinaryPrimitives.ReadInt64LittleEndian(prefix);
        Assert.True(8 + n + 4096 <= prefix.Length || whole is not null, "header region must fit the in-memory prefix");
        var subject = new Subject(path, length, (int)n, prefix, whole, Encoding.UTF8.GetString(prefix, 8, (int)n).TrimEnd(' '));
        string scratch = dir.File("scratch-" + Path.GetFileName(path));
        var random = new Random(seed);

        for (int i = 0; i < iterations; i++)
        {
            Mutation m = NextMutation(random, subject);
            string what = $"{Path.GetFileName(path)} seed {seed} #{i}: {m.What}";
            string target = path;
            byte[][] saved = [];
            byte[]? tail = null;
            if (m.Replacement is not null)
            {
                File.WriteAllBytes(scratch, m.Replacement);
                target = scratch;
            }
            else
            {
                (saved, tail) = Apply(subject, m);
            }
            try
            {
                long targetLength = new FileInfo(target).Length;
                Exception? thrown = Guarded(() => OpenAndCheck(target, targetLength), what);
                stats.Count(thrown, m, what);
            }
            finally
            {
                if (m.Replacement is null) Restore(subject, m, saved, tail);
            }
        }
        // Restores really restored: the subject is still the valid file it was.
        using var check = SafetensorsFile.Open(path);
        Assert.Equal(length, check.FileSize);
    }

    static Exception? Guarded(Action action, string what)
    {
        Task task = Task.Run(action);
        try
        {
            if (!task.Wait(HangGuard))
                Assert.Fail($"open did not finish within {HangGuard.TotalSeconds} s: {what}");
            return null;
        }
        catch (AggregateException e)
        {
            return e.InnerException;
        }
    }

    /// <summary>An opened file must tile its data block and let every tensor be read in full.</summary>
    static void OpenAndCheck(string path, long fileLength)
    {
        using var file = SafetensorsFile.Open(path);
        long cursor = 0, sink = 0;
        var names = new HashSet<string>();
        foreach (TensorInfo t in file.Tensors)
        {
            Assert.True(names.Add(t.Name), $"tensor '{t.Name}' listed twice");
            Assert.Equal(cursor, t.DataBegin);
            cursor = t.DataEnd;
            long count = t.Shape.Contains(0) ? 0 : t.Shape.Aggregate(1L, (a, d) => checked(a * d));
            Assert.Equal(count, t.ElementCount);
            Assert.Equal(count * t.DType.SizeInBytes(), t.SizeInBytes);
            ReadOnlySpan<byte> bytes = file.GetBytes(t.Name);
            Assert.Equal(t.SizeInBytes, bytes.Length);
            if (bytes.Length > 0) sink += bytes[0] + bytes[^1]; // first and last byte lie inside the mapping
            Assert.Equal(t.ElementCount, TypedLength(file, t));
            if (t.ElementCount <= 1 << 16) Assert.Equal(t.ElementCount, file.ReadFloat32(t.Name).Length);
            Assert.Same(t, file.GetInfo(t.Name));
        }
        Assert.Equal(fileLength - 8 - file.HeaderSize, cursor);
        foreach (var (key, value) in file.Metadata) sink += key.Length + value.Length;
        GC.KeepAlive(sink);
    }

    static int TypedLength(SafetensorsFile file, TensorInfo t) => t.DType switch
    {
        SafetensorsDType.F32 => file.GetSpan<float>(t.Name).Length,
        SafetensorsDType.F16 => file.GetSpan<Half>(t.Name).Length,
        SafetensorsDType.BF16 or SafetensorsDType.U16 => file.GetSpan<ushort>(t.Name).Length,
        SafetensorsDType.F64 => file.GetSpan<double>(t.Name).Length,
        SafetensorsDType.I8 => file.GetSpan<sbyte>(t.Name).Length,
        SafetensorsDType.I16 => file.GetSpan<short>(t.Name).Length,
        SafetensorsDType.I32 => file.GetSpan<int>(t.Name).Length,
        SafetensorsDType.U32 => file.GetSpan<uint>(t.Name).Length,
        SafetensorsDType.I64 => file.GetSpan<long>(t.Name).Length,
        SafetensorsDType.U64 => file.GetSpan<ulong>(t.Name).Length,
        _ => file.GetSpan<byte>(t.Name).Length,
    };

    // ---- mutations ----

    sealed record Subject(string Path, long Length, int HeaderSize, byte[] Prefix, byte[]? Whole, string Header)
    {
        public int HeaderEnd => 8 + HeaderSize;
    }

    enum Expect { Either, Fail, Open }

    sealed record Mutation(string What, Expect Expect, (long Offset, byte[] Bytes)[] Patches, long? TruncateTo = null, byte[]? Replacement = null);

    static Mutation NextMutation(Random r, Subject s)
    {
        int kind = r.Next(100);
        if (kind < 20) return FlipBits(r, s, 8, s.HeaderEnd, "header");
        if (kind < 25)
        {
            int bit = r.Next(64);
            return new($"flip bit {bit} of the header length", Expect.Fail, [(bit / 8, [(byte)(s.Prefix[bit / 8] ^ (1 << (bit % 8)))])]);
        }
        if (kind < 35) return LengthLie(r, s);
        if (kind < 45) return Truncate(r, s);
        if (kind < 50 && s.Length > s.HeaderEnd)
        {
            Mutation m = FlipBits(r, s, s.HeaderEnd, s.Length, "data");
            return m with { Expect = Expect.Open }; // data bytes carry no structure
        }
        if (kind < 53 && s.Whole is not null)
        {
            byte[] extra = new byte[1 + r.Next(16)];
            r.NextBytes(extra);
            return new($"append {extra.Length} bytes", Expect.Fail, [], Replacement: [.. s.Whole, .. extra]);
        }
        return EditJson(r, s);
    }

    static Mutation FlipBits(Random r, Subject s, long from, long to, string where)
    {
        int flips = 1 + r.Next(4);
        var patches = new (long, byte[])[flips];
        var what = new StringBuilder($"flip {where} bits at");
        for (int i = 0; i < flips; i++)
        {
            long offset = from + r.NextInt64(to - from);
            byte original = offset < s.Prefix.Length ? s.Prefix[offset] : ReadByte(s.Path, offset);
            // Several flips may hit one byte: apply them to what the previous patch left.
            for (int j = 0; j < i; j++)
                if (patches[j].Item1 == offset) original = patches[j].Item2[0];
            int bit = r.Next(8);
            patches[i] = (offset, [(byte)(original ^ (1 << bit))]);
            what.Append($" {offset}.{bit}");
        }
        return new(what.ToString(), Expect.Either, patches);
    }

    static byte ReadByte(string path, long offset)
    {
        using var f = File.OpenRead(path);
        f.Position = offset;
        return (byte)f.ReadByte();
    }

    static Mutation LengthLie(Random r, Subject s)
    {
        long n = s.HeaderSize;
        ulong[] lies =
        [
            0, 1, 2, (ulong)n - 1, (ulong)n + 1, (ulong)n - 8, (ulong)n + 8, (ulong)s.Length, (ulong)s.Length - 8, (ulong)s.Length - 7,
            (100UL << 20) + 1, 100UL << 20, ulong.MaxValue, 1UL << 63, (ulong)r.NextInt64(s.Length), (ulong)r.NextInt64(),
        ];
        ulong lie = lies[r.Next(lies.Length)];
        if (lie == (ulong)n) lie++;
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, lie);
        return new($"header length {n} → {lie}", Expect.Fail, [(0, bytes)]);
    }

    static Mutation Truncate(Random r, Subject s)
    {
        if (s.Whole is not null)
        {
            int to = r.Next(2) == 0 ? r.Next(Math.Min(s.HeaderEnd + 16, s.Whole.Length)) : r.Next(s.Whole.Length);
            return new($"truncate to {to} of {s.Length}", Expect.Fail, [], Replacement: s.Whole[..to]);
        }
        if (r.Next(2) == 0)
        {
            int to = r.Next(s.HeaderEnd + 4096);
            return new($"truncate to {to} of {s.Length}", Expect.Fail, [], Replacement: s.Prefix[..to]);
        }
        long cut = 1 + r.Next(4096);
        return new($"cut the last {cut} bytes", Expect.Fail, [], TruncateTo: s.Length - cut);
    }

    static readonly string[] NumberReplacements =
    [
        "0", "1", "-1", "2", "7", "8", "-0", "1.5", "1e3", "4.0", "2147483647", "2147483648", "4294967296",
        "9223372036854775807", "9223372036854775808", "18446744073709551616", "99999999999999999999999", "-9223372036854775808",
    ];

    static readonly string[] StringReplacements =
    [
        "F32", "F16", "BF16", "F64", "I8", "U8", "BOOL", "I64", "F8_E4M3", "F33", "f32", "F4", "", "__metadata__",
        "dtype", "shape", "data_offsets", "format", "\\u0000", "\\uD800", "\\u0046\\u0033\\u0032",
    ];

    static readonly string[] EntryInsertions =
        ["\"dtype\":\"F32\",", "\"shape\":[1],", "\"data_offsets\":[0,4],", "\"x\":1,", "\"dtype\":null,"];

    static Mutation EditJson(Random r, Subject s)
    {
        string h = s.Header;
        List<Token> tokens = Tokenize(h);
        List<Token> numbers = tokens.Where(t => t.Kind == 'n').ToList(), strings = tokens.Where(t => t.Kind == 's').ToList();
        string edited, what;
        Expect expect = Expect.Either;
        int op = r.Next(9);
        if (op == 0 && numbers.Count > 0)
        {
            Token t = numbers[r.Next(numbers.Count)];
            long.TryParse(h.AsSpan(t.Start, t.Length), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v);
            string[] choices = [.. NumberReplacements, (v + 1).ToString(CultureInfo.InvariantCulture), (v - 1).ToString(CultureInfo.InvariantCulture),
                (v * 2).ToString(CultureInfo.InvariantCulture), (v + 8).ToString(CultureInfo.InvariantCulture)];
            string with = choices[r.Next(choices.Length)];
            edited = Splice(h, t.Start, t.Length, with);
            what = $"number {h.Substring(t.Start, t.Length)} at {t.Start} → {with}";
        }
        else if (op == 1 && strings.Count > 0)
        {
            Token t = strings[r.Next(strings.Count)];
            // Another string of the header (a name reused → duplicate, a name as dtype → unknown) or a chosen one.
            string with = r.Next(3) == 0 ? Inner(h, Pick(r, strings)) : StringReplacements[r.Next(StringReplacements.Length)];
            edited = Splice(h, t.Start + 1, t.Length - 2, with);
            what = $"string {h.Substring(t.Start, t.Length)} at {t.Start} → \"{with}\"";
        }
        else if (op == 2)
        {
            var entries = Entries(h);
            if (entries.Count == 0) return Insert(r, h, s);
            var e = entries[r.Next(entries.Count)];
            edited = h.Insert(1, h.Substring(e.Start, e.Length) + ",");
            what = $"duplicate member {h.Substring(e.Start, Math.Min(e.Length, 40))}…";
            expect = Expect.Fail;
        }
        else if (op == 3)
        {
            var entries = Entries(h);
            if (entries.Count < 2) return Insert(r, h, s);
            int a = r.Next(entries.Count), b = r.Next(entries.Count);
            if (a == b) b = (a + 1) % entries.Count;
            (int Start, int Length) first = entries[Math.Min(a, b)], second = entries[Math.Max(a, b)];
            edited = h[..first.Start] + h.Substring(second.Start, second.Length) + h[(first.Start + first.Length)..second.Start]
                + h.Substring(first.Start, first.Length) + h[(second.Start + second.Length)..];
            what = $"swap members {a} and {b}";
            expect = Expect.Open; // member order carries no meaning
        }
        else if (op == 4)
        {
            int[] entryStarts = AllIndexesOf(h, "{\"dtype\"");
            if (entryStarts.Length == 0) return Insert(r, h, s);
            int at = entryStarts[r.Next(entryStarts.Length)] + 1;
            string ins = EntryInsertions[r.Next(EntryInsertions.Length)];
            edited = h.Insert(at, ins);
            what = $"insert {ins} into the entry at {at}";
            expect = Expect.Fail; // a repeated or unknown key
        }
        else if (op == 5 && h.Length > 3)
        {
            int at = 1 + r.Next(h.Length - 2), count = 1 + r.Next(Math.Min(3, h.Length - 1 - at));
            edited = h.Remove(at, count);
            what = $"delete {count} chars '{h.Substring(at, count)}' at {at}";
        }
        else if (op == 6)
        {
            edited = h.Insert(1, "\"__metadata__\":{\"a\":\"b\"},");
            what = "insert a __metadata__ member";
            expect = h.Contains("\"__metadata__\"") ? Expect.Fail : Expect.Open;
        }
        else if (op == 7)
        {
            // Move a tensor's whole range: sizes stay consistent, so only the tiling rules can catch it.
            var ranges = System.Text.RegularExpressions.Regex.Matches(h, "\"data_offsets\":\\[(\\d+),(\\d+)\\]");
            if (ranges.Count == 0) return Insert(r, h, s);
            var match = ranges[r.Next(ranges.Count)];
            long begin = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), end = long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
            long delta = r.Next(2) == 0 ? 1 + r.Next(8) : -(1 + r.Next(8));
            if (r.Next(3) == 0) delta *= end - begin == 0 ? 1 : end - begin;
            edited = Splice(h, match.Index, match.Length, $"\"data_offsets\":[{begin + delta},{end + delta}]");
            what = $"move [{begin},{end}] by {delta}";
        }
        else
        {
            return Insert(r, h, s);
        }
        return Finish(s, edited, what, expect);
    }

    static Token Pick(Random r, List<Token> tokens) => tokens[r.Next(tokens.Count)];

    static string Inner(string h, Token t) => h.Substring(t.Start + 1, t.Length - 2);

    static Mutation Insert(Random r, string h, Subject s)
    {
        const string alphabet = "{}[],:\"0123456789-.eE aF\\";
        int at = 1 + r.Next(h.Length - 1);
        char c = alphabet[r.Next(alphabet.Length)];
        return Finish(s, h.Insert(at, c.ToString()), $"insert '{c}' at {at}", Expect.Either);
    }

    /// <summary>Edited header → patch in place when it fits in N (space padding, same data), else a rewritten file.</summary>
    static Mutation Finish(Subject s, string edited, string what, Expect expect)
    {
        byte[] header = Encoding.UTF8.GetBytes(edited);
        if (header.Length <= s.HeaderSize)
        {
            byte[] padded = new byte[s.HeaderSize];
            header.CopyTo(padded, 0);
            padded.AsSpan(header.Length).Fill((byte)' ');
            return new(what + " (in place)", expect, [(8, padded)]);
        }
        if (s.Whole is null)
        {
            // Too big to rewrite the 90 MB model per mutation: drop whole padding-free members' worth instead.
            return new(what + " (cut to fit)", Expect.Either, [(8, header[..s.HeaderSize])]);
        }
        int n = (header.Length + 7) & ~7;
        byte[] file = new byte[8 + n + (s.Whole.Length - s.HeaderEnd)];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)n);
        header.CopyTo(file, 8);
        file.AsSpan(8 + header.Length, n - header.Length).Fill((byte)' ');
        s.Whole.AsSpan(s.HeaderEnd).CopyTo(file.AsSpan(8 + n));
        return new(what + " (rewritten)", expect, [], Replacement: file);
    }

    static string Splice(string s, int start, int length, string with) => s[..start] + with + s[(start + length)..];

    static int[] AllIndexesOf(string h, string what)
    {
        var found = new List<int>();
        for (int i = h.IndexOf(what, StringComparison.Ordinal); i >= 0; i = h.IndexOf(what, i + 1, StringComparison.Ordinal)) found.Add(i);
        return found.ToArray();
    }

    readonly record struct Token(int Start, int Length, char Kind);

    /// <summary>Strings ('s', with quotes) and numbers ('n') of a valid JSON text, so edits never hit digits inside names.</summary>
    static List<Token> Tokenize(string h)
    {
        var tokens = new List<Token>();
        for (int i = 0; i < h.Length;)
        {
            char c = h[i];
            if (c == '"')
            {
                int j = i + 1;
                while (h[j] != '"') j += h[j] == '\\' ? 2 : 1;
                tokens.Add(new(i, j + 1 - i, 's'));
                i = j + 1;
            }
            else if (c == '-' || char.IsAsciiDigit(c))
            {
                int j = i + 1;
                while (j < h.Length && (char.IsAsciiDigit(h[j]) || h[j] is '.' or 'e' or 'E' or '+' or '-')) j++;
                tokens.Add(new(i, j - i, 'n'));
                i = j;
            }
            else
            {
                i++;
            }
        }
        return tokens;
    }

    /// <summary>Spans of the root object's members ("name":{...}), found by tracking depth outside strings.</summary>
    static List<(int Start, int Length)> Entries(string h)
    {
        var entries = new List<(int, int)>();
        int depth = 0, start = -1;
        for (int i = 0; i < h.Length; i++)
        {
            char c = h[i];
            if (c == '"')
            {
                if (depth == 1 && start < 0) start = i;
                i++;
                while (h[i] != '"') i += h[i] == '\\' ? 2 : 1;
            }
            else if (c is '{' or '[') depth++;
            else if (c is '}' or ']')
            {
                depth--;
                if (depth == 1 && start >= 0)
                {
                    entries.Add((start, i + 1 - start));
                    start = -1;
                }
            }
        }
        return entries;
    }

    static (byte[][] Saved, byte[]? Tail) Apply(Subject s, Mutation m)
    {
        using var f = new FileStream(s.Path, FileMode.Open, FileAccess.ReadWrite);
        var saved = new byte[m.Patches.Length][];
        for (int i = 0; i < m.Patches.Length; i++)
        {
            var (offset, bytes) = m.Patches[i];
            saved[i] = new byte[bytes.Length];
            f.Position = offset;
            f.ReadExactly(saved[i]);
            f.Position = offset;
            f.Write(bytes);
        }
        byte[]? tail = null;
        if (m.TruncateTo is long to)
        {
            tail = new byte[s.Length - to];
            f.Position = to;
            f.ReadExactly(tail);
            f.SetLength(to);
        }
        return (saved, tail);
    }

    static void Restore(Subject s, Mutation m, byte[][] saved, byte[]? tail)
    {
        using var f = new FileStream(s.Path, FileMode.Open, FileAccess.ReadWrite);
        if (tail is not null)
        {
            f.Position = s.Length - tail.Length;
            f.Write(tail);
        }
        for (int i = m.Patches.Length - 1; i >= 0; i--)
        {
            f.Position = m.Patches[i].Offset;
            f.Write(saved[i]);
        }
    }

    sealed class Stats
    {
        int _opened, _rejected;
        readonly SortedDictionary<string, int> _rules = [];

        public void Count(Exception? thrown, Mutation m, string what)
        {
            if (thrown is null)
            {
                Assert.True(m.Expect != Expect.Fail, $"mutation should have been rejected but opened: {what}");
                _opened++;
                return;
            }
            if (thrown is not SafetensorsException e)
            {
                Assert.Fail($"{thrown.GetType().Name} escaped (only SafetensorsException may): {what}\n{thrown}");
                return;
            }
            Assert.True(m.Expect != Expect.Open, $"mutation should have opened but failed: {what}\n{e.Message}");
            _rejected++;
            string key = e is SafetensorsFormatException f ? f.Rule.ToString() : "other";
            _rules[key] = _rules.GetValueOrDefault(key) + 1;
        }

        /// <summary>Floors that keep the fuzzer honest: it must reach both outcomes and many different rules.</summary>
        public void Report(ITestOutputHelper output, int minOpened, int minRejected, int minRules)
        {
            output.WriteLine($"opened {_opened}, rejected {_rejected}: {string.Join(", ", _rules.Select(kv => $"{kv.Key} {kv.Value}"))}");
            Assert.True(_opened >= minOpened, $"only {_opened} mutated files opened");
            Assert.True(_rejected >= minRejected, $"only {_rejected} mutated files were rejected");
            Assert.True(_rules.Count >= minRules, $"only {_rules.Count} rules were hit: {string.Join(", ", _rules.Keys)}");
        }
    }
}
