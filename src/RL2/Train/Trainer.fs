/// The RL² training loop: collect meta-episodes, GAE, PPO epochs over minibatches of whole
/// meta-episodes, checkpoint. I/O and processes come in as arguments (run directory, communicator,
/// progress callback). With several processes (SPEC §6) each collects its own meta-episodes from its
/// own generator stream, gradients are averaged before every optimiser step, and statistics are global;
/// process 0 alone reads and writes the run directory.
module RL2.Train.Trainer

open System
open System.Diagnostics
open System.IO
open TorchSharp
open RL2
open RL2.Envs
open RL2.Nn
open RL2.Rl
open RL2.Dist

/// What the value net regresses on once the advantages are standardised; without standardisation both are V + A.
type ValueTargets =
    /// V + standardised A, as SPEC §4 and the reference: the targets move by the advantages' unit scale.
    | StandardisedAdvantage
    /// V + A before standardisation, the λ-return: the value net keeps tracking the returns.
    | LambdaReturn

type Settings =
    { Task: TaskDistribution
      Architecture: Architecture
      NumFeatures: int
      MetaEpisodeLen: int
      /// Meta-episodes collected per iteration by this process.
      MetaEpisodesPerIteration: int
      MinibatchSize: int
      /// The learner's forward and backward passes take at most this many meta-episodes of a minibatch at
      /// a time and accumulate its gradient: the same gradient, with activations that stay in cache.
      PassSize: int
      Epochs: int
      Ppo: Ppo.Hyper
      Gamma: float32
      Lambda: float32
      StandardizeAdvantages: bool
      ValueTargets: ValueTargets
      LearningRate: float
      /// None keeps the learning rate constant, as SPEC §5 does; Some a anneals it linearly after iteration a
      /// (see `learningRate`), the usual PPO schedule, for runs whose return levels off while the steps stay noisy.
      AnnealFrom: int option
      AdamEps: float
      WeightDecay: float
      MaxIterations: int
      Seed: int64
      /// Run the policy and value networks at once on two threads, in the rollout's steps and in the
      /// update's forward and backward passes: the networks share nothing, so the result is the same.
      ConcurrentNetworks: bool
      /// Checkpoints and metrics go here; None trains in memory only.
      RunDir: string option }

/// Meta-episodes per forward and backward pass by default: about 6 000 steps' activations, the most that
/// ran at full speed here (minibatches of 480 meta-episodes of 100 steps updated 1.7 times faster in
/// passes of 60 or 120 than in one pass; of 10 steps, as fast in one pass as in passes of 60).
let passSize (metaEpisodeLen: int) = max 1 (6000 / max 1 metaEpisodeLen)

/// The reference's defaults (SPEC §5) for a task distribution and architecture, on one process:
/// 256 features, meta-episodes of 100 steps, 240 000 steps per iteration, AdamW 2e-4, seed 0.
let reference (task: TaskDistribution) (architecture: Architecture) =
    { Task = task
      Architecture = architecture
      NumFeatures = 256
      MetaEpisodeLen = 100
      MetaEpisodesPerIteration = 240000 / 100
      MinibatchSize = 60
      PassSize = passSize 100
      Epochs = 8
      Ppo = { ClipParam = 0.1f; EntropyCoef = 0.01f }
      Gamma = 0.99f
      Lambda = 0.3f
      StandardizeAdvantages = false
      ValueTargets = StandardisedAdvantage
      LearningRate = 2e-4
      AnnealFrom = None
      AdamEps = 1e-5
      WeightDecay = 0.01
      MaxIterations = 12000
      Seed = 0L
      ConcurrentNetworks = true
      RunDir = None }

/// The learning rate of iteration `i` (from 1): `LearningRate` up to iteration `AnnealFrom`, then falling
/// linearly so that each later iteration takes an equal step down, to LearningRate / (MaxIterations − AnnealFrom)
/// at the last: no iteration is run at rate 0.
let learningRate (s: Settings) (i: int) =
    match s.AnnealFrom with
    | Some a when i > a && s.MaxIterations > a -> s.LearningRate * float (max 1 (s.MaxIterations - i + 1)) / float (s.MaxIterations - a)
    | _ -> s.LearningRate

