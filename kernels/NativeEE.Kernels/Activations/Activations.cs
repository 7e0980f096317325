namespace NativeEE.Kernels;

/// <summary>
/// Element-wise activations and vector arithmetic. Each operation is an operator struct
/// (<see cref="IUnaryOperator"/>/<see cref="IBinaryOperator"/>) run by the shared drivers in
/// <see cref="Elementwise"/> at <see cref="Isa.Active"/>; the internal overloads taking an
/// <see cref="IsaPath"/> let tests run every width on every machine.
/// </summary>
public static partial class Activations
{
}
