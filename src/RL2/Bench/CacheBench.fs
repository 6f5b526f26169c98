/// Step mode with caches against recomputing the whole prefix at every step: the rollout cost of
/// attentive architectures.
module RL2.Bench.CacheBench

open System.Diagnostics
open TorchSharp
open RL2
open RL2.Nn

type Result =
    { Architecture: string
      ContextSize: int
      Batch: int
      CachedStepsPerSecond: float
      RecomputedStepsPerSecond: float }

let private timed (f: unit -> unit) =
    f () // warm-up
    let clock = Stopwatch.StartNew()
    f ()
    clock.Elapsed.TotalSeconds

/// Meta-episode steps per second (B × T per pass) for one architecture's core.
let measure (gen: Generator) (arch: Architecture) (spec: ArchitectureSpec) (batch: int) =
    use _ = torch.no_grad ()
    let core = arch.Build gen spec
    let t = spec.ContextSize
    use x = torch.randn([| int64 batch; int64 t; int64 spec.InputWidth |], generator = gen)
    let cached () =
        let mutable s = core.Initial batch
        let step = core.Stepper ()
        for i in 0 .. t - 1 do
            use scope = torch.NewDisposeScope()
            let _, s' = step (x.select(1L, int64 i)) s
            scope.MoveToOuter(Seq.cast<System.IDisposable> s') |> ignore
            for old in s do old.Dispose()
            s <- s'
        for old in s do old.Dispose()
    let recomputed () =
        for i in 1 .. t do
            use scope = torch.NewDisposeScope()
            core.Sequence(x.narrow(1L, 0L, int64 i)).select(1L, int64 i - 1L) |> ignore
    let steps = float (batch * t)
    { Architecture = arch.Name
      ContextSize = t
      Batch = batch
      CachedStepsPerSecond = steps / timed cached
      RecomputedStepsPerSecond = steps / timed recomputed }