/// Mean meta-episode return is taken over this many most recent meta-episodes (SPEC §6).
let returnWindow = 1000

/// Independent generator streams derived from one seed: 0 initialises weights, 1 + rank drives experience.
let generator (seed: int64) (stream: int) =
    new Generator(uint64 (seed * 1_000_003L + int64 stream))

/// AdamW with weight decay on parameters of rank ≥ 2 only (none on biases and layer-norm gains).
let optimizer (s: Settings) (net: torch.nn.Module) =
    let ps = net.parameters () |> Seq.toArray
    let group decay (sel: Modules.Parameter[]) =
        Modules.AdamW.ParamGroup(sel, s.LearningRate, 0.9, 0.999, s.AdamEps, decay, false, false)
    let decayed, plain = ps |> Array.partition (fun p -> p.dim () >= 2L)
    torch.optim.AdamW([ group s.WeightDecay decayed; group 0.0 plain ], s.LearningRate, 0.9, 0.999, s.AdamEps, s.WeightDecay)

type Learner =
    { Policy: Layer
      Value: Layer
      PolicyOptimizer: Modules.AdamW
      ValueOptimizer: Modules.AdamW }

let createLearner (s: Settings) =
    let gen = generator s.Seed 0
    let spec =
        { InputWidth = TaskDistribution.inputWidth s.Task
          NumFeatures = s.NumFeatures
          ContextSize = s.MetaEpisodeLen }
    let policy = Agent.policy gen s.Architecture spec s.Task.NumActions
    let value = Agent.value gen s.Architecture spec
    { Policy = policy
      Value = value
      PolicyOptimizer = optimizer s policy.Params
      ValueOptimizer = optimizer s value.Params }

/// The learner as the checkpoint files hold it.
let checkpointed (l: Learner) : Checkpoint.Learner =
    { Policy = l.Policy.Params
      PolicyOptimizer = l.PolicyOptimizer
      Value = l.Value.Params
      ValueOptimizer = l.ValueOptimizer }

/// The learner of a run's newest intact checkpoint, ready to act (None if the run has none).
let restore (s: Settings) (run: string) =
    let learner = createLearner s
    Checkpoint.tryLoadLatest run ignore (checkpointed learner) |> Option.map (fun _ -> learner)

type UpdateStats =
    { PolicyLoss: float
      ValueLoss: float
      Entropy: float
      ClipFrac: float }

/// A loss or gradient that is NaN or infinite: training stops before the iteration is checkpointed.
exception NonFinite of quantity: string

let private ensureFinite (quantity: string) (value: float32) =
    if not (Single.IsFinite value) then raise (NonFinite quantity)

/// Adds `weight` × the gradients of a pass's loss to the network's; returns the loss.
let private accumulate (name: string) (weight: float) (loss: Tensor) =
    let value = loss.item<float32> ()
    ensureFinite $"{name} loss" value
    use w = (float32 weight).ToScalar()
    use weighted = loss.mul w
    weighted.backward ()
    float value

/// Consecutive pieces of at most `size` rows of `t` (the last may be smaller).
let private chunks (size: int) (t: Tensor) =
    let m = t.shape[0]
    [ for start in 0L .. int64 size .. m - 1L -> t.narrow(0L, start, min (int64 size) (m - start)) ]

/// A minibatch's indices [M] cut into passes of at most `size`, each with its share of the minibatch:
/// every meta-episode has the same length, so the minibatch's mean loss is the shares' weighted sum of
/// the passes' mean losses, and so is its gradient.
let passes (size: int) (idx: Tensor) =
    let m = float idx.shape[0]
    chunks size idx |> List.map (fun c -> c, float c.shape[0] / m)

