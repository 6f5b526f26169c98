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

/// The thread that runs the second half of `concurrently`: always the same one, so that its libtorch
/// allocations always come from the same malloc arena (spread over pool threads, they went to several,
/// each keeping its own peak). Work given to it must not itself call `concurrently`.
let private second =
    lazy
        (let queue = new System.Collections.Concurrent.BlockingCollection<unit -> unit>()
         let run () =
             for work in queue.GetConsumingEnumerable() do
                 work ()
         System.Threading.Thread(run, IsBackground = true, Name = "rl2-second").Start()
         queue)

/// `f ()` on this thread and `g scope` on the second thread at once, both results. libtorch's grad mode
/// and TorchSharp's dispose scopes are per thread: `g` runs in this thread's grad mode and in a scope of
/// its own that frees its tensors on return. Waits for `g` even if `f` fails; an exception of either
/// is rethrown as raised.
let private fork (f: unit -> 'a) (g: TorchSharp.DisposeScope -> 'b) =
    let gradMode = TorchSharp.torch.is_grad_enabled ()
    let result = System.Threading.Tasks.TaskCompletionSource<'b>(System.Threading.Tasks.TaskCreationOptions.RunContinuationsAsynchronously)
    let work () =
        try
            let b =
                use _ = TorchSharp.torch.set_grad_enabled gradMode
                use scope = TorchSharp.torch.NewDisposeScope()
                g scope
            result.SetResult b
        with e ->
            result.SetException e
    second.Value.Add work
    let other = result.Task
    let a =
        try
            f ()
        with _ ->
            (try other.Wait() with _ -> ())
            reraise ()
    a, other.GetAwaiter().GetResult()

/// `f ()` and `g ()` at once, `g` on the second thread, whose tensors are freed when it returns: it should
/// return plain values.
let concurrently (f: unit -> 'a) (g: unit -> 'b) = fork f (fun _ -> g ())

/// `f ()` and `g ()` at once, `g` on the second thread; the tensors `keep` picks from g's result move into
/// `into`, a dispose scope of this thread, the rest of g's tensors are freed.
let concurrentlyInto (into: TorchSharp.DisposeScope) (keep: 'b -> Tensor seq) (f: unit -> 'a) (g: unit -> 'b) =
    let a, (b, kept) =
        fork f (fun scope ->
            let b = g ()
            let kept = keep b |> Seq.cast<System.IDisposable> |> Seq.toArray
            scope.Detach kept
            b, kept)
    into.Attach kept
    a, b
