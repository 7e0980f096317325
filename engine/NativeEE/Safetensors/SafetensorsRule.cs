namespace NativeEE.Safetensors;

/// <summary>The rules a safetensors file (and a sharded model's index) must follow.</summary>
public enum SafetensorsRule
{
    /// <summary>The file is shorter than the 8-byte header length.</summary>
    FileTooShort,
    /// <summary>Header length N exceeds 100 MiB.</summary>
    HeaderTooLarge,
    /// <summary>8 + N exceeds the file size.</summary>
    HeaderBeyondFile,
    /// <summary>The header bytes are not valid UTF-8.</summary>
    HeaderNotUtf8,
    /// <summary>The header does not start with '{', so its root is not a JSON object (the reference implementation checks the same byte).</summary>
    HeaderStart,
    /// <summary>The header is not valid JSON (or has content other than whitespace after the object).</summary>
    HeaderNotJson,
    /// <summary>The same tensor name (or <c>__metadata__</c>) appears twice.</summary>
    DuplicateName,
    /// <summary>A tensor entry is not an object with exactly dtype, shape and data_offsets.</summary>
    EntryStructure,
    /// <summary>dtype is not a string naming a known type.</summary>
    DTypeUnknown,
    /// <summary>shape is not an array of integers ≥ 0 that fit in an int.</summary>
    ShapeInvalid,
    /// <summary>data_offsets is not an array of two integers with 0 ≤ begin ≤ end.</summary>
    OffsetsInvalid,
    /// <summary>element count × dtype size overflows.</summary>
    SizeOverflow,
    /// <summary>element count × dtype size differs from end − begin.</summary>
    SizeMismatch,
    /// <summary>end exceeds the data block.</summary>
    OffsetsBeyondData,
    /// <summary>Two tensors share bytes.</summary>
    Overlap,
    /// <summary>Bytes of the data block belong to no tensor, between tensors or at its start.</summary>
    Gap,
    /// <summary>Bytes after the last tensor.</summary>
    TrailingBytes,
    /// <summary><c>__metadata__</c> is not an object of string → string.</summary>
    MetadataInvalid,
    /// <summary>A shard index is malformed (not JSON, missing weight_map, non-string entries, …).</summary>
    IndexInvalid,
    /// <summary>A shard path in an index is absolute, contains "..", or resolves outside the model folder.</summary>
    ShardPathEscape,
    /// <summary>An index maps a tensor to a shard that does not hold it.</summary>
    ShardMissingTensor,
    /// <summary>A shard holds a tensor that the index does not map to it (unlisted, or listed in another shard).</summary>
    ShardUnmappedTensor,
}
