/// The library's door for C# (and for F# scripts that prefer objects): options with the reference
/// defaults settable by object initialisers, and an agent to train, load and play. No curried
/// functions, F# lists, options or tuples cross this boundary.
namespace RL2

open System
open TorchSharp
open RL2.Envs
open RL2.Nn
open RL2.Rl
open RL2.Train

/// One step of a meta-episode as the agent played it.
type PlayedStep =
    { Time: int
      /// The observation features the agent saw (empty for bandits, one-hot states for tabular MDPs).
      Observation: float32[]
      Action: int
      Reward: float32
      Done: bool }

/// Training options; every default is the reference's.
[<AllowNullLiteral>]
type TrainingOptions() =
    member val Environment = "bandit" with get, set
    member val NumStates = 10 with get, set
    member val NumActions = 5 with get, set
    member val MaxEpisodeLength = 10 with get, set
    member val MetaEpisodeLength = 100 with get, set
    member val Architecture = "gru" with get, set
    member val NumFeatures = 256 with get, set
    /// GRU and LSTM: the gates' forget bias (the reference's `--forget_bias`).
    member val ForgetBias = float Architecture.referenceForgetBias with get, set
    /// Meta-episodes per policy iteration; 0 means 240 000 / MetaEpisodeLength, as the reference.
    member val MetaEpisodesPerIteration = 0 with get, set
    member val MinibatchSize = 60 with get, set
    /// At most this many meta-episodes of a minibatch per forward and backward pass (the same update);
    /// 0 means about 6 000 steps' worth, measured fastest.
    member val PassSize = 0 with get, set
    member val Epochs = 8 with get, set
    member val LearningRate = 2e-4 with get, set
    /// After this iteration the learning rate falls linearly (`Trainer.learningRate`); -1 keeps it constant.
    member val AnnealFrom = -1 with get, set
    member val Iterations = 12000 with get, set
    member val Seed = 0L with get, set
    /// Torch intra-op threads, set when training or loading; 1 measured fastest on small machines.
    member val Threads = 1 with get, set
    /// Run the policy and value networks at once on two threads (same result; faster where two cores are free).
    member val ConcurrentNetworks = true with get, set
    /// Where checkpoints, metrics and curves go; null trains in memory.
    member val RunDirectory: string = null with get, set

    /// The trainer settings these options describe; ArgumentException for values out of range.
    member o.ToSettings() : Trainer.Settings =
        let task =
            match Catalog.tryFind o.Environment with
            | Some make -> make { NumStates = o.NumStates; NumActions = o.NumActions; MaxEpisodeLen = o.MaxEpisodeLength }
            | None -> invalidArg (nameof o.Environment) $"""unknown environment '{o.Environment}'; one of {String.Join(", ", Catalog.names)}"""
        let arch =
            match Architecture.tryFind o.Architecture (Architecture.standard (float32 o.ForgetBias) Transformer.reference) with
            | Some a -> a
            | None -> invalidArg (nameof o.Architecture) $"unknown architecture '{o.Architecture}'"
        for name, value, least in
            [ nameof o.NumActions, o.NumActions, 2
              nameof o.MetaEpisodeLength, o.MetaEpisodeLength, 2
              nameof o.NumFeatures, o.NumFeatures, 1
              nameof o.MinibatchSize, o.MinibatchSize, 1
              nameof o.PassSize, o.PassSize, 0
              nameof o.Epochs, o.Epochs, 1
              nameof o.Iterations, o.Iterations, 0
              nameof o.MetaEpisodesPerIteration, o.MetaEpisodesPerIteration, 0 ] do
            if value < least then invalidArg name $"{name} must be at least {least}, got {value}"
        if not (Double.IsFinite o.ForgetBias) then invalidArg (nameof o.ForgetBias) $"ForgetBias must be finite, got {o.ForgetBias}"
        if not (o.LearningRate > 0.0) then invalidArg (nameof o.LearningRate) "LearningRate must be positive"
        if o.AnnealFrom < -1 || (o.AnnealFrom >= 0 && o.AnnealFrom >= o.Iterations) then
            invalidArg (nameof o.AnnealFrom) $"AnnealFrom must be -1 or below Iterations {o.Iterations}, got {o.AnnealFrom}"
        if o.Threads < 1 then invalidArg (nameof o.Threads) $"Threads must be at least 1, got {o.Threads}"
        { Trainer.reference task arch with
            NumFeatures = o.NumFeatures
            MetaEpisodeLen = o.MetaEpisodeLength
            MetaEpisodesPerIteration =
                if o.MetaEpisodesPerIteration = 0 then max 1 (240000 / o.MetaEpisodeLength) else o.MetaEpisodesPerIteration
            MinibatchSize = o.MinibatchSize
            PassSize = if o.PassSize = 0 then Trainer.passSize o.MetaEpisodeLength else o.PassSize
            Epochs = o.Epochs
            LearningRate = o.LearningRate
            AnnealFrom = if o.AnnealFrom = -1 then None else Some o.AnnealFrom
            MaxIterations = o.Iterations
            Seed = o.Seed
            ConcurrentNetworks = o.ConcurrentNetworks
            RunDir = Option.ofObj o.RunDirectory }

/// A trained (or restored) RL² agent: its policy and value networks and the settings they fit.
type Agent private (settings: Trainer.Settings, learner: Trainer.Learner) =
    member _.Settings = settings
    member _.Learner = learner

    /// Trains (resuming from RunDirectory's newest checkpoint, if any) and returns the agent;
    /// `onIteration` (may be null) sees each iteration's metrics.
    static member Train(options: TrainingOptions, onIteration: Action<Metrics.Iteration>) =
        let s = options.ToSettings()
        torch.set_num_threads options.Threads
        let progress = { Trainer.Progress.silent with Iteration = fun m -> if not (isNull onIteration) then onIteration.Invoke m }
        let learner = Trainer.createLearner s
        // Held from the leg's record on, so a second process neither records a leg nor trains.
        use _ = RunLock.ofRun s.RunDir
        s.RunDir |> Option.iter (fun run -> Legs.start run s.MaxIterations options.Threads 1)
        Trainer.trainLearner Dist.Communicator.single s learner progress |> ignore
        Agent(s, learner)

    static member Train(options: TrainingOptions) = Agent.Train(options, null)

    /// The agent of RunDirectory's newest intact checkpoint.
    static member Load(options: TrainingOptions) =
        Memory.configure () |> ignore
        let s = options.ToSettings()
        torch.set_num_threads options.Threads
        match s.RunDir |> Option.bind (Trainer.restore s) with
        | Some learner -> Agent(s, learner)
        | None -> invalidOp $"no checkpoint in '{options.RunDirectory}'"

    /// Plays one meta-episode on a new task drawn with `seed`, sampling actions from the policy.
    member _.PlayMetaEpisode(seed: int64) : PlayedStep[] =
        use _ = torch.NewDisposeScope()
        let gen = new Generator(uint64 seed)
        let r = Rollout.collect gen settings.Task learner.Policy learner.Value 1 settings.MetaEpisodeLen
        let width = settings.Task.ObservationWidth
        let observations = if width = 0 then [||] else r.Observations.contiguous().data<float32>().ToArray()
        let actions = r.Actions.data<int64>().ToArray()
        let rewards = r.Rewards.data<float32>().ToArray()
        let dones = r.Dones.data<float32>().ToArray()
        Array.init settings.MetaEpisodeLen (fun t ->
            { Time = t
              Observation = observations[t * width .. (t + 1) * width - 1]
              Action = int actions[t]
              Reward = rewards[t]
              Done = dones[t] > 0.5f })
