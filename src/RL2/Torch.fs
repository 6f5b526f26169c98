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

/// `f ()` on this thread and `g ()` on a pool thread at once, both results. libtorch's grad mode and
/// TorchSharp's dispose scopes are per thread: `g` runs in this thread's grad mode and in a scope of its
/// own that frees its tensors on return, so it should return plain values. Waits for `g` even if `f`
/// fails; an exception of either is rethrown as raised.
let concurrently (f: unit -> 'a) (g: unit -> 'b) =
    let gradMode = TorchSharp.torch.is_grad_enabled ()
    let other =
        System.Threading.Tasks.Task.Run(fun () ->
            use _ = TorchSharp.torch.set_grad_enabled gradMode
            use _ = TorchSharp.torch.NewDisposeScope()
            g ())
    let a =
        try
            f ()
        with _ ->
            (try other.Wait() with _ -> ())
            reraise ()
    a, other.GetAwaiter().GetResult()
