/// Plays a policy — a baseline or a trained network — over B meta-episodes of a task distribution
/// and returns every meta-episode's undiscounted return. Tasks, environment noise and the policy's
/// choices come from three generator streams of the evaluation seed that training never uses, so
/// every policy evaluated with one seed meets the very same tasks (and, while it acts alike, the
/// same reward and transition noise): differences between policies can be paired task by task.
module RL2.Eval.Evaluate

open System.IO
open TorchSharp
open RL2
open RL2.Envs
open RL2.Nn
open RL2.Baselines
open RL2.Train

/// Generator streams of an evaluation seed (training uses 0 for weights and 1 + rank for experience).
let taskStream = 900_001
let environmentStream = 900_002
let policyStream = 900_003

/// The task seed the baselines' hyperparameters were tuned on, kept apart from evaluation seeds.
let tuningSeed = 1611L

let private ints (t: Tensor) =
    use c = t.to_type ScalarType.Int64
    c.data<int64>().ToArray() |> Array.map int

let private floats (t: Tensor) =
    use c = t.to_type ScalarType.Float64
    c.data<float>().ToArray()

/// Plays `count` meta-episodes of `steps` steps from the evaluation streams of `seed`; returns the
/// undiscounted return of each episode of each meta-episode, [episode index][meta-episode].
let playEpisodes (dist: TaskDistribution) (steps: int) (seed: int64) (count: int) (policy: Policy<'B>) : float[][] =
    use _ = torch.no_grad ()
    use scope = torch.NewDisposeScope()
    use taskGen = Trainer.generator seed taskStream
    use envGen = Trainer.generator seed environmentStream
    let rng = Rng.create seed policyStream
    let tasks = dist.Sample taskGen count
    let episodes = Array.init ((steps + dist.EpisodeLength - 1) / dist.EpisodeLength) (fun _ -> Array.zeroCreate count)
    let mutable state = tasks.Reset envGen
    let mutable belief = policy.Init rng count
    for t in 0 .. steps - 1 do
        let states = ints state
        let o: Observation =
            { States = states
              Step = t
              MetaEpisodeLength = steps
              EpisodeStep = t % dist.EpisodeLength
              EpisodeLength = dist.EpisodeLength }
        let actions = policy.Act rng belief o
        use a = torch.tensor(actions |> Array.map int64)
        let reward, next = tasks.Step envGen state a
        let rewards = floats reward
        reward.Dispose()
        let returns = episodes[t / dist.EpisodeLength]
        for b in 0 .. count - 1 do
            returns[b] <- returns[b] + rewards[b]
        let isDone = TaskDistribution.isDone dist t
        belief <-
            policy.Update rng belief
                { States = states
                  Actions = actions
                  Rewards = rewards
                  NextStates = ints next
                  Done = isDone
                  Step = t }
        state.Dispose()
        state <-
            if isDone then
                next.Dispose()
                tasks.Reset envGen
            else
                next
    episodes

/// The undiscounted return of each of `count` meta-episodes (see `playEpisodes`).
let play (dist: TaskDistribution) (steps: int) (seed: int64) (count: int) (policy: Policy<'B>) : float[] =
    let episodes = playEpisodes dist steps seed count policy
    Array.init count (fun b -> episodes |> Array.sumBy (fun e -> e[b]))

/// Mean return at each episode index of the meta-episode: the in-context learning curve.
let episodeCurve (episodes: float[][]) = episodes |> Array.map Array.average

/// A trained policy network's memory and last step, carried between steps.
type NetworkBelief =
    { /// The network's step mode, prepared once per batch of meta-episodes (the weights are fixed while it plays).
      Step: Tensor -> State -> Tensor * State
      mutable Memory: State
      mutable PreviousAction: Tensor
      mutable PreviousReward: Tensor
      mutable PreviousDone: Tensor }

/// A policy network as a policy: actions sampled from its softmax (with the evaluation's own
/// generator, by inverse CDF) or, when `greedy`, its argmax.
let network (dist: TaskDistribution) (net: Layer) (greedy: bool) : Policy<NetworkBelief> =
    let actions = dist.NumActions
    let replace (old: Tensor) (fresh: Tensor) =
        old.Dispose()
        fresh
    { Name = if greedy then "RL2 (greedy)" else "RL2"
      Init =
        fun _ n ->
            { Step = net.Stepper ()
              Memory = net.Initial n
              PreviousAction = torch.zeros([| int64 n |], dtype = ScalarType.Int64)
              PreviousReward = torch.zeros([| int64 n |])
              PreviousDone = torch.ones([| int64 n |]) }
      Act =
        fun rng belief o ->
            let probs =
                use scope = torch.NewDisposeScope()
                use s = torch.tensor(o.States |> Array.map int64)
                let obs = dist.Observe s
                let x = TaskDistribution.encode dist obs belief.PreviousAction belief.PreviousReward belief.PreviousDone
                let logits, next = belief.Step x belief.Memory
                scope.MoveToOuter(Seq.cast<System.IDisposable> next) |> ignore
                for old in belief.Memory do old.Dispose()
                belief.Memory <- next
                let p = logits.softmax(-1L).to_type ScalarType.Float64
                p.data<float>().ToArray()
            Array.init o.States.Length (fun b ->
                if greedy then
                    Policy.argmax rng probs (b * actions) actions
                else
                    let u = rng.Uniform()
                    let mutable a = 0
                    let mutable acc = probs[b * actions]
                    while a < actions - 1 && acc <= u do
                        a <- a + 1
                        acc <- acc + probs[b * actions + a]
                    a)
      Update =
        fun _ belief f ->
            belief.PreviousAction <- replace belief.PreviousAction (torch.tensor(f.Actions |> Array.map int64))
            belief.PreviousReward <- replace belief.PreviousReward (torch.tensor(f.Rewards |> Array.map float32))
            belief.PreviousDone <-
                replace belief.PreviousDone (if f.Done then torch.ones([| int64 f.Actions.Length |]) else torch.zeros([| int64 f.Actions.Length |]))
            belief }

/// What a trained policy network needs to be rebuilt: its task distribution and architecture.
type NetworkSpec =
    { Task: TaskDistribution
      Architecture: Architecture
      NumFeatures: int
      MetaEpisodeLen: int }

/// Rebuilds the policy network of a run and loads the weights of its newest complete checkpoint or of
/// its best one; returns the network and the iteration loaded.
let loadNetwork (which: Checkpoint.Which) (run: string) (spec: NetworkSpec) =
    use gen = new Generator(0UL)
    let arch: ArchitectureSpec =
        { InputWidth = TaskDistribution.inputWidth spec.Task
          NumFeatures = spec.NumFeatures
          ContextSize = spec.MetaEpisodeLen }
    let net = Agent.policy gen spec.Architecture arch spec.Task.NumActions
    match which with
    | Checkpoint.Latest ->
        match Checkpoint.loadPolicy run net.Params with
        | Some iteration -> net, iteration
        | None -> failwith $"no complete checkpoint in {Path.GetFullPath run}"
    | Checkpoint.Best ->
        match Checkpoint.loadBestPolicy run net.Params with
        | Some best -> net, best.Iteration
        | None -> failwith $"no best checkpoint in {Path.GetFullPath run} (train with --eval_every)"

/// The evaluation seed of the held-out tasks played during training: another set than `rl2 evaluate`'s
/// and `rl2 table`'s default seed 0 (`rl2 evaluate --seed 1 --meta_episodes N` plays the same tasks).
let heldOutSeed = 1L

/// Evaluation during training: every `every` iterations the policy, sampling its actions, plays the
/// same `count` held-out meta-episodes of `heldOutSeed`. Evaluation streams only, so training is
/// unchanged by it.
let periodic (dist: TaskDistribution) (steps: int) (every: int) (count: int) : Trainer.Evaluation =
    { Every = every
      Seed = heldOutSeed
      MetaEpisodes = count
      Score =
        fun net ->
            let s = Stats.summarize (play dist steps heldOutSeed count (network dist net false))
            s.Mean, s.HalfWidth }
