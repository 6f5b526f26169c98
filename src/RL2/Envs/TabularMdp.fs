/// Random tabular MDPs (SPEC §2): μ[s,a] ~ N(1,1), P[a,s,·] ~ Dirichlet(1,…,1), start state 0.
module RL2.Envs.TabularMdp

open TorchSharp
open RL2

/// Task parameters: reward means [B; S; A] and transition rows [B; A; S; S].
type Tasks =
    { RewardMeans: Tensor
      Transitions: Tensor }

let sampleTasks (gen: Generator) (numStates: int) (numActions: int) (count: int) =
    let b, s, a = int64 count, int64 numStates, int64 numActions
    use noise = torch.randn([| b; s; a |], generator = gen)
    // Dirichlet(1,…,1) = normalised Exp(1) draws; 1 - U lies in (0, 1] so the log is finite.
    use u = torch.rand([| b; a; s; s |], generator = gen)
    use e = (1.0f - u).log_().neg_()
    use total = e.sum(-1L, keepdim = true)
    { RewardMeans = noise.add(1.0f.ToScalar())
      Transitions = e.div total }

/// One transition of every task from state [B] with action [B]: reward [B] and next state [B].
let transition (gen: Generator) (tasks: Tasks) (state: Tensor) (action: Tensor) =
    let shape = tasks.Transitions.shape
    let b, a, s = shape[0], shape[1], shape[2]
    use means = tasks.RewardMeans.view(b, s * a)
    use cell = state.mul(a.ToScalar()).add_(action).unsqueeze -1L
    use mu = means.gather(1L, cell).squeeze -1L
    use noise = torch.randn([| b |], generator = gen)
    let reward = mu.add noise
    use rows = tasks.Transitions.view(b, a * s, s)
    use row = action.mul(s.ToScalar()).add_(state).view(b, 1L, 1L).expand(b, 1L, s)
    use probs = rows.gather(1L, row).squeeze 1L
    use next = probs.multinomial(1L, true, gen)
    reward, next.squeeze -1L

let batch (tasks: Tasks) : TaskBatch =
    let count = tasks.RewardMeans.shape[0]
    { Size = int count
      Reset = fun _ -> torch.zeros([| count |], dtype = ScalarType.Int64)
      Step = fun gen state action -> transition gen tasks state action }

let distribution (numStates: int) (numActions: int) (episodeLength: int) : TaskDistribution =
    { Name = "tabular_mdp"
      NumActions = numActions
      ObservationWidth = numStates
      EpisodeLength = episodeLength
      Observe =
        fun s ->
            use oneHot = torch.nn.functional.one_hot(s, int64 numStates)
            oneHot.to_type ScalarType.Float32
      Sample = fun gen count -> batch (sampleTasks gen numStates numActions count) }
