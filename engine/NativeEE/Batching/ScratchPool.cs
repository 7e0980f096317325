namespace NativeEE.Batching;

/// <summary>
/// Lends <see cref="InferenceScratch"/> to concurrent calls without locks: a fixed array of slots, taken and
/// returned with interlocked exchanges. It keeps as many scratches as calls ever ran at once (up to the slot
/// count); a call beyond that borrows a fresh one that is dropped afterwards.
/// </summary>
internal sealed class ScratchPool(Func<InferenceScratch> create, int slots)
{
    readonly InferenceScratch?[] _slots = new InferenceScratch?[slots];

    public InferenceScratch Rent()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            var s = Interlocked.Exchange(ref _slots[i], null);
            if (s is not null) return s;
        }
        return create();
    }

    public void Return(InferenceScratch scratch)
    {
        for (int i = 0; i < _slots.Length; i++)
            if (Interlocked.CompareExchange(ref _slots[i], scratch, null) is null) return;
    }
}