/// One network's gradient of its mean loss over a minibatch, zeroed first and accumulated pass by pass,
/// each pass's graph freed before the next; returns the minibatch's loss and statistics (the passes'
/// share-weighted sums).
let private minibatchGradient (name: string) (opt: Modules.AdamW) (cuts: (Tensor * float) list) (pass: Tensor -> Tensor * Tensor list) =
    opt.zero_grad ()
    let perPass =
        [ for idx, share in cuts do
              use _ = torch.NewDisposeScope()
              let loss, stats = pass idx
              yield share * accumulate name share loss, stats |> List.map (fun t -> share * float (t.item<float32> ())) ]
    List.sumBy fst perPass, perPass |> List.map snd |> List.transpose |> List.map List.sum

/// One optimiser step of one network on its gradients, averaged over processes first.
let private step (comm: Communicator) (name: string) (net: Layer) (opt: Modules.AdamW) =
    Communicator.averageGradients comm (net.Params.parameters ())
    let norms = net.Params.parameters () |> Seq.choose (fun p -> Option.ofObj p.grad) |> Seq.map (fun g -> g.norm()) |> Seq.toArray
    use total = torch.stack(norms).sum()
    ensureFinite $"{name} gradient" (total.item<float32> ())
    opt.step () |> ignore

/// An iteration's credit assignment: advantages and value targets [B; T], which the caller disposes, and
/// the advantages' global mean before any standardisation. That mean is positive while the value net
/// underestimates the returns, which makes updates on sampled actions committal.
type Credit =
    { Advantages: Tensor
      Targets: Tensor
      RawMean: float }

/// Credit assignment (SPEC §4–5), standardised with the global moments if the settings ask.
let credit (comm: Communicator) (s: Settings) (rollout: Rollout.Rollout) =
    let a, r = Gae.advantages s.Gamma s.Lambda rollout.Rewards rollout.Values
    let moment (t: Tensor) = using t _.item<float32>()
    let stats = Communicator.mean comm [| moment (a.mean()); if s.StandardizeAdvantages then moment (a.var(unbiased = false)) |]
    if s.StandardizeAdvantages then
        let standardised, reset = Gae.standardise stats[0] stats[1] a rollout.Values
        let targets, unused =
            match s.ValueTargets with
            | StandardisedAdvantage -> reset, r
            | LambdaReturn -> r, reset
        for t in [ a; unused ] do t.Dispose()
        { Advantages = standardised; Targets = targets; RawMean = float stats[0] }
    else
        { Advantages = a; Targets = r; RawMean = float stats[0] }

/// PPO epochs over one iteration's meta-episodes (SPEC §5) with their advantages and value targets;
/// returns the statistics' means over all minibatches of all processes (every process takes the same
/// number of minibatches).
let update (comm: Communicator) (s: Settings) (gen: Generator) (l: Learner) (rollout: Rollout.Rollout) (c: Credit) =
    use _ = torch.enable_grad ()
    // Everything made here is freed on return; parameters and optimiser state live outside.
    use _ = torch.NewDisposeScope()
    let inputs = Rollout.inputs s.Task rollout
    let count = int64 rollout.Actions.shape[0]
    let mutable total = { PolicyLoss = 0.0; ValueLoss = 0.0; Entropy = 0.0; ClipFrac = 0.0 }
    let mutable batches = 0
    use collections = new Memory.CollectionHold(s.ConcurrentNetworks)
    for _ in 1 .. s.Epochs do
        use perm = torch.randperm(count, generator = gen)
        for minibatch in chunks s.MinibatchSize perm do
            collections.Renew()
            use scope = torch.NewDisposeScope()
            let cuts = passes s.PassSize minibatch
            // Plain numbers out of each network's passes: the networks share nothing, and tensors stay on their thread.
            let policyPass () =
                minibatchGradient "policy" l.PolicyOptimizer cuts (fun idx ->
                    let pick (t: Tensor) = t.index_select(0L, idx)
                    let p = Ppo.policyLoss s.Ppo (l.Policy.Sequence(pick inputs)) (pick rollout.Actions) (pick rollout.LogProbs) (pick c.Advantages)
                    p.Loss, [ p.Entropy; p.ClipFrac ])
            let valuePass () =
                minibatchGradient "value" l.ValueOptimizer cuts (fun idx ->
                    let pick (t: Tensor) = t.index_select(0L, idx)
                    Ppo.valueLoss ((l.Value.Sequence(pick inputs)).squeeze -1L) (pick c.Targets), [])
                |> fst
            let (policyLoss, stats), valueLoss =
                if s.ConcurrentNetworks then
                    concurrently policyPass valuePass
                else
                    policyPass (), valuePass ()
            // Steps on this thread: the MPI binding is called from one thread only.
            step comm "policy" l.Policy l.PolicyOptimizer
            step comm "value" l.Value l.ValueOptimizer
            total <-
                { PolicyLoss = total.PolicyLoss + policyLoss
                  ValueLoss = total.ValueLoss + valueLoss
                  Entropy = total.Entropy + stats[0]
                  ClipFrac = total.ClipFrac + stats[1] }
            batches <- batches + 1
    let n = float (max 1 batches)
    let means =
        Communicator.mean comm ([| total.PolicyLoss; total.ValueLoss; total.Entropy; total.ClipFrac |] |> Array.map (fun x -> float32 (x / n)))
        |> Array.map float
    { PolicyLoss = means[0]
      ValueLoss = means[1]
      Entropy = means[2]
      ClipFrac = means[3] }

