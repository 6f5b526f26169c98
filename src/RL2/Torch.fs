/// Short names for the TorchSharp types used everywhere (opening `torch` itself would shadow
/// F#'s `int64`, `float32`… with dtype values).
[<AutoOpen>]
module RL2.TorchTypes

type Tensor = TorchSharp.torch.Tensor
type Generator = TorchSharp.torch.Generator
type ScalarType = TorchSharp.torch.ScalarType

/// Runs `f` in a dispose scope that frees every intermediate tensor and keeps only the result.
let scoped (f: unit -> Tensor) =
    use scope = TorchSharp.torch.NewDisposeScope()
    scope.MoveToOuter(f ())

/// `scoped` for a pair of results.
let scoped2 (f: unit -> Tensor * Tensor) =
    use scope = TorchSharp.torch.NewDisposeScope()
    let a, b = f ()
    scope.MoveToOuter(a), scope.MoveToOuter(b)
