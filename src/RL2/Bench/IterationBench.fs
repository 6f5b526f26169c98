/// Seconds per policy iteration, phase by phase, on fixed seeded workloads (issue #9's yardstick):
/// the trainer's own rollout, credit assignment, PPO update and checkpoint, timed one after another.
module RL2.Bench.IterationBench

open System.Diagnostics
open System.IO
open TorchSharp
open RL2
open RL2.Envs
open RL2.Nn
open RL2.Rl
open RL2.Train
open RL2.Dist

type Workload =
    { Name: string
      Task: TaskDistribution
      Architecture: Architecture
      NumFeatures: int }

/// GRU 256, LSTM 256, SNAIL 32 and the 9-layer Transformer 256 on bandits (n = 100, k = 5) and
/// tabular MDPs (n = 10: ten episodes of ten steps), the reference's measured configurations.
let workloads (architectures: Architecture list) =
    [ for envName, task in [ "bandit-n100-k5", Bandit.distribution 5; "mdp-n10", TabularMdp.distribution 10 5 10 ] do
          for arch in architectures do
              let features = if arch.Name = "snail" then 32 else 256
              { Name = $"{envName}-{arch.Name}{features}"
                Task = task
                Architecture = arch
                NumFeatures = features } ]

type Result =
    { Workload: string
      MetaEpisodes: int
      MetaEpisodeLen: int
      Epochs: int
      MeasuredIterations: int
      IterationSeconds: float
      RolloutSeconds: float
      CreditSeconds: float
      UpdateSeconds: float
      CheckpointSeconds: float
      RolloutStepsPerSecond: float
      UpdateSamplesPerSecond: float
      /// Multiply-adds × 2 of both networks' weight matrices per timestep (attention scores and
      /// element-wise work not counted, so a lower bound for attentive architectures).
      ForwardFlopsPerStep: float
      RolloutGflopPerSecond: float
      UpdateGflopPerSecond: float
      /// Policy and value networks updated at once on two threads (`Trainer.Settings.ConcurrentNetworks`).
      ConcurrentNetworks: bool
      /// The same run's 1024² float32 matmul rate on the threads the update used: its ceiling.
      MatmulGflopPerSecond: float
      UpdateEfficiency: float
      PeakRssMb: float
      /// Resident memory after each iteration, warm-up included: flat once the allocator has warmed.
      RssMbByIteration: float[] }

/// The matmul ceilings an update is measured against, GFLOP/s of 1024 × 1024 float32 matmuls.
type MatmulPeak =
    { /// One thread.
      One: float
      /// Two threads at once, each its own matmuls, summed: the ceiling of an update that runs the
      /// policy and value networks concurrently.
      Two: float }

/// Both ceilings, each the best of a few timed batches.
let matmulPeak () =
    let stream () =
        use _ = torch.no_grad ()
        use a = torch.randn(1024L, 1024L)
        use b = torch.randn(1024L, 1024L)
        let batch () =
            let clock = Stopwatch.StartNew()
            for _ in 1..10 do
                use c = a.matmul b
                ()
            2.0 * 1024.0 ** 3.0 * 10.0 / clock.Elapsed.TotalSeconds / 1e9
        batch () |> ignore
        List.init 5 (fun _ -> batch ())
    let one = stream () |> List.max
    let a, b = concurrently stream stream
    { One = one; Two = List.map2 (+) a b |> List.max }