/// Why training stopped early: the iteration that failed and the non-finite quantity.
exception TrainingDiverged of iteration: int * quantity: string

/// One policy iteration's outcome on this process, with the seconds of its phases.
type Played =
    { /// This process's undiscounted meta-episode returns.
      Returns: float32[]
      Stats: UpdateStats
      /// The advantages' global mean before any standardisation.
      AdvantageMean: float
      RolloutSeconds: float
      CreditSeconds: float
      UpdateSeconds: float }

/// One policy iteration, number `iteration` (for messages): collect meta-episodes, assign credit, run
/// the PPO epochs. Raises TrainingDiverged on a non-finite policy output, reward, loss or gradient.
let iterate (comm: Communicator) (s: Settings) (gen: Generator) (learner: Learner) (iteration: int) =
    let clock = Stopwatch.StartNew()
    let lap () =
        let t = clock.Elapsed.TotalSeconds
        clock.Restart()
        t
    let rollout =
        try
            Rollout.collectWith s.ConcurrentNetworks gen s.Task learner.Policy learner.Value s.MetaEpisodesPerIteration s.MetaEpisodeLen
        // libtorch refuses to sample from NaN or infinite action probabilities; other errors are not divergence.
        with :? Runtime.InteropServices.ExternalException as e when e.Message.Contains("nan", StringComparison.OrdinalIgnoreCase) ->
            raise (TrainingDiverged(iteration, $"policy output during the rollout ({e.Message.Split('\n')[0]})"))
    try
        use finite = scoped (fun () -> rollout.Rewards.isfinite().all())
        if not (finite.item<bool> ()) then raise (TrainingDiverged(iteration, "reward from the task distribution"))
        let returns =
            use sums = rollout.Rewards.sum 1L
            sums.data<float32>().ToArray()
        let rolloutSeconds = lap ()
        let c = credit comm s rollout
        let creditSeconds = lap ()
        try
            let stats =
                try
                    update comm s gen learner rollout c
                with NonFinite quantity ->
                    raise (TrainingDiverged(iteration, quantity))
            { Returns = returns
              Stats = stats
              AdvantageMean = c.RawMean
              RolloutSeconds = rolloutSeconds
              CreditSeconds = creditSeconds
              UpdateSeconds = lap () }
        finally
            for t in [ c.Advantages; c.Targets ] do t.Dispose()
    finally
        Rollout.dispose rollout

/// What a run tells its caller as it goes (the CLI shows it; tests mostly ignore it).
type Progress =
    { Iteration: Metrics.Iteration -> unit
      Warning: string -> unit }

module Progress =
    let silent = { Iteration = ignore; Warning = ignore }

/// Process 0's learner and trainer state, restored from the newest intact checkpoint if there is one,
/// on every process: only process 0 reads the run directory, which other machines need not share.
let private start (comm: Communicator) (s: Settings) (learner: Learner) (warn: string -> unit) =
    let loaded =
        if comm.Rank = 0 then s.RunDir |> Option.bind (fun run -> Checkpoint.tryLoadLatest run warn (checkpointed learner)) else None
    if comm.Size = 1 then
        loaded
    else
        let bytes = comm.Broadcast(if comm.Rank = 0 then Checkpoint.toBytes (checkpointed learner) loaded else [||])
        if comm.Rank = 0 then
            loaded
        else
            try
                Checkpoint.ofBytes (checkpointed learner) bytes
            with e ->
                failwith $"process 0's networks do not fit this process's; were all processes given the same flags? ({e.Message})"

/// Periodic evaluation on a fixed held-out task set (`RL2.Eval.Evaluate.periodic` builds one).
type Evaluation =
    { /// Evaluate after every `Every`-th iteration.
      Every: int
      /// The evaluation set, recorded with the best score: scores compare only on the same set.
      Seed: int64
      MetaEpisodes: int
      /// The policy's mean return on the set and the half-width of its 95% CI. It must draw from none
      /// of training's generators, so that a run with evaluations trains exactly as one without.
      Score: Layer -> float * float }

/// What a run does besides training.
type Options =
    { Evaluation: Evaluation option
      /// Stop cleanly after the iteration during which this much wall-clock time of the call has passed.
      TimeLimit: TimeSpan option
      /// Polled after every iteration: true stops cleanly as the time limit does (e.g. on Ctrl-C).
      StopRequested: unit -> bool }

module Options =
    let none = { Evaluation = None; TimeLimit = None; StopRequested = fun () -> false }