let private statusMb (field: string) =
    File.ReadAllLines "/proc/self/status"
    |> Array.tryFind _.StartsWith(field + ":")
    |> Option.map (fun l -> float (l.Split([| ' '; '\t' |], System.StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0)
    |> Option.defaultValue nan

/// Peak resident set of this process since it started or since the last `resetPeakRss` (VmHWM), in MB.
let peakRssMb () = statusMb "VmHWM"

/// Lowers the peak resident set to the current one (Linux's clear_refs 5), so that each workload of
/// one process reports its own peak rather than the largest of those before it.
let resetPeakRss () =
    try File.WriteAllText("/proc/self/clear_refs", "5") with :? IOException | :? System.UnauthorizedAccessException -> ()

/// Resident set of this process now (VmRSS), in MB.
let rssMb () = statusMb "VmRSS"

let private weightFlops (net: Layer) =
    net.Params.parameters () |> Seq.filter (fun p -> p.dim () >= 2L) |> Seq.sumBy (fun p -> 2.0 * float (p.numel ()))

let private time (f: unit -> 'a) =
    let clock = Stopwatch.StartNew()
    let r = f ()
    r, clock.Elapsed.TotalSeconds

/// Runs `warmup + iterations` policy iterations of the reference's settings with `metaEpisodes`
/// meta-episodes of 100 steps per iteration, checkpointing into a scratch directory, and averages
/// the phases over the measured iterations.
let measure (w: Workload) (concurrent: bool) (metaEpisodes: int) (warmup: int) (iterations: int) (peak: MatmulPeak) =
    Memory.configure () |> ignore
    // The workloads before this one in the process leave their freed memory in the heap. Measured after
    // the Transformer's 8.5 GB: GRU 256's peak 8 525 MB with only the reset, 2 870 MB with the trim, 650 alone.
    Memory.release ()
    resetPeakRss ()
    let s =
        { Trainer.reference w.Task w.Architecture with
            NumFeatures = w.NumFeatures
            MetaEpisodesPerIteration = metaEpisodes
            ConcurrentNetworks = concurrent }
    let matmulGflops = if concurrent then peak.Two else peak.One
    let learner = Trainer.createLearner s
    let gen = Trainer.generator s.Seed 1
    let scratch = Directory.CreateTempSubdirectory("rl2-bench-")
    let phases =
        try
            [ for i in 1 .. warmup + iterations ->
                  let played = Trainer.iterate Communicator.single s gen learner i
                  let state: Checkpoint.TrainerState = { Iteration = i; EnvSteps = 0L; Seconds = 0.0; Returns = [||]; Generators = [||] }
                  let _, tCheckpoint = time (fun () -> Checkpoint.save scratch.FullName (Trainer.checkpointed learner) state)
                  [| played.RolloutSeconds; played.CreditSeconds; played.UpdateSeconds; tCheckpoint; rssMb () |] ]
        finally
            scratch.Delete true
    let rss = phases |> List.map (fun p -> p[4]) |> List.toArray
    let phases = phases |> List.skip warmup
    let mean k = phases |> List.averageBy (fun p -> p[k])
    let rollout, creditT, updateT, checkpointT = mean 0, mean 1, mean 2, mean 3
    let steps = float (metaEpisodes * s.MetaEpisodeLen)
    let forward = weightFlops learner.Policy + weightFlops learner.Value
    // Forward plus backward is three forwards' worth of matmul work, once per epoch.
    let updateFlops = 3.0 * forward * steps * float s.Epochs
    let updateRate = updateFlops / updateT / 1e9
    { Workload = w.Name
      MetaEpisodes = metaEpisodes
      MetaEpisodeLen = s.MetaEpisodeLen
      Epochs = s.Epochs
      MeasuredIterations = iterations
      IterationSeconds = rollout + creditT + updateT + checkpointT
      RolloutSeconds = rollout
      CreditSeconds = creditT
      UpdateSeconds = updateT
      CheckpointSeconds = checkpointT
      RolloutStepsPerSecond = steps / rollout
      UpdateSamplesPerSecond = steps * float s.Epochs / updateT
      ForwardFlopsPerStep = forward
      RolloutGflopPerSecond = forward * steps / rollout / 1e9
      UpdateGflopPerSecond = updateRate
      ConcurrentNetworks = concurrent
      MatmulGflopPerSecond = matmulGflops
      UpdateEfficiency = updateRate / matmulGflops
      PeakRssMb = peakRssMb ()
      RssMbByIteration = rss }

let private json = System.Text.Json.JsonSerializerOptions(PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower, WriteIndented = true)

let toJson (results: Result list) = System.Text.Json.JsonSerializer.Serialize(results, json)

/// The results as a Markdown table, seconds per iteration and its phases first.
let toMarkdown (peak: MatmulPeak) (results: Result list) =
    let header =
        "| workload | networks updated | iteration s | rollout s | credit s | update s | checkpoint s | rollout steps/s | update samples/s | update GFLOP/s | of matmul peak | peak RSS MB |\n"
        + "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    let row (r: Result) =
        let networks = if r.ConcurrentNetworks then "at once" else "in turn"
        $"| {r.Workload} | {networks} | {r.IterationSeconds:F3} | {r.RolloutSeconds:F3} | {r.CreditSeconds:F4} | {r.UpdateSeconds:F3} | {r.CheckpointSeconds:F3} | "
        + $"{r.RolloutStepsPerSecond:F0} | {r.UpdateSamplesPerSecond:F0} | {r.UpdateGflopPerSecond:F1} | {100.0 * r.UpdateEfficiency:F0}%% | {r.PeakRssMb:F0} |"
    let ceilings =
        $"\n\nMatmul peak (1024² float32) in this run: {peak.One:F1} GFLOP/s on one thread, {peak.Two:F1} on two at once; "
        + "\"of matmul peak\" is against the one the update used (two when the networks are updated at once). "
        + "Peak RSS is the process's from the start of the workload, after the heap was trimmed: memory the allocator "
        + "still holds from an earlier, larger workload counts too (`--workloads <name>` alone measures one by itself)."
    header + "\n" + (results |> List.map row |> String.concat "\n") + ceilings + "\n"