/// Trains `learner` until `MaxIterations` (or the time limit), resuming from the newest intact
/// checkpoint in `RunDir` if there is one; returns the last iteration's metrics, reported on process 0.
/// Raises RunLock.RunInUse, before touching the run, when another process is training it.
/// A non-finite loss or gradient raises TrainingDiverged before that iteration is checkpointed, so
/// the last good checkpoint stays the newest. With an evaluation, process 0 alone plays the held-out
/// tasks and keeps `<run>/best/`, the checkpoint that scored highest so far, across resumes.
let trainWith (comm: Communicator) (s: Settings) (options: Options) (learner: Learner) (progress: Progress) =
    // Process 0 alone writes the run, so it alone guards it; before the resume reads anything.
    use _ = RunLock.ofRun (if comm.Rank = 0 then s.RunDir else None)
    Memory.configure () |> ignore
    let leg = Stopwatch.StartNew()
    let gen = generator s.Seed (1 + comm.Rank)
    let resumed = start comm s learner progress.Warning
    let window = Collections.Generic.Queue<float32>()
    let mutable iteration, envSteps, seconds = 0, 0L, 0.0
    match resumed with
    | Some st ->
        iteration <- st.Iteration
        envSteps <- st.EnvSteps
        seconds <- st.Seconds
        for r in st.Returns do window.Enqueue r
        // A process beyond the checkpoint's process count has no saved state: its fresh stream is unused.
        st.Generators |> Array.tryItem comm.Rank |> Option.iter (Checkpoint.restoreGenerator gen)
    | None -> ()
    // Lines logged after the checkpoint this run starts from (all of them without one: a crash before the
    // first checkpoint) are iterations about to be repeated.
    if comm.Rank = 0 then s.RunDir |> Option.iter (fun run -> Metrics.truncateAfter run iteration)
    let mutable best =
        match options.Evaluation, s.RunDir with
        | Some e, Some run when comm.Rank = 0 ->
            match Checkpoint.tryBest run with
            | Some b when b.Seed = e.Seed && b.MetaEpisodes = e.MetaEpisodes -> Some b
            | Some b ->
                progress.Warning
                    $"the best checkpoint (iteration {b.Iteration}) was scored on {b.MetaEpisodes} meta-episodes of seed {b.Seed}, not {e.MetaEpisodes} of seed {e.Seed}; the next evaluation replaces it"
                None
            | None -> None
        | _ -> None
    let mutable last, outOfTime = None, false
    while iteration < s.MaxIterations && not outOfTime do
        let clock = Stopwatch.StartNew()
        // Set every iteration: a restored optimiser state carries the rate it was saved with.
        let lr = learningRate s (iteration + 1)
        for opt in [ learner.PolicyOptimizer; learner.ValueOptimizer ] do
            for g in opt.ParamGroups do
                g.LearningRate <- lr
        let played = iterate comm s gen learner (iteration + 1)
        // The window holds every process's meta-episodes, rank by rank within an iteration.
        for r in Communicator.gather comm played.Returns do
            window.Enqueue r
            if window.Count > returnWindow then window.Dequeue() |> ignore
        let stats = played.Stats
        iteration <- iteration + 1
        let elapsed = clock.Elapsed.TotalSeconds
        let steps = int64 (s.MetaEpisodesPerIteration * s.MetaEpisodeLen * comm.Size)
        envSteps <- envSteps + steps
        seconds <- seconds + elapsed
        let evaluation =
            match options.Evaluation with
            | Some e when comm.Rank = 0 && iteration % e.Every = 0 ->
                let clock = Stopwatch.StartNew()
                let mean, halfWidth = e.Score learner.Policy
                Some(e, mean, halfWidth, clock.Elapsed.TotalSeconds)
            | _ -> None
        let improved =
            match evaluation with
            | Some(e, mean, halfWidth, _) when best |> Option.forall (fun b -> mean > b.Mean) ->
                Some({ Iteration = iteration; Mean = mean; HalfWidth = halfWidth; Seed = e.Seed; MetaEpisodes = e.MetaEpisodes }: Checkpoint.Best)
            | _ -> None
        if improved.IsSome then best <- improved
        let m: Metrics.Iteration =
            { Iteration = iteration
              EnvSteps = envSteps
              Seconds = seconds
              MeanReturn = window |> Seq.averageBy float
              PolicyLoss = stats.PolicyLoss
              ValueLoss = stats.ValueLoss
              Entropy = stats.Entropy
              ClipFrac = stats.ClipFrac
              AdvantageMean = Some played.AdvantageMean
              LearningRate = lr
              StepsPerSecond = float steps / elapsed
              RolloutSeconds = played.RolloutSeconds
              UpdateSeconds = elapsed - played.RolloutSeconds
              EvalMean = evaluation |> Option.map (fun (_, mean, _, _) -> mean)
              EvalHalfWidth = evaluation |> Option.map (fun (_, _, halfWidth, _) -> halfWidth)
              EvalSeconds = evaluation |> Option.map (fun (_, _, _, t) -> t) }
        s.RunDir
        |> Option.iter (fun run ->
            // Every process takes part in the gather; process 0 writes.
            let own = Checkpoint.generatorState gen
            let generators = comm.Allgather own |> Array.chunkBySize own.Length
            if comm.Rank = 0 then
                let state: Checkpoint.TrainerState =
                    { Iteration = iteration
                      EnvSteps = envSteps
                      Seconds = seconds
                      Returns = window.ToArray()
                      Generators = generators }
                // The best first: a crash before the iteration's own checkpoint repeats the iteration,
                // which scores the same and so leaves the best as it is.
                improved |> Option.iter (Checkpoint.saveBest run (checkpointed learner) state)
                Metrics.append run m
                Checkpoint.save run (checkpointed learner) state)
        if comm.Rank = 0 then progress.Iteration m
        last <- Some m
        let stop = options.StopRequested () || options.TimeLimit |> Option.exists (fun limit -> leg.Elapsed >= limit)
        // Process 0 decides, so that every process stops after the same iteration.
        outOfTime <- (comm.Broadcast [| (if stop then 1uy else 0uy) |])[0] = 1uy
    last

/// `trainWith` without evaluations or a time limit.
let trainLearner (comm: Communicator) (s: Settings) (learner: Learner) (progress: Progress) =
    trainWith comm s Options.none learner progress

/// `trainLearner` on a new learner built from the settings.
let train (comm: Communicator) (s: Settings) (progress: Progress) = trainLearner comm s (createLearner s) progress
